"""OpenAPI schema and docs pages, served from drf-spectacular-sidecar's local files.

Nothing on these pages is fetched from another host: the sidecar ships Swagger UI and Redoc,
Swagger UI's online validator badge (a request to validator.swagger.io) is turned off, and
Redoc's page drops the stock template's Google Fonts links.
"""

from django.urls import path
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView


class OfflineSwaggerView(SpectacularSwaggerView):
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        ui_settings = spectacular_settings.SWAGGER_UI_SETTINGS
        if isinstance(ui_settings, dict):
            # validatorUrl null: no badge image from validator.swagger.io. persistAuthorization
            # keeps a pasted Bearer token across reloads of the page.
            ui_settings = {**ui_settings, "validatorUrl": None, "persistAuthorization": True}
            response.data["settings"] = self._dump(ui_settings)
        return response


class OfflineRedocView(SpectacularRedocView):
    template_name = "chitchat/redoc.html"


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", OfflineSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", OfflineRedocView.as_view(url_name="schema"), name="redoc"),
]
