"""Authentication classes of the API."""

from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication


class JWTAuthentication(SimpleJWTAuthentication):
    """Bearer access tokens (simplejwt). The one place to change how a token finds its user."""
