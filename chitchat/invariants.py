"""The denormalised values the services keep, checked against the rows they summarise.

Every entry of CHECKS is one rule over a whole table, and all of them run as ONE query (a
UNION ALL of set-based comparisons), so a check costs the same single round trip whatever
the data size or the number of rules. A new counter (reactions, replies, pins) is one more
entry, e.g. ``CountOf(Message, "reply_count", Message, "parent")``.

Only what must hold after any sequence of service calls is checked. A read marker is only
checked to name a message of its own chat (when that message still exists): it may point
past the chat's newest message once that message is deleted.

Attachments are checked to belong to a message of their own chat, sent by their
uploader.

The root conftest runs assert_invariants() after every test that used the database; the
bulk loader's tests run it after a load.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Model

from chats.models import Chat, Membership
from messaging.attachments.models import Attachment
from messaging.models import Like, Mention, Message, Pin, Reaction

# At most this many problems are reported (the first ones found are enough to debug).
REPORT_LIMIT = 20


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


@dataclass(frozen=True)
class _Rule:
    """`model.field` agrees with an aggregate over the `related` rows whose `fk` points at it."""

    model: type[Model]
    field: str
    related: type[Model]
    fk: str

    def name(self) -> str:
        return f"{self.model.__name__}.{self.field}"

    def aggregate(self) -> str:
        """SQL aggregate over the related rows of one owner."""
        raise NotImplementedError

    def wrong(self, stored: str, actual: str) -> str:
        """SQL condition under which the stored value disagrees with the aggregate."""
        raise NotImplementedError

    def describe(self, pk, stored, actual) -> str:
        raise NotImplementedError

    def sql(self) -> str:
        pk = _column(self.model, self.model._meta.pk.name)
        stored = f"p.{_column(self.model, self.field)}"
        fk = _column(self.related, self.fk)
        owners = f"SELECT {fk} AS owner_id, {self.aggregate()} AS actual FROM "  # noqa: S608
        # Stored and actual values go out as text: UNION ALL wants one type per column.
        return (
            f"SELECT '{self.name()}', p.{pk}, CAST({stored} AS TEXT), CAST(s.actual AS TEXT) "  # noqa: S608
            f"FROM {_table(self.model)} p "
            f"LEFT JOIN ({owners}{_table(self.related)} GROUP BY {fk}) s ON s.owner_id = p.{pk} "
            f"WHERE {self.wrong(stored, 's.actual')}"
        )


@dataclass(frozen=True)
class CountOf(_Rule):
    """`model.field` is the number of `related` rows pointing at it (0 when none)."""

    def aggregate(self) -> str:
        return "COUNT(*)"

    def wrong(self, stored: str, actual: str) -> str:
        return f"{stored} <> COALESCE({actual}, 0)"

    def describe(self, pk, stored, actual) -> str:
        return f"{self.model.__name__} {pk}: {self.field} is {stored}, counted {actual or 0}"


@dataclass(frozen=True)
class NewestOf(_Rule):
    """`model.field` (a reference) is the related row with the highest id, or null if none."""

    def aggregate(self) -> str:
        return f"MAX({_column(self.related, self.related._meta.pk.name)})"

    def wrong(self, stored: str, actual: str) -> str:
        return (
            f"({stored} IS NULL AND {actual} IS NOT NULL) "
            f"OR ({stored} IS NOT NULL AND ({actual} IS NULL OR {stored} <> {actual}))"
        )

    def describe(self, pk, stored, actual) -> str:
        return f"{self.model.__name__} {pk}: {self.field} is {stored}, newest is {actual}"


@dataclass(frozen=True)
class NotBefore(_Rule):
    """`model.field` (a time) is not older than the newest `related.column`."""

    column: str = "created_at"

    def aggregate(self) -> str:
        return f"MAX({_column(self.related, self.column)})"

    def wrong(self, stored: str, actual: str) -> str:
        return f"{actual} IS NOT NULL AND {stored} < {actual}"

    def describe(self, pk, stored, actual) -> str:
        return (
            f"{self.model.__name__} {pk}: {self.field} is {stored}, "
            f"older than its newest {self.related.__name__} ({actual})"
        )


@dataclass(frozen=True)
class SameScope(_Rule):
    """`model.field` (an id of a `related` row, possibly gone since) never names a row of
    another `fk`: e.g. a read marker is a message of the member's own chat."""

    def sql(self) -> str:
        pk = _column(self.model, self.model._meta.pk.name)
        stored = f"p.{_column(self.model, self.field)}"
        related_pk = _column(self.related, self.related._meta.pk.name)
        scope, own_scope = _column(self.related, self.fk), _column(self.model, self.fk)
        return (
            f"SELECT '{self.name()}', p.{pk}, CAST({stored} AS TEXT), CAST(r.{scope} AS TEXT) "  # noqa: S608
            f"FROM {_table(self.model)} p JOIN {_table(self.related)} r "
            f"ON r.{related_pk} = {stored} WHERE r.{scope} <> p.{own_scope}"
        )

    def describe(self, pk, stored, actual) -> str:
        return (
            f"{self.model.__name__} {pk}: {self.field} is {stored}, "
            f"a {self.related.__name__} of {self.fk} {actual}"
        )


@dataclass(frozen=True)
class OwnMessage(_Rule):
    """`model.field` (a message, when set) is a message of the row's own chat, written by the
    row's `fk` (its uploader): an attachment never hangs off somebody else's message."""

    def sql(self) -> str:
        pk = _column(self.model, self.model._meta.pk.name)
        stored = f"p.{_column(self.model, self.field)}"
        related_pk = _column(self.related, self.related._meta.pk.name)
        chat, own_chat = _column(self.related, "chat"), _column(self.model, "chat")
        author, owner = _column(self.related, "author"), _column(self.model, self.fk)
        return (
            f"SELECT '{self.name()}', p.{pk}, CAST({stored} AS TEXT), CAST(r.{chat} AS TEXT) "  # noqa: S608
            f"FROM {_table(self.model)} p JOIN {_table(self.related)} r "
            f"ON r.{related_pk} = {stored} "
            f"WHERE r.{chat} <> p.{own_chat} OR r.{author} <> p.{owner}"
        )

    def describe(self, pk, stored, actual) -> str:
        return f"{self.model.__name__} {pk}: not its {self.fk}'s message {stored} of its chat"


@dataclass(frozen=True)
class FlagOf(_Rule):
    """`model.field` (a flag) is true exactly when some `related` row points at it."""

    def aggregate(self) -> str:
        return "COUNT(*)"

    def wrong(self, stored: str, actual: str) -> str:
        return (
            f"(CASE WHEN {stored} THEN 1 ELSE 0 END) "
            f"<> (CASE WHEN COALESCE({actual}, 0) > 0 THEN 1 ELSE 0 END)"
        )

    def describe(self, pk, stored, actual) -> str:
        return f"{self.model.__name__} {pk}: {self.field} is {stored}, {actual or 0} rows"


CHECKS: list[_Rule] = [
    CountOf(Chat, "message_count", Message, "chat"),
    CountOf(Chat, "member_count", Membership, "chat"),
    NewestOf(Chat, "last_message_id", Message, "chat"),
    NotBefore(Chat, "last_activity_at", Message, "chat"),
    CountOf(Message, "like_count", Like, "message"),
    SameScope(Membership, "last_read_message_id", Message, "chat"),
    OwnMessage(Attachment, "message_id", Message, "uploader"),
    CountOf(Message, "reaction_count", Reaction, "message"),
    CountOf(Message, "reply_count", Message, "reply_to"),
    CountOf(Message, "mention_count", Mention, "message"),
    CountOf(Message, "attachment_count", Attachment, "message"),
    FlagOf(Message, "pinned", Pin, "message"),
]


def check_invariants() -> list[str]:
    """Every broken invariant, described for a person (empty when all hold). One query."""
    by_name = {rule.name(): rule for rule in CHECKS}
    query = " UNION ALL ".join(rule.sql() for rule in CHECKS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({query}) problems LIMIT {REPORT_LIMIT}")  # noqa: S608
        rows = cursor.fetchall()
    return [by_name[name].describe(pk, stored, actual) for name, pk, stored, actual in rows]


def assert_invariants() -> None:
    """Fail with every broken invariant listed."""
    problems = check_invariants()
    assert not problems, "Invariants broken:\n" + "\n".join(problems)
