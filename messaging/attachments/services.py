"""Attachment writes: upload, claim by a send, removal with the data, purge of unused uploads.

Files are written to storage before their row (a failed insert removes the file again) and
removed from storage only once the transaction that deleted their rows has committed, so a
rolled-back deletion never loses a file that a row still names.
"""

import os
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case, PositiveSmallIntegerField, QuerySet, Value, When
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.models import User
from messaging.attachments import files
from messaging.attachments.models import NAME_MAX_LENGTH, Attachment

MAX_PER_MESSAGE = 10


def clean_name(raw: str) -> str:
    """The client's file name without any directory part (either slash), control characters
    removed, at most 255 characters (the extension kept when cut)."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in ("", ".", ".."):
        name = "file"
    if len(name) > NAME_MAX_LENGTH:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[: NAME_MAX_LENGTH - len(ext)] + ext
    return name


def attachment_upload(*, chat_id: int, uploader: User, upload) -> Attachment:
    """Store `upload` (a Django UploadedFile, on disk) for `chat_id`; the caller is a member
    (checked by the view). Raises ValidationError on `file` for an image that is unsafe."""
    try:
        inspected = files.inspect(upload)
    except files.InvalidImage as error:
        raise ValidationError({"file": [str(error)]}) from error
    # FileSystemStorage moves (or copies in chunks) the temporary file; S3 streams it.
    stored = [default_storage.save(files.storage_name(chat_id), upload)]
    try:
        thumbnail = ""
        if inspected.thumbnail is not None:
            thumbnail = files.save_thumbnail(chat_id, inspected.thumbnail, inspected.content_type)
            stored.append(thumbnail)
        return Attachment.objects.create(
            chat_id=chat_id,
            uploader=uploader,
            name=clean_name(upload.name or ""),
            size=upload.size,
            content_type=inspected.content_type,
            width=inspected.width,
            height=inspected.height,
            file=stored[0],
            thumbnail=thumbnail,
        )
    except BaseException:
        files.delete_files(stored)
        raise


def attachments_claim(*, message, attachment_ids: list[int]) -> list[Attachment]:
    """Attach the author's unused uploads of the message's chat to it, in the given order.

    Called by messaging.services.message_send inside its transaction, with the chat row
    locked: every claim of this chat's attachments queues on that lock. The UPDATE is
    conditional (still unused) and counted, so a purge that deleted a row in between, or any
    id that is not the author's unused upload here, is a 400 and the send rolls back.
    """
    if not attachment_ids:
        return []
    invalid = ValidationError(
        {"attachment_ids": ["Each id must be an unused attachment you uploaded to this chat."]}
    )
    if len(set(attachment_ids)) != len(attachment_ids):
        raise invalid
    mine = Attachment.objects.filter(
        pk__in=attachment_ids,
        chat_id=message.chat_id,
        uploader_id=message.author_id,
        message__isnull=True,
    )
    found = {attachment.pk: attachment for attachment in mine}
    if len(found) != len(attachment_ids):
        raise invalid
    positions = [When(pk=pk, then=Value(position)) for position, pk in enumerate(attachment_ids)]
    claimed = Attachment.objects.filter(pk__in=attachment_ids, message__isnull=True).update(
        message=message, position=Case(*positions, output_field=PositiveSmallIntegerField())
    )
    if claimed != len(attachment_ids):
        raise invalid
    for position, pk in enumerate(attachment_ids):
        found[pk].message_id, found[pk].position = message.pk, position
    return [found[pk] for pk in attachment_ids]


def attachments_delete(attachments: QuerySet[Attachment]) -> None:
    """Delete these rows now and their files once the transaction commits."""
    names = [name for pair in attachments.values_list("file", "thumbnail") for name in pair if name]
    attachments.delete()
    if names:
        transaction.on_commit(lambda: files.delete_files(names))


def attachments_purge(*, older_than_hours: int | None = None, batch: int = 500) -> int:
    """Delete uploads no message uses that are older than ATTACHMENT_ORPHAN_HOURS; return
    how many. Idempotent. Safe beside sends: the rows are locked before they go (PostgreSQL;
    SQLite runs one writer at a time), and only rows still unused are deleted, so an upload a
    send claims first stays, and a send that comes second gets a 400."""
    hours = settings.ATTACHMENT_ORPHAN_HOURS if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - timedelta(hours=hours)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                Attachment.objects.select_for_update()
                .filter(message__isnull=True, created_at__lt=cutoff)
                .order_by("created_at", "pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return total
            attachments_delete(Attachment.objects.filter(pk__in=ids, message__isnull=True))
        total += len(ids)
        if len(ids) < batch:
            return total
