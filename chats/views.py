"""Chat endpoints: thin viewsets over chats.selectors (reads) and chats.services (writes)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.throttling import PasskeyAttempts
from chats import services
from chats.models import Chat
from chats.permissions import (
    ChangesOnlyChatText,
    IsChatAdmin,
    IsChatMember,
    IsChatOwner,
    IsGroupChat,
    IsPublicChat,
    IsStaff,
)
from chats.rows import chat_bodies, member_body, member_body_of
from chats.selectors import chat_members, chat_page_source, chat_row, chats_with_role
from chats.serializers import (
    ChatCreateSerializer,
    ChatSerializer,
    ChatUpdateSerializer,
    InviteSerializer,
    JoinSerializer,
    MembershipSerializer,
    PasskeySerializer,
    RoleSerializer,
    UserIdSerializer,
)
from chitchat.pagination import IdCursorPagination, KeysetCursorPagination

ID_REGEX = r"[0-9]+"
# Largest value of a 64-bit primary key: a larger number names nothing (404, never a 500).
MAX_ID = 2**63 - 1

ERRORS = {
    400: OpenApiResponse(description="Invalid input."),
    403: OpenApiResponse(description="Not allowed (code permission_denied)."),
    404: OpenApiResponse(description="No such chat, or one the caller may not see."),
}
FULL = {409: OpenApiResponse(description="The chat is full (code chat_full).")}

TRUE_VALUES = {"true", "1", "yes"}
FALSE_VALUES = {"false", "0", "no", ""}


class ChatCursorPagination(KeysetCursorPagination):
    """Newest first by id; the caller's own chats (`mine=true`) by latest activity (the page
    source, chats.selectors.chat_page_source, says which)."""


class MemberCursorPagination(IdCursorPagination):
    """Members in the order they joined."""

    ordering = "id"


def _id_or_404(value: str) -> int:
    if int(value) > MAX_ID:
        raise NotFound()
    return int(value)


def _user_or_400(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationError({"user_id": [f"Unknown user id: {user_id}."]})
    return user


@extend_schema_view(
    list=extend_schema(
        summary="Group chats visible to the caller and the caller's direct chats",
        parameters=[
            OpenApiParameter(
                "mine",
                OpenApiTypes.BOOL,
                description="Only the caller's chats, latest activity first.",
            ),
            OpenApiParameter("search", OpenApiTypes.STR, description="Name contains, any case."),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=["group", "direct"]),
        ],
        responses={200: ChatSerializer(many=True), 400: ERRORS[400]},
    ),
    retrieve=extend_schema(responses={200: ChatSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        request=ChatCreateSerializer, responses={201: ChatSerializer, 400: ERRORS[400]}
    ),
    partial_update=extend_schema(
        request=ChatUpdateSerializer, responses={200: ChatSerializer, **ERRORS}
    ),
    destroy=extend_schema(responses={204: None, 403: ERRORS[403], 404: ERRORS[404]}),
)
class ChatViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ChatSerializer
    pagination_class = ChatCursorPagination
    lookup_value_regex = ID_REGEX
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self):
        member_text_or_admin = IsChatMember & (ChangesOnlyChatText | IsChatAdmin)
        by_action = {
            "partial_update": [IsGroupChat, member_text_or_admin],
            "destroy": [IsChatOwner | IsStaff],
            "passkey": [IsChatMember],
            "leave": [IsGroupChat],
        }
        if self.action == "invite":
            extra = [IsGroupChat, IsChatAdmin if self.request.method == "POST" else IsChatMember]
        elif self.action == "members":
            extra = (
                [IsGroupChat, IsChatAdmin]
                if self.request.method == "POST"
                else [IsChatMember | IsPublicChat]
            )
        elif self.action == "member":
            extra = [IsGroupChat, IsChatOwner if self.request.method == "PATCH" else IsChatAdmin]
        else:
            extra = by_action.get(self.action, [])
        return [IsAuthenticated(), *(permission() for permission in extra)]

    def get_object(self):
        _id_or_404(self.kwargs["pk"])
        return super().get_object()

    def get_queryset(self):
        return chats_with_role(self.request.user)

    def list(self, request, *args, **kwargs):
        # One query for the page's rows, one per body extension (messaging's timeline).
        source = chat_page_source(
            user=request.user,
            mine=self.mine(),
            kind=self.kind(),
            search=request.query_params.get("search", "").strip(),
        )
        page = self.paginator.paginate_source(source, request)
        return self.get_paginated_response(chat_bodies(page, user=request.user))

    def retrieve(self, request, *args, **kwargs):
        row = chat_row(user=request.user, chat_id=_id_or_404(self.kwargs["pk"]))
        if row is None:
            raise NotFound()
        return Response(chat_bodies([row], user=request.user)[0])

    def kind(self) -> str | None:
        kind = self.request.query_params.get("kind") or None
        if kind is not None and kind not in Chat.Kind.values:
            raise ValidationError({"kind": [f"Must be one of {Chat.Kind.values}."]})
        return kind

    def mine(self) -> bool:
        value = self.request.query_params.get("mine", "").strip().lower()
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
        raise ValidationError({"mine": ["Must be true or false."]})

    def _chat_response(self, chat: Chat, status_code: int = status.HTTP_200_OK) -> Response:
        """The chat as the caller sees it now."""
        return Response(chat_body_for(self.request.user, chat.pk), status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = ChatCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chat = services.chat_create(creator=request.user, **serializer.validated_data)
        return self._chat_response(chat, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        chat = self.get_object()
        serializer = ChatUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        chat = services.chat_update(chat=chat, **serializer.validated_data)
        return self._chat_response(chat)

    def destroy(self, request, *args, **kwargs):
        services.chat_delete(chat=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: PasskeySerializer, 403: ERRORS[403], 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def passkey(self, request, pk=None):
        return Response({"passkey": self.get_object().passkey})

    @extend_schema(
        request=None, responses={200: InviteSerializer, 403: ERRORS[403], 404: ERRORS[404]}
    )
    @action(detail=True, methods=["get", "post"])
    def invite(self, request, pk=None):
        chat = self.get_object()
        if request.method == "POST":
            chat = services.invite_rotate(chat=chat)
        url = request.build_absolute_uri(reverse("invite-join", kwargs={"code": chat.invite_code}))
        return Response({"code": chat.invite_code, "url": url})

    @extend_schema(request=JoinSerializer, responses={200: ChatSerializer, **ERRORS, **FULL})
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        chat = self.get_object()
        serializer = JoinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Passkeys cannot be guessed without limit: 429 after a few wrong ones.
        attempts = PasskeyAttempts(user_id=request.user.pk, chat_id=chat.pk)
        if chat.passkey:
            attempts.attempt()
        chat, _ = services.chat_join(
            chat=chat, user=request.user, passkey=serializer.validated_data.get("passkey")
        )
        if chat.passkey:
            attempts.reset()
        return self._chat_response(chat)

    @extend_schema(request=None, responses={204: None, 403: ERRORS[403], 404: ERRORS[404]})
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        services.chat_leave(chat=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        responses={200: MembershipSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        request=UserIdSerializer,
        responses={200: MembershipSerializer, 201: MembershipSerializer, **ERRORS, **FULL},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=MemberCursorPagination,
        serializer_class=MembershipSerializer,
    )
    def members(self, request, pk=None):
        chat = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(chat_members(chat))
            return self.get_paginated_response([member_body(row) for row in page])
        serializer = UserIdSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _user_or_400(serializer.validated_data["user_id"])
        membership, created = services.member_add(chat=chat, user=user)
        membership.user = user
        return Response(
            member_body_of(membership),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        methods=["PATCH"], request=RoleSerializer, responses={200: MembershipSerializer, **ERRORS}
    )
    @extend_schema(
        methods=["DELETE"], request=None, responses={204: None, 403: ERRORS[403], 404: ERRORS[404]}
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=rf"members/(?P<user_id>{ID_REGEX})",
        serializer_class=MembershipSerializer,
    )
    def member(self, request, pk=None, user_id=None):
        chat = self.get_object()
        user = User.objects.filter(pk=_id_or_404(user_id)).first()
        if user is None:
            raise NotFound("That user is not a member of this chat.")
        if request.method == "DELETE":
            services.member_remove(chat=chat, user=user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = RoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.member_role_set(
            chat=chat, user=user, role=serializer.validated_data["role"]
        )
        membership.user = user
        return Response(member_body_of(membership))

    @extend_schema(
        request=UserIdSerializer,
        responses={
            200: ChatSerializer,
            201: ChatSerializer,
            400: ERRORS[400],
            404: OpenApiResponse(description="No such user."),
        },
    )
    @action(detail=False, methods=["post"])
    def direct(self, request):
        serializer = UserIdSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        other = User.objects.filter(pk=serializer.validated_data["user_id"]).first()
        if other is None:
            raise NotFound("No such user.")
        chat, created = services.direct_chat_get_or_create(user=request.user, other=other)
        return self._chat_response(chat, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class InviteJoinView(APIView):
    """POST invites/{code}/: join the chat behind an invite code, without its passkey."""

    serializer_class = ChatSerializer

    @extend_schema(
        request=None,
        responses={200: ChatSerializer, 404: OpenApiResponse(description="Unknown code."), **FULL},
    )
    def post(self, request, code: str):
        chat, _ = services.invite_join(code=code, user=request.user)
        return Response(chat_body_for(request.user, chat.pk))


def chat_body_for(user, chat_id: int) -> dict:
    """The body of a chat the caller can see (just written by them)."""
    return chat_bodies([chat_row(user=user, chat_id=chat_id)], user=user)[0]
