"""Accounts endpoints: registration, tokens, passwords, and users (list, detail, me)."""

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import selectors, services
from accounts.authentication import credentials_authenticate
from accounts.models import User
from accounts.permissions import CanSeeFullProfile
from accounts.serializers import (
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    PasswordSerializer,
    RefreshTokenSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    TokenObtainResponseSerializer,
    TokenObtainSerializer,
    TokenPairSerializer,
    UserFullSerializer,
    UserPublicSerializer,
    UserUpdateSerializer,
)
from accounts.throttling import LoginLockout, RegisterRateThrottle
from chitchat.pagination import IdCursorPagination

ERROR = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description='`{"detail": "...", "code": "..."}`',
)
VALIDATION_ERROR = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description='`{"field": ["message", ...]}`'
)


class DeleteWithBodyAutoSchema(AutoSchema):
    """OpenAPI for DELETE users/me/, whose body carries the password that confirms it.

    drf-spectacular documents bodies only for POST/PUT/PATCH; this lets the declared request
    serializer of a DELETE show up too.
    """

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        # The @extend_schema(methods=["DELETE"], request=...) choice is resolved while the
        # method is still DELETE, then the body is built as for a POST.
        serializer = self.get_request_serializer()
        self.method = "POST"
        self.get_request_serializer = lambda: serializer
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
            del self.get_request_serializer


class UserCursorPagination(IdCursorPagination):
    """Users in the order they joined."""

    ordering = "id"


class PublicAuthView(APIView):
    """An endpoint whose credential is in the body: no session/JWT authentication runs.

    401 answers still carry a `WWW-Authenticate: Bearer` header (DRF would otherwise turn
    a 401 without an authenticator into a 403).
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


def _token_pair(user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class RegisterView(PublicAuthView):
    def get_throttles(self):
        return [*super().get_throttles(), RegisterRateThrottle()]

    @extend_schema(
        operation_id="auth_register",
        request=RegisterSerializer,
        responses={201: RegisterResponseSerializer, 400: VALIDATION_ERROR, 429: ERROR},
        tags=["auth"],
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(
            {"user": UserFullSerializer(user).data, **_token_pair(user)},
            status=status.HTTP_201_CREATED,
        )


class TokenObtainView(PublicAuthView):
    @extend_schema(
        operation_id="auth_token",
        request=TokenObtainSerializer,
        responses={
            200: TokenObtainResponseSerializer,
            400: VALIDATION_ERROR,
            401: ERROR,
            429: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Too many failed logins for this username/email (Retry-After).",
            ),
        },
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lockout = LoginLockout(data.get("username") or data["email"])
        lockout.attempt()
        user = credentials_authenticate(
            request,
            username=data.get("username"),
            email=data.get("email"),
            password=data["password"],
        )
        if user is None:
            raise AuthenticationFailed(
                "No active account found with the given credentials.", code="bad_credentials"
            )
        lockout.reset()
        lifetime = jwt_settings.ACCESS_TOKEN_LIFETIME
        return Response(
            {
                **_token_pair(user),
                "token_type": "Bearer",
                "expires_in": int(lifetime.total_seconds()),
            }
        )


class ChitChatTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt's rotation and blacklisting; a token of a deleted user is a 401, not a 500."""

    def validate(self, attrs):
        token = self.token_class(attrs["refresh"])
        # Lock the token's row (the view runs this in a transaction) so that two concurrent
        # refreshes of one token cannot both pass the blacklist check and both rotate it.
        OutstandingToken.objects.select_for_update().filter(
            jti=token[jwt_settings.JTI_CLAIM]
        ).first()
        try:
            return super().validate(attrs)
        except User.DoesNotExist:
            raise AuthenticationFailed(
                "No active account found for the given token.", code="no_active_account"
            ) from None


def _invalid_token(exc: TokenError) -> InvalidToken:
    return InvalidToken({"detail": str(exc.args[0]), "code": "token_not_valid"})


class TokenRefreshView(PublicAuthView):
    @extend_schema(
        operation_id="auth_token_refresh",
        request=RefreshTokenSerializer,
        responses={200: TokenPairSerializer, 400: VALIDATION_ERROR, 401: ERROR},
        tags=["auth"],
    )
    def post(self, request):
        serializer = ChitChatTokenRefreshSerializer(data=request.data)
        try:
            # One transaction: the blacklist entry of the old token and the new outstanding
            # token are written together.
            with transaction.atomic():
                serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise _invalid_token(exc) from None
        return Response(serializer.validated_data)


class LogoutView(PublicAuthView):
    @extend_schema(
        operation_id="auth_logout",
        request=RefreshTokenSerializer,
        responses={204: None, 400: VALIDATION_ERROR, 401: ERROR},
        tags=["auth"],
    )
    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise _invalid_token(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="auth_password_change",
        request=PasswordChangeSerializer,
        responses={204: None, 400: VALIDATION_ERROR, 401: ERROR},
        tags=["auth"],
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_password_set(
            user=request.user, password=serializer.validated_data["new_password"]
        )
        # A browsable-API session stays signed in; every refresh token is revoked. (A plain
        # API request has no session: chitchat.api_middleware.)
        if hasattr(request._request, "session"):
            update_session_auth_hash(request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicAuthView):
    @extend_schema(
        operation_id="auth_password_reset",
        request=PasswordResetSerializer,
        responses={204: None, 400: VALIDATION_ERROR},
        tags=["auth"],
    )
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetConfirmView(PublicAuthView):
    @extend_schema(
        operation_id="auth_password_reset_confirm",
        request=PasswordResetConfirmSerializer,
        responses={204: None, 400: VALIDATION_ERROR},
        tags=["auth"],
    )
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.user_password_reset_confirm(
            user_id=data["user_id"], token=data["token"], password=data["new_password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                str,
                description="Case-insensitive substring of username, first or last name "
                "(`%` and `_` are literal).",
            )
        ],
        responses={200: UserPublicSerializer(many=True), 401: ERROR},
    ),
    retrieve=extend_schema(
        responses={
            200: OpenApiResponse(
                # Either view (both are components: /users/me/ and /users/ use them).
                response={
                    "anyOf": [
                        {"$ref": "#/components/schemas/UserFull"},
                        {"$ref": "#/components/schemas/UserPublic"},
                    ]
                },
                description="Full view; the public view (id, username, bio, is_private) "
                "when the user is private and not the caller.",
            ),
            401: ERROR,
            404: ERROR,
        },
    ),
)
@extend_schema(tags=["users"])
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Users: list and search (public views), detail (full or public view), and `me`."""

    serializer_class = UserPublicSerializer
    lookup_value_regex = r"[0-9]+"
    pagination_class = UserCursorPagination

    def get_queryset(self):
        search = self.request.query_params.get("search") if self.action == "list" else None
        return selectors.users_visible(search=search)

    def retrieve(self, request, *args, **kwargs):
        user = self.get_object()
        full = CanSeeFullProfile().has_object_permission(request, self, user)
        serializer_class = UserFullSerializer if full else UserPublicSerializer
        return Response(serializer_class(user).data)

    @extend_schema(methods=["GET"], responses={200: UserFullSerializer, 401: ERROR})
    @extend_schema(
        methods=["PATCH"],
        request=UserUpdateSerializer,
        responses={200: UserFullSerializer, 400: VALIDATION_ERROR, 401: ERROR},
    )
    @extend_schema(
        methods=["DELETE"],
        request=PasswordSerializer,
        responses={204: None, 400: VALIDATION_ERROR, 401: ERROR},
        description="Delete the caller's account; the current password in the body confirms it.",
    )
    @action(
        detail=False,
        methods=["get", "patch", "delete"],
        url_path="me",
        schema=DeleteWithBodyAutoSchema(),
    )
    def me(self, request):
        user = request.user
        if request.method == "GET":
            return Response(UserFullSerializer(user).data)
        if request.method == "PATCH":
            serializer = UserUpdateSerializer(user, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            services.user_update(user=user, **serializer.validated_data)
            return Response(UserFullSerializer(user).data)
        serializer = PasswordSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_delete(user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)
