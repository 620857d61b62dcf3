"""The project's routes plus `bench/ceiling/` (only under bench.settings)."""

from django.urls import path

from bench.views import CeilingView
from chitchat.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("bench/ceiling/", CeilingView.as_view(), name="bench-ceiling")]
urlpatterns += project_urlpatterns
