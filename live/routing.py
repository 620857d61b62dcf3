"""The WebSocket application: one endpoint, `/ws/?token=<access token>`, for a consumer class
(chitchat/asgi.py passes the one that knows the memberships, chats.consumers)."""

from channels.routing import URLRouter
from django.urls import path

from live.auth import JWTQueryAuthMiddleware


def websocket_application(consumer_class):
    return JWTQueryAuthMiddleware(URLRouter([path("ws/", consumer_class.as_asgi())]))
