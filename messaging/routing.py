"""WebSocket routes: one endpoint, `/ws/?token=<access token>`."""

from django.urls import path

from messaging.consumers import LiveEventsConsumer

websocket_urlpatterns = [path("ws/", LiveEventsConsumer.as_asgi())]
