"""Seed the benchmark database (recreated) in bulk with INSERT ... SELECT generate_series.

Layout (ids are explicit so the scenario is known without querying):
- users 1..CROWD are the crowd (members of the measured chats, the send chat and the fan-out
  chat); user CROWD + 1 is the user in 200 chats.
- chat 1: 100 messages; chat 2: 10,000; chat 3: 100,000; chat 4: 1,000,000. Their messages
  are inserted first, so the NEWEST rows of the table belong to other chats (the skewed case
  a list must be served by the (chat, id) index for).
- chats 5..5+OTHER_CHATS-1: 3,000,000 messages interleaved among them, inserted last.
  The 200-chat user is a member of the first 200 of them, with 10 unread messages in each.
- the send chat and the fan-out chat: every crowd user, no messages.

The denormalised fields the app keeps (Chat.message_count, last_message, last_activity_at,
Membership.last_read_message_id, Message.like_count) are computed to match; no likes.
Writes bench/.work/fixtures.json (ids, tokens) for bench/run.py.

Usage: python -m bench.seed [--small]   (DATABASE_URL must point at the bench database)
"""

import argparse
import json
import os
import subprocess
import sys
import time
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


def bulk_insert(dsn: str, password_hash: str, scale: float) -> dict:
    """All rows in one session with FK triggers off and the message indexes built after."""
    other_messages = int(OTHER_MESSAGES * scale)
    measured = {cid: max(100, int(n * scale)) if n > 100 else n for cid, n in MEASURED.items()}
    other_first = 5
    other_last = other_first + OTHER_CHATS - 1
    send_chat = other_last + 1
    fanout_chat = other_last + 2
    u200 = CROWD + 1
    per_other = other_messages // OTHER_CHATS

    with psycopg.connect(dsn, autocommit=True) as conn:
        # Client-side binding: literals typed as in hand-written SQL (no smallint ambiguity).
        cur = psycopg.ClientCursor(conn)
        # Referential checks are triggers: off for this session (the data is built consistent).
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")

        cur.execute(
            """SELECT indexname, indexdef FROM pg_indexes
               WHERE tablename = 'messaging_message' AND indexname <> 'messaging_message_pkey'"""
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')

        log("users")
        cur.execute(
            """INSERT INTO accounts_user (id, password, is_superuser, username, first_name,
                   last_name, is_staff, is_active, date_joined, email, bio, location, is_private)
               SELECT g, %s, false, CASE WHEN g = %s THEN 'bench-u200'
                                          ELSE 'bench' || lpad(g::text, 4, '0') END,
                      '', '', false, true, now(), 'bench' || g || '@example.com', '', '', false
               FROM generate_series(1, %s) g""",
            [password_hash, u200, u200],
        )

        log("chats")
        cur.execute(
            """INSERT INTO chats_chat (id, kind, name, description, passkey, capacity,
                   invite_code, created_at, last_activity_at, direct_key, message_count,
                   created_by_id, last_message_id)
               SELECT g, 'group', 'bench chat ' || g, '', '', NULL, md5('bench' || g), now(),
                      now(), NULL, 0, CASE WHEN g <= 4 OR g >= %s THEN 1 ELSE 1 + g %% %s END,
                      NULL
               FROM generate_series(1, %s) g""",
            [send_chat, CROWD, fanout_chat],
        )

        log("memberships")
        # The crowd in the measured chats, the send chat and the fan-out chat (user 1 owns).
        cur.execute(
            """INSERT INTO chats_membership (role, joined_at, last_read_message_id, chat_id,
                   user_id)
               SELECT CASE WHEN u = 1 THEN 'owner' ELSE 'member' END, now(), NULL, c, u
               FROM unnest(ARRAY[1, 2, 3, 4, %s, %s]) c, generate_series(1, %s) u""",
            [send_chat, fanout_chat, CROWD],
        )
        # Each other chat: its owner; the first 200 also the 200-chat user.
        cur.execute(
            """INSERT INTO chats_membership (role, joined_at, last_read_message_id, chat_id,
                   user_id)
               SELECT 'owner', now(), NULL, c, 1 + c %% %s FROM generate_series(%s, %s) c""",
            [CROWD, other_first, other_last],
        )
        cur.execute(
            """INSERT INTO chats_membership (role, joined_at, last_read_message_id, chat_id,
                   user_id)
               SELECT 'member', now(), NULL, c, %s FROM generate_series(%s, %s) c""",
            [u200, other_first, other_first + U200_CHATS - 1],
        )

        log(f"messages: measured chats {list(measured.values())}")
        next_id = 1
        for chat_id, count in measured.items():
            # Ten crowd authors, oldest first; created_at grows with id.
            cur.execute(
                """INSERT INTO messaging_message (id, body, created_at, edited_at, client_id,
                       like_count, author_id, chat_id)
                   SELECT %s + g, 'Bench message about ordinary things, topic ' || g %% 97,
                          now() - interval '1 day' + g * interval '1 microsecond', NULL, NULL, 0,
                          1 + g %% 10, %s
                   FROM generate_series(0, %s) g""",
                [next_id, chat_id, count - 1],
            )
            next_id += count
        other_base = next_id
        log(f"messages: {per_other * OTHER_CHATS:,} in {OTHER_CHATS} other chats")
        # Interleaved: message g goes to chat other_first + g % OTHER_CHATS; the authors
        # alternate between the chat's owner and (in the first 200) the 200-chat user.
        cur.execute(
            """INSERT INTO messaging_message (id, body, created_at, edited_at, client_id,
                   like_count, author_id, chat_id)
               SELECT %(base)s + g, 'Other message about nothing in particular, topic ' || g %% 89,
                      now() - interval '1 hour' + g * interval '1 microsecond', NULL, NULL, 0,
                      CASE WHEN g %% %(n)s < %(u200_chats)s AND (g / %(n)s) %% 2 = 1
                           THEN %(u200)s ELSE 1 + (%(first)s + g %% %(n)s) %% %(crowd)s END,
                      %(first)s + g %% %(n)s
               FROM generate_series(0, %(last)s) g""",
            {
                "base": other_base,
                "n": OTHER_CHATS,
                "u200_chats": U200_CHATS,
                "u200": u200,
                "first": other_first,
                "crowd": CROWD,
                "last": per_other * OTHER_CHATS - 1,
            },
        )
        total = other_base + per_other * OTHER_CHATS - 1

        # A few distinct words per body: the full-text (GIN) index builds in seconds, not
        # the minutes millions of distinct numbers would take.
        log(f"indexes on {total:,} messages")
        for _, definition in indexes:
            cur.execute(definition)

        log("denormalised counters and read markers")
        cur.execute(
            """UPDATE chats_chat c SET message_count = s.n, last_message_id = s.last_id,
                      last_activity_at = s.last_at
               FROM (SELECT m.chat_id, count(*) AS n, max(m.id) AS last_id,
                            max(m.created_at) AS last_at
                     FROM messaging_message m GROUP BY m.chat_id) s
               WHERE c.id = s.chat_id"""
        )
        cur.execute(
            """UPDATE chats_membership mb SET last_read_message_id = c.last_message_id
               FROM chats_chat c WHERE c.id = mb.chat_id"""
        )
        # The 200-chat user has read all but the last U200_UNREAD messages of each chat.
        cur.execute(
            """UPDATE chats_membership mb SET last_read_message_id = (
                   SELECT m.id FROM messaging_message m WHERE m.chat_id = mb.chat_id
                   ORDER BY m.id DESC OFFSET %s LIMIT 1)
               WHERE mb.user_id = %s""",
            [U200_UNREAD, u200],
        )
        for table in ("accounts_user", "chats_chat", "chats_membership", "messaging_message"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cur.execute("SET session_replication_role = DEFAULT")
        log("vacuum analyze")
        cur.execute("VACUUM ANALYZE")

        big = measured[4]
        big_last = sum(list(measured.values())[:4])  # the big chat's newest message id
    return {
        "password": PASSWORD,
        "crowd": CROWD,
        "u200": u200,
        "chats": {
            "small": 1,
            "c10k": 2,
            "c100k": 3,
            "big": 4,
            "send": send_chat,
            "fanout": fanout_chat,
        },
        "messages_in_chat": {str(cid): n for cid, n in measured.items()},
        "other_messages": per_other * OTHER_CHATS,
        "total_messages": total,
        # Catch-up: the 50 newest messages of the 1,000,000-message chat.
        "big_catchup_after": big_last - 50,
        "big_messages": big,
    }


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

    fixtures = bulk_insert(dsn, make_password(PASSWORD), args.scale)
    users = [*range(1, fixtures["crowd"] + 1), fixtures["u200"]]
    tokens = mint_tokens(users)
    fixtures["tokens"] = {str(uid): tok for uid, tok in tokens.items()}
    fixtures["usernames"] = [f"bench{uid:04d}" for uid in range(1, fixtures["crowd"] + 1)]
    fixtures["seed_seconds"] = round(time.monotonic() - started, 1)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "fixtures.json").write_text(json.dumps(fixtures, indent=1))
    log(f"done in {fixtures['seed_seconds']} s: {fixtures['total_messages']:,} messages")


if __name__ == "__main__":
    main()
