"""Attachments through the API: upload, download, thumbnail, send with attachment_ids,
message bodies and events, removal with the data, and purge_attachments (file system)."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from chats.tests.factories import direct_chat
from messaging.attachments.models import Attachment
from messaging.models import Message
from messaging.services import message_send
from messaging.tests.attachment_files import image_bytes, streamed, upload
from messaging.tests.conftest import add_member

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG")
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root) -> set[str]:
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def send(client, chat_id, **data):
    return client.post(f"/api/v1/chats/{chat_id}/messages/", data, format="json")


# --- upload -------------------------------------------------------------------------------


def test_upload_an_image_judged_from_its_bytes(client_for, group, bob, media_root):
    response = upload(client_for(bob), group.pk, PNG, name="../../etc/ph\u00f6to.jpg")
    assert response.status_code == 201, response.content
    body = response.json()
    attachment = Attachment.objects.get()
    assert body == {
        "id": attachment.pk,
        "name": "ph\u00f6to.jpg",
        "size": len(PNG),
        "content_type": "image/png",
        "url": f"/api/v1/attachments/{attachment.pk}/",
        "width": 800,
        "height": 400,
    }
    assert attachment.uploader == bob and attachment.message is None
    # The original and its thumbnail, under names the server chose.
    assert len(stored_files(media_root)) == 2
    assert all("ph" not in name for name in stored_files(media_root))


@pytest.mark.parametrize(
    ("data", "content_type", "name"),
    [
        (image_bytes("JPEG"), "image/jpeg", "a.png"),
        (image_bytes("GIF"), "image/gif", "a.gif"),
        (image_bytes("WEBP"), "image/webp", "a"),
        (PDF, "application/pdf", "report.png"),
        ("plain t\u00e9xt\n".encode(), "text/plain", "notes.html"),
        (b"\x00\x01\x02binary", "application/octet-stream", "x.exe"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "text/plain",
            "x.svg",
        ),
    ],
)
def test_content_type_comes_from_the_bytes(client_for, group, bob, data, content_type, name):
    response = upload(client_for(bob), group.pk, data, name=name)
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == content_type
    is_image = content_type.startswith("image/")
    assert (response.json()["width"] is not None) == is_image


def test_backslash_paths_and_long_names_are_cut(client_for, group, bob):
    response = upload(client_for(bob), group.pk, b"x", name="C:\\Users\\bob\\" + "n" * 300 + ".txt")
    assert response.status_code == 201
    name = response.json()["name"]
    assert len(name) <= 255 and name.endswith(".txt") and "\\" not in name


def test_missing_or_empty_file_is_400(client_for, group, bob):
    client = client_for(bob)
    response = client.post(f"/api/v1/chats/{group.pk}/attachments/", {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    assert upload(client, group.pk, b"").status_code == 400
    assert "file" in upload(client, group.pk, b"").json()
    assert Attachment.objects.count() == 0


def test_json_body_is_415(client_for, group, bob):
    response = client_for(bob).post(
        f"/api/v1/chats/{group.pk}/attachments/", {"file": "x"}, format="json"
    )
    assert response.status_code == 415


def test_too_large_is_413_and_nothing_stored(client_for, group, bob, settings, media_root):
    settings.ATTACHMENT_MAX_BYTES = 1000
    client = client_for(bob)
    assert upload(client, group.pk, b"x" * 1000).status_code == 201
    response = upload(client, group.pk, b"x" * 1001)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    # Refused from the Content-Length alone, before the body is read.
    response = upload(client, group.pk, b"x" * 200_000)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert Attachment.objects.count() == 1
    assert len(stored_files(media_root)) == 1


def test_files_larger_than_the_json_body_limit_are_accepted(client_for, group, bob, settings):
    data = b"\x00" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 3)
    response = upload(client_for(bob), group.pk, data)
    assert response.status_code == 201, response.content
    assert response.json()["size"] == len(data)
    assert streamed(client_for(bob).get(response.json()["url"])) == data


def test_large_upload_never_held_in_memory(client_for, group, bob, monkeypatch):
    """The upload goes to a temporary file even when small (no in-memory handler)."""
    from messaging.attachments import services

    seen = {}
    original = services.files.inspect

    def spy(upload):
        seen["path"] = upload.temporary_file_path()
        return original(upload)

    monkeypatch.setattr(services.files, "inspect", spy)
    assert upload(client_for(bob), group.pk, b"small").status_code == 201
    assert seen["path"]


def test_decompression_bomb_is_400(client_for, group, bob, settings):
    settings.ATTACHMENT_MAX_IMAGE_PIXELS = 100 * 100
    response = upload(client_for(bob), group.pk, image_bytes("PNG", size=(101, 100)))
    assert response.status_code == 400
    assert "file" in response.json()
    # Far above the limit, Pillow itself refuses to open it: still a 400.
    response = upload(client_for(bob), group.pk, image_bytes("GIF", size=(300, 300)))
    assert response.status_code == 400
    assert Attachment.objects.count() == 0


def test_corrupt_image_is_400(client_for, group, bob):
    response = upload(client_for(bob), group.pk, PNG[:60])
    assert response.status_code == 400
    assert "file" in response.json()


def test_upload_is_for_members_only(client_for, group, carol, alice):
    assert upload(client_for(carol), group.pk, b"x").status_code == 403
    dm = direct_chat(alice, UserFactory())
    assert upload(client_for(carol), dm.pk, b"x").status_code == 404
    assert upload(client_for(carol), 999999, b"x").status_code == 404
    assert Attachment.objects.count() == 0


# --- download -----------------------------------------------------------------------------


def test_download_image_inline_with_safe_headers(client_for, group, alice, bob):
    attachment = upload(client_for(bob), group.pk, PNG, name="ph\u00f6to.png").json()
    assert send(client_for(bob), group.pk, attachment_ids=[attachment["id"]]).status_code == 201
    response = client_for(alice).get(attachment["url"], HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert streamed(response) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(PNG))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline;")
    assert "filename*=UTF-8''ph%C3%B6to.png" in response["Content-Disposition"]
    assert "sandbox" in response["Content-Security-Policy"]


def test_download_other_files_as_attachment(client_for, group, bob):
    client = client_for(bob)
    data = b"<html><script>alert(1)</script></html>"
    attachment = upload(client, group.pk, data, name='r\u00e9sum\u00e9 "x".html').json()
    response = client.get(attachment["url"])
    assert response.status_code == 200
    assert streamed(response) == data
    assert response["Content-Type"] == "text/plain"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22.html" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"


def test_download_permissions(client_for, group, alice, bob, carol):
    unused = upload(client_for(bob), group.pk, b"draft").json()
    used = upload(client_for(bob), group.pk, b"sent").json()
    assert send(client_for(bob), group.pk, attachment_ids=[used["id"]]).status_code == 201
    # The uploader sees their unused upload; other members do not know it exists yet.
    assert client_for(bob).get(unused["url"]).status_code == 200
    assert client_for(alice).get(unused["url"]).status_code == 404
    assert client_for(alice).get(used["url"]).status_code == 200
    # A group chat's non-member: 403; unknown: 404; no token: 401.
    assert client_for(carol).get(used["url"]).status_code == 403
    assert client_for(carol).get("/api/v1/attachments/999999/").status_code == 404
    from rest_framework.test import APIClient

    assert APIClient().get(used["url"]).status_code == 401
    # Checked on every request: once bob leaves, he is a non-member too.
    assert client_for(bob).post(f"/api/v1/chats/{group.pk}/leave/").status_code in (200, 204)
    assert client_for(bob).get(used["url"]).status_code == 403


def test_someone_elses_direct_chat_is_404(client_for, alice, bob, carol):
    dm = direct_chat(alice, bob)
    attachment = upload(client_for(alice), dm.pk, PNG).json()
    assert send(client_for(alice), dm.pk, attachment_ids=[attachment["id"]]).status_code == 201
    assert client_for(bob).get(attachment["url"]).status_code == 200
    assert client_for(carol).get(attachment["url"]).status_code == 404
    assert client_for(carol).get(attachment["url"] + "thumbnail/").status_code == 404


def test_thumbnail_fits_320_and_only_for_images(client_for, group, bob):
    from io import BytesIO

    from PIL import Image

    client = client_for(bob)
    image = upload(client, group.pk, image_bytes("JPEG", size=(1000, 500))).json()
    response = client.get(image["url"] + "thumbnail/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    with Image.open(BytesIO(streamed(response))) as thumb:
        assert thumb.size == (320, 160)
    other = upload(client, group.pk, PDF).json()
    assert client.get(other["url"] + "thumbnail/").status_code == 404


# --- send ---------------------------------------------------------------------------------


def test_send_with_attachments_in_order(
    client_for, group, bob, sent_events, django_capture_on_commit_callbacks
):
    client = client_for(bob)
    first = upload(client, group.pk, PNG, name="one.png").json()
    second = upload(client, group.pk, PDF, name="two.pdf").json()
    sent_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, group.pk, body="", attachment_ids=[second["id"], first["id"]])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == ""
    assert body["attachments"] == [second, first]
    created = sent_events.of_type("message.created")
    assert [frame["data"]["attachments"] for frame in created] == [[second, first]]
    # Reads show the same, in the same order.
    assert client.get(f"/api/v1/messages/{body['id']}/").json()["attachments"] == [second, first]
    page = client.get(f"/api/v1/chats/{group.pk}/messages/").json()["results"]
    assert page[0]["attachments"] == [second, first]
    chat = client.get(f"/api/v1/chats/{group.pk}/").json()
    assert chat["last_message"]["attachments"] == [second, first]


def test_body_may_be_left_out_with_attachments_only(client_for, group, bob):
    client = client_for(bob)
    attachment = upload(client, group.pk, b"x").json()
    response = send(client, group.pk, attachment_ids=[attachment["id"]])
    assert response.status_code == 201
    assert response.json()["body"] == ""
    assert send(client, group.pk).json() == {"body": ["This field is required."]}
    assert send(client, group.pk, body=" ").status_code == 400


def test_invalid_attachment_ids_are_400(client_for, group, alice, bob, carol):
    client = client_for(bob)
    mine = upload(client, group.pk, b"mine").json()["id"]
    alices = upload(client_for(alice), group.pk, b"hers").json()["id"]
    add_member(group, carol)
    other_chat = direct_chat(bob, carol)
    elsewhere = upload(client, other_chat.pk, b"elsewhere").json()["id"]
    many = [upload(client, group.pk, b"%d" % i).json()["id"] for i in range(11)]
    for ids in (
        [],
        [alices],
        [elsewhere],
        [mine, mine],
        [999999],
        many,
        ["x"],
        None,
        [0],
    ):
        response = send(client, group.pk, body="hi", attachment_ids=ids)
        assert response.status_code == 400, ids
        assert "attachment_ids" in response.json(), ids
    assert Message.objects.count() == 0
    # Ten is the most; each one can be used once.
    assert send(client, group.pk, body="ten", attachment_ids=many[:10]).status_code == 201
    response = send(client, group.pk, body="again", attachment_ids=[many[0]])
    assert response.status_code == 400 and "attachment_ids" in response.json()
    assert Message.objects.count() == 1


def test_failed_send_leaves_attachments_unused(client_for, group, bob):
    client = client_for(bob)
    good = upload(client, group.pk, b"good").json()["id"]
    response = send(client, group.pk, body="hi", attachment_ids=[good, 999999])
    assert response.status_code == 400
    assert Attachment.objects.get(pk=good).message_id is None
    assert send(client, group.pk, body="hi", attachment_ids=[good]).status_code == 201


def test_client_id_replay_returns_the_attachments(client_for, group, bob):
    client = client_for(bob)
    ids = [upload(client, group.pk, b"a").json()["id"]]
    first = send(client, group.pk, body="hi", client_id="k", attachment_ids=ids)
    again = send(client, group.pk, body="hi", client_id="k", attachment_ids=ids)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(first.json()["attachments"]) == 1


def test_page_of_messages_with_attachments_has_fixed_query_count(
    client_for, group, bob, django_assert_num_queries
):
    client = client_for(bob)
    for i in range(30):
        ids = [upload(client, group.pk, b"%d" % j).json()["id"] for j in range(i % 3)]
        message_send(chat=group, author=bob, body=f"m{i}", attachment_ids=ids)
    assert client.get("/api/v1/users/me/").status_code == 200  # the token's mark cached
    # The page, then the attachments of all its messages in one query.
    with django_assert_num_queries(2):
        response = client.get(f"/api/v1/chats/{group.pk}/messages/", {"page_size": 200})
    results = response.json()["results"]
    assert len(results) == 30
    assert [len(r["attachments"]) for r in results] == [i % 3 for i in reversed(range(30))]
    with django_assert_num_queries(2):
        mine = client.get("/api/v1/messages/mine/", {"page_size": 200}).json()["results"]
    assert mine == results


# --- storage follows the data -------------------------------------------------------------


def test_deleting_a_message_removes_its_files(
    client_for, group, bob, media_root, django_capture_on_commit_callbacks
):
    client = client_for(bob)
    attachment = upload(client, group.pk, PNG).json()
    kept = upload(client, group.pk, b"unused").json()
    message = send(client, group.pk, body="hi", attachment_ids=[attachment["id"]]).json()
    assert len(stored_files(media_root)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/messages/{message['id']}/").status_code == 204
    assert len(stored_files(media_root)) == 1
    assert list(Attachment.objects.values_list("pk", flat=True)) == [kept["id"]]
    assert client.get(attachment["url"]).status_code == 404


def test_deleting_a_chat_removes_its_files(
    client_for, group, alice, bob, media_root, django_capture_on_commit_callbacks
):
    attachment = upload(client_for(bob), group.pk, PNG).json()
    send(client_for(bob), group.pk, body="hi", attachment_ids=[attachment["id"]])
    upload(client_for(alice), group.pk, b"unused")
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(alice).delete(f"/api/v1/chats/{group.pk}/").status_code == 204
    assert stored_files(media_root) == set()
    assert Attachment.objects.count() == 0


def test_deleting_an_account_removes_its_files(
    client_for, group, alice, bob, media_root, django_capture_on_commit_callbacks
):
    client = client_for(bob)
    attachment = upload(client, group.pk, PNG).json()
    send(client, group.pk, body="hi", attachment_ids=[attachment["id"]])
    upload(client, group.pk, b"unused")
    alices = upload(client_for(alice), group.pk, b"alice's").json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete("/api/v1/users/me/", {"password": DEFAULT_PASSWORD})
    assert response.status_code == 204
    assert list(Attachment.objects.values_list("pk", flat=True)) == [alices["id"]]
    assert len(stored_files(media_root)) == 1


def test_a_rolled_back_deletion_keeps_the_files(client_for, group, bob, media_root):
    from django.db import transaction

    from messaging.services import message_delete

    client = client_for(bob)
    attachment = upload(client, group.pk, PNG).json()
    message = send(client, group.pk, body="hi", attachment_ids=[attachment["id"]]).json()
    with pytest.raises(RuntimeError), transaction.atomic():
        message_delete(message=Message.objects.get(pk=message["id"]))
        raise RuntimeError
    assert len(stored_files(media_root)) == 2
    assert client.get(attachment["url"]).status_code == 200


def test_purge_removes_old_unused_uploads_only(
    client_for, group, bob, media_root, settings, django_capture_on_commit_callbacks
):
    client = client_for(bob)
    old_unused = upload(client, group.pk, PNG).json()
    old_used = upload(client, group.pk, b"used").json()
    new_unused = upload(client, group.pk, b"new").json()
    send(client, group.pk, body="hi", attachment_ids=[old_used["id"]])
    old = timezone.now() - timedelta(hours=settings.ATTACHMENT_ORPHAN_HOURS, minutes=1)
    Attachment.objects.filter(pk__in=[old_unused["id"], old_used["id"]]).update(created_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_attachments", stdout=open("/dev/null", "w"))  # noqa: SIM115
    remaining = set(Attachment.objects.values_list("pk", flat=True))
    assert remaining == {old_used["id"], new_unused["id"]}
    assert len(stored_files(media_root)) == 2
    # Idempotent: a second run removes nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_attachments", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(Attachment.objects.values_list("pk", flat=True)) == remaining
    # A purged upload can no longer be attached.
    response = send(client, group.pk, body="hi", attachment_ids=[old_unused["id"]])
    assert response.status_code == 400


def test_storage_is_the_file_system_by_default(media_root):
    from django.core.files.storage import FileSystemStorage

    assert default_storage.location == str(media_root)
    assert isinstance(default_storage._wrapped, FileSystemStorage)


@pytest.mark.no_invariants  # breaks one on purpose
def test_invariant_checker_sees_an_attachment_on_someone_elses_message(client_for, group, bob):
    from chitchat.invariants import check_invariants

    client = client_for(bob)
    attachment = upload(client, group.pk, b"x").json()
    sent = send(client, group.pk, body="hi", attachment_ids=[attachment["id"]]).json()
    assert check_invariants() == []
    other = message_send(chat=group, author=group.created_by, body="not bob's")[0]
    Attachment.objects.filter(pk=attachment["id"]).update(message=other)
    # The counts follow the move: only the ownership rule is broken.
    Message.objects.filter(pk=sent["id"]).update(attachment_count=0)
    Message.objects.filter(pk=other.pk).update(attachment_count=1)
    assert check_invariants() == [
        f"Attachment {attachment['id']}: not its uploader's message {other.pk} of its chat"
    ]


def test_thumbnail_is_upright_for_a_rotated_camera_jpeg(client_for, group, bob):
    from io import BytesIO

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to view
    out = BytesIO()
    Image.new("RGB", (1000, 500), (10, 200, 10)).save(out, "JPEG", exif=exif)
    client = client_for(bob)
    image = upload(client, group.pk, out.getvalue()).json()
    assert (image["width"], image["height"]) == (1000, 500)  # as stored
    with Image.open(BytesIO(streamed(client.get(image["url"] + "thumbnail/")))) as thumb:
        assert thumb.size == (160, 320)
