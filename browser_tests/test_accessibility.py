"""axe-core (shipped inside the pinned axe-playwright-python package) on each screen."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from test_chat import open_chat

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
