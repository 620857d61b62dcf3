"""Message writes: send, edit, delete, like, unlike, read markers and the purge of a user.

Each function runs in one transaction and emits its live events through messaging.events
(sent on commit). Counters on Chat (message_count, last_message_id, last_activity_at) and on
Message (like_count) are kept here and only here, under the chat row lock or with F().

Membership is decided under the chat row lock on every write that needs it (send, edit,
like): chats.services takes the same lock to remove a membership, so a leave or a kick that
commits first always wins, and the write queued behind it is refused (403).
"""

import re

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError

from accounts.models import User
from chats.models import Chat, Membership
from chats.rows import aware, count_subquery
from chats.services import direct_chat_get_or_create
from chats.signals import chat_deleting
from chitchat.batch import StatementBatch, commits_itself
from messaging import events
from messaging.attachments.models import Attachment
from messaging.attachments.rows import attachment_body
from messaging.attachments.services import attachments_claim, attachments_delete
from messaging.models import (
    PINS_MAX,
    REACTION_EMOJI_MAX_LENGTH,
    REACTIONS_MAX_DISTINCT,
    Like,
    Mention,
    Message,
    MessageEdit,
    Pin,
    Reaction,
    Report,
)
from messaging.rows import reply_previews

NOT_A_MEMBER = "You are not a member of this chat."


def _lock_chat(chat_id: int) -> Chat:
    return Chat.objects.select_for_update().get(pk=chat_id)


def _lock_chat_as_member(*, chat_id: int, user_id: int) -> Membership:
    """Lock the chat row, then read the caller's membership; return it with its chat and
    user joined (the user row is read, not locked).

    404 when the chat does not exist or is someone else's direct chat, 403 when the caller
    is not a member. Two statements on purpose: on PostgreSQL a statement that waited for
    the lock still sees its other rows as of its own start (a membership deleted by the
    transaction it waited for would still be there), and locking the membership row too
    would deadlock with member_remove (chat, then membership). The second statement starts
    after the lock is held, so it sees every leave and kick committed before.
    """
    chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
    if chat is None:
        raise NotFound()
    membership = (
        Membership.objects.select_related("user").filter(chat_id=chat_id, user_id=user_id).first()
    )
    if membership is None:
        if chat.kind == Chat.Kind.DIRECT:
            raise NotFound()
        raise PermissionDenied(NOT_A_MEMBER)
    membership.chat = chat
    return membership


def _newest_message_id(chat_id: int) -> int | None:
    # The range form is served by the (chat, id) index only (see selectors.chat_messages).
    return (
        Message.objects.filter(chat_id__gte=chat_id, chat_id__lte=chat_id)
        .order_by("-chat_id", "-id")
        .values_list("id", flat=True)
        .first()
    )


class _SendStatements:
    """The send's hot statements, written once from the models' table and column names and
    run on both databases (built on first use: the connection's quoting and id sequence).

    - `lock`: an UPDATE of the chat row, which locks it and, in the same statement, counts
      the message, stamps last_activity_at and draws the new message's id from the
      messages' sequence into last_message_id (so ids are drawn in the chat's lock order);
      it returns the chat's kind, that id, the author's username (for the body, without
      loading a token's lazy user) and the stamp, which is the message's created_at. If
      the message is then not stored, the transaction rolls back and the counters with it.
    - `insert`: the message with that id, its author read from the author's membership row
      (a scalar subquery): for a non-member it is NULL, and the NOT NULL constraint refuses
      the row. A `client_id` already used by the author here breaks the partial unique
      index. Either way the statement fails and the transaction rolls back, counters and
      all (message_send then says why). It starts after the lock is held, so it sees every
      leave and kick committed before (a statement that waited for the lock would not: see
      _lock_chat_as_member). Failing rather than inserting nothing lets the rest of the
      transaction go out without waiting for its answer (see _message_send).
    """

    def __init__(self) -> None:
        q = connection.ops.quote_name
        chat, message = Chat._meta, Message._meta
        member, user = Membership._meta, User._meta

        def col(meta, name: str) -> str:
            return q(meta.get_field(name).column)

        self.fields = list(message.concrete_fields)  # the id first
        count, last = col(chat, "message_count"), col(chat, "last_message_id")
        # The message's time: the caller's clock, but never before the chat's last activity
        # (a send that read the clock, then waited for the lock behind a later one, or
        # another process's clock): times never go back along a chat's ids.
        activity = col(chat, "last_activity_at")
        self.lock = (
            f"UPDATE {q(chat.db_table)} SET {count} = {count} + 1, "  # noqa: S608
            f"{activity} = CASE WHEN {activity} > %s THEN {activity} ELSE %s END, "
            f"{last} = {_next_id_sql(message)} "
            f"WHERE {col(chat, 'id')} = %s RETURNING {col(chat, 'kind')}, {last}, "
            f"(SELECT {col(user, 'username')} FROM {q(user.db_table)} "
            f"WHERE {col(user, 'id')} = %s), {activity}"
        )
        columns = ", ".join(q(f.column) for f in self.fields)
        author = (
            f"(SELECT {col(member, 'user')} FROM {q(member.db_table)} "  # noqa: S608
            f"WHERE {col(member, 'chat')} = %s AND {col(member, 'user')} = %s)"
        )
        values = ", ".join(author if f.attname == "author_id" else "%s" for f in self.fields)
        self.insert = f"INSERT INTO {q(message.db_table)} ({columns}) VALUES ({values})"  # noqa: S608

    def insert_params(self, values: dict) -> list:
        """The INSERT's values in column order: `values` by attname, else the field's
        default; the author as the (chat, user) of the membership to read it from."""
        params = []
        for field in self.fields:
            if field.attname == "author_id":
                params += [values["chat_id"], values["author_id"]]
                continue
            value = values[field.attname] if field.attname in values else field.get_default()
            params.append(field.get_db_prep_save(value, connection))
        return params


def _next_id_sql(meta) -> str:
    """The next value of a table's id sequence, drawn in SQL: where the databases differ.
    PostgreSQL: the identity column's sequence. SQLite: the AUTOINCREMENT counter (it only
    ever grows, and the write lock is held: one writer)."""
    table, column = meta.db_table, meta.pk.column
    if connection.vendor == "postgresql":
        return f"nextval(pg_get_serial_sequence('{table}', '{column}'))"
    return f"(SELECT COALESCE(MAX(seq), 0) + 1 FROM sqlite_sequence WHERE name = '{table}')"  # noqa: S608


_send_statements: dict[str, _SendStatements] = {}


def _statements() -> _SendStatements:
    statements = _send_statements.get(connection.vendor)
    if statements is None:
        statements = _send_statements[connection.vendor] = _SendStatements()
    return statements


def _not_a_member(kind: str) -> APIException:
    return NotFound() if kind == Chat.Kind.DIRECT else PermissionDenied(NOT_A_MEMBER)


class _Replay(Exception):
    """The author already sent this client_id here: roll the send back, answer with it."""

    def __init__(self, message: Message) -> None:
        self.message = message


def message_send(
    *,
    chat: Chat,
    author: User,
    body: str = "",
    client_id: str | None = None,
    reply_to: int | None = None,
    attachment_ids: list[int] | None = None,
) -> tuple[Message, bool]:
    """Store a message; return (message, created). Idempotent on (author, chat, client_id).

    A plain message is three statements (see _SendStatements): lock the chat (counting the
    message and drawing its id), insert the message if the author is a member, and the
    event-log row; the last two and the COMMIT go out together (see _message_send), so
    the send waits twice for the database. Only `chat.pk` is read: the view passes the id
    from the path, and 404/403 are decided here. The chat row stays locked from the id's
    draw to the commit, so two messages of one chat never commit out of id order: a
    reader polling `?after=<last id>` cannot skip one that was still in flight with a
    smaller id.

    A reply, attachments or an `@name` add their statements, after an explicit membership
    check (403/404 come before their 400s): the parent's preview read (and, once stored,
    its reply_count bumped), the mentioned members looked up and stored, the uploads
    claimed, all under the same lock; what they read is the body's reply_to, mentions and
    attachments, so the event and the response need no query more. `attachment_ids`: the
    author's unused uploads to this chat; then `body` may be empty.
    """
    try:
        return _message_send(
            chat_id=chat.pk,
            author=author,
            body=body,
            client_id=client_id,
            reply_to=reply_to,
            attachment_ids=attachment_ids,
            tail=StatementBatch(commit=commits_itself()),
        )
    except _Replay as replay:
        return replay.message, False
    except IntegrityError as error:
        # The guarded insert failed (see _SendStatements) and everything rolled back.
        return _refused_send(chat_id=chat.pk, author=author, client_id=client_id, error=error)


def _refused_send(
    *, chat_id: int, author: User, client_id: str | None, error: IntegrityError
) -> tuple[Message, bool]:
    """Why a send's insert failed, the transaction rolled back: a client_id the author
    already used here (a replay: answer with that message), or the author is not a member
    (403; 404 for a direct chat, or a chat that is gone). Anything else is a real error."""
    if client_id is not None:
        existing = _stored(chat_id=chat_id, author_id=author.pk, client_id=client_id)
        if existing is not None:
            return existing, False
    kind = Chat.objects.filter(pk=chat_id).values_list("kind", flat=True).first()
    if kind is None:
        raise NotFound()
    if not Membership.objects.filter(chat_id=chat_id, user_id=author.pk).exists():
        raise _not_a_member(kind)
    raise error


@transaction.atomic
def _message_send(
    *,
    chat_id: int,
    author: User,
    body: str,
    client_id: str | None,
    reply_to: int | None,
    attachment_ids: list[int] | None,
    tail: StatementBatch,
) -> tuple[Message, bool]:
    """message_send's transaction: every way out but success rolls it back (a replay too).

    `tail`: the last writes, sent in one round trip with the COMMIT when the send is its
    own transaction (chitchat.batch): after the lock statement's answer (the id, the stamp)
    the send waits once more, so the chat row stays locked for one round trip, not three
    with the process's other threads taking turns in between. A plain message's INSERT is
    in it; a reply's, a mention's or an attachment's goes first, before the writes that
    need it (and the claim, which counts rows), so only the event-log row is left for it.
    """
    if not attachment_ids and not body.strip():
        raise ValidationError({"body": ["This field may not be blank."]})
    sql = _statements()
    now = timezone.now()
    stamp = Chat._meta.get_field("last_activity_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql.lock, [stamp, stamp, chat_id, author.pk])
        locked = cursor.fetchone()
    if locked is None:
        raise NotFound()
    kind, message_id, username, created_at = locked
    if isinstance(created_at, str):  # SQLite hands a raw statement the stored text
        created_at = parse_datetime(created_at)
    created_at = aware(created_at)
    mentioned: list[dict] = []
    parent = None
    plain = reply_to is None and not attachment_ids and not MENTION_RE.search(body)
    if not plain:
        if not Membership.objects.filter(chat_id=chat_id, user_id=author.pk).exists():
            raise _not_a_member(kind)
        if reply_to is not None:
            # Under the chat lock: the parent cannot be deleted between this check and the
            # reply_count update (message_delete takes the same lock). Its preview is the
            # body's `reply_to`.
            parent = reply_previews([reply_to], chat_id=chat_id).get(reply_to)
            if parent is None:
                # A replay still gets its stored message after the parent was deleted.
                replayed = client_id and _stored(
                    chat_id=chat_id, author_id=author.pk, client_id=client_id
                )
                if replayed:
                    raise _Replay(replayed)
                raise ValidationError({"reply_to": ["No such message in this chat."]})
        mentioned = _mentioned_members(chat_id=chat_id, body=body)
    values = {
        "id": message_id,
        "chat_id": chat_id,
        "author_id": author.pk,
        "body": body,
        "created_at": created_at,
        "client_id": client_id,
        "reply_to_id": reply_to,
        "mention_count": len(mentioned),
        "attachment_count": len(attachment_ids or []),  # all claimed below, or a 400
    }
    if plain:
        tail.add(sql.insert, sql.insert_params(values))
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql.insert, sql.insert_params(values))
    # The author as the lock statement read them (a token's lazy user needs no query).
    author.username = username
    message = Message(**values)
    message.author = author
    if parent is not None:
        Message.objects.filter(pk=reply_to).update(reply_count=F("reply_count") + 1)
        message.reply_to_body = parent
    _mentions_store(message_id=message.pk, user_ids=[member["id"] for member in mentioned])
    message.mention_bodies = mentioned
    claimed = attachments_claim(message=message, attachment_ids=attachment_ids or [])
    message.attachment_bodies = [attachment_body(attachment) for attachment in claimed]
    with tail.collecting():
        events.message_created(message)  # its event-log row joins the tail
    tail.send()  # a failed insert raises here: everything rolls back
    return message, True


def _stored(*, chat_id: int, author_id: int, client_id: str) -> Message | None:
    """The message the author already sent here with this client_id (a replay), if any."""
    return (
        Message.objects.select_related("author")
        .filter(chat_id=chat_id, author_id=author_id, client_id=client_id)
        .first()
    )


@transaction.atomic
def direct_message_send(
    *,
    author: User,
    recipient: User,
    body: str = "",
    client_id: str | None = None,
    reply_to: int | None = None,
    attachment_ids: list[int] | None = None,
) -> tuple[Message, bool]:
    """Send into the direct chat of the pair, creating the chat first if needed."""
    if recipient.pk == author.pk:
        raise ValidationError({"user_id": ["You cannot send a direct message to yourself."]})
    chat, _ = direct_chat_get_or_create(user=author, other=recipient)
    return message_send(
        chat=chat,
        author=author,
        body=body,
        client_id=client_id,
        reply_to=reply_to,
        attachment_ids=attachment_ids,
    )


@transaction.atomic
def message_edit(*, message: Message, body: str) -> Message:
    """Replace the body and stamp `edited_at`; only while the author is still a member
    (decided under the chat lock: a removed or departed author gets 403)."""
    _lock_chat_as_member(chat_id=message.chat_id, user_id=message.author_id)
    now = timezone.now()
    # The body as stored now (read under the lock): kept in the history when it changes.
    stored = Message.objects.filter(pk=message.pk).values("body", "mention_count").first()
    if stored is None:
        raise NotFound("No such message.")
    if stored["body"] != body:
        MessageEdit.objects.create(message_id=message.pk, body=stored["body"], replaced_at=now)
    # Mentions are recomputed from the new body (against the members of now).
    mentioned = [member["id"] for member in _mentioned_members(chat_id=message.chat_id, body=body)]
    if stored["mention_count"]:
        Mention.objects.filter(message_id=message.pk).delete()
    _mentions_store(message_id=message.pk, user_ids=mentioned)
    Message.objects.filter(pk=message.pk).update(
        body=body, edited_at=now, mention_count=len(mentioned)
    )
    message.mention_count = len(mentioned)
    message.body = body
    message.edited_at = now
    events.message_updated(message)
    return message


@transaction.atomic
def message_delete(*, message: Message) -> None:
    """Delete the message and fix its chat's message_count and last_message."""
    chat = _lock_chat(message.chat_id)
    attachments_delete(Attachment.objects.filter(message_id=message.pk))
    _, per_model = Message.objects.filter(pk=message.pk).delete()
    if not per_model.get(Message._meta.label):
        return  # deleted concurrently; that request fixed the counters
    fields = {"message_count": F("message_count") - 1}
    if chat.last_message_id in (None, message.pk):
        fields["last_message_id"] = _newest_message_id(chat.pk)
    Chat.objects.filter(pk=chat.pk).update(**fields)
    _reports_close(message_ids=[message.pk], status=Report.Status.ACTIONED)
    if message.reply_to_id is not None:
        # The parent may be gone already (then nothing to update).
        Message.objects.filter(pk=message.reply_to_id).update(reply_count=F("reply_count") - 1)
    events.message_deleted(chat_id=chat.pk, message_id=message.pk)


def _current_like_count(message: Message) -> int:
    return Message.objects.filter(pk=message.pk).values_list("like_count", flat=True).first() or 0


@transaction.atomic
def message_like(*, message: Message, user: User) -> Message:
    """Like once; liking again changes nothing. Safe when the same user likes concurrently:
    the unique (message, user) key lets one insert win, and only the winner counts."""
    _lock_chat_as_member(chat_id=message.chat_id, user_id=user.pk)
    _, created = Like.objects.get_or_create(message=message, user=user)
    if created:
        Message.objects.filter(pk=message.pk).update(like_count=F("like_count") + 1)
    message.like_count = _current_like_count(message)
    if created:
        events.message_liked(message=message, user=user, liked=True)
    return message


@transaction.atomic
def message_unlike(*, message: Message, user: User) -> Message:
    """Remove the caller's like if there is one; counted only when a row was deleted.

    No membership check: taking one's like back harms no one (and the admin removes likes of
    people who have left)."""
    deleted, _ = Like.objects.filter(message=message, user=user).delete()
    if deleted:
        Message.objects.filter(pk=message.pk).update(like_count=F("like_count") - 1)
    message.like_count = _current_like_count(message)
    if deleted:
        events.message_liked(message=message, user=user, liked=False)
    return message


# ---------------------------------------------------------------------------------------
# 1.1 reactions
# ---------------------------------------------------------------------------------------
class TooManyReactions(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = f"A message has at most {REACTIONS_MAX_DISTINCT} different reactions."
    default_code = "too_many_reactions"


def _current_reaction_count(message: Message) -> int:
    return (
        Message.objects.filter(pk=message.pk).values_list("reaction_count", flat=True).first() or 0
    )


def _emoji_count(*, message_id: int, emoji: str) -> int:
    return Reaction.objects.filter(message_id=message_id, emoji=emoji).count()


@transaction.atomic
def message_react(*, message: Message, user: User, emoji: str) -> Message:
    """React once with `emoji`; again changes nothing. Under the chat lock (membership decided
    there), so the distinct-emoji limit and reaction_count hold under concurrency."""
    user = _lock_chat_as_member(chat_id=message.chat_id, user_id=user.pk).user
    if Reaction.objects.filter(message_id=message.pk, user=user, emoji=emoji).exists():
        return message
    used = set(
        Reaction.objects.filter(message_id=message.pk).values_list("emoji", flat=True).distinct()
    )
    if emoji not in used and len(used) >= REACTIONS_MAX_DISTINCT:
        raise TooManyReactions()
    # Counted first: a message deleted meanwhile is a 404, not a foreign key error.
    if not Message.objects.filter(pk=message.pk).update(reaction_count=F("reaction_count") + 1):
        raise NotFound("No such message.")
    reaction = Reaction.objects.create(message=message, user=user, emoji=emoji)
    message.reaction_count = _current_reaction_count(message)
    count = _emoji_count(message_id=message.pk, emoji=emoji)
    events.message_reacted(reaction=reaction, count=count, reacted=True)
    return message


@transaction.atomic
def message_unreact(*, message: Message, user: User, emoji: str) -> Message:
    """Take the caller's reaction with `emoji` back, if there is one."""
    if "\x00" in emoji or len(emoji) > REACTION_EMOJI_MAX_LENGTH:
        return message  # never stored (PostgreSQL text cannot even hold a NUL)
    _lock_chat(message.chat_id)
    reaction = (
        Reaction.objects.select_related("user")
        .filter(message_id=message.pk, user=user, emoji=emoji)
        .first()
    )
    if reaction is None:
        return message
    reaction.message = message
    Reaction.objects.filter(pk=reaction.pk).delete()
    Message.objects.filter(pk=message.pk).update(reaction_count=F("reaction_count") - 1)
    message.reaction_count = _current_reaction_count(message)
    count = _emoji_count(message_id=message.pk, emoji=emoji)
    events.message_reacted(reaction=reaction, count=count, reacted=False)
    return message


def _reactions_purge(*, user: User, mine, theirs: list[Reaction]) -> list[tuple[Reaction, int]]:
    """Delete the user's reactions and those on their messages (chat rows already locked);
    return (reaction, emoji count after) for each of `theirs` (the user's reactions on
    others' messages, `message` joined), in a fixed number of statements."""
    own = Reaction.objects.filter(message=OuterRef("pk"), user=user)
    Message.objects.filter(pk__in={r.message_id for r in theirs}).update(
        reaction_count=F("reaction_count") - count_subquery(own)
    )
    Reaction.objects.filter(user=user).delete()
    Reaction.objects.filter(message__in=mine.values("pk")).delete()
    counts = {
        (row["message_id"], row["emoji"]): row["n"]
        for row in Reaction.objects.filter(message_id__in={r.message_id for r in theirs})
        .values("message_id", "emoji")
        .annotate(n=Count("id"))
    }
    return [(r, counts.get((r.message_id, r.emoji), 0)) for r in theirs]


# ---------------------------------------------------------------------------------------
# 1.1 mentions
# ---------------------------------------------------------------------------------------
# `@name` at the start of the body or after a character that is not a letter, digit or one
# of @.+-_ (the characters of a username), so e-mail addresses are not mentions.
MENTION_RE = re.compile(r"(?<![\w.@+-])@([\w.@+-]{1,150})")
MENTION_TOKENS_MAX = 200  # distinct @names looked up per body


def _mentioned_members(*, chat_id: int, body: str) -> list[dict]:
    """The chat's current members the body mentions (`{id, username}`), once each, in order
    of first appearance (ignoring case). A name followed by punctuation that usernames may contain
    (`@ada.`) names `ada` when no member is called `ada.`."""
    tokens: list[list[str]] = []
    for match in MENTION_RE.finditer(body):
        name = match.group(1).lower()
        candidates = [name]
        stripped = name.rstrip(".@+-")
        if stripped and stripped != name:
            candidates.append(stripped)
        if candidates not in tokens:
            tokens.append(candidates)
        if len(tokens) >= MENTION_TOKENS_MAX:
            break
    if not tokens:
        return []
    names = {name for candidates in tokens for name in candidates}
    members = {
        row["name"]: {"id": row["user_id"], "username": row["user__username"]}
        for row in Membership.objects.filter(chat_id=chat_id)
        .annotate(name=Lower("user__username"))
        .filter(name__in=names)
        .values("name", "user_id", "user__username")
    }
    found: list[dict] = []
    for candidates in tokens:
        for name in candidates:
            if name in members:
                if members[name] not in found:
                    found.append(members[name])
                break
    return found


def _mentions_store(*, message_id: int, user_ids: list[int]) -> None:
    if user_ids:
        Mention.objects.bulk_create(
            Mention(message_id=message_id, user_id=user_id, position=i)
            for i, user_id in enumerate(user_ids)
        )


def _mentions_purge(*, user: User, mine) -> None:
    """Mentions of the user leave others' messages (their counts follow); the user's own
    messages lose theirs. Chat rows already locked by user_messages_purge."""
    own = Mention.objects.filter(message=OuterRef("pk"), user=user)
    Message.objects.filter(mentions__user=user).exclude(author=user).update(
        mention_count=F("mention_count") - count_subquery(own)
    )
    Mention.objects.filter(user=user).delete()
    Mention.objects.filter(message__in=mine.values("pk")).delete()


# ---------------------------------------------------------------------------------------
# 1.1 reports
# ---------------------------------------------------------------------------------------
@transaction.atomic
def message_report(
    *, message: Message, user: User, reason: str, note: str = ""
) -> tuple[Report, bool]:
    """Report a message; return (report, created). A user reports a message once: again
    returns the first report. Members only (decided under the chat lock); not one's own."""
    membership = _lock_chat_as_member(chat_id=message.chat_id, user_id=user.pk)
    if message.author_id == user.pk:
        raise ValidationError({"non_field_errors": ["You cannot report your own message."]})
    existing = Report.objects.filter(message_id=message.pk, reporter_id=user.pk).first()
    if existing is not None:
        return existing, False
    stored = Message.objects.filter(pk=message.pk).values("body", "author__username").first()
    if stored is None:
        raise NotFound("No such message.")
    report = Report.objects.create(
        message_id=message.pk,
        chat_id=message.chat_id,
        reporter=membership.user,
        reason=reason,
        note=note,
        message_body=stored["body"],
        message_author_id=message.author_id,
        message_author_username=stored["author__username"],
    )
    return report, True


def _reports_close(*, message_ids, status: str) -> int:
    """Close the open reports of those messages (a list of ids, or a queryset of them)."""
    return Report.objects.filter(message_id__in=message_ids, status=Report.Status.OPEN).update(
        status=status
    )


@transaction.atomic
def reported_messages_delete(*, message_ids: list[int]) -> None:
    """The moderation action "delete": each reported message that still exists goes through
    message_delete (events, counters; its reports become `actioned`); the reports of
    messages already gone are closed as `actioned` too."""
    for message in (
        Message.objects.filter(pk__in=message_ids).select_related("chat").order_by("chat_id", "pk")
    ):
        message_delete(message=message)
    _reports_close(message_ids=message_ids, status=Report.Status.ACTIONED)


@transaction.atomic
def reported_messages_dismiss(*, message_ids: list[int]) -> int:
    """The moderation action "dismiss": the open reports of those messages are dismissed."""
    return _reports_close(message_ids=message_ids, status=Report.Status.DISMISSED)


# ---------------------------------------------------------------------------------------
# 1.1 pins
# ---------------------------------------------------------------------------------------
class TooManyPins(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = f"A chat has at most {PINS_MAX} pinned messages."
    default_code = "too_many_pins"


def _lock_chat_as_pinner(*, message: Message, user: User) -> Membership:
    """Lock the chat; the caller must be an owner or admin of a group chat, or a member of
    a direct chat (decided under the lock, as every membership-dependent write)."""
    membership = _lock_chat_as_member(chat_id=message.chat_id, user_id=user.pk)
    if membership.chat.kind == Chat.Kind.GROUP and membership.role not in (
        Membership.Role.OWNER,
        Membership.Role.ADMIN,
    ):
        raise PermissionDenied("Only the chat's owner or an admin may pin messages.")
    return membership


@transaction.atomic
def message_pin(*, message: Message, user: User) -> Message:
    """Pin the message (again changes nothing); at most PINS_MAX per chat."""
    user = _lock_chat_as_pinner(message=message, user=user).user
    if Pin.objects.filter(message_id=message.pk).exists():
        message.pinned = True
        return message
    if Pin.objects.filter(chat_id=message.chat_id).count() >= PINS_MAX:
        raise TooManyPins()
    if not Message.objects.filter(pk=message.pk).update(pinned=True):
        raise NotFound("No such message.")
    Pin.objects.create(chat_id=message.chat_id, message=message, pinned_by=user)
    message.pinned = True
    events.message_pinned(message=message, by=user, pinned=True)
    return message


@transaction.atomic
def message_unpin(*, message: Message, user: User) -> Message:
    """Unpin the message (when not pinned, nothing changes)."""
    user = _lock_chat_as_pinner(message=message, user=user).user
    deleted, _ = Pin.objects.filter(message_id=message.pk).delete()
    message.pinned = False
    if deleted:
        Message.objects.filter(pk=message.pk).update(pinned=False)
        events.message_pinned(message=message, by=user, pinned=False)
    return message


@transaction.atomic
def chat_mark_read(*, chat: Chat, user: User, message_id: int) -> None:
    """Move the caller's read marker forward to `message_id` (never back)."""
    if not Message.objects.filter(pk=message_id, chat_id=chat.pk).exists():
        raise ValidationError({"message_id": ["No such message in this chat."]})
    membership = Membership.objects.filter(chat=chat, user=user)
    if not membership.exists():
        raise PermissionDenied("You are not a member of this chat.")
    # One conditional UPDATE: concurrent marks can only move the marker forward.
    moved = membership.filter(
        Q(last_read_message_id__isnull=True) | Q(last_read_message_id__lt=message_id)
    ).update(last_read_message_id=message_id)
    if moved:
        unread = (
            Message.objects.filter(chat_id=chat.pk, id__gt=message_id).exclude(author=user).count()
        )
        events.chat_read(chat_id=chat.pk, user=user, message_id=message_id, unread_count=unread)


@transaction.atomic
def user_messages_purge(*, user: User) -> None:
    """Delete every message and like of `user` in a fixed number of statements.

    Other people's messages lose the user's like from `like_count` (each such message gets
    its message.liked); the chats the user wrote in get `message_count` and
    `last_message_id` recomputed under their row locks (taken in id order, as message_send
    takes one at a time, so no deadlock), and a message.deleted per purged message, batched
    per chat.
    """
    mine = Message.objects.filter(author=user)
    purged: dict[int, list[int]] = {}
    for chat_id, message_id in mine.order_by("chat_id", "id").values_list("chat_id", "id"):
        purged.setdefault(chat_id, []).append(message_id)
    liked = Like.objects.filter(user=user)
    unliked = list(
        Message.objects.filter(pk__in=liked.values("message_id"))
        .exclude(author=user)
        .only("id", "chat_id", "like_count")
    )
    reacted = list(
        Reaction.objects.filter(user=user)
        .exclude(message__author=user)
        .select_related("user", "message")
        .only("id", "emoji", "user__username", "message__id", "message__chat_id")
    )
    mentioned_in = Mention.objects.filter(user=user).values_list("message__chat_id", flat=True)
    chat_ids = sorted(
        set(purged)
        | {message.chat_id for message in unliked}
        | {reaction.message.chat_id for reaction in reacted}
        | set(mentioned_in)
    )
    list(
        Chat.objects.select_for_update()
        .filter(pk__in=chat_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    Message.objects.filter(pk__in=[message.pk for message in unliked]).update(
        like_count=F("like_count") - 1
    )
    liked.delete()
    Like.objects.filter(message__in=mine.values("pk")).delete()
    attachments_delete(Attachment.objects.filter(uploader=user))
    unreacted = _reactions_purge(user=user, mine=mine, theirs=reacted)
    Pin.objects.filter(message__in=mine.values("pk")).delete()
    MessageEdit.objects.filter(message__in=mine.values("pk")).delete()
    _mentions_purge(user=user, mine=mine)
    _reports_close(message_ids=mine.values("pk"), status=Report.Status.ACTIONED)
    replied_to = list(
        mine.filter(reply_to__isnull=False).values_list("reply_to_id", flat=True).distinct()
    )
    # Raw delete: likes, the only relation to a message, went just above, so Django's
    # collector need not load every message into memory to cascade.
    mine._raw_delete(mine.db)

    if purged:
        remaining = Message.objects.filter(chat=OuterRef("pk")).order_by()
        Chat.objects.filter(pk__in=list(purged)).update(
            message_count=Coalesce(
                Subquery(
                    remaining.annotate(_group=Value(1))
                    .values("_group")
                    .annotate(n=Count("*"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            last_message_id=Subquery(remaining.order_by("-id").values("id")[:1]),
        )
    if replied_to:
        replies = Message.objects.filter(reply_to=OuterRef("pk"))
        Message.objects.filter(pk__in=replied_to).update(reply_count=count_subquery(replies))
    for message in unliked:
        message.like_count -= 1
        events.message_liked(message=message, user=user, liked=False)
    for reaction, count in unreacted:
        events.message_reacted(reaction=reaction, count=count, reacted=False)
    for chat_id, message_ids in purged.items():
        events.messages_deleted(chat_id=chat_id, message_ids=message_ids)


@receiver(chat_deleting, sender=Chat, dispatch_uid="messaging.chat_messages_delete")
def chat_messages_delete(sender, *, chat_id: int, **kwargs) -> None:
    """A chat is being deleted (its row locked by chats.services.chat_delete): its messages
    and their likes go first, in two set-based statements, rather than through Django's
    cascade, which would load every message of a million-message chat into memory."""
    Like.objects.filter(message__chat_id=chat_id).delete()
    attachments_delete(Attachment.objects.filter(chat_id=chat_id))
    Reaction.objects.filter(message__chat_id=chat_id).delete()
    Pin.objects.filter(chat_id=chat_id).delete()
    MessageEdit.objects.filter(message__chat_id=chat_id).delete()
    Mention.objects.filter(message__chat_id=chat_id).delete()
    Report.objects.filter(chat_id=chat_id).delete()
    messages = Message.objects.filter(chat_id=chat_id)
    messages._raw_delete(messages.db)
