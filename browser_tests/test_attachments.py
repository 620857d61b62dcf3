"""Attaching files: an image shows inline in the other person's browser, other files download."""

import io
import re

from PIL import Image
from playwright.sync_api import expect
from test_chat import open_chat


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def attach(page, name: str, mime_type: str, data: bytes) -> None:
    """Choose a file through the "Attach file" button, as a person would."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach file").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": mime_type, "buffer": data}])


def test_an_uploaded_image_shows_in_the_other_persons_browser(person, signed_in):
    ida, jon = person("ida"), person("jon")
    chat_id = ida.create_chat("Holiday photos", jon)
    ida_page, jon_page = signed_in(ida), signed_in(jon)
    open_chat(ida_page, "Holiday photos")
    jon_log = open_chat(jon_page, "Holiday photos")

    attach(ida_page, "sunset.png", "image/png", png(640, 480))
    files = ida_page.get_by_role("list", name="Files to send")
    expect(files).to_contain_text("sunset.png (")
    expect(files).not_to_contain_text("uploading")
    ida_page.get_by_role("textbox", name="Message", exact=True).fill("Last night's sunset")
    ida_page.get_by_role("button", name="Send", exact=True).click()
    expect(files).to_be_hidden()

    article = jon_log.get_by_role("article").filter(has_text="Last night's sunset")
    image = article.get_by_role("img", name="sunset.png")
    expect(image).to_be_visible()
    # The thumbnail came through a fetch with the Bearer token, as a blob: URL.
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    # Loaded and decoded: the 320-pixel thumbnail of a 640 x 480 image.
    jon_page.wait_for_function(
        "img => img.complete && img.naturalWidth === 320", arg=image.element_handle()
    )
    assert image.evaluate("img => img.naturalHeight") == 240
    # It was sent once, as one message with the attachment.
    messages = jon.api("GET", f"chats/{chat_id}/messages/", expect_status=200)["results"]
    assert [(m["body"], [a["name"] for a in m["attachments"]]) for m in messages] == [
        ("Last night's sunset", ["sunset.png"])
    ]
    assert messages[0]["attachments"][0]["width"] == 640


def test_a_file_alone_is_sent_and_downloads_with_its_name(person, signed_in):
    kit, lia = person("kit"), person("lia")
    kit.create_chat("Paperwork", lia)
    kit_page, lia_page = signed_in(kit), signed_in(lia)
    open_chat(kit_page, "Paperwork")
    lia_log = open_chat(lia_page, "Paperwork")
    content = b"minutes of the meeting\n" * 100

    attach(kit_page, "minutes.txt", "text/plain", content)
    expect(kit_page.get_by_role("list", name="Files to send")).to_contain_text("minutes.txt (3 KB)")
    # A file needs no text.
    kit_page.get_by_role("button", name="Send", exact=True).click()
    article = lia_log.get_by_role("article").filter(has_text="minutes.txt")
    expect(article).to_be_visible()
    expect(article.get_by_role("img")).to_have_count(0)
    link = article.get_by_role("button", name="Download minutes.txt")
    with lia_page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "minutes.txt"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == content


def test_a_file_can_be_removed_before_sending(person, signed_in):
    mo = person("mo")
    chat_id = mo.create_chat("Second thoughts")
    page = signed_in(mo)
    log = open_chat(page, "Second thoughts")
    attach(page, "draft.txt", "text/plain", b"not this one")
    files = page.get_by_role("list", name="Files to send")
    expect(files).to_contain_text("draft.txt (1 KB)")
    files.get_by_role("button", name="Remove draft.txt").click()
    expect(files).to_be_hidden()
    expect(page.get_by_role("button", name="Attach file")).to_be_focused()
    # Nothing to send now: Send does nothing.
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_role("textbox", name="Message", exact=True).fill("just text")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(log.get_by_role("article")).to_have_count(1)
    messages = mo.api("GET", f"chats/{chat_id}/messages/", expect_status=200)["results"]
    assert [(m["body"], m["attachments"]) for m in messages] == [("just text", [])]
