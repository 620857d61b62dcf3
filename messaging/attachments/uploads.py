"""The upload handler of attachments: straight to a temporary file, never whole in memory,
refused as soon as it is larger than ATTACHMENT_MAX_BYTES."""

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from rest_framework import status
from rest_framework.exceptions import APIException

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class FileTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is larger than the server accepts."
    default_code = "file_too_large"

    def __init__(self):
        limit = settings.ATTACHMENT_MAX_BYTES
        super().__init__(f"The file is larger than {limit} bytes.", self.default_code)


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Refuses a body whose Content-Length already says too large before reading it, and
    any file part once more than ATTACHMENT_MAX_BYTES of it has streamed in (a chunked or
    lying request)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD:
            raise FileTooLarge()
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.ATTACHMENT_MAX_BYTES:
            self.file.close()  # the temporary file goes at once
            raise FileTooLarge()
        return super().receive_data_chunk(raw_data, start)
