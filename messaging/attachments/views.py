"""Attachment endpoints: upload to a chat, download and thumbnail (membership checked on
every request; the bytes come from storage, or a signed S3 URL valid for a minute)."""

from urllib.parse import quote

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from chats.models import Chat
from chats.permissions import IsChatMember
from chats.selectors import chats_with_role
from messaging.attachments import files, services
from messaging.attachments.models import Attachment
from messaging.attachments.rows import attachment_body
from messaging.attachments.selectors import attachment_for_download
from messaging.attachments.serializers import AttachmentSerializer, AttachmentUploadSerializer
from messaging.attachments.uploads import LimitedTemporaryFileUploadHandler

# Served files never run as a page of this origin, whatever they contain.
FILE_CSP = "default-src 'none'; sandbox"
SIGNED_URL_SECONDS = 60
CHAT_ID = OpenApiParameter("chat_id", int, OpenApiParameter.PATH)
ATTACHMENT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)

ERRORS = {
    400: OpenApiResponse(description="Invalid input."),
    403: OpenApiResponse(description="Not a member of the chat (code permission_denied)."),
    404: OpenApiResponse(description="No such object, or one the caller may not see."),
}
FILE = OpenApiResponse(
    OpenApiTypes.BINARY,
    description="The file's bytes (or a 302 to a signed URL valid for a minute, with S3).",
)


class ChatAttachmentViewSet(viewsets.GenericViewSet):
    """/chats/{chat_id}/attachments/: upload a file to a chat (members only)."""

    parser_classes = [MultiPartParser]
    permission_classes = [IsAuthenticated, IsChatMember]
    serializer_class = AttachmentUploadSerializer
    queryset = Chat.objects.none()  # for the schema

    @extend_schema(
        summary="Upload a file to a chat",
        description="`multipart/form-data` with one part `file`. The content type is judged "
        "from the bytes. Larger than ATTACHMENT_MAX_BYTES: 413 (code `file_too_large`).",
        parameters=[CHAT_ID],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer,
            413: OpenApiResponse(description="File too large (code `file_too_large`)."),
            **ERRORS,
        },
    )
    def create(self, request, chat_id: str):
        # Membership first, before a byte of the body is read.
        chat = get_object_or_404(chats_with_role(request.user), pk=chat_id)
        self.check_object_permissions(request, chat)
        request._request.upload_handlers = [LimitedTemporaryFileUploadHandler(request._request)]
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if len(request.FILES.getlist("file")) != 1:
            raise ValidationError({"file": ["Send exactly one file."]})
        attachment = services.attachment_upload(
            chat_id=chat.pk, uploader=request.user, upload=serializer.validated_data["file"]
        )
        return Response(attachment_body(attachment), status=status.HTTP_201_CREATED)


class AttachmentViewSet(viewsets.GenericViewSet):
    """/attachments/{id}/ and /attachments/{id}/thumbnail/."""

    permission_classes = [IsAuthenticated]
    queryset = Attachment.objects.none()  # for the schema; reads: attachment_for_download
    lookup_value_regex = r"[0-9]{1,18}"

    def perform_content_negotiation(self, request, force=False):
        # The body is the file, whatever the client accepts; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download an attachment",
        parameters=[ATTACHMENT_ID],
        responses={(200, "*/*"): FILE, **ERRORS},
    )
    def retrieve(self, request, pk: str):
        attachment = attachment_for_download(user=request.user, pk=int(pk))
        return _file_response(
            attachment.file.name,
            content_type=attachment.content_type,
            size=attachment.size,
            name=attachment.name,
        )

    @extend_schema(
        summary="An image attachment scaled to fit 320x320 (images only)",
        parameters=[ATTACHMENT_ID],
        responses={(200, "*/*"): FILE, **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def thumbnail(self, request, pk: str):
        attachment = attachment_for_download(user=request.user, pk=int(pk))
        if not attachment.thumbnail:
            raise NotFound("Only images have a thumbnail.")
        content_type = files.thumbnail_content_type(attachment.thumbnail.name)
        return _file_response(
            attachment.thumbnail.name, content_type=content_type, size=None, name=attachment.name
        )


def _disposition(name: str, content_type: str) -> str:
    kind = "inline" if content_type in files.INLINE_TYPES else "attachment"
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _file_response(stored: str, *, content_type: str, size: int | None, name: str):
    disposition = _disposition(name, content_type)
    if _signs_urls(default_storage):
        url = default_storage.url(
            stored,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            expire=SIGNED_URL_SECONDS,
        )
        response = HttpResponseRedirect(url)
    else:
        try:
            handle = default_storage.open(stored, "rb")
        except FileNotFoundError as error:
            raise NotFound("The file is gone.") from error
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(size if size is not None else handle.size)
        response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, no-cache"
    return response


def _signs_urls(storage) -> bool:
    """An S3 bucket (django-storages): the client fetches the bytes from it directly."""
    return hasattr(storage, "bucket_name") and getattr(storage, "querystring_auth", False)
