"""Attachments under concurrency on PostgreSQL (real threads and connections): an upload is
attached to one message at most, and the purge never deletes one a send has claimed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from chitchat.testing import raised, run_concurrently
from messaging.attachments.models import Attachment
from messaging.attachments.services import attachments_purge
from messaging.models import Message
from messaging.tests.attachment_files import upload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_one_upload_sent_six_times_at_once_is_attached_once(client_for):
    owner = UserFactory()
    chat = group_chat(owner)
    client = client_for(owner)
    attachment = upload(client, chat.pk, b"once").json()
    clients = [client_for(owner) for _ in range(6)]
    statuses: list[int] = []

    def send(client):
        def run():
            response = client.post(
                f"/api/v1/chats/{chat.pk}/messages/",
                {"body": "mine", "attachment_ids": [attachment["id"]]},
                format="json",
            )
            statuses.append(response.status_code)

        return run

    assert raised(run_concurrently([send(c) for c in clients])) == []
    assert sorted(statuses) == [201] + [400] * 5
    message = Message.objects.get()
    assert Attachment.objects.get().message_id == message.pk


def test_purge_and_sends_at_once_never_lose_a_claimed_upload(client_for):
    owner = UserFactory()
    chat = group_chat(owner)
    client = client_for(owner)
    ids = [upload(client, chat.pk, b"%d" % i).json()["id"] for i in range(8)]
    old = timezone.now() - timedelta(days=2)
    Attachment.objects.filter(pk__in=ids).update(created_at=old)
    statuses: dict[int, int] = {}

    def send(pk):
        def run():
            response = client_for(owner).post(
                f"/api/v1/chats/{chat.pk}/messages/",
                {"body": "hi", "attachment_ids": [pk]},
                format="json",
            )
            statuses[pk] = response.status_code

        return run

    def purge():
        attachments_purge(batch=1)

    assert raised(run_concurrently([send(pk) for pk in ids] + [purge])) == []
    claimed = {pk for pk, status in statuses.items() if status == 201}
    refused = {pk for pk, status in statuses.items() if status == 400}
    assert claimed | refused == set(ids)
    # Every send that succeeded kept its upload; every upload left is a claimed one.
    remaining = dict(Attachment.objects.values_list("pk", "message_id"))
    assert set(remaining) == claimed
    assert all(message_id is not None for message_id in remaining.values())
    assert Message.objects.count() == len(claimed)
