"""The socket of a signed-in user: live.consumers' consumer, told by the memberships which
chats the user hears and where they may type."""

from chats.models import Membership
from live.consumers import LiveEventsConsumer


class ChatEventsConsumer(LiveEventsConsumer):
    def subscriptions(self, user_id: int) -> set[int]:
        return set(Membership.objects.filter(user_id=user_id).values_list("chat_id", flat=True))

    def may_type_in(self, user_id: int, chat_id: int) -> bool:
        # Read now, not from this socket's subscriptions: a leave, a kick or the deletion of
        # the account may have committed while its unsubscribe is still on the way.
        return Membership.objects.filter(
            user_id=user_id, chat_id=chat_id, user__is_active=True
        ).exists()
