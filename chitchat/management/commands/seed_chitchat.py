"""seed_chitchat: demo users, chats, messages and likes, fast enough for benchmark sizes.

Rows are written in bulk (COPY on PostgreSQL, batched INSERTs on SQLite) with every
denormalised value computed up front: Message.like_count, Chat.message_count, last_message and
last_activity_at, Membership.last_read_message_id. Message ids are reserved from the table's
sequence before the insert (the table is locked meanwhile), so a chat's ids follow its
messages' order exactly as if they had been sent through the API.
"""

import argparse
import random
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from chats.models import Chat, Membership
from messaging.models import Like, Message

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "chitchat-demo-pass"
# Named demo people, all with DEMO_PASSWORD.
PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
BULK_PREFIX = "seeduser"  # bulk users: seeduser00001, seeduser00002, ...
PRIVATE_PASSKEY = "letmein"
WELCOME = "Welcome to Chit-Chat"

DEFAULT_USERS = 30
DEFAULT_CHATS = 8
DEFAULT_MESSAGES = 600
LIKE_RATE = 0.12  # share of messages that get likes
BATCH = 20_000
BULK_LOAD_THRESHOLD = 100_000  # rows from which indexes and FKs are rebuilt after the load

TOPICS = [
    (WELCOME, "Say hello! Everyone starts here."),
    ("Random", "Anything goes."),
    ("Book club", "This month: something long and Russian."),
    ("Hiking", "Trails, weather, blisters."),
    ("Kitchen", "Recipes and disasters."),
    ("Board games", "Friday night, who is in?"),
    ("Gardening", "Tomatoes, mostly."),
    ("Photography", "Show your best shot of the week."),
    ("Music", "What are you listening to?"),
    ("Movies", "No spoilers without a warning."),
    ("Cycling", "Sunday ride at 9."),
    ("Running", "5k, 10k, and excuses."),
]
OPENERS = [
    "Has anyone tried",
    "I just finished",
    "Quick question about",
    "Loving",
    "Not sure about",
    "Who wants to talk about",
    "Reminder:",
    "Fun fact about",
    "Can we plan",
    "Thanks for sharing",
]
WORDS = [
    "the",
    "weekend",
    "new",
    "plan",
    "coffee",
    "trail",
    "book",
    "recipe",
    "garden",
    "photo",
    "song",
    "movie",
    "ride",
    "lunch",
    "meeting",
    "idea",
    "weather",
    "city",
    "park",
    "river",
    "mountain",
    "bread",
    "cake",
    "tomato",
    "camera",
    "album",
    "film",
    "evening",
    "morning",
    "tonight",
    "tomorrow",
    "list",
    "map",
    "game",
    "friend",
    "team",
    "chapter",
    "scene",
    "light",
    "rain",
    "sun",
    "snow",
    "bike",
    "shoes",
    "tea",
    "dinner",
    "market",
    "concert",
    "ticket",
    "train",
    "station",
    "road",
    "lake",
    "forest",
]
REPLIES = [
    "Sounds good to me!",
    "Count me in.",
    "Ha, same here.",
    "Not this time, sorry.",
    "Great idea 👍",
    "Does 7pm work for everyone?",
    "I'll bring snacks.",
    "Can someone share the link?",
    "Thanks!",
    "Love it.",
    "Wait, what happened?",
    "Pictures or it didn't happen 📷",
]


def body_pool(rng: random.Random, size: int = 4000) -> list[str]:
    """Message texts to draw from: making a fresh sentence per row would dominate the time."""
    pool = list(REPLIES)
    while len(pool) < size:
        words = " ".join(rng.choices(WORDS, k=rng.randint(2, 12)))
        end = rng.choice(["?", "!", ".", "", " :)"])
        pool.append(f"{rng.choice(OPENERS)} {words}{end}")
    return pool


def parse_counts(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("comma-separated integers, e.g. 100,1000000") from None
    if any(count < 0 for count in counts):
        raise argparse.ArgumentTypeError("counts must not be negative")
    return counts


class Command(BaseCommand):
    help = (
        "Fill the database with demo data and print how to log in. Demo users: "
        f"'{DEMO_USERNAME}' and {', '.join(PEOPLE)}, all with the password "
        f"'{DEMO_PASSWORD}'. Creates public and private group chats (private ones have the "
        f"passkey '{PRIVATE_PASSKEY}'), direct chats, messages and likes; the demo user is a "
        "member of every group chat it creates (--chats 200: a user in 200 chats). "
        "Idempotent: with no size option a second run "
        "only makes sure the demo users exist. With size options it adds that much data "
        "(bulk inserts: a million messages in well under a minute on PostgreSQL). Example for a "
        "benchmark: --users 10000 --chats 200 --messages 2000000 --chat-messages 100,1000000."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--users",
            type=int,
            help=f"Total bulk users wanted ({BULK_PREFIX}NNNNN, besides the demo people); "
            f"existing ones count. Default {DEFAULT_USERS} on a first run.",
        )
        parser.add_argument(
            "--chats",
            type=int,
            help=f"Group chats to add (half public, half private). Default {DEFAULT_CHATS} "
            "on a first run. Direct chats are added besides: the demo user with each demo "
            "person, and one per 4 group chats between other users.",
        )
        parser.add_argument(
            "--messages",
            type=int,
            help="Messages to spread over the new group and direct chats (a few chats get "
            f"most of them). Default {DEFAULT_MESSAGES} on a first run.",
        )
        parser.add_argument(
            "--chat-messages",
            type=parse_counts,
            default=[],
            metavar="N1,N2,...",
            help="Also add one group chat per number, with exactly that many messages "
            "(named 'bench N'); these come on top of --messages, interleaved with them.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="First delete ALL chats, messages, likes and memberships, and the seed's "
            "users (demo people and bulk users); other users stay.",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")

    # ------------------------------------------------------------------
    def handle(self, *args, **options):
        started = time.monotonic()
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not secrets
        self.pool = body_pool(rng)
        sized = any(options[name] is not None for name in ("users", "chats", "messages"))
        sized = sized or bool(options["chat_messages"])

        if options["reset"]:
            self.reset()
        people = self.ensure_people()
        first_run = not Chat.objects.filter(name=WELCOME, created_by=people[0]).exists()

        if sized or first_run:
            users = options["users"] if options["users"] is not None else DEFAULT_USERS
            chats = options["chats"] if options["chats"] is not None else DEFAULT_CHATS
            messages = options["messages"] if options["messages"] is not None else DEFAULT_MESSAGES
            if min(users, chats, messages) < 0:
                raise CommandError("--users, --chats and --messages must not be negative")
            bulk_users = self.ensure_bulk_users(users)
            stats = self.seed_content(
                rng,
                people=people,
                others=bulk_users,
                group_chats=chats,
                messages=messages,
                exact=options["chat_messages"],
                welcome=first_run,
            )
            if connection.vendor == "postgresql" and stats["messages"] >= BULK_LOAD_THRESHOLD:
                # Fresh statistics, so that the first queries after a big load plan well.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "ANALYZE accounts_user, chats_chat, chats_membership, "
                        "messaging_message, messaging_like"
                    )
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"Seeded {stats['chats']:,} chats, {stats['memberships']:,} memberships, "
                f"{stats['messages']:,} messages, {stats['likes']:,} likes "
                f"in {elapsed:.1f} s."
            )
        else:
            self.stdout.write("Demo data already there (pass a size option to add more).")

        self.stdout.write(
            f"Demo login: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r} "
            f"(also {', '.join(PEOPLE)} with the same password; "
            f"private chats' passkey: {PRIVATE_PASSKEY!r})."
        )

    # ------------------------------------------------------------------
    def reset(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE wants none pending
                cursor.execute(
                    "TRUNCATE messaging_like, messaging_reaction, messaging_pin, "
                    "messaging_messageedit, messaging_mention, messaging_report, "
                    "messaging_message, chats_membership, chats_chat RESTART IDENTITY"
                )
            else:
                cursor.execute("UPDATE chats_chat SET last_message_id = NULL")
                for table in (
                    "messaging_like",
                    "messaging_reaction",
                    "messaging_pin",
                    "messaging_messageedit",
                    "messaging_mention",
                    "messaging_report",
                    "messaging_message",
                    "chats_membership",
                ):
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
                cursor.execute("DELETE FROM chats_chat")
            seeded = User.objects.filter(username__in=[DEMO_USERNAME, *PEOPLE])
            (seeded | User.objects.filter(username__startswith=BULK_PREFIX)).delete()
        self.stdout.write("Reset: chats, messages, likes and seed users deleted.")

    def ensure_people(self) -> list[User]:
        """The demo user and the named people; the demo password is made to work again."""
        shared_hash = make_password(DEMO_PASSWORD)
        people = []
        for name in [DEMO_USERNAME, *PEOPLE]:
            user = User.objects.filter(username__iexact=name).first()
            if user is None:
                email = f"{name}@example.com"
                if User.objects.filter(email__iexact=email).exists():
                    email = f"{name}.demo@example.com"  # someone registered with that address
                user = User.objects.create(
                    username=name,
                    email=email,
                    first_name=name.capitalize() if name != DEMO_USERNAME else "Demo",
                    last_name="Example",
                    bio=f"Hi, I'm {name}. This is a demo account.",
                    is_private=name in ("frank", "heidi"),
                    password=shared_hash,
                )
            elif name == DEMO_USERNAME and not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            people.append(user)
        return people

    def ensure_bulk_users(self, total: int) -> list[User]:
        existing = list(
            User.objects.filter(username__startswith=BULK_PREFIX).order_by("id")[:total]
        )
        missing = total - len(existing)
        if missing > 0:
            taken = set(
                User.objects.filter(username__startswith=BULK_PREFIX).values_list(
                    "username", flat=True
                )
            )
            # One hash for all: hashing per user would take ~0.3 s each.
            shared_hash = make_password(DEMO_PASSWORD)
            new, number = [], 0
            while len(new) < missing:
                number += 1
                name = f"{BULK_PREFIX}{number:05d}"
                if name in taken:
                    continue
                new.append(
                    User(
                        username=name,
                        email=f"{name}@example.com",
                        first_name="Seed",
                        last_name=f"User {number}",
                        password=shared_hash,
                    )
                )
            existing += User.objects.bulk_create(new, batch_size=2000)
        return existing

    # ------------------------------------------------------------------
    def seed_content(self, rng, *, people, others, group_chats, messages, exact, welcome):
        demo = people[0]
        everyone = people + others
        chats: list[Chat] = []
        members: dict[int, list[int]] = {}  # chat index -> user ids
        owners: dict[int, int] = {}
        # Topic-named chats first (the welcome chat only on a first run), then numbered ones.
        topics = TOPICS if welcome else TOPICS[1:]
        for i in range(group_chats):
            if i < len(topics):
                name, description = topics[i]
            else:
                name, description = f"Group {i + 1}", "A seeded group chat."
            private = i % 2 == 1 and name != WELCOME
            owner = people[1 + i % len(PEOPLE)] if i % 3 else demo
            if name == WELCOME:
                chosen = everyone[:200]
            else:
                size = rng.randint(2, max(2, min(len(everyone), 40)))
                chosen = rng.sample(everyone, min(size, len(everyone)))
            ids = list(dict.fromkeys([owner.pk, demo.pk, *(u.pk for u in chosen)]))
            capacity = len(ids) + 10 if i % 5 == 4 else None
            members[len(chats)], owners[len(chats)] = ids, owner.pk
            chats.append(
                Chat(
                    name=name,
                    description=description,
                    passkey=PRIVATE_PASSKEY if private else "",
                    capacity=capacity,
                    created_by=owner,
                )
            )
        bench_indexes = []
        for count in exact:
            ids = list(
                dict.fromkeys(
                    [demo.pk, *(u.pk for u in rng.sample(everyone, min(20, len(everyone))))]
                )
            )
            members[len(chats)], owners[len(chats)] = ids, demo.pk
            bench_indexes.append((len(chats), count))
            chats.append(
                Chat(name=f"bench {count}", description="Benchmark chat.", created_by=demo)
            )
        # Direct chats: demo with each person, plus some pairs of other users.
        pairs = [(demo, person) for person in people[1:]]
        for _ in range(group_chats // 4):
            if len(others) >= 2:
                pairs.append(tuple(rng.sample(others, 2)))
        existing_keys = set(
            Chat.objects.filter(
                direct_key__in=[Chat.direct_key_for(a.pk, b.pk) for a, b in pairs]
            ).values_list("direct_key", flat=True)
        )
        for a, b in pairs:
            key = Chat.direct_key_for(a.pk, b.pk)
            if key in existing_keys:
                continue
            existing_keys.add(key)
            members[len(chats)], owners[len(chats)] = [a.pk, b.pk], None
            chats.append(Chat(kind=Chat.Kind.DIRECT, direct_key=key, created_by=a))

        with transaction.atomic():
            chats = Chat.objects.bulk_create(chats, batch_size=2000)
            plan = self.message_plan(rng, len(chats), messages, bench_indexes)
            tables = [Message._meta.db_table, Like._meta.db_table]
            with self.bulk_load(tables, rows=len(plan)):
                stats = self.insert_messages(rng, chats, members, plan)
            self.insert_memberships(rng, chats, members, owners, stats["tails"], demo.pk)
        return {
            "chats": len(chats),
            "memberships": sum(len(ids) for ids in members.values()),
            "messages": stats["messages"],
            "likes": stats["likes"],
        }

    @staticmethod
    def message_plan(rng, chat_count, messages, bench_indexes) -> list[int]:
        """The chat index of each message, in sending order: --messages spread with a skew
        (a few busy chats), the exact-count chats interleaved with the rest."""
        bench = {index for index, _ in bench_indexes}
        spread = [i for i in range(chat_count) if i not in bench]
        plan: list[int] = []
        if spread and messages:
            weights = [1 / (rank + 1) for rank in range(len(spread))]
            rng.shuffle(weights)
            plan = rng.choices(spread, weights=weights, k=messages)
        for index, count in bench_indexes:
            plan.extend([index] * count)
        rng.shuffle(plan)
        return plan

    # ------------------------------------------------------------------
    @contextmanager
    def bulk_load(self, tables: list[str], *, rows: int):
        """On PostgreSQL, a large load runs without the tables' foreign keys and secondary
        indexes, which are rebuilt afterwards in the same transaction: one index build and one
        validating join cost far less than a million per-row index inserts and FK triggers.
        Small loads, or loads into a much bigger table, keep them."""
        if connection.vendor != "postgresql" or rows < BULK_LOAD_THRESHOLD:
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [tables[0]]
            )
            if rows < cursor.fetchone()[0] // 2:
                yield
                return
            # Pending deferred FK checks (the chats just inserted) block ALTER TABLE: run them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            saved = []
            for table in tables:
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'",
                    [table],
                )
                foreign_keys = cursor.fetchall()
                # Indexes that back no constraint (the primary key and unique constraints stay).
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                    "AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                    [table, table],
                )
                indexes = cursor.fetchall()
                for name, _ in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                for name, _ in indexes:
                    cursor.execute(f'DROP INDEX "{name}"')
                saved.append((table, foreign_keys, indexes))
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for table, foreign_keys, indexes in saved:
                for _, definition in indexes:
                    cursor.execute(definition)
                for name, definition in foreign_keys:
                    cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def reserve_ids(self, table: str, count: int) -> int:
        """First of `count` consecutive ids for `table`, nobody else can take them."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                cursor.execute("SELECT nextval(%s)", [sequence])
                first = cursor.fetchone()[0]
                if count > 1:
                    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
                return first
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            top = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            return max(top, row[0] if row else 0) + 1

    def write_rows(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    rows,
                )

    def insert_messages(self, rng, chats, members, plan) -> dict:
        adapt = connection.ops.adapt_datetimefield_value
        total = len(plan)
        first_id = self.reserve_ids(Message._meta.db_table, total) if total else 0
        now = timezone.now()
        span = timedelta(days=30)
        step = span / max(total, 1)
        start = now - span
        pool = self.pool
        counts: dict[int, int] = defaultdict(int)
        last: dict[int, tuple[int, object]] = {}
        tails: dict[int, list[int]] = defaultdict(list)  # last few ids per chat (read markers)
        likes_total = 0
        message_cols = ["id", "chat_id", "author_id", "body", "created_at", "like_count"]
        like_cols = ["message_id", "user_id", "created_at"]
        for offset in range(0, total, BATCH):
            message_rows, like_rows = [], []
            for n in range(offset, min(offset + BATCH, total)):
                index = plan[n]
                chat = chats[index]
                ids = members[index]
                message_id = first_id + n
                created = start + step * n
                likers = []
                if len(ids) > 1 and rng.random() < LIKE_RATE:
                    likers = rng.sample(ids, rng.randint(1, min(3, len(ids))))
                stamp = adapt(created)
                message_rows.append(
                    (message_id, chat.pk, rng.choice(ids), rng.choice(pool), stamp, len(likers))
                )
                like_rows.extend((message_id, user_id, stamp) for user_id in likers)
                counts[index] += 1
                last[index] = (message_id, created)
                tail = tails[index]
                tail.append(message_id)
                if len(tail) > 8:
                    del tail[0]
            self.write_rows(Message._meta.db_table, message_cols, message_rows)
            self.write_rows(Like._meta.db_table, like_cols, like_rows)
            likes_total += len(like_rows)

        updated = []
        for index, (message_id, created) in last.items():
            chat = chats[index]
            chat.message_count += counts[index]
            chat.last_message_id = message_id
            chat.last_activity_at = created
            updated.append(chat)
        Chat.objects.bulk_update(
            updated, ["message_count", "last_message_id", "last_activity_at"], batch_size=500
        )
        return {"messages": total, "likes": likes_total, "tails": tails}

    def insert_memberships(self, rng, chats, members, owners, tails, demo_id) -> None:
        """Read markers: most members have read everything; the demo user has a few unread
        messages in some chats, so unread counts show."""
        rows = []
        for index, chat in enumerate(chats):
            tail = tails.get(index, [])
            for user_id in members[index]:
                if chat.kind == Chat.Kind.DIRECT:
                    role = Membership.Role.MEMBER
                elif user_id == owners[index]:
                    role = Membership.Role.OWNER
                elif rng.random() < 0.1:
                    role = Membership.Role.ADMIN
                else:
                    role = Membership.Role.MEMBER
                marker = tail[-1] if tail else None
                if tail and user_id == demo_id and rng.random() < 0.5:
                    marker = tail[-rng.randint(1, len(tail))]
                rows.append(
                    Membership(chat=chat, user_id=user_id, role=role, last_read_message_id=marker)
                )
        Membership.objects.bulk_create(rows, batch_size=5000)
