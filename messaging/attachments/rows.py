"""The read model of attachments: the contract's attachment body, and the batched lookup
that gives a page of messages their attachments in one query (used by messaging.rows)."""

from collections import defaultdict

from messaging.attachments.models import Attachment

ATTACHMENT_COLUMNS = ("id", "message_id", "name", "size", "content_type", "width", "height")
ATTACHMENT_PATH = "/api/v1/attachments/{}/"


def attachment_body(row) -> dict:
    """`{id, name, size, content_type, url, width, height}` of a row (dict) or instance."""
    get = row.get if isinstance(row, dict) else row.__dict__.get
    return {
        "id": get("id"),
        "name": get("name"),
        "size": get("size"),
        "content_type": get("content_type"),
        "url": ATTACHMENT_PATH.format(get("id")),
        "width": get("width"),
        "height": get("height"),
    }


def attachments_by_message(message_ids: list[int]) -> dict[int, list[dict]]:
    """The attachment bodies of these messages, each list in send order: one query."""
    found: dict[int, list[dict]] = defaultdict(list)
    if not message_ids:
        return found
    rows = (
        Attachment.objects.filter(message_id__in=message_ids)
        .order_by("message_id", "position")
        .values(*ATTACHMENT_COLUMNS)
    )
    for row in rows:
        found[row["message_id"]].append(attachment_body(row))
    return found
