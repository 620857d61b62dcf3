"""Plain API requests skip the session, auth and messages middleware; browsers keep them."""

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

ME = "/api/v1/users/me/"


@pytest.fixture
def session_loads(monkeypatch):
    """The requests whose session the session middleware loaded (paths, in order)."""
    seen = []
    real = SessionMiddleware.process_request

    def spy(self, request):
        seen.append(request.path)
        return real(self, request)

    monkeypatch.setattr(SessionMiddleware, "process_request", spy)
    return seen


@pytest.mark.django_db
def test_bearer_json_request_skips_the_browser_middleware(user_client, session_loads):
    response = user_client.get(ME)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "Set-Cookie" not in response.headers
    assert session_loads == []
    # Unauthenticated JSON errors are unchanged.
    response = Client().get(ME, HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_browsable_api_session_login_and_html_keep_the_middleware(session_loads):
    user = UserFactory()
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/api-auth/login/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    response = browser.post(
        "/api-auth/login/",
        {"username": user.username, "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert "sessionid" in response.cookies

    html = browser.get(ME, HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert html["Content-Type"].startswith("text/html")
    assert user.username in html.content.decode()
    # The same session signs in JSON requests too, and its writes still need the CSRF token.
    as_json = browser.get(ME, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 200
    assert as_json.json()["username"] == user.username
    refused = browser.patch(ME, {"bio": "x"}, content_type="application/json")
    assert refused.status_code == 403
    token = browser.cookies["csrftoken"].value  # rotated at login
    allowed = browser.patch(
        ME, {"bio": "x"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert allowed.status_code == 200
    assert ME in session_loads and "/api-auth/login/" in session_loads


@pytest.mark.django_db
def test_admin_keeps_sessions_and_csrf(session_loads):
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = Client(enforce_csrf_checks=True)
    login = browser.get("/admin/login/")
    assert login.status_code == 200
    # Without the CSRF token the admin login is refused, as Django's middleware does.
    refused = browser.post(
        "/admin/login/", {"username": staff.username, "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 403
    token = login.cookies["csrftoken"].value
    response = browser.post(
        "/admin/login/?next=/admin/",
        {"username": staff.username, "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert browser.get("/admin/").status_code == 200
    assert "/admin/" in session_loads


def test_csrf_middleware_is_still_installed(settings):
    """The admin's system checks find the replacements (they subclass Django's classes)."""
    from django.utils.module_loading import import_string

    classes = [import_string(name) for name in settings.MIDDLEWARE]
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    assert any(issubclass(cls, SessionMiddleware) for cls in classes)
