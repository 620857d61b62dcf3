"""The schema of attachment bodies (built by messaging.attachments.rows.attachment_body) and
the upload's input."""

from rest_framework import serializers


class AttachmentSerializer(serializers.Serializer):
    """The contract's attachment (schema only)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    content_type = serializers.CharField(read_only=True, help_text="Judged from the bytes.")
    url = serializers.CharField(read_only=True, help_text="The download path.")
    width = serializers.IntegerField(read_only=True, allow_null=True)
    height = serializers.IntegerField(read_only=True, allow_null=True)


class AttachmentUploadSerializer(serializers.Serializer):
    """`multipart/form-data` with one part `file`."""

    file = serializers.FileField(allow_empty_file=False, use_url=False)
