"""Production settings: no debug or known key by default, `check --deploy` clean with the
README's production environment. Each case starts Django in a process of its own, with the
environment given (the settings are read once per process)."""

import re
import secrets
import shlex
import subprocess
import sys

import pytest
from django.conf import settings

from chitchat.tests.processes import server_env

OLD_CONSTANT = "insecure-development-key-do-not-use-in-production-0123456789abcdef"


def run_manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def print_setting(env: dict, expression: str) -> subprocess.CompletedProcess:
    return run_manage(
        env, "shell", "-v", "0", "-c", f"from django.conf import settings; print({expression})"
    )


def production_env(**overrides: str) -> dict:
    """The environment of a deployment that set nothing but a good key (DEBUG unset)."""
    env = server_env(**overrides)
    del env["DEBUG"]
    return env


def test_debug_is_off_unless_set():
    result = print_setting(production_env(), "settings.DEBUG")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def dev_key() -> str:
    # The tests run in debug without SECRET_KEY (or with one), so the file may not exist yet.
    result = print_setting(server_env(DEBUG="true", SECRET_KEY=""), "settings.SECRET_KEY")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", None),  # missing
        ("SECRET_KEY", ""),
        ("SECRET_KEY", "   "),
        ("SECRET_KEY", "x" * 60),  # too repetitive
        ("SECRET_KEY", secrets.token_urlsafe(64)[:49]),  # short
        ("SECRET_KEY", OLD_CONSTANT),
        ("SECRET_KEY", "django-insecure-" + secrets.token_urlsafe(64)),
        ("SECRET_KEY", "dev file"),
        ("JWT_SIGNING_KEY", "short-signing-key"),
        ("JWT_SIGNING_KEY", OLD_CONSTANT),
        ("JWT_SIGNING_KEY", "dev file"),
    ],
)
def test_production_refuses_a_missing_short_or_known_key(name, value):
    env = production_env()
    if value is None:
        del env[name]
    else:
        env[name] = dev_key() if value == "dev file" else value
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and name in result.stderr


def test_production_starts_with_a_good_key():
    result = run_manage(production_env(JWT_SIGNING_KEY=secrets.token_urlsafe(64)), "check")
    assert result.returncode == 0, result.stderr


def test_development_key_is_per_checkout_and_not_in_git():
    key = dev_key()
    assert key != OLD_CONSTANT and len(key) >= 50
    assert dev_key() == key  # kept for the next start
    jwt_key = print_setting(
        server_env(DEBUG="true", SECRET_KEY=""), "settings.SIMPLE_JWT['SIGNING_KEY']"
    )
    assert jwt_key.stdout.strip() == key
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(settings.DEV_SECRET_KEY_FILE)], cwd=settings.BASE_DIR
    )
    assert ignored.returncode == 0, "the development key file must be git-ignored"
    with open(settings.BASE_DIR / "chitchat" / "settings.py") as source:
        assert key not in source.read()


def documented_production_env() -> dict:
    """The variables of README's `export DEBUG=false ...` command (placeholders dropped or
    filled in)."""
    readme = (settings.BASE_DIR / "README.md").read_text()
    production = readme.split("\n## Production\n", 1)[1]
    match = re.search(r"^export DEBUG=false.*?(?<!\\)\n", production, re.S | re.M)
    assert match, "README's Production section lost its export command"
    words = shlex.split(match.group(0).replace("\\\n", " "), comments=True)[1:]
    variables = dict(word.split("=", 1) for word in words)
    assert variables["DEBUG"] == "false"
    variables["SECRET_KEY"] = secrets.token_urlsafe(64)
    # Placeholders: the database and Redis of this test run (or the defaults).
    return {key: value for key, value in variables.items() if "..." not in value}


def deploy_check(variables: dict) -> subprocess.CompletedProcess:
    env = server_env()
    env.pop("DEBUG")
    env.update(variables)
    return run_manage(env, "check", "--deploy", "--fail-level", "WARNING")


def test_check_deploy_is_clean_with_the_documented_environment():
    result = deploy_check(documented_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_without_the_https_settings():
    variables = documented_production_env()
    del variables["SECURE_HSTS_SECONDS"], variables["SECURE_SSL_REDIRECT"]
    result = deploy_check(variables)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr
