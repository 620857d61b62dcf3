"""Signing in and out, registering, and the chat list with unread counts."""

from playwright.sync_api import expect

from conftest import PASSWORD, sign_in


def test_sign_in_shows_chats_with_unread_counts_and_opens_one(person, signed_in):
    alice, bob = person("alice"), person("bob")
    chat_id = alice.create_chat("Garden club", bob)
    alice.send(chat_id, "Tomatoes are in")
    alice.send(chat_id, "Who wants some?")

    page = signed_in(bob)
    chats = page.get_by_role("navigation", name="Chats")
    link = chats.get_by_role("link", name="Garden club", exact=True)
    expect(link).to_be_visible()
    expect(page.get_by_text("2 unread")).to_be_attached()

    link.click()
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_role("article")).to_have_count(2)
    expect(log.get_by_role("article").last).to_contain_text("Who wants some?")
    expect(page.get_by_text("2 unread")).not_to_be_attached()
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    # The server has the read marker too (the client marks read in the background).
    for _ in range(50):
        chat = bob.api("GET", f"chats/{chat_id}/", expect_status=200)
        if chat["unread_count"] == 0:
            break
        page.wait_for_timeout(100)
    assert chat["unread_count"] == 0


def test_a_wrong_password_is_refused(person, new_page):
    carol = person("carol")
    page = new_page()
    page.goto("/")
    page.get_by_role("textbox", name="Username").fill(carol.username)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_role("navigation", name="Chats")).not_to_be_visible()


def test_register_then_sign_out_forgets_the_tokens(new_page, api_client):
    page = new_page()
    page.goto("/")
    page.get_by_role("button", name="Create an account").click()
    page.get_by_role("textbox", name="Username").fill("newcomer")
    page.get_by_role("textbox", name="Email").fill("newcomer@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("navigation", name="Chats")).to_be_visible()
    expect(page.get_by_text("Signed in as newcomer")).to_be_visible()
    refresh = page.evaluate("JSON.parse(localStorage.getItem('chitchat.tokens')).refresh")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert page.evaluate("localStorage.getItem('chitchat.tokens')") is None
    expect(page.get_by_role("status")).to_be_hidden()  # no "reconnecting" once signed out
    # The refresh token was blacklisted on the server.
    status, _ = api_client.call("POST", "auth/token/refresh/", {"refresh": refresh})
    assert status == 401
    page.reload()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Chats")).not_to_be_visible()


def test_a_reload_keeps_the_session_and_a_stale_access_token_is_refreshed(person, signed_in):
    dave = person("dave")
    dave.create_chat("Dave's notes")
    page = signed_in(dave)
    expect(page.get_by_role("link", name="Dave's notes")).to_be_visible()

    page.reload()
    expect(page.get_by_role("link", name="Dave's notes")).to_be_visible()

    # An access token the server refuses: the client refreshes, and keeps the rotated
    # refresh token (the old one is blacklisted).
    old_refresh = page.evaluate(
        """() => {
            const tokens = JSON.parse(localStorage.getItem('chitchat.tokens'));
            localStorage.setItem('chitchat.tokens',
                JSON.stringify({access: 'not.a.token', refresh: tokens.refresh}));
            return tokens.refresh;
        }"""
    )
    page.reload()
    expect(page.get_by_role("link", name="Dave's notes")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {dave.username}")).to_be_visible()
    tokens = page.evaluate("JSON.parse(localStorage.getItem('chitchat.tokens'))")
    assert tokens["access"] != "not.a.token"
    assert tokens["refresh"] != old_refresh
    status, _ = dave.client.call("POST", "auth/token/refresh/", {"refresh": old_refresh})
    assert status == 401
    status, _ = dave.client.call("POST", "auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert status == 200


def test_signing_in_works_from_the_keyboard_alone(person, new_page):
    erin = person("erin")
    erin.create_chat("Keyboard club")
    page = new_page()
    page.goto("/")
    expect(page.get_by_role("textbox", name="Username")).to_be_focused()
    page.keyboard.type(erin.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Chats")).to_be_visible()


def test_the_access_token_is_refreshed_before_it_expires(person, new_page):
    fern = person("fern")
    chat_id = fern.create_chat("Clockwork")
    page = new_page()
    # A controllable clock: jump past most of the 5-minute access token's life.
    page.clock.install()
    sign_in(page, fern)
    before = page.evaluate("JSON.parse(localStorage.getItem('chitchat.tokens'))")
    page.clock.run_for("03:30")
    assert page.evaluate("JSON.parse(localStorage.getItem('chitchat.tokens'))") == before
    page.clock.run_for("00:40")  # one minute before expiry: refreshed
    page.wait_for_function(
        "old => JSON.parse(localStorage.getItem('chitchat.tokens')).refresh !== old",
        arg=before["refresh"],
    )
    after = page.evaluate("JSON.parse(localStorage.getItem('chitchat.tokens'))")
    assert after["access"] != before["access"]
    status, _ = fern.client.call("POST", "auth/token/refresh/", {"refresh": before["refresh"]})
    assert status == 401
    # Still signed in and working with the new tokens.
    page.get_by_role("link", name="Clockwork").click()
    page.get_by_role("textbox", name="Message").fill("still here")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("log", name="Messages").get_by_role("article")).to_have_count(1)
    messages = fern.api("GET", f"chats/{chat_id}/messages/", expect_status=200)
    assert [m["body"] for m in messages["results"]] == ["still here"]


def test_after_signing_out_the_next_person_sees_only_their_own_chats_live(person, signed_in):
    gil, hue, ines = person("gil"), person("hue"), person("ines")
    gil.create_chat("Gil's secrets")
    shared = ines.create_chat("Hue and Ines", hue)
    page = signed_in(gil)
    expect(page.get_by_role("link", name="Gil's secrets")).to_be_visible()
    page.get_by_role("link", name="Gil's secrets").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert page.evaluate("location.hash") == ""

    sign_in(page, hue)
    expect(page.get_by_role("link", name="Hue and Ines")).to_be_visible()
    expect(page.get_by_role("link", name="Gil's secrets")).to_have_count(0)
    expect(page.get_by_text(f"Signed in as {hue.username}")).to_be_visible()
    # The socket started again, as Hue: Ines's message arrives live.
    page.get_by_role("link", name="Hue and Ines").click()
    ines.send(shared, "Hello Hue")
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_role("article").filter(has_text="Hello Hue")).to_have_count(1)
