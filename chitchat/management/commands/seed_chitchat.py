"""seed_chitchat: demo data built through the services; benchmark sizes through the bulk loader.

With no size option, a first run sends the demo content as clients would (chat_create,
direct chats, message_send, message_like, chat_mark_read), so it is exactly what the API
would have stored; its newest messages show the 1.1 features (replies, reactions, a mention
of the demo user, a pin, an open report, images uploaded through the attachment service).
Size options load that much more with chitchat.bulkload instead (COPY, ids reserved up
front, counters recomputed from the rows): a million messages in well under a minute on
PostgreSQL.
"""

import argparse
import io
import itertools
import random
import time
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import User, identity_key
from accounts.selectors import identity_taken
from chats.models import Chat, Membership
from chats.services import chat_create, direct_chat_get_or_create
from chitchat import bulkload
from messaging.attachments.models import Attachment
from messaging.attachments.services import attachment_upload, attachments_delete
from messaging.models import Like, Mention, Message, MessageEdit, Pin, Reaction, Report
from messaging.services import (
    chat_mark_read,
    message_like,
    message_pin,
    message_react,
    message_report,
    message_send,
)

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "chitchat-demo-pass"
PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
BULK_PREFIX = "seeduser"  # bulk users: seeduser00001, seeduser00002, ...
PRIVATE_PASSKEY = "letmein"
WELCOME = "Welcome to Chit-Chat"

DEFAULT_USERS = 30
DEFAULT_CHATS = 8
DEFAULT_MESSAGES = 400
DEFAULTS = (DEFAULT_USERS, DEFAULT_CHATS, DEFAULT_MESSAGES)
LIKE_RATE = 0.12  # share of messages that get likes
DEMO_UNREAD = 3  # messages the demo user has not read in each chat (of the newest 4)

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
]
OPENERS = ["Has anyone tried", "I just finished", "Quick question about", "Loving", "Who wants"]
_WORD_LIST = (
    "the weekend new plan coffee trail book recipe garden photo song movie ride lunch "
    "idea weather city park river mountain bread cake camera album evening tonight "
    "tomorrow map game friend team chapter rain sun snow bike tea dinner market concert "
    "train lake forest"
)
WORDS = _WORD_LIST.split()
REPLIES = ["Sounds good to me!", "Count me in.", "Ha, same here.", "Great idea 👍", "Thanks!"]
# The 1.1 showcase: the newest messages of the welcome chat (and one direct chat), sent last.
# Each: (key, author, body, reply to key, images, reactions as emoji -> reacting people).
SHOWCASE = [
    (
        "rules",
        DEMO_USERNAME,
        "Welcome, everyone! House rules: be kind, stay on topic, no spoilers. Have fun!",
        None,
        [],
        {"👍": ["alice", "bob", "carol", "dave"], "🎉": ["erin", "grace"], "❤️": ["heidi"]},
    ),
    ("thanks", "alice", "Thanks for setting this up!", "rules", [], {"🙌": ["bob", "carol"]}),
    (
        "photos",
        "carol",
        "Photos from Saturday's hike 🏔️",
        None,
        [("hike.jpg", "JPEG"), ("summit.png", "PNG")],
        {"😍": ["alice", DEMO_USERNAME, "heidi"], "🔥": ["dave"]},
    ),
    ("wow", "dave", "Wow, great shots! Which trail was that?", "photos", [], {}),
    ("spam", "frank", "CHEAP WATCHES!!! Best prices, click the link in my bio!!!", None, [], {}),
    ("ask", "erin", "@demo could you pin the hiking schedule too?", "rules", [], {"👀": ["bob"]}),
]
SHOWCASE_PINNED = "rules"  # pinned by the demo user, the welcome chat's owner
SHOWCASE_REPORT = ("spam", "grace", "spam", "Looks like a bot.")  # message, reporter, reason
# In the demo user's direct chat with alice: one more image.
SHOWCASE_DIRECT = ("alice", "My tomatoes are finally turning red 🍅", ("garden.png", "PNG"))


def body_pool(rng: random.Random, size: int = 2000) -> list[str]:
    """Message texts to draw from (a fresh sentence per row would dominate a big load)."""
    pool = list(REPLIES)
    while len(pool) < size:
        words = " ".join(rng.choices(WORDS, k=rng.randint(2, 12)))
        pool.append(f"{rng.choice(OPENERS)} {words}{rng.choice(['?', '!', '.', ' :)'])}")
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
        f"'{DEMO_USERNAME}' and {', '.join(PEOPLE)}, all with the password '{DEMO_PASSWORD}'. "
        "A first run sends public and private group chats (private ones have the passkey "
        f"'{PRIVATE_PASSKEY}'), direct chats, messages, likes, replies, reactions, a mention, "
        "a pin, a report and a few images through the services; later "
        "runs only make sure the demo users exist. Size options add that much data with the "
        "bulk loader, the demo user in every new group chat (--chats 200: a user in 200 "
        "chats). Benchmark example: --users 10000 --chats 200 --messages 2000000 "
        "--chat-messages 100,1000000."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--users",
            type=int,
            help=f"Total bulk users wanted ({BULK_PREFIX}NNNNN, besides the demo people); "
            f"existing ones count. Default {DEFAULT_USERS}.",
        )
        parser.add_argument(
            "--chats",
            type=int,
            help=f"Group chats to add (half public, half private; default {DEFAULT_CHATS}), "
            "plus one direct chat per 4 between bulk users.",
        )
        parser.add_argument(
            "--messages",
            type=int,
            help="Messages to spread over the new chats (a few chats get most of them). "
            f"Default {DEFAULT_MESSAGES}.",
        )
        parser.add_argument(
            "--chat-messages",
            type=parse_counts,
            default=[],
            metavar="N1,N2,...",
            help="Also add one group chat per number with exactly that many messages "
            "(named 'bench N'), interleaved with the others.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="First delete ALL chats, messages (with their likes, reactions, pins, reports "
            "and attachments) and memberships, and the seed's users (demo people and bulk "
            "users); other users stay.",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")

    def handle(self, *args, **options):
        started = time.monotonic()
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not secrets
        sizes = [options[name] for name in ("users", "chats", "messages")]
        if any(size is not None and size < 0 for size in sizes):
            raise CommandError("--users, --chats and --messages must not be negative")
        users, chats, messages = (
            default if size is None else size for size, default in zip(sizes, DEFAULTS, strict=True)
        )
        if options["reset"]:
            self.reset()
        people = ensure_people()
        sized = any(size is not None for size in sizes) or bool(options["chat_messages"])
        first_run = not Chat.objects.filter(name=WELCOME, created_by=people[0]).exists()
        stats = []
        with _live_events_muted(), transaction.atomic():
            if first_run or sized:
                others = ensure_bulk_users(users)
            if first_run:
                stats.append(demo_content(rng, people, others, DEFAULT_CHATS, DEFAULT_MESSAGES))
            if sized:
                exact = options["chat_messages"]
                stats.append(bulk_content(rng, people, others, chats, messages, exact))
        if not stats:
            self.stdout.write("Demo data already there (pass a size option to add more).")
        for done in stats:
            self.stdout.write(
                f"Seeded {done['chats']:,} chats, {done['messages']:,} messages and "
                f"{done['likes']:,} likes ({done['how']})."
            )
        if stats:
            self.stdout.write(f"Took {time.monotonic() - started:.1f} s.")
        self.stdout.write(
            f"Demo login: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r} "
            f"(also {', '.join(PEOPLE)} with the same password; "
            f"private chats' passkey: {PRIVATE_PASSKEY!r})."
        )

    def reset(self) -> None:
        models = (Attachment, Reaction, Pin, MessageEdit, Mention, Report, Like, Message)
        models = (*models, Membership, Chat)
        tables = [model._meta.db_table for model in models]
        with transaction.atomic(), connection.cursor() as cursor:
            attachments_delete(Attachment.objects.all())  # rows now, files once committed
            if connection.vendor == "postgresql":  # TRUNCATE: instant on a million rows
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE wants none pending
                cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
            else:
                Chat.objects.update(last_message_id=None)
                for model in models[1:]:  # attachments already went
                    model.objects.all()._raw_delete(model.objects.db)
            seeded = User.objects.filter(username__in=[DEMO_USERNAME, *PEOPLE])
            (seeded | User.objects.filter(username__startswith=BULK_PREFIX)).delete()
        self.stdout.write("Reset: chats, messages, attachments and seed users deleted.")


@contextmanager
def _live_events_muted():
    """Nothing goes through the channel layer while seeding (the services' events go to the
    event log only; sockets read them from there, live/hub.py): without a channel layer any
    on-commit send returns at once."""
    with override_settings(CHANNEL_LAYERS={}):
        yield


def ensure_people() -> list[User]:
    """The demo user and the named people; the demo password is made to work again."""
    shared_hash = make_password(DEMO_PASSWORD)  # one hash for all: each takes ~0.3 s
    people = []
    for name in [DEMO_USERNAME, *PEOPLE]:
        user = User.objects.filter(username_key=identity_key(name)).first()
        if user is None:
            # Someone may have registered (or moved to) the usual address: take the next free.
            candidates = (f"{name}{n or ''}.demo@example.com" for n in itertools.count())
            email = next(
                email
                for email in itertools.chain([f"{name}@example.com"], candidates)
                if not identity_taken(field="email", value=email)
            )
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


def ensure_bulk_users(total: int) -> list[User]:
    """`total` users named seeduserNNNNN, creating the missing ones."""
    existing = list(User.objects.filter(username__startswith=BULK_PREFIX).order_by("id"))
    taken = {user.username for user in existing}
    shared_hash = make_password(DEMO_PASSWORD)
    new, number = [], 0
    while len(existing) + len(new) < total:
        number += 1
        name = f"{BULK_PREFIX}{number:05d}"
        if name not in taken:
            new.append(User(username=name, email=f"{name}@example.com", password=shared_hash))
    return existing[:total] + User.objects.bulk_create(new, batch_size=2000)


def demo_content(rng, people, others, chat_count, message_count) -> dict:
    """The first run's content, sent through the services as clients would send it."""
    demo, everyone = people[0], people + others
    chats: list[Chat] = []
    for i in range(chat_count):
        name, description = TOPICS[i] if i < len(TOPICS) else (f"Group {i + 1}", "A group.")
        owner = demo if i % 3 == 0 else people[1 + i % len(PEOPLE)]
        members = everyone if name == WELCOME else rng.sample(everyone, min(12, len(everyone)))
        chats.append(
            chat_create(
                creator=owner,
                name=name,
                description=description,
                passkey=PRIVATE_PASSKEY if i % 2 else "",
                capacity=len(everyone) + 10 if i % 5 == 4 else None,
                member_ids=[demo.pk, *(user.pk for user in members)],
            )
        )
    pairs = [(demo, person) for person in people[1:]]
    pairs += [tuple(rng.sample(others, 2)) for _ in range(chat_count // 4) if len(others) > 1]
    chats += [direct_chat_get_or_create(user=a, other=b)[0] for a, b in pairs]
    chats = list({chat.pk: chat for chat in chats}.values())  # a pair drawn twice: one chat

    members = {chat.pk: list(User.objects.filter(memberships__chat=chat)) for chat in chats}
    weights = [1 / (rank + 1) for rank in range(len(chats))]  # a few busy chats
    pool, likes = body_pool(rng, 500), 0
    showcase_count = len(SHOWCASE) + 1  # they are part of the message_count
    random_count = max(0, message_count - showcase_count)
    for chat in rng.choices(chats, weights=weights, k=random_count):
        message, _ = message_send(
            chat=chat, author=rng.choice(members[chat.pk]), body=rng.choice(pool)
        )
        if rng.random() < LIKE_RATE:
            for user in rng.sample(members[chat.pk], min(3, len(members[chat.pk]))):
                message_like(message=message, user=user)
                likes += 1
    if message_count >= showcase_count:
        by_name = {user.username: user for user in people}
        direct = next(
            chat
            for chat in chats
            if chat.direct_key == Chat.direct_key_for(demo.pk, by_name[SHOWCASE_DIRECT[0]].pk)
        )
        welcome = next(chat for chat in chats if chat.name == WELCOME)
        showcase(welcome=welcome, direct=direct, by_name=by_name)
    # Everyone has read everything but the demo user, who has a few messages left unread.
    for chat in chats:
        newest = list(chat.messages.order_by("-id").values_list("id", flat=True)[:4])
        for user in members[chat.pk]:
            skip = DEMO_UNREAD if user == demo else 0
            if len(newest) > skip:
                chat_mark_read(chat=chat, user=user, message_id=newest[skip])
    return {"chats": len(chats), "messages": message_count, "likes": likes, "how": "services"}


def demo_image(fmt: str, seed: int) -> bytes:
    """A small landscape (sky, sun, two mountains) in PNG or JPEG, made in memory."""
    width, height = 240, 160
    image = Image.new("RGB", (width, height), (110 + 20 * seed, 170, 230 - 15 * seed))
    draw = ImageDraw.Draw(image)
    draw.ellipse((170, 20, 210, 60), fill=(255, 210, 80))
    draw.polygon([(0, height), (80, 50 + 10 * seed), (170, height)], fill=(70, 110, 80))
    draw.polygon([(90, height), (180, 70), (width, 120), (width, height)], fill=(50, 90, 60))
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


def _send_with_images(*, chat: Chat, author: User, body: str, images, reply_to=None) -> Message:
    """Upload each image through the attachment service, as the upload view does, then send
    the message that uses them."""
    ids = []
    for n, (name, fmt) in enumerate(images):
        upload = SimpleUploadedFile(name, demo_image(fmt, n), content_type="image/*")
        ids.append(attachment_upload(chat_id=chat.pk, uploader=author, upload=upload).pk)
    message, _ = message_send(
        chat=chat, author=author, body=body, reply_to=reply_to, attachment_ids=ids
    )
    return message


def showcase(*, welcome: Chat, direct: Chat, by_name: dict[str, User]) -> None:
    """The 1.1 features, through the services: replies, reactions from several people, a
    message mentioning the demo user (left unread: a mention_count on the chat list), a pin,
    an open report for the moderation queue and a few images."""
    sent: dict[str, Message] = {}
    for key, author, body, parent, images, reactions in SHOWCASE:
        reply_to = sent[parent].pk if parent else None
        sent[key] = _send_with_images(
            chat=welcome, author=by_name[author], body=body, images=images, reply_to=reply_to
        )
        for emoji, names in reactions.items():
            for name in names:
                message_react(message=sent[key], user=by_name[name], emoji=emoji)
    message_pin(message=sent[SHOWCASE_PINNED], user=by_name[DEMO_USERNAME])  # the owner
    key, reporter, reason, note = SHOWCASE_REPORT
    message_report(message=sent[key], user=by_name[reporter], reason=reason, note=note)
    author, body, image = SHOWCASE_DIRECT
    _send_with_images(chat=direct, author=by_name[author], body=body, images=[image])


def bulk_content(rng, people, others, group_count, message_count, exact) -> dict:
    """Size options: chats and memberships with the ORM, messages and likes with the bulk
    loader, then counters and read markers recomputed from the rows."""
    demo, everyone = people[0], people + others
    chats, members = [], []  # members[i]: (user id, role) pairs of chats[i]
    for i in range(group_count):
        owner = demo if i % 3 == 0 else people[1 + i % len(PEOPLE)]
        size = rng.randint(2, max(2, min(len(everyone), 40)))
        ids = dict.fromkeys([owner.pk, demo.pk, *(u.pk for u in rng.sample(everyone, size))])
        roles = [(uid, "owner" if uid == owner.pk else "member") for uid in ids]
        members.append(roles)
        chats.append(
            Chat(
                name=TOPICS[1 + i][0] if i + 1 < len(TOPICS) else f"Group {i + 1}",
                description="A seeded group chat.",
                passkey=PRIVATE_PASSKEY if i % 2 else "",
                created_by=owner,
            )
        )
    for count in exact:
        sample = rng.sample(everyone, min(20, len(everyone)))
        ids = dict.fromkeys([demo.pk, *(u.pk for u in sample)])
        members.append([(uid, "owner" if uid == demo.pk else "member") for uid in ids])
        chats.append(Chat(name=f"bench {count}", description="Benchmark chat.", created_by=demo))
    pairs = [tuple(rng.sample(others, 2)) for _ in range(group_count // 4) if len(others) > 1]
    taken = set(Chat.objects.exclude(direct_key=None).values_list("direct_key", flat=True))
    for a, b in pairs:
        key = Chat.direct_key_for(a.pk, b.pk)
        if key not in taken:
            taken.add(key)
            members.append([(a.pk, "member"), (b.pk, "member")])
            chats.append(Chat(kind=Chat.Kind.DIRECT, direct_key=key, created_by=a))
    chats = Chat.objects.bulk_create(chats, batch_size=2000)
    Membership.objects.bulk_create(
        (
            Membership(chat=chat, user_id=uid, role=role)
            for chat, roles in zip(chats, members, strict=True)
            for uid, role in roles
        ),
        batch_size=5000,
    )

    # The chat of each message in sending order: a skew over the chats, plus the exact ones.
    exact_chats = range(group_count, group_count + len(exact))
    spread = [i for i in range(len(chats)) if i not in exact_chats]
    plan = []
    if spread and message_count:
        weights = [1 / (rank + 1) for rank in range(len(spread))]
        rng.shuffle(weights)
        plan = rng.choices(spread, weights=weights, k=message_count)
    for offset, count in enumerate(exact):
        plan += [group_count + offset] * count
    rng.shuffle(plan)

    pool, likes = body_pool(rng), []
    first_id = bulkload.reserve_ids(Message, len(plan)) if plan else 0
    start, step = timezone.now() - timedelta(days=30), timedelta(days=30) / max(len(plan), 1)

    member_ids = [[uid for uid, _ in roles] for roles in members]

    def message_rows():
        for n, index in enumerate(plan):
            ids = member_ids[index]
            stamp = start + step * n
            yield first_id + n, chats[index].pk, rng.choice(ids), rng.choice(pool), stamp, 0
            if rng.random() < LIKE_RATE:
                likers = rng.sample(ids, min(3, len(ids)))
                likes.extend((first_id + n, uid, stamp) for uid in likers)

    with bulkload.indexes_dropped([Message, Like], rows=len(plan)):
        fields = ["id", "chat", "author", "body", "created_at", "like_count"]
        bulkload.write_rows(Message, fields, message_rows())
        bulkload.write_rows(Like, ["message", "user", "created_at"], likes)
    bulkload.recount()
    first_chat = chats[0].pk if chats else 0
    bulkload.mark_read(first_chat_id=first_chat)
    bulkload.mark_read(unread=DEMO_UNREAD, user_ids=[demo.pk], first_chat_id=first_chat)
    if len(plan) >= bulkload.BIG_LOAD:
        bulkload.analyze()
    return {"chats": len(chats), "messages": len(plan), "likes": len(likes), "how": "bulk"}
