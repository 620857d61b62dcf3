"""A database error no service expected is a logged 500, never a client error (409/400)."""

import logging

import pytest
from django.db import DataError, IntegrityError

from chats.tests.factories import group_chat
from messaging import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("error", [IntegrityError, DataError])
def test_unexpected_database_error_is_a_logged_500(client_for, user, monkeypatch, caplog, error):
    chat = group_chat(user)

    def broken(**kwargs):
        raise error("a constraint nobody expected")

    monkeypatch.setattr(services, "message_send", broken)
    client = client_for(user)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(f"/api/v1/chats/{chat.pk}/messages/", {"body": "hi"})

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert any(
        record.exc_info and isinstance(record.exc_info[1], error) for record in caplog.records
    )
