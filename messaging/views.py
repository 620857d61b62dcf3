"""Message endpoints: thin viewsets over messaging.selectors (reads) and messaging.services."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import User
from chats.models import Chat
from chats.permissions import IsChatAdmin, IsChatMember
from chats.rows import iso_datetime
from chats.selectors import chats_with_role
from chitchat.throttling import ScopedRateThrottle
from messaging import selectors, services
from messaging.models import Message
from messaging.pagination import MessageCursorPagination
from messaging.permissions import CanModerateMessage, IsMessageAuthor
from messaging.rows import latest_message_bodies, message_bodies, message_body_of, message_rows
from messaging.serializers import (
    ChatReportSerializer,
    LatestMessageSerializer,
    LikerSerializer,
    MarkReadSerializer,
    MessageBodySerializer,
    MessageListQuerySerializer,
    MessageSendSerializer,
    MessageSerializer,
    MessageVersionSerializer,
    ReactionAddSerializer,
    ReactionGroupSerializer,
    ReportCreateSerializer,
    ReportSerializer,
)

# Largest id a 64-bit primary key holds; longer digit strings are not ids (404, not a 500).
ID_REGEX = r"[0-9]{1,18}"

ERRORS = {
    400: OpenApiResponse(description="Invalid input."),
    403: OpenApiResponse(description="Not allowed (code permission_denied)."),
    404: OpenApiResponse(description="No such object, or one the caller may not see."),
    429: OpenApiResponse(description="Throttled; Retry-After says when to retry."),
}


def _id_param(name: str) -> OpenApiParameter:
    return OpenApiParameter(name, int, OpenApiParameter.PATH)


CHAT_ID, USER_ID, MESSAGE_ID = _id_param("chat_id"), _id_param("user_id"), _id_param("id")
REPLAYED = OpenApiResponse(MessageSerializer, description="client_id replay: the first message.")


class MessageSendThrottleMixin:
    """Sending is throttled per user under the `message` scope (THROTTLE_RATES)."""

    throttle_scope = "message"

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(ScopedRateThrottle())
        return throttles


@extend_schema_view(
    list=extend_schema(
        summary="A chat's messages",
        description="Newest first; with `after`, only newer messages, oldest first. Members only.",
        parameters=[CHAT_ID, MessageListQuerySerializer],
        responses={
            200: MessageSerializer(many=True),
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
        },
    ),
    create=extend_schema(
        summary="Send a message to a chat",
        parameters=[CHAT_ID],
        request=MessageSendSerializer,
        responses={201: MessageSerializer, 200: REPLAYED, **ERRORS},
    ),
)
class ChatMessageViewSet(MessageSendThrottleMixin, viewsets.GenericViewSet):
    """/chats/{chat_id}/messages/ and /chats/{chat_id}/read/, for the chat's members."""

    serializer_class = MessageSerializer
    pagination_class = MessageCursorPagination
    permission_classes = [IsAuthenticated, IsChatMember]
    queryset = Chat.objects.none()  # for the schema; real reads go through get_chat()

    def get_chat(self) -> Chat:
        """A chat the caller may know of (else 404) and is a member of (else 403)."""
        chat = get_object_or_404(chats_with_role(self.request.user), pk=self.kwargs["chat_id"])
        self.check_object_permissions(self.request, chat)
        return chat

    def list(self, request, chat_id: str):
        params = MessageListQuerySerializer(data=request.query_params)
        if not params.is_valid():
            self.get_chat()  # 404/403 before 400, as for every chat endpoint
            raise ValidationError(params.errors)
        after = params.validated_data.get("after")
        source = selectors.chat_page_source(
            chat_id=int(chat_id),
            user=request.user,
            after_id=after,
            search=params.validated_data.get("search"),
        )
        page = self.paginator.paginate_source(source, request, descending=after is None)
        if not page:
            # Members only see rows: an empty page is a member's empty page, or a 404/403.
            self.get_chat()
        return self.get_paginated_response(message_bodies(page, user_id=request.user.pk))

    def create(self, request, chat_id: str):
        serializer = MessageSendSerializer(data=request.data)
        if not serializer.is_valid():
            self.get_chat()  # a chat the caller may not see or post in: 404/403 before 400
            raise ValidationError(serializer.errors)
        # The service decides 404/403 under the chat's lock; only the id is needed here.
        chat = Chat(pk=int(chat_id))
        message, created = services.message_send(
            chat=chat, author=request.user, **serializer.validated_data
        )
        return _message_response(message, created=created)

    @extend_schema(
        summary="Mark the chat read up to a message",
        parameters=[CHAT_ID],
        request=MarkReadSerializer,
        responses={204: None, 400: ERRORS[400], 403: ERRORS[403], 404: ERRORS[404]},
    )
    def read(self, request, chat_id: str):
        chat = self.get_chat()
        data = _valid(MarkReadSerializer, request)
        services.chat_mark_read(chat=chat, user=request.user, message_id=data["message_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="A chat's pinned messages, most recently pinned first",
        description="Members only.",
        parameters=[CHAT_ID],
        responses={200: MessageSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    ),
)
class ChatPinViewSet(ChatMessageViewSet):
    """/chats/{chat_id}/pins/ (1.1), for the chat's members."""

    def list(self, request, chat_id: str):
        self.get_chat()
        source = selectors.chat_pins_source(chat_id=int(chat_id), user=request.user)
        page = self.paginator.paginate_source(source, request, descending=True)
        return self.get_paginated_response(message_bodies(page, user_id=request.user.pk))


@extend_schema_view(
    list=extend_schema(
        summary="A chat's open reports, oldest first, each with its message",
        description="The chat's owner or admins only.",
        parameters=[CHAT_ID],
        responses={200: ChatReportSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    ),
)
class ChatReportViewSet(ChatMessageViewSet):
    """/chats/{chat_id}/reports/ (1.1), for the chat's owner and admins."""

    serializer_class = ChatReportSerializer
    permission_classes = [IsAuthenticated, IsChatMember, IsChatAdmin]

    def list(self, request, chat_id: str):
        chat = self.get_chat()
        page = self.paginate_queryset(selectors.chat_open_reports(chat.pk))
        messages = message_rows(
            Message.objects.filter(pk__in=[row["message_id"] for row in page]),
            user_id=request.user.pk,
        )
        bodies = {body["id"]: body for body in message_bodies(messages, user_id=request.user.pk)}
        results = [{**report_body(row), "message": bodies.get(row["message_id"])} for row in page]
        return self.get_paginated_response(results)


@extend_schema_view(
    create=extend_schema(
        summary="Send a direct message to a user",
        parameters=[USER_ID],
        description="Into the direct chat with that user, created if needed.",
        request=MessageSendSerializer,
        responses={201: MessageSerializer, 200: REPLAYED, **ERRORS},
    ),
)
class DirectMessageViewSet(MessageSendThrottleMixin, viewsets.GenericViewSet):
    """/users/{user_id}/messages/: a message in the direct chat with that user."""

    serializer_class = MessageSendSerializer
    queryset = User.objects.none()  # for the schema

    def create(self, request, user_id: str):
        recipient = get_object_or_404(User, pk=user_id)
        data = _valid(MessageSendSerializer, request)
        message, created = services.direct_message_send(
            author=request.user, recipient=recipient, **data
        )
        return _message_response(message, created=created)


# Actions on one message open to the members of its chat (the service may narrow further).
MEMBER_ACTIONS = (
    "retrieve",
    "like",
    "likes",
    "reactions",
    "reaction",
    "replies",
    "pin",
    "history",
    "report",
)


@extend_schema_view(
    retrieve=extend_schema(
        summary="A message",
        parameters=[MESSAGE_ID],
        responses={200: MessageSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    ),
    partial_update=extend_schema(
        summary="Edit a message (its author only)",
        parameters=[MESSAGE_ID],
        request=MessageBodySerializer,
        responses={200: MessageSerializer, 400: ERRORS[400], 403: ERRORS[403], 404: ERRORS[404]},
    ),
    destroy=extend_schema(
        summary="Delete a message (its author, an owner or admin of the chat, or staff)",
        parameters=[MESSAGE_ID],
        responses={204: None, 403: ERRORS[403], 404: ERRORS[404]},
    ),
    like=extend_schema(
        summary="Like (POST) or unlike (DELETE) a message; both idempotent",
        parameters=[MESSAGE_ID],
        request=None,
        responses={200: MessageSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    ),
    likes=extend_schema(
        summary="Users who liked a message",
        parameters=[MESSAGE_ID],
        responses={200: LikerSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    ),
    mine=extend_schema(
        summary="Messages the caller sent, newest first (also in chats they left)",
        responses={200: MessageSerializer(many=True)},
    ),
    latest=extend_schema(
        summary="The newest message of each of the caller's chats, newest first",
        responses={200: LatestMessageSerializer(many=True)},
    ),
    inbox=extend_schema(
        summary="Messages others sent to the caller in direct chats, newest first",
        responses={200: MessageSerializer(many=True)},
    ),
    replies=extend_schema(
        summary="The messages that answer a message, oldest first",
        parameters=[MESSAGE_ID],
        responses={200: MessageSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    ),
    report=extend_schema(
        summary="Report a message (members; not one's own)",
        description="Reporting the same message again returns the first report with 200.",
        parameters=[MESSAGE_ID],
        request=ReportCreateSerializer,
        responses={
            201: ReportSerializer,
            200: OpenApiResponse(ReportSerializer, description="Reported before: that report."),
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
        },
    ),
    mentions=extend_schema(
        summary="Messages that mention the caller, newest first (chats they are still in)",
        responses={200: MessageSerializer(many=True)},
    ),
    history=extend_schema(
        summary="Earlier versions of a message's body, newest first (empty when never edited)",
        parameters=[MESSAGE_ID],
        responses={200: MessageVersionSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    ),
    pin=extend_schema(
        summary="Pin (POST) or unpin (DELETE) a message; both idempotent",
        description="An owner or admin of a group chat, either member of a direct chat.",
        parameters=[MESSAGE_ID],
        request=None,
        responses={
            200: MessageSerializer,
            403: ERRORS[403],
            404: ERRORS[404],
            409: OpenApiResponse(description="A 51st pin in the chat (code too_many_pins)."),
        },
    ),
    reaction=extend_schema(
        summary="Take back the caller's reaction with an emoji (percent-encoded)",
        description="Removing a reaction that is not there changes nothing.",
        parameters=[MESSAGE_ID, OpenApiParameter("emoji", str, OpenApiParameter.PATH)],
        request=None,
        responses={200: MessageSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    ),
)
class MessageViewSet(
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """/messages/{id}/ and the caller's message lists."""

    serializer_class = MessageSerializer
    pagination_class = MessageCursorPagination
    lookup_value_regex = ID_REGEX
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        if self.action == "mine":
            return selectors.messages_mine(user)
        if self.action == "inbox":
            return selectors.messages_inbox(user)
        if self.action == "mentions":
            return selectors.messages_mentioning(user)
        # Chats the caller may not know of are a 404 here; membership is a permission (403).
        return selectors.messages_visible_to(user)

    def get_serializer_class(self):
        if self.action == "report":
            return ReportCreateSerializer
        if self.action == "reactions":
            return ReactionAddSerializer
        if self.action == "latest":
            return LatestMessageSerializer
        if self.action == "likes":
            return LikerSerializer
        if self.action == "partial_update":
            return MessageBodySerializer
        return MessageSerializer

    def get_permissions(self):
        if self.action == "partial_update":
            extra = [IsMessageAuthor()]
        elif self.action == "destroy":
            extra = [(IsMessageAuthor | CanModerateMessage)()]
        elif self.action in MEMBER_ACTIONS:
            extra = [IsChatMember()]
        else:
            extra = []
        return [IsAuthenticated(), *extra]

    def retrieve(self, request, pk: str):
        message = self.get_object()
        return Response(_body(request, message, liked_by_me=message.liked_by_me))

    def partial_update(self, request, pk: str):
        message = self.get_object()
        data = _valid(MessageBodySerializer, request)
        message = services.message_edit(message=message, body=data["body"])
        return Response(_body(request, message, liked_by_me=message.liked_by_me))

    def perform_destroy(self, instance) -> None:
        services.message_delete(message=instance)

    @action(detail=True, methods=["post", "delete"])
    def like(self, request, pk: str):
        message = self.get_object()
        if request.method == "POST":
            message = services.message_like(message=message, user=request.user)
        else:
            message = services.message_unlike(message=message, user=request.user)
        liked = request.method == "POST"
        return Response(_body(request, message, liked_by_me=liked))

    @action(detail=True, methods=["get"])
    def likes(self, request, pk: str):
        message = self.get_object()
        page = self.paginate_queryset(selectors.message_likers(message))
        return self.get_paginated_response(LikerSerializer(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="A message's reactions by emoji, each with its first 100 users",
        parameters=[MESSAGE_ID],
        responses={200: ReactionGroupSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="React to a message with one emoji (again changes nothing)",
        parameters=[MESSAGE_ID],
        request=ReactionAddSerializer,
        responses={
            200: MessageSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: OpenApiResponse(description="A 21st emoji (code too_many_reactions)."),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def reactions(self, request, pk: str):
        message = self.get_object()
        if request.method == "GET":
            source = selectors.message_reaction_groups_source(message)
            page = self.paginator.paginate_source(source, request, descending=False)
            # The id (the emoji's first reaction) is only the cursor's position.
            groups = [{key: row[key] for key in ("emoji", "count", "users")} for row in page]
            return self.get_paginated_response(groups)
        data = _valid(ReactionAddSerializer, request)
        message = services.message_react(message=message, user=request.user, emoji=data["emoji"])
        return Response(_body(request, message, liked_by_me=message.liked_by_me))

    @action(detail=True, methods=["delete"], url_path=r"reactions/(?P<emoji>[^/]+)")
    def reaction(self, request, pk: str, emoji: str):
        message = self.get_object()
        message = services.message_unreact(message=message, user=request.user, emoji=emoji)
        return Response(_body(request, message, liked_by_me=message.liked_by_me))

    @action(detail=True, methods=["post", "delete"])
    def pin(self, request, pk: str):
        message = self.get_object()
        if request.method == "POST":
            message = services.message_pin(message=message, user=request.user)
        else:
            message = services.message_unpin(message=message, user=request.user)
        return Response(_body(request, message, liked_by_me=message.liked_by_me))

    @action(detail=True, methods=["post"])
    def report(self, request, pk: str):
        message = self.get_object()
        data = _valid(ReportCreateSerializer, request)
        report, created = services.message_report(message=message, user=request.user, **data)
        row = {column: getattr(report, column) for column in selectors.REPORT_COLUMNS}
        return Response(
            report_body(row), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @action(detail=True, methods=["get"])
    def history(self, request, pk: str):
        message = self.get_object()
        page = self.paginate_queryset(selectors.message_history(message))
        versions = [
            {"body": row["body"], "replaced_at": iso_datetime(row["replaced_at"])} for row in page
        ]
        return self.get_paginated_response(versions)

    @action(detail=True, methods=["get"])
    def replies(self, request, pk: str):
        message = self.get_object()
        page = self.paginate_queryset(selectors.message_replies(message, request.user))
        return self.get_paginated_response(message_bodies(page, user_id=request.user.pk))

    @action(detail=False, methods=["get"])
    def mine(self, request):
        return self._page()

    @action(detail=False, methods=["get"])
    def latest(self, request):
        source = selectors.messages_latest_source(request.user)
        page = self.paginator.paginate_source(source, request, descending=True)
        return self.get_paginated_response(latest_message_bodies(page, user_id=request.user.pk))

    @action(detail=False, methods=["get"])
    def inbox(self, request):
        return self._page()

    @action(detail=False, methods=["get"])
    def mentions(self, request):
        return self._page()

    def _page(self) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(message_bodies(page, user_id=self.request.user.pk))


def report_body(row: dict) -> dict:
    """A report's body from a selectors.REPORT_COLUMNS row."""
    return {**row, "created_at": iso_datetime(row["created_at"])}


def _body(request, message, *, liked_by_me: bool) -> dict:
    return message_body_of(message, user_id=request.user.pk, liked_by_me=liked_by_me)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _message_response(message, *, created: bool) -> Response:
    liked = False
    if not created:
        # A replay returns the stored message as a read would show it to its author.
        liked = message.likes.filter(user_id=message.author_id).exists()
    return Response(
        message_body_of(message, user_id=message.author_id, liked_by_me=liked),
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )
