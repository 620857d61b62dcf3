"""seed_chitchat: demo data on an empty database, idempotent, consistent counters, a login
that works, and the size options."""

import io
import re

import pytest
from django.core.management import call_command
from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from chats.models import Chat, Membership
from chitchat import bulkload
from chitchat.invariants import assert_invariants
from chitchat.management.commands import seed_chitchat
from messaging.attachments.models import Attachment
from messaging.models import Like, Message
from messaging.tests.attachment_files import streamed


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """The demo images go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_chitchat", *args, stdout=out)
    return out.getvalue()


def assert_consistent():
    """Every denormalised value matches the rows it summarises, and the data is what the API
    could have stored."""
    assert_invariants()
    # A chat's last activity is its newest message, as a send sets it.
    newest = dict(Message.objects.values_list("id", "created_at"))
    for chat in Chat.objects.exclude(last_message_id=None):
        assert chat.last_activity_at == newest[chat.last_message_id], chat.pk
    # One owner per group chat, two plain members per direct chat.
    owners = Chat.objects.filter(kind="group").annotate(
        owners=Count("memberships", filter=Q(memberships__role="owner"))
    )
    assert set(owners.values_list("owners", flat=True)) == {1}
    directs = Chat.objects.filter(kind="direct").annotate(n=Count("memberships"))
    assert set(directs.values_list("n", flat=True)) <= {2}
    # Authors are members of their chats; likes come from members.
    for message in Message.objects.all()[:300]:
        assert Membership.objects.filter(chat_id=message.chat_id, user_id=message.author_id)
    for like in Like.objects.select_related("message")[:300]:
        assert Membership.objects.filter(chat_id=like.message.chat_id, user_id=like.user_id)
    # Read markers point at messages of their own chat.
    for membership in Membership.objects.exclude(last_read_message_id=None)[:300]:
        message = Message.objects.get(pk=membership.last_read_message_id)
        assert message.chat_id == membership.chat_id
    # Each chat's ids increase with time, as if sent one after the other.
    for chat in Chat.objects.all()[:20]:
        times = list(chat.messages.order_by("id").values_list("created_at", flat=True))
        assert times == sorted(times)


@pytest.mark.django_db
def test_empty_database_gets_demo_data():
    out = seed()
    demo = User.objects.get(username="demo")
    assert demo.check_password("chitchat-demo-pass")
    for name in seed_chitchat.PEOPLE:
        assert User.objects.get(username=name).check_password("chitchat-demo-pass")
    groups = Chat.objects.filter(kind="group")
    assert groups.filter(passkey="").exists()
    assert groups.exclude(passkey="").exists()
    assert Chat.objects.filter(kind="direct", memberships__user=demo).count() == len(
        seed_chitchat.PEOPLE
    )
    assert Message.objects.count() == seed_chitchat.DEFAULT_MESSAGES
    assert Like.objects.exists()
    assert groups.filter(name=seed_chitchat.WELCOME, memberships__user=demo).exists()
    assert "Demo login: username 'demo', password 'chitchat-demo-pass'" in out
    assert_consistent()


@pytest.mark.django_db
def test_second_run_adds_nothing_and_restores_the_demo_password():
    seed()
    counts = (User.objects.count(), Chat.objects.count(), Message.objects.count())
    demo = User.objects.get(username="demo")
    demo.set_password("something-else-123")
    demo.save()
    out = seed()
    assert "already there" in out
    assert (User.objects.count(), Chat.objects.count(), Message.objects.count()) == counts
    assert User.objects.filter(username__iexact="demo").count() == 1
    demo.refresh_from_db()
    assert demo.check_password("chitchat-demo-pass")


@pytest.mark.django_db
def test_the_printed_login_works_through_the_api():
    out = seed()
    username, password = re.search(r"username '([^']+)', password '([^']+)'", out).groups()
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    token = response.json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    chats = client.get("/api/v1/chats/?mine=true")
    assert chats.status_code == 200
    rows = chats.json()["results"]
    assert len(rows) > 5
    # The demo user has a few unread messages (never more than 3 a chat); alice read all.
    assert sum(row["unread_count"] for row in rows) > 0
    assert max(row["unread_count"] for row in rows) <= seed_chitchat.DEMO_UNREAD
    alice = APIClient()
    alice.force_authenticate(User.objects.get(username="alice"))
    alices = alice.get("/api/v1/chats/?mine=true").json()["results"]
    assert alices and {row["unread_count"] for row in alices} == {0}
    # The private chats' passkey is printed too, and works for someone outside the chat.
    passkey = re.search(r"passkey: '([^']+)'", out).group(1)
    outsider = User.objects.create_user("outsider", "outsider@example.com", "x-pass-9876")
    private = Chat.objects.filter(kind="group").exclude(passkey="").first()
    Membership.objects.filter(chat=private, user=outsider).delete()
    client.force_authenticate(outsider)
    joined = client.post(f"/api/v1/chats/{private.pk}/join/", {"passkey": passkey})
    assert joined.status_code == 200, joined.content


@pytest.mark.django_db
def test_size_options_and_exact_chats():
    seed()
    before_groups = Chat.objects.filter(kind="group").count()
    before_messages = Message.objects.count()
    out = seed("--users", "40", "--chats", "3", "--messages", "40", "--chat-messages", "7,25")
    assert User.objects.filter(username__startswith=seed_chitchat.BULK_PREFIX).count() == 40
    assert Message.objects.count() == before_messages + 40 + 7 + 25
    assert Chat.objects.get(name="bench 7").messages.count() == 7
    bench = Chat.objects.get(name="bench 25")
    assert bench.message_count == 25
    assert bench.memberships.filter(user__username="demo").exists()
    assert Chat.objects.filter(kind="group").count() == before_groups + 3 + 2
    assert "Seeded" in out
    assert_consistent()
    # --users is a total: asking again for as many, or fewer, creates none.
    seed("--users", "12", "--chats", "0", "--messages", "0")
    assert User.objects.filter(username__startswith=seed_chitchat.BULK_PREFIX).count() == 40


@pytest.mark.django_db
def test_reset_starts_over():
    seed()
    other = User.objects.create_user("keeper", "keeper@example.com", "keeper-pass-123")
    seed("--users", "5", "--chats", "2", "--messages", "30")
    out = seed("--reset")
    assert "Reset" in out
    assert User.objects.filter(pk=other.pk).exists()  # not a seed user: kept
    assert User.objects.filter(username__startswith=seed_chitchat.BULK_PREFIX).count() == (
        seed_chitchat.DEFAULT_USERS
    )
    assert Chat.objects.filter(name=seed_chitchat.WELCOME).count() == 1
    assert Message.objects.count() == seed_chitchat.DEFAULT_MESSAGES
    assert_consistent()


@pytest.mark.django_db
def test_bad_option_values_are_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        seed("--chat-messages", "10,abc")
    with pytest.raises(CommandError):
        seed("--messages", "-1")


def test_help_lists_the_options():
    out = io.StringIO()
    command = seed_chitchat.Command(stdout=out)
    help_text = command.create_parser("manage.py", "seed_chitchat").format_help()
    for option in ("--users", "--chats", "--messages", "--chat-messages", "--reset"):
        assert option in help_text
    assert "chitchat-demo-pass" in help_text


@pytest.mark.postgres
@pytest.mark.django_db
def test_bulk_load_path_rebuilds_indexes_and_foreign_keys(monkeypatch, django_db_blocker):
    """The PostgreSQL bulk path (indexes and FKs dropped, then rebuilt) leaves the same
    schema and consistent data."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def schema():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename IN ('messaging_message', 'messaging_like') ORDER BY 1"
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid "
                "IN ('messaging_message'::regclass, 'messaging_like'::regclass) ORDER BY 1"
            )
            return indexes, cursor.fetchall()

    seed()  # the demo content first, through the services
    before, demo_messages = schema(), Message.objects.count()
    # A big load into a small table; no ANALYZE (its statistics would outlive the rollback).
    monkeypatch.setattr(bulkload, "BIG_LOAD", 10)
    monkeypatch.setattr(bulkload, "estimated_rows", lambda table: 0)
    monkeypatch.setattr(bulkload, "analyze", lambda: None)
    with CaptureQueriesContext(connection) as queries:
        seed("--users", "10", "--chats", "4", "--messages", "300", "--chat-messages", "50")
    assert any(q["sql"].startswith("DROP INDEX") for q in queries.captured_queries)
    assert schema() == before
    assert Message.objects.count() == demo_messages + 350
    assert_consistent()


@pytest.mark.django_db
def test_seed_works_when_a_demo_address_is_taken():
    User.objects.create_user("someone", "alice@example.com", "someone-pass-123")
    seed()
    assert User.objects.get(username="alice").email == "alice.demo@example.com"


def demo_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(username=seed_chitchat.DEMO_USERNAME))
    return client


@pytest.mark.django_db
def test_demo_data_shows_replies_reactions_mentions_pins_reports_and_images():
    seed()
    client = demo_client()
    chats = client.get("/api/v1/chats/?mine=true", {"page_size": 200}).json()["results"]
    welcome = next(row for row in chats if row["name"] == seed_chitchat.WELCOME)
    # The message mentioning @demo is left unread: the chat list shows it.
    assert welcome["mention_count"] == 1
    assert welcome["unread_count"] <= seed_chitchat.DEMO_UNREAD
    response = client.get(f"/api/v1/chats/{welcome['id']}/messages/", {"page_size": 20})
    assert response.status_code == 200
    page = {row["id"]: row for row in response.json()["results"]}

    # Replies: the answer names its parent, and the parent counts its replies.
    replies = [row for row in page.values() if row["reply_to"]]
    assert len(replies) >= 3
    for reply in replies:
        parent = page[reply["reply_to"]["id"]]
        assert reply["reply_to"]["body"] == parent["body"][:200]
        assert reply["reply_to"]["author"] == parent["author"]
        assert parent["reply_count"] >= 1
        listed = client.get(f"/api/v1/messages/{parent['id']}/replies/").json()["results"]
        assert reply["id"] in [row["id"] for row in listed]

    # Reactions from several people, the demo user's own marked with `me`.
    reacted = [row for row in page.values() if row["reactions"]]
    assert len(reacted) >= 3
    busiest = max(reacted, key=lambda row: sum(r["count"] for r in row["reactions"]))
    assert len(busiest["reactions"]) >= 2
    who = client.get(f"/api/v1/messages/{busiest['id']}/reactions/").json()["results"]
    assert len({user["id"] for row in who for user in row["users"]}) >= 4
    assert any(r["me"] for row in reacted for r in row["reactions"])

    # The mention, in the message and in the caller's mentions.
    mentioning = [row for row in page.values() if row["mentions"]]
    assert [m["username"] for row in mentioning for m in row["mentions"]] == ["demo"]
    mine = client.get("/api/v1/messages/mentions/").json()["results"]
    assert [row["id"] for row in mine] == [mentioning[0]["id"]]

    # One pinned message, listed among the chat's pins.
    pins = client.get(f"/api/v1/chats/{welcome['id']}/pins/")
    assert pins.status_code == 200
    (pinned,) = pins.json()["results"]
    assert pinned["pinned"] is True and page[pinned["id"]]["pinned"] is True

    # One open report, seen by the chat's owner (the demo user) and in the admin's queue.
    reports = client.get(f"/api/v1/chats/{welcome['id']}/reports/")
    assert reports.status_code == 200
    (report,) = reports.json()["results"]
    assert report["status"] == "open" and report["reason"] == "spam"
    reported = report["message"]
    assert reported["id"] in page
    staff = Client()
    staff.force_login(User.objects.create_superuser("boss", "boss@example.com", "boss-pass-123"))
    queue = staff.get(reverse("admin:messaging_report_changelist"))
    assert queue.status_code == 200
    assert reported["body"] in queue.content.decode()

    # Images attached to messages, downloadable with their size and a thumbnail.
    images = [a for row in page.values() for a in row["attachments"]]
    direct = next(row for row in chats if row["kind"] == "direct" and row["name"] == "alice")
    images += direct["last_message"]["attachments"]
    assert {a["content_type"] for a in images} == {"image/png", "image/jpeg"}
    assert len(images) == Attachment.objects.count() >= 2
    for attachment in images:
        assert attachment["width"] and attachment["height"]
        download = client.get(attachment["url"])
        assert download.status_code == 200
        assert download["Content-Type"] == attachment["content_type"]
        with Image.open(io.BytesIO(streamed(download))) as image:
            assert image.size == (attachment["width"], attachment["height"])
        assert client.get(attachment["url"] + "thumbnail/").status_code == 200


@pytest.mark.django_db
def test_second_run_and_reset_keep_the_showcase_once(
    media_root, django_capture_on_commit_callbacks
):
    seed()
    counts = [model.objects.count() for model in (Message, Attachment, Like)]
    files = sorted(path for path in media_root.rglob("*") if path.is_file())
    assert files
    assert "already there" in seed()
    assert [model.objects.count() for model in (Message, Attachment, Like)] == counts
    assert sorted(path for path in media_root.rglob("*") if path.is_file()) == files
    with django_capture_on_commit_callbacks(execute=True):  # files go once committed
        seed("--reset")
    # The old files went with their rows; the new run stored as many again.
    after = sorted(path for path in media_root.rglob("*") if path.is_file())
    assert len(after) == len(files) and not set(after) & set(files)
    assert Attachment.objects.count() == counts[1]
    assert_consistent()
