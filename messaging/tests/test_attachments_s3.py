"""Attachments on an S3 bucket (django-storages), against moto's S3 server started here on a
free local port: uploads land in the bucket, downloads redirect to a signed URL valid for a
minute, and deleting the data deletes the objects."""

import socket
import urllib.parse
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from messaging.attachments.models import Attachment
from messaging.tests.attachment_files import image_bytes, upload

pytestmark = pytest.mark.django_db

BUCKET = "chitchat-test"
PNG = image_bytes("PNG", size=(640, 640))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(settings, s3_endpoint):
    credentials = {
        "endpoint_url": s3_endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "region_name": "us-east-1",
    }
    client = boto3.client("s3", **credentials)
    client.create_bucket(Bucket=BUCKET)
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_QUERYSTRING_AUTH = True
    settings.AWS_QUERYSTRING_EXPIRE = 60
    settings.AWS_S3_SIGNATURE_VERSION = "s3v4"
    settings.AWS_DEFAULT_ACL = None
    settings.AWS_S3_FILE_OVERWRITE = False
    settings.STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    yield client
    objects = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in objects:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def follow(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


def test_upload_lands_in_the_bucket_and_download_redirects_to_a_short_signed_url(
    bucket, client_for, group, alice, bob
):
    attachment = upload(client_for(bob), group.pk, PNG, name="caf\u00e9.png").json()
    row = Attachment.objects.get()
    assert keys(bucket) == {row.file.name, row.thumbnail.name}
    client = client_for(bob)
    assert (
        client.post(
            f"/api/v1/chats/{group.pk}/messages/", {"attachment_ids": [row.pk]}, format="json"
        ).status_code
        == 201
    )

    response = client_for(alice).get(attachment["url"])
    assert response.status_code == 302
    assert response["X-Content-Type-Options"] == "nosniff"
    location = response["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    assert 0 < int(query["X-Amz-Expires"][0]) <= 60
    assert query["response-content-type"] == ["image/png"]
    data, headers = follow(location)
    assert data == PNG
    assert headers["content-type"] == "image/png"
    assert headers["content-disposition"].startswith("inline;")

    thumbnail = client_for(alice).get(attachment["url"] + "thumbnail/")
    assert thumbnail.status_code == 302
    data, headers = follow(thumbnail["Location"])
    assert data.startswith(b"\x89PNG") and headers["content-type"] == "image/png"


def test_membership_is_checked_before_any_url_is_signed(bucket, client_for, group, bob, carol):
    attachment = upload(client_for(bob), group.pk, b"draft").json()
    assert client_for(carol).get(attachment["url"]).status_code == 404
    response = client_for(bob).get(attachment["url"])
    assert response.status_code == 302
    assert "attachment;" in urllib.parse.unquote(response["Location"])


def test_deleting_the_message_deletes_the_objects(
    bucket, client_for, group, bob, django_capture_on_commit_callbacks
):
    client = client_for(bob)
    attachment = upload(client, group.pk, PNG).json()
    message = client.post(
        f"/api/v1/chats/{group.pk}/messages/", {"attachment_ids": [attachment["id"]]}, format="json"
    ).json()
    assert len(keys(bucket)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/messages/{message['id']}/").status_code == 204
    assert keys(bucket) == set()
