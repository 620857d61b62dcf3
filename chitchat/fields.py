"""Strict input fields: a string field takes strings only (contract 1.1).

DRF's CharField turns numbers into strings (`{"body": 42}` stores "42"). Every string input
of the API uses StrictCharField instead, declared directly or through ModelSerializer's
field mapping (StrictModelSerializer), so a number, boolean, list or object where a string
is expected is a 400 on that field.
"""

import unicodedata

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    default_error_messages = {"invalid": "Enter a valid email address."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text model fields become strict string fields."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
    }


# Characters that render as nothing although Unicode does not call them spaces.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u180e")


def is_blank_text(value: str) -> bool:
    """True when `value` shows nothing: only whitespace, control and format characters
    (zero-width space, joiners, BOM, bidi marks, ...) and fillers such as U+3164."""
    return all(
        ch.isspace() or ch in _INVISIBLE_LETTERS or unicodedata.category(ch) in ("Cc", "Cf")
        for ch in value
    )
