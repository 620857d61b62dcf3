"""/healthz and the error conventions that no app owns."""

import pytest


@pytest.mark.django_db
def test_healthz_ok(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_healthz_503_when_channel_layer_is_down(api_client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    from channels import layers

    layers.channel_layers.backends.clear()
    try:
        response = api_client.get("/healthz")
    finally:
        layers.channel_layers.backends.clear()
    assert response.status_code == 503
    assert response.json()["channel_layer"] == "unavailable"


@pytest.mark.django_db
def test_nul_in_query_string_is_400(user_client):
    response = user_client.get("/api/v1/users/?search=a%00b")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
