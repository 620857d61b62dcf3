"""Attachment reads scoped to the caller."""

from django.db.models import Exists, OuterRef
from rest_framework.exceptions import NotFound, PermissionDenied

from chats.models import Chat, Membership
from messaging.attachments.models import Attachment


def attachment_for_download(*, user, pk: int) -> Attachment:
    """The attachment if `user` may download it, in one query (every request).

    Members of its chat, once a message uses it; before that, its uploader only. 404 for an
    unknown id, someone else's direct chat, or someone else's unused upload (nobody else may
    know of it yet); 403 for a group chat's non-member."""
    member = Membership.objects.filter(chat=OuterRef("chat_id"), user=user)
    attachment = (
        Attachment.objects.select_related("chat")
        .annotate(is_member=Exists(member))
        .filter(pk=pk)
        .first()
    )
    if attachment is None:
        raise NotFound()
    if attachment.message_id is None:
        if attachment.uploader_id != user.pk:
            raise NotFound()
        return attachment
    if not attachment.is_member:
        if attachment.chat.kind == Chat.Kind.DIRECT:
            raise NotFound()
        raise PermissionDenied("You are not a member of this chat.")
    return attachment
