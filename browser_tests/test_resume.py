"""A lost connection: the socket resumes with `since` (API 1.1 resumable sync), a position
the server no longer keeps makes the client reload, and without a position it catches up
over REST."""

import json
import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect
from test_chat import open_chat


class CuttableSocket:
    """Routes the page's socket through Playwright, so a test can cut it and keep it cut
    (every reconnection is refused until `restore()`), and records the URLs it asked for."""

    def __init__(self, page, *, strip_pos: bool = False):
        self.page = page
        self.strip_pos = strip_pos
        self.urls: list[str] = []
        self.routes = []
        self.refusing = False
        page.route_web_socket(re.compile(r"/ws/"), self._route)

    def _route(self, ws):
        self.urls.append(ws.url)
        if self.refusing:
            ws.close(code=4000)
            return
        server = ws.connect_to_server()
        if self.strip_pos:
            server.on_message(lambda message: ws.send(self._without_pos(message)))
        self.routes.append(ws)

    @staticmethod
    def _without_pos(message):
        frame = json.loads(message)
        frame.pop("pos", None)
        return json.dumps(frame)

    def cut(self):
        self.refusing = True
        self.routes[-1].close(code=4000)
        expect(self.page.get_by_role("status")).to_have_text(re.compile("reconnecting|Connecting"))

    def restore(self):
        self.refusing = False
        # As the browser does when the network comes back: no waiting out the backoff.
        self.page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(self.page.get_by_role("status")).to_be_hidden()

    def since(self, index: int = -1) -> str | None:
        values = parse_qs(urlsplit(self.urls[index]).query).get("since")
        return values[0] if values else None


def bodies(log) -> list[str]:
    return log.get_by_role("article").locator(".body").all_inner_texts()


def requests_to(page, fragment: str) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if fragment in request.url else 0)
    return seen


def test_a_killed_socket_resumes_with_since_and_misses_nothing(person, signed_in):
    fay, gus = person("fay"), person("gus")
    chat_id = fay.create_chat("Flaky line", gus)
    other_chat = gus.create_chat("Side room", fay)
    page = signed_in(fay)
    socket = CuttableSocket(page)
    page.reload()
    log = open_chat(page, "Flaky line")
    first = gus.send(chat_id, "before the cut")
    expect(log.get_by_role("article").filter(has_text="before the cut")).to_be_visible()
    # The first socket already resumes: from the position GET /events/ gave before the loads.
    assert socket.since(0) is not None
    catch_ups = requests_to(page, "/messages/?after=")

    socket.cut()
    # Meanwhile: new messages, an edit, a deletion, a reaction, a message in another chat
    # and a new chat, all by others (or by Fay on another device).
    missed = [gus.send(chat_id, f"while away {n}") for n in range(3)]
    gus.api("PATCH", f"messages/{missed[0]['id']}/", {"body": "while away 0, edited"}, 200)
    doomed = fay.send(chat_id, "to be deleted")
    fay.api("DELETE", f"messages/{doomed['id']}/", expect_status=204)
    gus.api("POST", f"messages/{first['id']}/reactions/", {"emoji": "👍"}, 200)
    gus.send(other_chat, "psst")
    gus.create_chat("New while away", fay)
    expect(log.get_by_role("article")).to_have_count(1)

    socket.restore()
    expected = ["before the cut", "while away 0, edited", "while away 1", "while away 2"]
    expect(log.get_by_role("article")).to_have_count(4)
    assert bodies(log) == expected
    expect(log.get_by_role("article").first.get_by_role("button", name="👍 1")).to_be_visible()
    expect(page.get_by_role("link", name="New while away", exact=True)).to_be_visible()
    expect(page.get_by_text("1 unread")).to_be_attached()
    # It resumed from the last position it had seen, and did not need the REST catch-up.
    assert socket.since() is not None and socket.since() != socket.since(0)
    assert catch_ups == []

    # Live again, and each message once.
    gus.send(chat_id, "back live")
    expect(log.get_by_role("article").filter(has_text="back live")).to_be_visible()
    page.wait_for_timeout(300)
    assert bodies(log) == [*expected, "back live"]


def test_a_position_the_server_no_longer_keeps_reloads_the_chat(person, signed_in, manage):
    hal, ivy = person("hal"), person("ivy")
    chat_id = hal.create_chat("Old news", ivy)
    page = signed_in(ivy)
    socket = CuttableSocket(page)
    page.reload()
    log = open_chat(page, "Old news")
    hal.send(chat_id, "kept")
    expect(log.get_by_role("article")).to_have_count(1)
    positions = requests_to(page, "/api/v1/events/")

    socket.cut()
    hal.send(chat_id, "purged 1")
    hal.send(chat_id, "purged 2")
    # The events Ivy missed are purged (a retention of 0 days): her position is too old.
    manage("purge_events", EVENT_RETENTION_DAYS="0")
    hal.send(chat_id, "after the purge")
    stale = socket.since()

    socket.restore()
    # The server said resync_required (4410): the client took a new position, reloaded the
    # chat over REST and resumed from there.
    expect(log.get_by_role("article")).to_have_count(4)
    assert bodies(log) == ["kept", "purged 1", "purged 2", "after the purge"]
    assert len(positions) == 1 and "since" not in positions[0]
    assert socket.since() is not None and socket.since() != stale
    hal.send(chat_id, "live again")
    expect(log.get_by_role("article").filter(has_text="live again")).to_have_count(1)
    assert len(bodies(log)) == 5


def test_without_a_position_the_client_catches_up_over_rest(person, signed_in):
    jan, kay = person("jan"), person("kay")
    chat_id = jan.create_chat("Old server", kay)
    page = signed_in(kay)
    # A v1 server: no GET /events/ and no `pos` in frames. The socket connects without
    # `since`, and after a loss the client catches up with ?after= and the newest page.
    page.route(re.compile(r"/api/v1/events/"), lambda route: route.fulfill(status=404))
    socket = CuttableSocket(page, strip_pos=True)
    page.reload()
    log = open_chat(page, "Old server")
    jan.send(chat_id, "one")
    expect(log.get_by_role("article")).to_have_count(1)
    assert socket.since(0) is None

    socket.cut()
    jan.send(chat_id, "two")
    gone = jan.send(chat_id, "gone")
    jan.api("DELETE", f"messages/{gone['id']}/", expect_status=204)
    jan.send(chat_id, "three")
    catch_ups = requests_to(page, "/messages/?after=")
    socket.restore()
    expect(log.get_by_role("article")).to_have_count(3)
    assert bodies(log) == ["one", "two", "three"]
    assert catch_ups
    assert socket.since() is None
