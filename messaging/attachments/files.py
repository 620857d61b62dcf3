"""What an uploaded file is (judged from its bytes), its image facts and thumbnail, and the
storage it lives in (Django's default storage: the file system or an S3 bucket)."""

import io
import logging
import uuid
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

# The only types served inline and given a size and a thumbnail: formats every browser
# renders as images and that cannot carry script (SVG is not one of them).
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
INLINE_TYPES = frozenset(IMAGE_TYPES.values())
THUMBNAIL_BOX = (320, 320)
HEAD_BYTES = 8192


class InvalidImage(ValueError):
    """Bytes that claim to be an image but do not decode safely."""


@dataclass
class Inspected:
    content_type: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None
    thumbnail_type: str | None = None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still text.
        return len(head) == HEAD_BYTES and error.start >= len(head) - 3
    return True


def inspect(file) -> Inspected:
    """Judge `file` (an open file at any position) from its bytes; images are decoded once
    here (size, thumbnail) under the pixel limit. Raises InvalidImage."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else None
    if mime in INLINE_TYPES:
        return _inspect_image(file, mime)
    if mime is None:
        mime = "text/plain" if head and _looks_like_text(head) else "application/octet-stream"
    return Inspected(content_type=mime)


def _inspect_image(file, mime: str) -> Inspected:
    limit = settings.ATTACHMENT_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: both refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, limit
            try:
                with Image.open(file) as image:
                    if IMAGE_TYPES.get(image.format) != mime:
                        raise InvalidImage("The file's bytes are not one image format.")
                    width, height = image.size
                    if width * height > limit:
                        raise InvalidImage("The image has too many pixels.")
                    image.draft("RGB", THUMBNAIL_BOX)  # JPEG: decode at a reduced scale
                    image.thumbnail(THUMBNAIL_BOX)
                    # Upright as viewers show it (a camera's EXIF orientation applied).
                    upright = ImageOps.exif_transpose(image)
                    thumbnail, thumbnail_type = _encode_thumbnail(upright, mime)
            finally:
                Image.MAX_IMAGE_PIXELS = previous
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImage("The image has too many pixels.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, InvalidImage):
            raise
        raise InvalidImage("The file is not a valid image.") from error
    finally:
        file.seek(0)
    return Inspected(mime, width, height, thumbnail, thumbnail_type)


def _encode_thumbnail(image: Image.Image, mime: str) -> tuple[bytes, str]:
    """JPEG stays JPEG; the others become PNG (first frame of an animation)."""
    out = io.BytesIO()
    if mime == "image/jpeg":
        image.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue(), "image/jpeg"
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        image = image.convert("RGBA")
    image.save(out, "PNG", optimize=True)
    return out.getvalue(), "image/png"


def thumbnail_content_type(name: str) -> str:
    return "image/jpeg" if name.endswith(".jpg") else "image/png"


def storage_name(chat_id: int, suffix: str = "") -> str:
    """A fresh name chosen by the server: the client's file name never reaches storage."""
    return f"attachments/{chat_id}/{uuid.uuid4().hex}{suffix}"


def thumbnail_suffix(content_type: str) -> str:
    return ".thumb.jpg" if content_type == "image/jpeg" else ".thumb.png"


def save_thumbnail(chat_id: int, data: bytes, content_type: str) -> str:
    name = storage_name(chat_id, thumbnail_suffix(content_type))
    return default_storage.save(name, ContentFile(data))


def delete_files(names: list[str]) -> None:
    """Remove stored files; a failure is logged, never raised (runs after a commit, when the
    rows are already gone: purge_attachments cannot find such files again, so log them)."""
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("could not delete attachment file %s", name)
