"""The ceiling endpoint, served by the bare settings and by the project's stack."""

from rest_framework.response import Response
from rest_framework.views import APIView


class CeilingView(APIView):
    """GET -> {"ok": true}, through the default authentication, permission, throttle and
    renderer classes of the settings in use: under bench.bare_settings the bare ceiling
    (stateless JWT, nothing else), under bench.settings the project's whole stack."""

    def get(self, request):
        return Response({"ok": True})
