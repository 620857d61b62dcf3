"""axe-core (shipped inside the pinned axe-playwright-python package) on each screen."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from test_attachments import attach, png
from test_chat import open_chat, send

BLOCKING = {"serious", "critical"}


def serious_violations(page) -> list[str]:
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    assert results.response["passes"], "axe checked nothing"
    return [
        f"{violation['id']} ({violation['impact']}): "
        + "; ".join(node["html"] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def test_sign_in_and_register_screens_have_no_serious_violations(new_page):
    page = new_page()
    page.goto("/")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Create an account").click()
    expect(page.get_by_role("button", name="Create account")).to_be_visible()
    assert serious_violations(page) == []


def test_the_chat_screen_has_no_serious_violations(person, signed_in):
    kim, lee = person("kim"), person("lee")
    chat_id = kim.create_chat("Accessible", lee)
    kim.create_chat("Another room", lee)
    for number in range(3):
        kim.send(chat_id, f"Message {number}")
    lee_chat = lee.api("GET", f"chats/{chat_id}/", expect_status=200)
    assert lee_chat["unread_count"] == 3
    page = signed_in(lee)
    # Unread badges, the open chat, own and others' messages, an edit form.
    lee.send(chat_id, "Mine")
    kim.send(kim.create_chat("Unread room", lee), "unread")
    log = open_chat(page, "Accessible")
    expect(log.get_by_role("article")).to_have_count(4)
    expect(page.get_by_text("1 unread")).to_be_attached()
    assert serious_violations(page) == []
    log.get_by_role("article").last.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("textbox", name="Revised text")).to_be_focused()
    assert serious_violations(page) == []
    page.keyboard.press("Escape")

    # API 1.1: reaction chips, the open picker, a reply with its quote, the reply bar, an
    # image and a file, and files waiting to be sent.
    first = log.get_by_role("article").first
    kim_first = kim.api("GET", f"chats/{chat_id}/messages/?page_size=50", expect_status=200)
    first_id = kim_first["results"][-1]["id"]
    kim.api("POST", f"messages/{first_id}/reactions/", {"emoji": "👍"}, 200)
    expect(first.get_by_role("button", name="👍 1")).to_be_visible()
    first.get_by_role("button", name="Reply").click()
    send(page, "A reply")
    expect(log.get_by_role("article").last.locator("blockquote")).to_be_visible()
    attach(page, "square.png", "image/png", png(40, 40))
    page.get_by_role("button", name="Send", exact=True).click()
    expect(log.get_by_role("article").last.get_by_role("img", name="square.png")).to_be_visible()
    attach(page, "notes.txt", "text/plain", b"notes")
    expect(page.get_by_role("list", name="Files to send")).to_contain_text("notes.txt (1 KB)")
    first.get_by_role("button", name="Reply").click()
    first.get_by_role("button", name="React", exact=True).click()
    expect(first.get_by_role("group", name="Pick a reaction")).to_be_visible()
    assert serious_violations(page) == []


def test_the_contract_names_each_find_one_element(person, new_page, signed_in):
    """The accessible names of API.md's table, as a test elsewhere would look them up
    (Playwright's default: case-insensitive substring), find exactly one element."""
    page = new_page()
    page.goto("/")
    expect(page.get_by_role("textbox", name="Username")).to_have_count(1)
    expect(page.get_by_label("Password")).to_have_count(1)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(1)

    pat, quinn = person("pat"), person("quinn")
    chat_id = pat.create_chat("Names", quinn)
    pat.send(chat_id, "one")
    quinn.send(chat_id, "two")
    page = signed_in(quinn)
    expect(page.get_by_role("navigation", name="Chats")).to_have_count(1)
    page.get_by_role("navigation", name="Chats").get_by_role("link", name="Names").click()
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_role("article")).to_have_count(2)
    # Also while a message is being edited.
    log.get_by_role("article").last.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("textbox", name="Message")).to_have_count(1)
    expect(page.get_by_role("button", name="Send")).to_have_count(1)
    expect(page.get_by_role("button", name="Attach file")).to_have_count(1)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(1)
    page.keyboard.press("Escape")
    # And while replying, with the reaction picker open and a file waiting.
    first = log.get_by_role("article").first
    attach(page, "names.txt", "text/plain", b"names")
    expect(page.get_by_role("list", name="Files to send")).to_contain_text("names.txt (1 KB)")
    first.get_by_role("button", name="Reply").click()
    first.get_by_role("button", name="React", exact=True).click()
    expect(first.get_by_role("group", name="Pick a reaction")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_have_count(1)
    expect(page.get_by_role("button", name="Send")).to_have_count(1)
    expect(page.get_by_role("button", name="Attach file")).to_have_count(1)
    expect(page.get_by_role("log", name="Messages")).to_have_count(1)
