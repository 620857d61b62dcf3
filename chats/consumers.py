"""The socket of a signed-in user: live.consumers' consumer, told by the memberships where
the user may type (which chats they hear, the event log's membership spans say)."""

from chats.models import Membership
from live.consumers import LiveEventsConsumer


class ChatEventsConsumer(LiveEventsConsumer):
    def may_type_in(self, user_id: int, chat_id: int) -> bool:
        # Read now, not from the hub's view: a leave, a kick or the deletion of the account
        # may have committed before the hub read its event.
        return Membership.objects.filter(
            user_id=user_id, chat_id=chat_id, user__is_active=True
        ).exists()
