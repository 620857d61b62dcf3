"""Files for the attachment tests, made in memory, and an upload helper."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(fmt: str = "PNG", size=(800, 400), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    mode = "RGB" if fmt in ("JPEG",) else "RGBA"
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def upload(client, chat_id: int, data: bytes, name: str = "file.bin", **extra):
    part = SimpleUploadedFile(name, data, content_type="application/x-anything")
    return client.post(
        f"/api/v1/chats/{chat_id}/attachments/", {"file": part}, format="multipart", **extra
    )


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)
