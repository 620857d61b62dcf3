"""The OpenAPI schema: it generates, validates, and documents every operation of the contract."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from openapi_spec_validator import validate

# Every operation of /work/shared/API.md (the contract), path parameters written as {}.
CONTRACT = {
    "/api/v1/auth/register/": {"post"},
    "/api/v1/auth/token/": {"post"},
    "/api/v1/auth/token/refresh/": {"post"},
    "/api/v1/auth/logout/": {"post"},
    "/api/v1/auth/password/": {"post"},
    "/api/v1/auth/password/reset/": {"post"},
    "/api/v1/auth/password/reset/confirm/": {"post"},
    "/api/v1/users/": {"get"},
    "/api/v1/users/{}/": {"get"},
    "/api/v1/users/me/": {"get", "patch", "delete"},
    "/api/v1/chats/": {"get", "post"},
    "/api/v1/chats/{}/": {"get", "patch", "delete"},
    "/api/v1/chats/{}/passkey/": {"get"},
    "/api/v1/chats/{}/invite/": {"get", "post"},
    "/api/v1/invites/{}/": {"post"},
    "/api/v1/chats/{}/join/": {"post"},
    "/api/v1/chats/{}/leave/": {"post"},
    "/api/v1/chats/{}/members/": {"get", "post"},
    "/api/v1/chats/{}/members/{}/": {"patch", "delete"},
    "/api/v1/chats/{}/read/": {"post"},
    "/api/v1/chats/direct/": {"post"},
    "/api/v1/chats/{}/messages/": {"get", "post"},
    "/api/v1/users/{}/messages/": {"post"},
    "/api/v1/messages/{}/": {"get", "patch", "delete"},
    "/api/v1/messages/{}/like/": {"post", "delete"},
    "/api/v1/messages/{}/likes/": {"get"},
    "/api/v1/messages/{}/reactions/": {"get", "post"},
    "/api/v1/messages/{}/reactions/{}/": {"delete"},
    "/api/v1/messages/{}/replies/": {"get"},
    "/api/v1/messages/{}/pin/": {"post", "delete"},
    "/api/v1/messages/{}/history/": {"get"},
    "/api/v1/messages/mentions/": {"get"},
    "/api/v1/messages/{}/report/": {"post"},
    "/api/v1/chats/{}/reports/": {"get"},
    "/api/v1/chats/{}/pins/": {"get"},
    "/api/v1/messages/mine/": {"get"},
    "/api/v1/messages/latest/": {"get"},
    "/api/v1/messages/inbox/": {"get"},
    "/api/v1/events/": {"get"},
    "/api/v1/chats/{}/attachments/": {"post"},
    "/api/v1/attachments/{}/": {"get"},
    "/api/v1/attachments/{}/thumbnail/": {"get"},
}
# Usable without a token (the contract's list); everything else requires the Bearer token.
PUBLIC = {
    ("/api/v1/auth/register/", "post"),
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/auth/token/refresh/", "post"),
    ("/api/v1/auth/logout/", "post"),
    ("/api/v1/auth/password/reset/", "post"),
    ("/api/v1/auth/password/reset/confirm/", "post"),
}
# The lists of the contract: paginated {next, previous, results}.
LISTS = {
    "/api/v1/users/",
    "/api/v1/chats/",
    "/api/v1/chats/{}/members/",
    "/api/v1/chats/{}/messages/",
    "/api/v1/messages/{}/likes/",
    "/api/v1/messages/mine/",
    "/api/v1/messages/latest/",
    "/api/v1/messages/inbox/",
    "/api/v1/messages/{}/reactions/",
    "/api/v1/messages/{}/replies/",
    "/api/v1/chats/{}/pins/",
    "/api/v1/messages/{}/history/",
    "/api/v1/messages/mentions/",
    "/api/v1/chats/{}/reports/",
}
METHODS = {"get", "post", "put", "patch", "delete"}


def normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get(reverse("schema") + "?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def operations(schema):
    """{(normalised path, method): operation}"""
    return {
        (normalise(path), method): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def test_schema_passes_openapi_spec_validator(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_schema_generates_without_warnings_or_errors(capsys):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(request=None, public=True)
    GENERATOR_STATS.emit_summary()
    assert not GENERATOR_STATS, capsys.readouterr().err


def test_every_contract_operation_is_documented(operations):
    documented = {key for key in operations}
    expected = {(path, method) for path, methods in CONTRACT.items() for method in methods}
    assert sorted(expected - documented) == []


def test_no_operation_outside_the_contract(operations):
    """Nothing undocumented slipped in (a stray route, a PUT the contract does not have)."""
    expected = {(path, method) for path, methods in CONTRACT.items() for method in methods}
    assert sorted(set(operations) - expected) == []


def test_jwt_bearer_scheme(schema, operations):
    schemes = schema["components"]["securitySchemes"]
    bearer = [s for s in schemes.values() if s.get("type") == "http" and s["scheme"] == "bearer"]
    assert bearer == [{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}]
    (name,) = [n for n, s in schemes.items() if s.get("type") == "http"]
    for key, operation in operations.items():
        security = operation.get("security", schema.get("security", []))
        if key in PUBLIC:
            assert {} in security, key  # anonymous allowed
        else:
            assert {name: []} in security, key
            assert {} not in security, key


def test_every_operation_documents_responses_and_errors(operations):
    for key, operation in operations.items():
        codes = set(operation["responses"])
        assert any(code.startswith("2") for code in codes), key
        assert "429" in codes, key  # throttles apply everywhere
        if key not in PUBLIC:
            assert "401" in codes, key
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= codes, key
        if "{}" in key[0]:
            assert "404" in codes, key
        for code, response in operation["responses"].items():
            if code[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                expected = "ValidationError" if code == "400" else "Error"
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, (key, code)


def test_lists_are_paginated(schema, operations):
    for path in LISTS:
        operation = operations[(path, "get")]
        params = {p["name"] for p in operation.get("parameters", [])}
        assert {"cursor", "page_size"} <= params, path
        body = resolve(
            schema, operation["responses"]["200"]["content"]["application/json"]["schema"]
        )
        assert {"next", "previous", "results"} <= set(body["properties"]), path


def test_message_schema_matches_the_contract(schema, operations):
    operation = operations[("/api/v1/messages/{}/", "get")]
    message = resolve(
        schema, operation["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert set(message["properties"]) == {
        "id",
        "chat_id",
        "author",
        "body",
        "created_at",
        "edited_at",
        "like_count",
        "liked_by_me",
        "client_id",
        "attachments",
        "reply_to",
        "reply_count",
        "reactions",
        "pinned",
        "mentions",
    }


@pytest.mark.parametrize(
    "path", ["/api/v1/chats/abc/join/", "/api/v1/messages/null,null/like/", "/api/v1/nothing/"]
)
def test_an_api_url_matching_no_route_is_a_json_404(path, db):
    """What the schema promises for 404 (the error body), also for ids that are not numbers."""
    # A browser-like client: CSRF enforced, as on a real server (the test client skips it).
    response = Client(enforce_csrf_checks=True).post(path, HTTP_COOKIE="csrftoken=abc")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_pages_outside_the_api_keep_html_404(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_user_detail_documents_both_views(operations):
    """A private user seen by someone else comes back as the public view (found by fuzzing)."""
    operation = operations[("/api/v1/users/{}/", "get")]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    refs = {option["$ref"].rsplit("/", 1)[-1] for option in schema["anyOf"]}
    assert refs == {"UserFull", "UserPublic"}


def inline_refs(schema: dict, node):
    """The node with every $ref replaced by its component (examples removed)."""
    if isinstance(node, list):
        return [inline_refs(schema, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return inline_refs(schema, resolve(schema, node))
    return {key: inline_refs(schema, value) for key, value in node.items() if key != "example"}


def test_component_examples_are_valid(schema):
    from openapi_schema_validator import OAS30Validator

    from chitchat.schema import EXAMPLES

    components = schema["components"]["schemas"]
    # The main components have an example (Swagger UI and Redoc show them).
    for name in ("Chat", "Message", "UserFull", "UserPublic", "Membership", "RegisterRequest"):
        assert "example" in components[name], name
    for name, component in components.items():
        if "example" not in component or name not in EXAMPLES:
            continue
        validator = OAS30Validator(inline_refs(schema, component))
        errors = [e.message for e in validator.iter_errors(component["example"])]
        assert errors == [], name
        # Every documented property is shown in the example of a response component.
        if not name.endswith("Request") and component.get("required"):
            assert set(component["required"]) <= set(component["example"]), name
