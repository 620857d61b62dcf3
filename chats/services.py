"""Chat writes: create, update, delete, join, leave, invites, members, direct chats.

Every function runs in a transaction and emits its live events through chats.events (sent
only once the transaction commits). Every write that changes or depends on the memberships
(join, invite use, member add, remove, role change, leave, capacity change) locks the chat
row first: two requests for the last free seat are serialised by the database, and a message
send (which takes the same lock, messaging.services) never slips in after a leave or a kick.
"""

import hmac
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Value, When
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError

from accounts.models import User
from chats import events
from chats.models import Chat, Membership, new_invite_code
from chats.signals import chat_deleting


class ChatFull(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The chat is full."
    default_code = "chat_full"


UPDATABLE_FIELDS = ("name", "description", "passkey", "capacity")


def _locked(chat: Chat) -> Chat:
    """Re-read the chat holding its row lock until the transaction ends."""
    try:
        return Chat.objects.select_for_update().get(pk=chat.pk)
    except Chat.DoesNotExist:
        raise NotFound() from None


def _passkey_matches(given: str | None, expected: str) -> bool:
    # Constant-time comparison, so response timing says nothing about the passkey.
    return hmac.compare_digest((given or "").encode(), expected.encode())


def _member_count_add(chat: Chat, delta: int, **fields) -> None:
    """Move the chat's member_count by `delta` (and set `fields`), the chat row locked by the
    caller: every membership created or deleted goes through here or sets the count itself
    (chat_create, direct_chat_get_or_create), so the count is the rows' (chitchat.invariants)."""
    Chat.objects.filter(pk=chat.pk).update(member_count=F("member_count") + delta, **fields)
    chat.member_count += delta
    for name, value in fields.items():
        setattr(chat, name, value)


def _add_member_locked(*, chat: Chat, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    """Add `user` to a chat whose row the caller holds locked; 409 when it is full."""
    if chat.capacity is not None and chat.member_count >= chat.capacity:
        raise ChatFull()
    if (
        chat.kind == Chat.Kind.GROUP
        and role != Membership.Role.OWNER
        and not chat.memberships.filter(role=Membership.Role.OWNER).exists()
    ):
        # A group chat left without an owner (its last member left or was deleted) is
        # adopted by the next one to join, so that it can be administered again.
        role = Membership.Role.OWNER
    # The read marker starts at the newest message (kept by messaging under this same lock):
    # a new member has nothing unread.
    membership = Membership.objects.create(
        chat=chat, user=user, role=role, last_read_message_id=chat.last_message_id
    )
    _member_count_add(chat, 1)
    events.member_joined(chat_id=chat.pk, user=user, role=str(role))
    return membership


@transaction.atomic
def chat_create(
    *,
    creator: User,
    name: str,
    description: str = "",
    passkey: str = "",
    capacity: int | None = None,
    member_ids: Iterable[int] = (),
) -> Chat:
    """Create a group chat owned by `creator`, with the given users as members."""
    other_ids = sorted({int(i) for i in member_ids} - {creator.pk})
    users = list(User.objects.filter(pk__in=other_ids))
    unknown = sorted(set(other_ids) - {u.pk for u in users})
    if unknown:
        raise ValidationError({"member_ids": [f"Unknown user ids: {unknown}."]})
    if capacity is not None and 1 + len(users) > capacity:
        raise ValidationError(
            {"member_ids": [f"{1 + len(users)} members do not fit a capacity of {capacity}."]}
        )
    chat = Chat.objects.create(
        kind=Chat.Kind.GROUP,
        name=name,
        description=description,
        passkey=passkey,
        capacity=capacity,
        created_by=creator,
        member_count=1 + len(users),
    )
    Membership.objects.bulk_create(
        [Membership(chat=chat, user=creator, role=Membership.Role.OWNER)]
        + [Membership(chat=chat, user=u, role=Membership.Role.MEMBER) for u in users]
    )
    events.member_joined(chat_id=chat.pk, user=creator, role=Membership.Role.OWNER.value)
    for u in users:
        events.member_joined(chat_id=chat.pk, user=u, role=Membership.Role.MEMBER.value)
    return chat


@transaction.atomic
def chat_update(*, chat: Chat, **fields) -> Chat:
    """Change any of name, description, passkey, capacity; capacity never below the members."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"chat_update got unexpected fields: {sorted(unknown)}")
    chat = _locked(chat)
    if fields.get("capacity") is not None:
        members = chat.member_count
        if fields["capacity"] < members:
            raise ValidationError(
                {"capacity": [f"The chat has {members} members; capacity cannot be lower."]}
            )
    changed = [name for name, value in fields.items() if getattr(chat, name) != value]
    for name in changed:
        setattr(chat, name, fields[name])
    if changed:
        chat.save(update_fields=changed)
        events.chat_updated(chat)
    return chat


@transaction.atomic
def chat_delete(*, chat: Chat) -> None:
    """Delete the chat with its memberships, and (through chat_deleting) what apps above
    keep of it: messaging deletes its messages set-based before the cascade looks."""
    chat = _locked(chat)
    member_ids = list(chat.memberships.values_list("user_id", flat=True))
    chat_id = chat.pk
    chat_deleting.send(sender=Chat, chat_id=chat_id)
    chat.delete()
    events.chat_deleted(chat_id=chat_id, member_ids=member_ids)


@transaction.atomic
def chat_join(*, chat: Chat, user: User, passkey: str | None = None) -> tuple[Chat, bool]:
    """Join a group chat; return (chat, joined). Already a member: nothing changes.

    The passkey is checked before the capacity (403 before 409).
    """
    chat = _locked(chat)
    if Membership.objects.filter(chat=chat, user=user).exists():
        return chat, False
    if chat.kind != Chat.Kind.GROUP:
        raise NotFound()
    if chat.passkey and not _passkey_matches(passkey, chat.passkey):
        raise PermissionDenied("Wrong or missing passkey.")
    _add_member_locked(chat=chat, user=user)
    return chat, True


@transaction.atomic
def chat_leave(*, chat: Chat, user: User) -> None:
    """Leave a chat; nothing happens when `user` is not a member.

    An owner hands ownership to the oldest admin, else the oldest member. The last member
    leaving leaves the chat in place with its history. Works on direct chats too (account
    deletion uses it); the API refuses leaving a direct chat before calling this.
    """
    chat = _locked(chat)
    membership = Membership.objects.filter(chat=chat, user=user).first()
    if membership is None:
        return
    role = membership.role
    membership.delete()
    _member_count_add(chat, -1)
    if role == Membership.Role.OWNER:
        successor = (
            Membership.objects.filter(chat=chat)
            .annotate(
                _rank=Case(
                    When(role=Membership.Role.ADMIN, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("_rank", "joined_at", "id")
            .first()
        )
        if successor is not None:
            successor.role = Membership.Role.OWNER
            successor.save(update_fields=["role"])
    events.member_left(chat_id=chat.pk, user=user, role=str(role))


@transaction.atomic
def invite_rotate(*, chat: Chat) -> Chat:
    """Give the chat a new invite code; the old one stops working."""
    chat = _locked(chat)
    chat.invite_code = new_invite_code()
    chat.save(update_fields=["invite_code"])
    return chat


@transaction.atomic
def invite_join(*, code: str, user: User) -> tuple[Chat, bool]:
    """Join the group chat whose invite code this is, without its passkey; 404 if unknown."""
    try:
        chat = Chat.objects.select_for_update().get(invite_code=code, kind=Chat.Kind.GROUP)
    except Chat.DoesNotExist:
        raise NotFound("Unknown or expired invite code.") from None
    if Membership.objects.filter(chat=chat, user=user).exists():
        return chat, False
    _add_member_locked(chat=chat, user=user)
    return chat, True


@transaction.atomic
def member_add(*, chat: Chat, user: User) -> tuple[Membership, bool]:
    """Add `user` as a member; return (membership, created). Capacity holds (409)."""
    chat = _locked(chat)
    existing = Membership.objects.filter(chat=chat, user=user).first()
    if existing is not None:
        return existing, False
    return _add_member_locked(chat=chat, user=user), True


def _membership_or_404(*, chat: Chat, user: User) -> Membership:
    membership = Membership.objects.select_for_update().filter(chat=chat, user=user).first()
    if membership is None:
        raise NotFound("That user is not a member of this chat.")
    return membership


@transaction.atomic
def member_role_set(*, chat: Chat, user: User, role: str) -> Membership:
    """Make a member an admin or a plain member; the owner's role is not changed here."""
    if role not in (Membership.Role.ADMIN, Membership.Role.MEMBER):
        raise ValidationError({"role": ["Must be 'admin' or 'member'."]})
    chat = _locked(chat)
    membership = _membership_or_404(chat=chat, user=user)
    if membership.role == Membership.Role.OWNER:
        raise PermissionDenied("The owner's role cannot be changed.")
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, chat: Chat, user: User) -> None:
    """Remove a member (never the owner); they get member.left and stop hearing the chat.

    Under the chat lock, so a send queued behind it is refused. The invite code is rotated:
    a code the removed member fetched before the kick must not let them straight back in
    (members fetch the new one from GET invite/).
    """
    chat = _locked(chat)
    membership = _membership_or_404(chat=chat, user=user)
    if membership.role == Membership.Role.OWNER:
        raise PermissionDenied("The owner cannot be removed.")
    role = membership.role
    membership.delete()
    _member_count_add(chat, -1, invite_code=new_invite_code())
    events.member_left(chat_id=chat.pk, user=user, role=str(role))


def direct_chat_get_or_create(*, user: User, other: User) -> tuple[Chat, bool]:
    """The one direct chat of the pair; return (chat, created).

    The unique `direct_key` decides races: the loser of a concurrent create gets an
    IntegrityError, rolls back its savepoint and reads the winner's chat.
    """
    if user.pk == other.pk:
        raise ValidationError({"user_id": ["You cannot open a direct chat with yourself."]})
    key = Chat.direct_key_for(user.pk, other.pk)
    existing = Chat.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            chat = Chat.objects.create(
                kind=Chat.Kind.DIRECT, direct_key=key, created_by=user, member_count=2
            )
            Membership.objects.bulk_create(
                [
                    Membership(chat=chat, user=user, role=Membership.Role.MEMBER),
                    Membership(chat=chat, user=other, role=Membership.Role.MEMBER),
                ]
            )
            events.member_joined(chat_id=chat.pk, user=user, role=Membership.Role.MEMBER.value)
            events.member_joined(chat_id=chat.pk, user=other, role=Membership.Role.MEMBER.value)
    except IntegrityError:
        return Chat.objects.get(direct_key=key), False
    return chat, True
