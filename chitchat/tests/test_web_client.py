"""The web client's page at / (the client itself is tested in a browser: browser_tests/)."""

import re

from django.contrib.staticfiles import finders


def test_the_page_loads_its_module_and_styles_from_static_files(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<script type="module" src="/static/chitchat/client/app.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/chitchat/client/style.css">' in html
    # No inline script or style anywhere: every <script> has a src, no on* attributes.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert re.search(r"\son[a-z]+\s*=", html) is None
    for name in ("app.js", "api.js", "live.js", "render.js", "style.css"):
        assert finders.find(f"chitchat/client/{name}"), name


def test_the_page_forbids_inline_scripts_and_other_origins(client):
    response = client.get("/", HTTP_HOST="chat.example.com")
    assert response.status_code == 400  # not in ALLOWED_HOSTS: never echoed into the policy
    response = client.get("/")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["connect-src"] == "'self' ws://testserver wss://testserver"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_only_get_serves_the_page(client):
    assert client.get("/").status_code == 200
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


def test_the_static_files_are_served_by_whitenoise(client):
    response = client.get("/static/chitchat/client/app.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
