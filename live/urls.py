"""API routes of the live app, mounted under /api/v1/ by chitchat/urls.py."""

from django.urls import path

from live.views import EventsView

urlpatterns = [path("events/", EventsView.as_view(), name="events")]
