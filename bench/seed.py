"""Seed the benchmark database (recreated) with chitchat.bulkload, the loader seed_chitchat uses.

Layout (ids reserved up front, so the scenario is known without querying; on the fresh
database they are the numbers below):
- users 1..CROWD are the crowd (members of the measured chats, the send chat and the fan-out
  chat); user CROWD + 1 is the user in 200 chats.
- chat 1: 100 messages; chat 2: 10,000; chat 3: 100,000; chat 4: 1,000,000. Their messages
  are inserted first, so the NEWEST rows of the table belong to other chats (the skewed case
  a list must be served by the (chat, id) index for).
- chats 5..5+OTHER_CHATS-1: 3,000,000 messages interleaved among them, inserted last.
  The 200-chat user is a member of the first 200 of them, with 10 unread messages in each.
- the send chat and the fan-out chat: every crowd user, no messages.
- the rich chat (1.1 features on, seeded last through the services): every crowd user,
  RICH_MESSAGES messages of which every 3rd is a reply, every 5th mentions a member, every
  4th is liked by user 1, each has two reactions (one of them user 1's), every 25th is pinned
  and every 10th carries a small PNG (stored under MEDIA_ROOT).

The denormalised fields the app keeps (Chat.message_count, last_message, last_activity_at,
Message.like_count) and the read markers are recomputed from the rows by the loader, so the
data passes chitchat.invariants; no likes.
Writes bench/.work/fixtures.json (ids, tokens) for bench/run.py.

Usage: python -m bench.seed [--scale 0.01]   (DATABASE_URL must point at the bench database)
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
PASSWORD = "bench-password-4711"
CROWD = 1000
OTHER_CHATS = 3000
# Messages per measured chat, by chat id (the plot's x axis).
MEASURED = {1: 100, 2: 10_000, 3: 100_000, 4: 1_000_000}
OTHER_MESSAGES = 3_000_000
U200_CHATS = 200
U200_UNREAD = 10
RICH_MESSAGES = 300
MICRO = timedelta(microseconds=1)
# Columns written by the loader (the rest take their NULL or are set by bulkload.recount).
USER_FIELDS = [
    *("id", "username", "email", "password", "date_joined"),
    *("is_superuser", "is_staff", "is_active", "is_private"),
    *("first_name", "last_name", "bio", "location"),
    *("username_key", "email_key"),
]
USER_FLAGS = (False, False, True, False)
USER_BLANKS = ("", "", "", "")
CHAT_FIELDS = [
    *("id", "kind", "name", "description", "passkey", "invite_code", "created_at"),
    *("last_activity_at", "message_count", "created_by"),
]


def log(msg: str) -> None:
    print(f"[seed {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def recreate_database(dsn: str) -> None:
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    admin_dsn = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate() -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True
    )


def bulk_insert(password_hash: str, scale: float) -> dict:
    """Every row through chitchat.bulkload (the loader seed_chitchat uses): COPY with ids
    reserved up front, message indexes and foreign keys rebuilt after, then the counters and
    read markers recomputed from the rows."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User, identity_key
    from chats.models import Chat, Membership
    from chitchat import bulkload
    from messaging.models import Message

    other_messages = int(OTHER_MESSAGES * scale)
    measured_sizes = [max(100, int(n * scale)) if n > 100 else n for n in MEASURED.values()]
    per_other = other_messages // OTHER_CHATS
    total = sum(measured_sizes) + per_other * OTHER_CHATS
    now = timezone.now()

    with transaction.atomic():
        log("users")
        first_user = bulkload.reserve_ids(User, CROWD + 1)
        assert first_user == 1, "bench/run.py expects the crowd at user ids 1..CROWD"
        crowd = list(range(first_user, first_user + CROWD))
        u200 = first_user + CROWD
        names = {uid: f"bench{n:04d}" for n, uid in enumerate(crowd, 1)} | {u200: "bench-u200"}
        bulkload.write_rows(
            User,
            USER_FIELDS,
            (
                (
                    *(uid, name, f"{name}@example.com", password_hash, now),
                    *USER_FLAGS,
                    *USER_BLANKS,
                    *(identity_key(name), identity_key(f"{name}@example.com")),
                )
                for uid, name in names.items()
            ),
        )

        log("chats")
        # The 4 measured chats, the others, then the send chat and the fan-out chat.
        first_chat = bulkload.reserve_ids(Chat, 4 + OTHER_CHATS + 2)
        measured = list(range(first_chat, first_chat + 4))
        others = list(range(first_chat + 4, first_chat + 4 + OTHER_CHATS))
        send_chat, fanout_chat = others[-1] + 1, others[-1] + 2
        owner = {cid: crowd[0] for cid in [*measured, send_chat, fanout_chat]}
        owner.update({cid: crowd[n % CROWD] for n, cid in enumerate(others)})
        bulkload.write_rows(
            Chat,
            CHAT_FIELDS,
            (
                (cid, "group", f"bench chat {cid}", "", "", f"bench-{cid}", now, now, 0, owner[cid])
                for cid in [*measured, *others, send_chat, fanout_chat]
            ),
        )

        log("memberships")
        # The crowd in the measured chats, the send chat and the fan-out chat; each other
        # chat has its owner, and the first 200 of them the 200-chat user too.
        crowd_chats = [*measured, send_chat, fanout_chat]
        rows = [
            (cid, uid, "owner" if uid == owner[cid] else "member", now)
            for cid in crowd_chats
            for uid in crowd
        ]
        rows += [(cid, owner[cid], "owner", now) for cid in others]
        rows += [(cid, u200, "member", now) for cid in others[:U200_CHATS]]
        bulkload.write_rows(Membership, ["chat", "user", "role", "joined_at"], rows)

        def message_rows():
            # The measured chats first (so the newest rows of the table belong to other
            # chats: the skewed case), ten crowd authors each, created_at growing with id.
            message_id = first_message
            start = now - timedelta(days=1)
            for cid, count in zip(measured, measured_sizes, strict=True):
                for g in range(count):
                    body = f"Bench message about ordinary things, topic {g % 97}"
                    yield message_id, cid, crowd[g % 10], body, start + g * MICRO, 0
                    message_id += 1
            # Then interleaved among the other chats; in the first 200 the 200-chat user
            # writes every other round.
            start = now - timedelta(hours=1)
            for g in range(per_other * OTHER_CHATS):
                index, round_ = g % OTHER_CHATS, g // OTHER_CHATS
                cid = others[index]
                author = u200 if index < U200_CHATS and round_ % 2 else owner[cid]
                body = f"Other message about nothing in particular, topic {g % 89}"
                yield message_id, cid, author, body, start + g * MICRO, 0
                message_id += 1

        log(f"messages: measured chats {measured_sizes}, {per_other * OTHER_CHATS:,} in others")
        first_message = bulkload.reserve_ids(Message, total)
        with bulkload.indexes_dropped([Message], rows=total):
            fields = ["id", "chat", "author", "body", "created_at", "like_count"]
            bulkload.write_rows(Message, fields, message_rows())
            log("indexes and foreign keys")

        log("denormalised counters, read markers, event-log spans")
        bulkload.recount()
        bulkload.open_spans()  # the members' sockets hear their chats (live/hub.py)
        bulkload.mark_read()
        # The 200-chat user has read all but the last U200_UNREAD messages of each chat.
        bulkload.mark_read(unread=U200_UNREAD, user_ids=[u200])

    log("vacuum analyze")
    with connection.cursor() as cursor:  # autocommit: VACUUM refuses to run in a transaction
        cursor.execute("VACUUM ANALYZE")

    big_last = first_message + sum(measured_sizes) - 1  # the big chat's newest message id
    return {
        "password": PASSWORD,
        "crowd": CROWD,
        "crowd_ids": [crowd[0], crowd[-1]],
        "u200": u200,
        "chats": {
            "small": measured[0],
            "c10k": measured[1],
            "c100k": measured[2],
            "big": measured[3],
            "send": send_chat,
            "fanout": fanout_chat,
        },
        "messages_in_chat": {str(cid): n for cid, n in zip(measured, measured_sizes, strict=True)},
        "other_messages": per_other * OTHER_CHATS,
        "total_messages": total,
        # Catch-up: the 50 newest messages of the 1,000,000-message chat.
        "big_catchup_after": big_last - 50,
        "big_messages": measured_sizes[3],
    }


def seed_rich(crowd_ids: list[int]) -> dict:
    """The rich chat, through the services (so every counter and the event log are as the
    API leaves them): replies, mentions, likes, reactions, pins, attachments."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from accounts.models import User
    from chats.services import chat_create
    from messaging.attachments.services import attachment_upload
    from messaging.services import message_like, message_pin, message_react, message_send

    users = {u.pk: u for u in User.objects.filter(pk__in=crowd_ids)}
    first, authors = users[crowd_ids[0]], [users[uid] for uid in crowd_ids[:10]]
    chat = chat_create(creator=first, name="bench rich", member_ids=crowd_ids[1:])
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(png, "PNG")
    messages = []
    for n in range(RICH_MESSAGES):
        author = authors[n % 10]
        body = f"Rich message {n}" + (f" for @{authors[1].username}" if n % 5 == 0 else "")
        reply_to = messages[n - 2].pk if n % 3 == 2 else None
        ids = []
        if n % 10 == 9:
            upload = SimpleUploadedFile(f"picture-{n}.png", png.getvalue(), content_type="image/*")
            ids = [attachment_upload(chat_id=chat.pk, uploader=author, upload=upload).pk]
        message, _ = message_send(
            chat=chat, author=author, body=body, reply_to=reply_to, attachment_ids=ids
        )
        messages.append(message)
        message_react(message=message, user=first, emoji="\N{THUMBS UP SIGN}")
        message_react(message=message, user=authors[2], emoji="\N{HEAVY BLACK HEART}")
        if n % 4 == 0:
            message_like(message=message, user=first)
        if n % 25 == 0:
            message_pin(message=message, user=first)
    return {"rich": chat.pk, "rich_parent": messages[-1].pk}


def mint_tokens(user_ids: list[int]) -> dict[int, str]:
    """Access tokens as the login endpoint would issue (simplejwt), without 1,001 password
    hashes. The lifetime is JWT_ACCESS_MINUTES (the bench sets it to a day)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    tokens = {}
    for user_id in user_ids:
        tokens[user_id] = str(AccessToken.for_user(User(pk=user_id, is_active=True)))
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the message counts (quick runs)"
    )
    args = parser.parse_args()
    dsn = os.environ["DATABASE_URL"]
    started = time.monotonic()
    log(f"recreating {urlsplit(dsn).path.lstrip('/')}")
    recreate_database(dsn)
    migrate()
    log("migrated")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password

    fixtures = bulk_insert(make_password(PASSWORD), args.scale)
    first, last = fixtures.pop("crowd_ids")
    log(f"rich chat: {RICH_MESSAGES} messages with replies, mentions, reactions, likes, pins")
    rich = seed_rich(list(range(first, last + 1)))
    fixtures["chats"]["rich"] = rich["rich"]
    fixtures["rich_parent"] = rich["rich_parent"]
    users = [*range(first, last + 1), fixtures["u200"]]
    tokens = mint_tokens(users)
    fixtures["tokens"] = {str(uid): tok for uid, tok in tokens.items()}
    fixtures["usernames"] = [f"bench{n:04d}" for n in range(1, fixtures["crowd"] + 1)]
    fixtures["seed_seconds"] = round(time.monotonic() - started, 1)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "fixtures.json").write_text(json.dumps(fixtures, indent=1))
    log(f"done in {fixtures['seed_seconds']} s: {fixtures['total_messages']:,} messages")


if __name__ == "__main__":
    main()
