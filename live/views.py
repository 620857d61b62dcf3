"""GET /api/v1/events/?since=<pos>&limit=N: the caller's stored events after a position."""

import orjson
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from live import log


class ResyncRequired(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = (
        "Events after this position are no longer kept: reload over REST, then start from "
        "the pos GET /api/v1/events/ returns."
    )
    default_code = "resync_required"


class EventsQuerySerializer(serializers.Serializer):
    since = serializers.CharField(
        required=False,
        max_length=64,
        trim_whitespace=False,
        help_text="A `pos` this server gave (opaque). Omit it to get the current position.",
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=log.MAX_LIMIT, default=log.DEFAULT_LIMIT
    )

    def to_internal_value(self, data):
        # A parameter given empty is a client that lost its position: 400, not "absent".
        errors = {
            name: ["This field may not be blank."]
            for name in ("since", "limit")
            if name in data and data[name] == ""
        }
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate_since(self, value: str) -> tuple[int, int]:
        try:
            return log.parse_pos(value)
        except log.InvalidPosition:
            raise serializers.ValidationError("Not a position this server gave.") from None


class EventFrameSerializer(serializers.Serializer):
    """A live-event frame as the sockets deliver it, with its position."""

    type = serializers.CharField()
    chat_id = serializers.IntegerField()
    data = serializers.DictField()
    pos = serializers.CharField(help_text="Opaque; store it and send it back as `since`.")


class EventsPageSerializer(serializers.Serializer):
    events = EventFrameSerializer(many=True)
    pos = serializers.CharField(help_text="The last event's pos, or `since` (the current one).")
    has_more = serializers.BooleanField()


EXAMPLE_PAGE = {
    "events": [
        {
            "type": "message.updated",
            "chat_id": 7,
            "data": {"id": 311, "chat_id": 7, "body": "fixed the typo", "...": "..."},
            "pos": "88213_1544",
        },
        {
            "type": "chat.read",
            "chat_id": 7,
            "data": {"message_id": 311, "unread_count": 0, "mention_count": 0},
            "pos": "88219_1547",
        },
    ],
    "pos": "88219_1547",
    "has_more": False,
}


class EventsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="events_list",
        summary="Events missed since a position (resumable sync)",
        description=(
            "The caller's events after `since`, oldest first: the same frames (and `pos`) "
            "the sockets delivered. Keep reading while `has_more`. Without `since`: no "
            "events and the current position, to start from after a (re)load over REST."
        ),
        parameters=[EventsQuerySerializer],
        responses={
            200: EventsPageSerializer,
            400: OpenApiResponse(description="A malformed `since`, or `limit` out of 1 to 1000."),
            401: OpenApiResponse(description="Not authenticated."),
            410: OpenApiResponse(
                description="`since` is older than EVENT_RETENTION_DAYS (code "
                "resync_required): reload over REST, then start again without `since`."
            ),
        },
        examples=[
            OpenApiExample("A page of events", value=EXAMPLE_PAGE, response_only=True),
            OpenApiExample(
                "Without since",
                value={"events": [], "pos": "88219_1547", "has_more": False},
                response_only=True,
            ),
            OpenApiExample(
                "Too old",
                value={"detail": ResyncRequired.default_detail, "code": "resync_required"},
                response_only=True,
                status_codes=["410"],
            ),
        ],
    )
    def get(self, request):
        query = EventsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data.get("since")
        if since is None:
            return Response({"events": [], "pos": log.current_position(), "has_more": False})
        try:
            frames, has_more = log.events_after(
                user_id=request.user.pk, since=since, limit=query.validated_data["limit"]
            )
        except log.PositionTooOld:
            raise ResyncRequired() from None
        pos = log.format_pos(log.last_position(frames, since))
        events = [orjson.loads(frame) for frame in frames]
        return Response({"events": events, "pos": pos, "has_more": has_more})
