"""Hooks for the apps above chats (sent explicitly by chats.services, inside its transaction).

`chat_deleting(sender=Chat, chat_id=)`: the chat row is locked and about to be deleted; an
app that keeps rows pointing at the chat removes them first, set-based (messaging deletes
the chat's messages and likes, which Django's cascade would load one by one).
"""

from django.dispatch import Signal

chat_deleting = Signal()
