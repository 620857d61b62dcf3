"""Keep the access-token lock marks (accounts.authentication) in step with user rows."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.authentication import user_access_lock, user_access_unlock
from accounts.models import User


@receiver(post_save, sender=User)
def user_saved(sender, instance: User, update_fields=None, **kwargs):
    if "is_active" in instance.get_deferred_fields():
        return
    if not instance.is_active:
        user_access_lock(user_id=instance.pk)
    elif update_fields is None or "is_active" in update_fields:
        user_access_unlock(user_id=instance.pk)


@receiver(post_delete, sender=User)
def user_deleted(sender, instance: User, **kwargs):
    user_access_lock(user_id=instance.pk, deleted=True)
