"""Account lifecycle across the apps: what chats and messaging do when an account goes.

Above the domain apps (accounts ← chats ← messaging), so it may call each app's services.
accounts.services.user_delete sends `user_deleting` inside its transaction, before the user
row goes; the receiver below does the other apps' part in the same transaction, so the
account's deletion is all or nothing:

1. every chat the user was in gets its member.left, through chats.services.chat_leave (an
   owner's chat passes on as when an owner leaves; a group chat left with no member at all
   is adopted by the next one to join, see chats.services);
2. their messages and likes go, through messaging.services.user_messages_purge (a
   message.deleted per message, batched per chat; a message.liked per like taken back);
3. their open sockets close with 4401 in every process (live.events.close_user_sockets).

Deactivation and password changes only close the sockets (accounts.services; the account
keeps its chats and can be reactivated).
"""

from django.dispatch import receiver

from accounts.models import User
from accounts.signals import user_deleting
from chats.models import Chat
from chats.services import chat_leave
from live.events import close_user_sockets
from messaging.services import user_messages_purge


@receiver(user_deleting, sender=User, dispatch_uid="chitchat.lifecycle.user_leaves_everything")
def user_leaves_everything(sender, *, user: User, **kwargs) -> None:
    # Chats in id order: each chat_leave locks its chat row, as every other writer does one
    # at a time, so a deletion cannot deadlock with them.
    for chat in Chat.objects.filter(memberships__user=user).order_by("id"):
        chat_leave(chat=chat, user=user)
    user_messages_purge(user=user)
    close_user_sockets(user_id=user.pk)
