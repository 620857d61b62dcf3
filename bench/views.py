"""The bare ceiling endpoint: DRF with the project's authentication and nothing else."""

from rest_framework.response import Response
from rest_framework.views import APIView


class CeilingView(APIView):
    """GET -> {"ok": true}, through the project's default authentication, permission,
    throttle and renderer classes: the fastest any authenticated endpoint can be here."""

    def get(self, request):
        return Response({"ok": True})
