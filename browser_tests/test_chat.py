"""Two people chatting live, history, and text that looks like HTML (a lost connection:
test_resume.py)."""

import os
import tempfile
from pathlib import Path

from playwright.sync_api import expect

# The README's picture is rewritten only when asked (UPDATE_SCREENSHOT=1 make test-browser);
# otherwise the shot goes to the temporary folder, so a test run leaves the tree clean.
SCREENSHOT = (
    Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
    if os.environ.get("UPDATE_SCREENSHOT")
    else Path(tempfile.gettempdir()) / "chitchat-screenshot.png"
)


def open_chat(page, name: str):
    page.get_by_role("navigation", name="Chats").get_by_role("link", name=name, exact=True).click()
    log = page.get_by_role("log", name="Messages")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    return log


def send(page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(box).to_have_value("")


def test_two_people_chat_live(person, signed_in):
    # Plain names: Ben's screen is the README's screenshot.
    ana, ben = person("ana", exact=True), person("ben", exact=True)
    book_club = ana.create_chat("Book club", ben)
    chat_id = ana.create_chat("Weekend plans", ben)
    ana.send(book_club, "Next book: The Left Hand of Darkness")
    ana.send(chat_id, "Hiking on Saturday?")
    ana_page, ben_page = signed_in(ana), signed_in(ben)
    ana_log, ben_log = open_chat(ana_page, "Weekend plans"), open_chat(ben_page, "Weekend plans")
    expect(ben_log.get_by_role("article")).to_have_count(1)

    # Ben types: Ana sees it, Ben does not see himself typing.
    ben_page.get_by_role("textbox", name="Message").press_sequentially("Sure")
    expect(ana_page.get_by_text(f"{ben.username} is typing")).to_be_visible()
    expect(ben_page.get_by_text(f"{ben.username} is typing")).not_to_be_visible()
    ben_page.get_by_role("textbox", name="Message").press_sequentially(", where?")
    ben_page.get_by_role("button", name="Send", exact=True).click()
    reply = ana_log.get_by_role("article").filter(has_text="Sure, where?")
    expect(reply).to_be_visible()
    expect(reply).to_contain_text(ben.username)
    expect(ana_page.get_by_text(f"{ben.username} is typing")).not_to_be_visible()

    # Ana sends; Ben likes it; Ana sees the like.
    send(ana_page, "The ridge trail")
    ben_message = ben_log.get_by_role("article").filter(has_text="The ridge trail")
    expect(ben_message).to_be_visible()
    ben_message.get_by_role("button", name="Like").click()
    expect(ben_message.get_by_role("button", name="Liked")).to_have_attribute(
        "aria-pressed", "true"
    )
    ana_message = ana_log.get_by_role("article").filter(has_text="The ridge trail")
    expect(ana_message).to_contain_text("1 like")

    # Ana edits her message; Ben sees the new text.
    ana_message.get_by_role("button", name="Edit").click()
    editor = ana_message.get_by_role("textbox", name="Revised text")
    expect(editor).to_be_focused()
    editor.fill("The ridge trail, 9 am")
    editor.press("Enter")
    edited = ben_log.get_by_role("article").filter(has_text="The ridge trail, 9 am")
    expect(edited).to_contain_text("(edited)")
    expect(edited).to_contain_text("1 like")

    # Ana reacts to Ben's message; Ben answers hers with a reply (both covered in depth in
    # test_reactions_and_replies.py; here for the picture).
    ana_reply = ana_log.get_by_role("article").filter(has_text="Sure, where?")
    ana_reply.get_by_role("button", name="React", exact=True).click()
    ana_reply.get_by_role("button", name="React with party").click()
    expect(
        ben_log.get_by_role("article").filter(has_text="Sure, where?").get_by_role("button")
    ).to_contain_text(["🎉 1"])
    edited.get_by_role("button", name="Reply").click()
    send(ben_page, "Perfect, I'll bring snacks")
    answer = ana_log.get_by_role("article").filter(has_text="Perfect, I'll bring snacks")
    expect(answer.locator("blockquote")).to_contain_text("The ridge trail, 9 am")
    ben_page.get_by_role("textbox", name="Message").blur()

    SCREENSHOT.parent.mkdir(exist_ok=True)
    ben_page.screenshot(path=SCREENSHOT)

    # Ana deletes her first message; it leaves Ben's screen.
    first = ana_log.get_by_role("article").filter(has_text="Hiking on Saturday?")
    first.get_by_role("button", name="Delete").click()
    first.get_by_role("button", name="Yes, delete").click()
    expect(ben_log.get_by_text("Hiking on Saturday?")).not_to_be_visible()
    expect(ben_log.get_by_role("article")).to_have_count(3)
    expect(ana_log.get_by_role("article")).to_have_count(3)

    # Only one's own messages have Edit and Delete.
    theirs = ben_log.get_by_role("article").filter(has_text="The ridge trail").first
    expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)


def test_unread_counts_follow_live_messages(person, signed_in):
    cai, dov = person("cai"), person("dov")
    quiet = cai.create_chat("Quiet room", dov)
    cai.create_chat("Busy room", dov)
    page = signed_in(dov)
    open_chat(page, "Busy room")
    cai.send(quiet, "psst")
    cai.send(quiet, "over here")
    expect(page.get_by_text("2 unread")).to_be_attached()
    open_chat(page, "Quiet room")
    expect(page.get_by_text("2 unread")).not_to_be_attached()


def test_scrolling_up_loads_older_messages(person, signed_in):
    eve = person("eve")
    chat_id = eve.create_chat("Long story")
    for number in range(1, 121):
        eve.send(chat_id, f"Line {number}")
    page = signed_in(eve)
    log = open_chat(page, "Long story")
    articles = log.get_by_role("article")
    expect(articles).to_have_count(50)
    expect(articles.last).to_contain_text("Line 120")
    expect(articles.first).to_contain_text("Line 71")

    log.hover()
    for expected in (100, 120):
        log.evaluate("node => { node.scrollTop = 0; }")
        expect(articles).to_have_count(expected)
    expect(page.get_by_text("Start of the conversation")).to_be_visible()
    expect(articles.first).to_contain_text("Line 1")
    texts = [text.split("\n") for text in articles.locator(".body").all_inner_texts()]
    assert [t[0] for t in texts] == [f"Line {n}" for n in range(1, 121)]


def test_message_text_that_looks_like_html_stays_text(person, signed_in):
    hal, ida = person("hal"), person("ida")
    chat_id = hal.create_chat("Markup", ida)
    attack = "<img src=x onerror=alert(1)>"
    hal.send(chat_id, attack)
    page = signed_in(ida)
    log = open_chat(page, "Markup")
    expect(log.get_by_role("article").locator(".body")).to_have_text(attack)
    hal.send(chat_id, "<b>bold</b><script>alert(2)</script>")
    expect(log.get_by_text("<b>bold</b><script>alert(2)</script>")).to_be_visible()
    assert log.locator("img, b, script").count() == 0
    # The new_page fixture fails the test if any alert opened.


def test_chatting_by_keyboard(person, signed_in):
    jo = person("jo")
    jo.create_chat("Keys")
    page = signed_in(jo)
    link = page.get_by_role("link", name="Keys", exact=True)
    link.focus()
    page.keyboard.press("Enter")
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    page.keyboard.type("typed, not clicked")
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Messages")
    article = log.get_by_role("article").filter(has_text="typed, not clicked")
    expect(article).to_be_visible()
    expect(box).to_be_focused()
    # Shift+Enter is a new line, not a send.
    page.keyboard.type("two")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("lines")
    expect(box).to_have_value("two\nlines")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Attach file")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(log.get_by_role("article")).to_have_count(2)

    # Editing from the keyboard: Edit, type, Enter; Escape cancels.
    article.get_by_role("button", name="Edit").focus()
    page.keyboard.press("Enter")
    editor = article.get_by_role("textbox", name="Revised text")
    expect(editor).to_be_focused()
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(article.get_by_role("button", name="Edit")).to_be_focused()


def test_members_joining_and_leaving_and_a_rename_show_live(person, signed_in):
    kai, lou = person("kai"), person("lou")
    chat_id = kai.create_chat("Open house")
    page = signed_in(kai)
    open_chat(page, "Open house")
    expect(page.get_by_text("group chat · 1 member")).to_be_visible()
    lou.api("POST", f"chats/{chat_id}/join/", {}, 200)
    expect(page.get_by_text("group chat · 2 members")).to_be_visible()
    lou.api("POST", f"chats/{chat_id}/leave/", expect_status=204)
    expect(page.get_by_text("group chat · 1 member")).to_be_visible()
    kai.api("PATCH", f"chats/{chat_id}/", {"name": "Closed house"}, 200)
    expect(page.get_by_role("heading", name="Closed house")).to_be_visible()
    expect(page.get_by_role("link", name="Closed house", exact=True)).to_be_visible()
    # Someone adds Kai to a new chat: it appears in the list.
    lou.create_chat("Surprise", kai)
    expect(page.get_by_role("link", name="Surprise", exact=True)).to_be_visible()


def test_a_message_that_cannot_be_sent_stays_in_the_box(person, signed_in):
    max_ = person("max")
    max_.create_chat("Tunnel")
    page = signed_in(max_)
    log = open_chat(page, "Tunnel")
    box = page.get_by_role("textbox", name="Message", exact=True)
    page.context.set_offline(True)
    box.fill("sent from the tunnel")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Not sent")).to_be_visible()
    expect(box).to_have_value("sent from the tunnel")
    expect(log.get_by_role("article")).to_have_count(0)
    page.context.set_offline(False)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(log.get_by_role("article").filter(has_text="sent from the tunnel")).to_have_count(1)
    expect(box).to_have_value("")
    expect(page.get_by_role("alert").filter(has_text="Not sent")).to_have_count(0)


def test_starting_a_group_chat_and_a_direct_chat(person, signed_in):
    nia, oto = person("nia"), person("oto")
    page = signed_in(nia)
    page.get_by_role("textbox", name="New group chat").fill("Fresh start")
    page.get_by_role("button", name="Create chat").click()
    expect(page.get_by_role("heading", name="Fresh start")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()

    page.get_by_role("textbox", name="Direct chat with").fill("nobody-here")
    page.get_by_role("button", name="Open direct chat").click()
    expect(page.get_by_role("alert").filter(has_text="No one is called")).to_be_visible()
    page.get_by_role("textbox", name="Direct chat with").fill(oto.username.upper())
    page.get_by_role("button", name="Open direct chat").click()
    log = open_chat(page, oto.username)
    send(page, "hello in private")
    expect(log.get_by_role("article")).to_have_count(1)
    chats = oto.api("GET", "chats/?mine=true", expect_status=200)["results"]
    assert [(c["kind"], c["name"]) for c in chats] == [("direct", nia.username)]
    assert chats[0]["last_message"]["body"] == "hello in private"


def test_a_pin_shows_live(person, signed_in):
    pia, rex = person("pia"), person("rex")
    chat_id = pia.create_chat("Notice board", rex)
    notice = pia.send(chat_id, "Meeting moved to Friday")
    page = signed_in(rex)
    log = open_chat(page, "Notice board")
    article = log.get_by_role("article").filter(has_text="Meeting moved")
    expect(article).not_to_contain_text("pinned")
    pia.api("POST", f"messages/{notice['id']}/pin/", expect_status=200)
    expect(article).to_contain_text("pinned")
    pia.api("DELETE", f"messages/{notice['id']}/pin/", expect_status=200)
    expect(article).not_to_contain_text("pinned")
