"""Keep the access-token lock marks (accounts.authentication) and open sockets in step with
user rows, and the hook other apps use when an account goes.

`user_deleting(sender=User, user=)`: sent by accounts.services.user_delete inside its
transaction, before the user row is deleted. chitchat.lifecycle (above the apps) makes the
user leave their chats and purges their messages there.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from accounts.authentication import user_access_lock, user_access_unlock
from accounts.models import User
from live.events import close_user_sockets

user_deleting = Signal()


@receiver(post_save, sender=User)
def user_saved(sender, instance: User, update_fields=None, **kwargs):
    if "is_active" in instance.get_deferred_fields():
        return
    if not instance.is_active:
        user_access_lock(user_id=instance.pk)
        # Their sockets were authorised by the account; close them wherever they are.
        close_user_sockets(user_id=instance.pk)
    elif update_fields is None or "is_active" in update_fields:
        user_access_unlock(user_id=instance.pk)


@receiver(post_delete, sender=User)
def user_deleted(sender, instance: User, **kwargs):
    user_access_lock(user_id=instance.pk, deleted=True)
