"""OpenAPI post-processing: the error responses every operation can give, documented once.

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
    schemas.setdefault(ERROR, ERROR_SCHEMA)
    schemas.setdefault(VALIDATION_ERROR, VALIDATION_ERROR_SCHEMA)

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
