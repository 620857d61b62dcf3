"""Reacting to messages (picker, chips, taking one back) and replying to them, live."""

from playwright.sync_api import expect
from test_chat import open_chat, send


def message(log, text: str):
    return log.get_by_role("article").filter(has_text=text)


def test_reactions_show_live_and_toggle(person, signed_in):
    kim, lee = person("kim"), person("lee")
    chat_id = kim.create_chat("Lunch", lee)
    lunch = kim.send(chat_id, "Pizza at noon?")
    kim_page, lee_page = signed_in(kim), signed_in(lee)
    kim_log, lee_log = open_chat(kim_page, "Lunch"), open_chat(lee_page, "Lunch")

    # Lee reacts from the picker; the chip is pressed for Lee, not for Kim, who sees it live.
    lee_message = message(lee_log, "Pizza at noon?")
    lee_message.get_by_role("button", name="React", exact=True).click()
    expect(lee_message.get_by_role("button", name="React", exact=True)).to_have_attribute(
        "aria-expanded", "true"
    )
    lee_message.get_by_role("group", name="Pick a reaction").get_by_role(
        "button", name="React with thumbs up"
    ).click()
    expect(lee_message.get_by_role("group", name="Pick a reaction")).to_have_count(0)
    lee_chip = lee_message.get_by_role("button", name="👍 1")
    expect(lee_chip).to_have_attribute("aria-pressed", "true")
    kim_message = message(kim_log, "Pizza at noon?")
    kim_chip = kim_message.get_by_role("button", name="👍 1")
    expect(kim_chip).to_have_attribute("aria-pressed", "false")

    # Kim adds hers by clicking the chip: two, both pressed on their own screens.
    kim_chip.click()
    expect(kim_message.get_by_role("button", name="👍 2")).to_have_attribute("aria-pressed", "true")
    expect(lee_message.get_by_role("button", name="👍 2")).to_have_attribute("aria-pressed", "true")

    # Lee takes hers back: one left, Kim's.
    lee_message.get_by_role("button", name="👍 2").click()
    expect(lee_message.get_by_role("button", name="👍 1")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(kim_message.get_by_role("button", name="👍 1")).to_have_attribute("aria-pressed", "true")

    # Kim takes hers back too: no chip left on either screen.
    kim_message.get_by_role("button", name="👍 1").click()
    expect(kim_message.get_by_role("list", name="Reactions")).to_have_count(0)
    expect(lee_message.get_by_role("list", name="Reactions")).to_have_count(0)
    body = kim.api("GET", f"messages/{lunch['id']}/", expect_status=200)
    assert body["reactions"] == []

    # A reaction made elsewhere (the API) shows live too, with the emoji's own text.
    lee.api("POST", f"messages/{lunch['id']}/reactions/", {"emoji": "🎉"}, 200)
    expect(kim_message.get_by_role("button", name="🎉 1")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(lee_message.get_by_role("button", name="🎉 1")).to_have_attribute("aria-pressed", "true")


def test_reacting_by_keyboard(person, signed_in):
    max_, nell = person("max"), person("nell")
    chat_id = max_.create_chat("Keys and hearts", nell)
    note = max_.send(chat_id, "The keys are under the mat")
    page = signed_in(nell)
    log = open_chat(page, "Keys and hearts")
    article = message(log, "under the mat")
    react = article.get_by_role("button", name="React", exact=True)

    # Enter opens the picker on its first emoji; Escape closes it, back on React.
    react.focus()
    page.keyboard.press("Enter")
    picker = article.get_by_role("group", name="Pick a reaction")
    expect(picker.get_by_role("button", name="React with thumbs up")).to_be_focused()
    page.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    expect(react).to_be_focused()

    # Enter, Tab to the heart, Enter: reacted, and the focus is back on React.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(picker.get_by_role("button", name="React with heart")).to_be_focused()
    page.keyboard.press("Enter")
    chip = article.get_by_role("button", name="❤️ 1")
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(react).to_be_focused()
    reactions = max_.api("GET", f"messages/{note['id']}/reactions/", expect_status=200)["results"]
    assert [(r["emoji"], [u["username"] for u in r["users"]]) for r in reactions] == [
        ("❤️", [nell.username])
    ]

    # A live update of the message (someone else reacts) keeps the focus where it was.
    chip.focus()
    max_.api("POST", f"messages/{note['id']}/reactions/", {"emoji": "❤️"}, 200)
    expect(article.get_by_role("button", name="❤️ 2")).to_be_focused()
    # Space on the chip takes the reaction back; the focus stays on it.
    page.keyboard.press("Space")
    expect(article.get_by_role("button", name="❤️ 1")).to_have_attribute("aria-pressed", "false")
    expect(article.get_by_role("button", name="❤️ 1")).to_be_focused()


def test_replying_quotes_the_message_and_a_deleted_one_shows_deleted(person, signed_in):
    ana, ben = person("ana"), person("ben")
    chat_id = ana.create_chat("Picnic", ben)
    question = ana.send(chat_id, "Who brings the snacks?")
    ana.send(chat_id, "And the blanket?")
    ana_page, ben_page = signed_in(ana), signed_in(ben)
    ana_log, ben_log = open_chat(ana_page, "Picnic"), open_chat(ben_page, "Picnic")
    box = ben_page.get_by_role("textbox", name="Message", exact=True)

    # Reply shows what is answered, above the box; it can be cancelled (button or Escape).
    message(ben_log, "Who brings the snacks?").get_by_role("button", name="Reply").click()
    expect(box).to_be_focused()
    replying = ben_page.get_by_text(f"Replying to {ana.username}: Who brings the snacks?")
    expect(replying).to_be_visible()
    ben_page.get_by_role("button", name="Cancel reply").click()
    expect(replying).to_be_hidden()
    message(ben_log, "Who brings the snacks?").get_by_role("button", name="Reply").click()
    expect(replying).to_be_visible()
    box.press("Escape")
    expect(replying).to_be_hidden()
    message(ben_log, "Who brings the snacks?").get_by_role("button", name="Reply").click()
    send(ben_page, "I will")
    expect(replying).to_be_hidden()

    # The reply quotes its parent, on both screens (Ana's live).
    for log in (ben_log, ana_log):
        reply = message(log, "I will")
        expect(reply.locator("blockquote")).to_have_text(
            f"Reply to {ana.username}: Who brings the snacks?"
        )
    sent = ben.api("GET", f"chats/{chat_id}/messages/?page_size=1", expect_status=200)
    assert sent["results"][0]["reply_to"]["id"] == question["id"]

    # The parent edited: the quote follows, live.
    ana.api("PATCH", f"messages/{question['id']}/", {"body": "Who brings the crisps?"}, 200)
    expect(message(ben_log, "I will").locator("blockquote")).to_contain_text(
        "Who brings the crisps?"
    )

    # The parent deleted: the reply stays and quotes a deleted message, live and after a load.
    parent = message(ana_log, "Who brings the crisps?").first
    parent.get_by_role("button", name="Delete").click()
    parent.get_by_role("button", name="Yes, delete").click()
    for log in (ana_log, ben_log):
        expect(message(log, "I will").locator("blockquote")).to_have_text(
            "Reply to a deleted message"
        )
        expect(log.get_by_role("article")).to_have_count(2)
    ben_page.reload()
    expect(message(ben_log, "I will").locator("blockquote")).to_have_text(
        "Reply to a deleted message"
    )


def test_the_message_replied_to_deleted_while_replying_cancels_the_reply(person, signed_in):
    cai, dov = person("cai"), person("dov")
    chat_id = cai.create_chat("Vanishing", dov)
    doomed = cai.send(chat_id, "This will vanish")
    page = signed_in(dov)
    log = open_chat(page, "Vanishing")
    message(log, "This will vanish").get_by_role("button", name="Reply").click()
    replying = page.get_by_text(f"Replying to {cai.username}")
    expect(replying).to_be_visible()
    cai.api("DELETE", f"messages/{doomed['id']}/", expect_status=204)
    expect(replying).to_be_hidden()
    expect(page.get_by_role("alert")).to_have_text("The message you were replying to was deleted.")
    send(page, "Too late")
    expect(message(log, "Too late")).to_be_visible()
    expect(message(log, "Too late").locator("blockquote")).to_have_count(0)
    body = dov.api("GET", f"chats/{chat_id}/messages/", expect_status=200)["results"][0]
    assert (body["body"], body["reply_to"]) == ("Too late", None)
