"""OpenAPI post-processing: the error responses every operation can give, documented once,
and an example for each main component (what Swagger UI and Redoc show).

Views document the errors that are theirs (403 not a member, 409 chat full, ...). What
follows from the conventions of the contract is added here for every operation, so the
schema is complete and uniform: 401 where a token is required, 400/413/415 where there is a
request body, 404 where the path names an object, 429 everywhere (throttles). An error
response a view documented without a body gets the contract's error body.
"""

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"
METHODS = {"get", "put", "post", "patch", "delete"}
ANY_OBJECT = {"type": "object", "additionalProperties": {}}

ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every error but validation: `{"detail": "message", "code": "machine_code"}`.',
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "example": "not_found"},
    },
    "required": ["detail", "code"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Invalid fields: `{field: [messages]}` (`non_field_errors` for cross-field rules); "
        'a body that is not JSON gives `{"detail", "code": "parse_error"}`.'
    ),
    "additionalProperties": {},
    "example": {"name": ["This field is required."]},
}

STANDARD = {
    "400": "Malformed JSON, or missing or invalid fields.",
    "401": "No token, or an invalid or expired token (code `not_authenticated` or "
    "`token_not_valid`).",
    "404": "No such object, or one the caller may not see, or an invalid cursor "
    "(code `not_found`).",
    "413": "Request body too large (code `request_too_large`).",
    "415": "Request body is not JSON (code `unsupported_media_type`).",
    "429": "Throttled (code `throttled`); the `Retry-After` header says when to retry.",
}


# Component examples; chitchat/tests/test_schema.py validates each against its component, so
# a serializer change that makes one wrong fails a test.
_WHEN = "2026-11-21T20:41:07.123456Z"
_ADA = {"id": 7, "username": "ada"}
_MESSAGE = {
    "id": 1042,
    "chat_id": 12,
    "author": _ADA,
    "body": "Hello, world",
    "created_at": _WHEN,
    "edited_at": None,
    "like_count": 2,
    "liked_by_me": True,
    "client_id": "c-5f2b1",
    "attachments": [
        {
            "id": 31,
            "name": "engine.png",
            "size": 48213,
            "content_type": "image/png",
            "url": "/api/v1/attachments/31/",
            "width": 640,
            "height": 480,
        }
    ],
    "reply_to": {"id": 1040, "author": {"id": 9, "username": "charles"}, "body": "Ready?"},
    "reply_count": 0,
    "reactions": [{"emoji": "👍", "count": 2, "me": True}],
    "pinned": False,
    "mentions": [{"id": 9, "username": "charles"}],
}
_USER_FULL = {
    **_ADA,
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "bio": "Engines and poetry.",
    "location": "London",
    "birth_date": "1815-12-10",
    "is_private": False,
    "date_joined": _WHEN,
}
_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiNyJ9.c2lnbmF0dXJl"
EXAMPLES = {
    "UserRef": _ADA,
    "Liker": _ADA,
    "UserPublic": {**_ADA, "bio": "Engines and poetry.", "is_private": True},
    "UserFull": _USER_FULL,
    "Message": _MESSAGE,
    "Attachment": _MESSAGE["attachments"][0],
    "LatestMessage": {**_MESSAGE, "chat": {"id": 12, "name": "Engines"}},
    "ChatRef": {"id": 12, "name": "Engines"},
    "Chat": {
        "id": 12,
        "name": "Engines",
        "description": "Analytical ones.",
        "kind": "group",
        "is_private": False,
        "capacity": None,
        "member_count": 3,
        "message_count": 1042,
        "created_by": _ADA,
        "created_at": _WHEN,
        "is_member": True,
        "role": "owner",
        "last_message": _MESSAGE,
        "unread_count": 0,
        "mention_count": 0,
    },
    "Membership": {"user": {"id": 8, "username": "charles"}, "role": "admin", "joined_at": _WHEN},
    "Passkey": {"passkey": "sesame"},
    "TokenObtainResponse": {
        "access": _TOKEN,
        "refresh": _TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
    },
    "TokenPair": {"access": _TOKEN, "refresh": _TOKEN},
    "RegisterResponse": {"user": _USER_FULL, "access": _TOKEN, "refresh": _TOKEN},
    # Requests (never the demo user's password: the fuzzer sends these examples).
    "RegisterRequest": {
        "username": "ada",
        "email": "ada@example.com",
        "password": "analytical-engine-1843",
    },
    "TokenObtainRequest": {"username": "ada", "password": "analytical-engine-1843"},
    "RefreshTokenRequest": {"refresh": _TOKEN},
    "ChatCreateRequest": {"name": "Engines", "description": "Analytical ones.", "member_ids": [8]},
    "PatchedChatUpdateRequest": {"name": "Engines & co", "capacity": 50},
    "JoinRequest": {"passkey": "sesame"},
    "UserIdRequest": {"user_id": 8},
    "MarkReadRequest": {"message_id": 1042},
    "MessageSendRequest": {"body": "Hello, world", "client_id": "c-5f2b1", "attachment_ids": [31]},
    "ReactionAddRequest": {"emoji": "👍🏽"},
    "ReportCreateRequest": {"reason": "spam", "note": "Advertises a shop."},
    "PatchedMessageBodyRequest": {"body": "Hello again, world"},
    "PatchedRoleRequest": {"role": "admin"},
    "PasswordResetRequest": {"email": "ada@example.com"},
    "Error": {
        "detail": "You do not have permission to perform this action.",
        "code": "permission_denied",
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_response(code: str, description: str) -> dict:
    schema = _ref(VALIDATION_ERROR if code == "400" else ERROR)
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if code == "429":
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        }
    return response


def _needs_token(operation: dict, result: dict) -> bool:
    security = operation.get("security", result.get("security", []))
    return bool(security) and {} not in security


def document_error_responses(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry: see the module docstring."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR, dict(ERROR_SCHEMA))
    schemas.setdefault(VALIDATION_ERROR, dict(VALIDATION_ERROR_SCHEMA))
    for name, example in EXAMPLES.items():
        if name in schemas and "example" not in schemas[name]:
            schemas[name]["example"] = example

    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            codes = ["429"]
            if _needs_token(operation, result):
                codes.append("401")
            if "requestBody" in operation:
                codes += ["400", "413", "415"]
            query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            if query and "requestBody" not in operation:
                codes.append("400")
            # An unknown object in the path, or a cursor that does not decode.
            if "{" in path or "cursor" in query:
                codes.append("404")
            for code in codes:
                responses.setdefault(code, _error_response(code, STANDARD[code]))
            # Errors documented by a view with a description only, or with a bare "object"
            # body: give them the contract's error body.
            for code, response in responses.items():
                if code[0] not in "45":
                    continue
                body = response.get("content", {}).get("application/json", {}).get("schema")
                if body is None or body == ANY_OBJECT:
                    response["content"] = _error_response(code, "")["content"]
    return result
