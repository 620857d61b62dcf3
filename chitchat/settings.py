"""Chit-Chat settings: one file, every value read from the environment (django-environ)."""

import logging
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
# DEBUG is off unless set: a forgotten variable must not run production in debug mode.
# `make run` (and the tests' settings) turn it on explicitly.
DEBUG = env.bool("DEBUG", default=False)

# Keys: never a constant in the source. In debug, a missing SECRET_KEY is generated once per
# checkout into DEV_SECRET_KEY_FILE (git-ignored); without debug the server refuses to start
# with a missing, blank, short or known key (anyone could sign tokens and sessions with it).
DEV_SECRET_KEY_FILE = BASE_DIR / ".dev-secret-key"
SECRET_KEY_MIN_LENGTH = 50
# Keys that were public at some point: the constant of earlier versions.
KNOWN_SECRET_KEYS = {"insecure-development-key-do-not-use-in-production-0123456789abcdef"}


def _development_key() -> str:
    """This checkout's development key, created on first use (by one process of any started
    together: the file is created exclusively, the others read it)."""
    for _ in range(50):
        try:
            key = DEV_SECRET_KEY_FILE.read_text().strip()
        except FileNotFoundError:
            try:
                descriptor = os.open(
                    DEV_SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
                )
            except FileExistsError:
                continue
            key = secrets.token_urlsafe(64)
            with os.fdopen(descriptor, "w") as file:
                file.write(key + "\n")
        if len(key) >= SECRET_KEY_MIN_LENGTH:
            return key
        time.sleep(0.02)  # being written by another process
    raise ImproperlyConfigured(f"{DEV_SECRET_KEY_FILE} holds no usable key; delete it.")


def _production_key(name: str, value: str) -> str:
    """`value` if it is fit to sign with in production; ImproperlyConfigured otherwise."""
    known = set(KNOWN_SECRET_KEYS)
    if DEV_SECRET_KEY_FILE.exists():
        known.add(DEV_SECRET_KEY_FILE.read_text().strip())
    if not value.strip():
        problem = "is missing or blank"
    elif len(value) < SECRET_KEY_MIN_LENGTH or len(set(value)) < 5:
        problem = f"is shorter than {SECRET_KEY_MIN_LENGTH} characters (or too repetitive)"
    elif value in known or value.startswith("django-insecure"):
        problem = "is a published or development key"
    else:
        return value
    raise ImproperlyConfigured(
        f"{name} {problem}. In production (DEBUG=false, the default) set it to a long random "
        "value, e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))'; for "
        "development set DEBUG=true (a key is then generated for this checkout)."
    )


SECRET_KEY = env.str("SECRET_KEY", default="")
# An empty JWT_SIGNING_KEY (as in a copied .env.example) falls back to SECRET_KEY.
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default="")
if DEBUG:
    SECRET_KEY = SECRET_KEY or _development_key()
else:
    SECRET_KEY = _production_key("SECRET_KEY", SECRET_KEY)
    if JWT_SIGNING_KEY:
        JWT_SIGNING_KEY = _production_key("JWT_SIGNING_KEY", JWT_SIGNING_KEY)
JWT_SIGNING_KEY = JWT_SIGNING_KEY or SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "chitchat",
    "live",
    "accounts",
    "chats",
    "messaging",
]

MIDDLEWARE = [
    # First: every response, even a redirect or an error of a later middleware, carries it.
    "chitchat.request_id.RequestIdMiddleware",
    # A view's database error that means "unreachable, retry" is a 503, not a 500.
    "chitchat.database_unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chitchat.middleware.RejectNulCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chitchat.urls"
# API paths end with "/"; a missing slash is a JSON 404, never a redirect that drops a body.
APPEND_SLASH = False
WSGI_APPLICATION = "chitchat.wsgi.application"
ASGI_APPLICATION = "chitchat.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database: SQLite file by default; PostgreSQL with a psycopg connection pool when
# DATABASE_URL points at it (a connection per request is ~4x slower, and under ASGI only
# the pool is safe because sync views run in fresh threads).
# ---------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers: every transaction takes the write lock when it begins (a deferred
    # one that upgrades from read to write fails at once with "database is locked", whatever
    # the timeout), and waits up to DATABASE_SQLITE_TIMEOUT seconds for it. WAL lets readers
    # go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("DATABASE_SQLITE_TIMEOUT", default=20.0),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Health checks: a pooled connection is checked (one round trip) before it is lent (Django
    # passes psycopg_pool's ConnectionPool.check_connection as the pool's `check`), a kept
    # one before it is reused; one whose backend was killed, or that outlived a PostgreSQL
    # restart, is replaced instead of failing the next request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side parameters let psycopg prepare a statement after its fifth run on a
    # connection, so PostgreSQL stops re-planning the hot queries (planning took 2-3 ms of
    # the message page's and the chat list's 0.3-3 ms of execution).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env.bool(
        "DATABASE_SERVER_SIDE_BINDING", default=True
    )
    # No JIT compilation: every statement here is a short index lookup, but one whose
    # correlated counts the planner over-estimates (the chat list's unread counts) crosses
    # jit_above_cost and spent 13 ms compiling to run in 0.8 ms. DATABASE_JIT=true keeps it.
    if not env.bool("DATABASE_JIT", default=False):
        options = DATABASES["default"]["OPTIONS"]
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

# ---------------------------------------------------------------------------
# Redis: cache (throttles, login lockout) and channel layer. Unset: local memory.
# ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# A Redis that accepts connections and never answers must not hold requests (throttles, the
# login lockout) or /healthz: a cache command gives up after REDIS_TIMEOUT seconds (then REST
# carries on without it: tokens checked against the row, throttles open).
REDIS_CACHE_OPTIONS = {
    "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
    "socket_timeout": env.float("REDIS_TIMEOUT", default=1.0),
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="chitchat"),
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
    # The pub/sub layer: the default RedisChannelLayer dropped 25-48 % of deliveries to
    # 1,000 sockets in one group (per-channel capacity and expiry); pub/sub lost none.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="chitchat"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Stored events (GET /api/v1/events/?since=, a socket's ?since=) are kept this many days;
# `manage.py purge_events` removes older ones.
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=7)

# ---------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 3)
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_FAILURE_WINDOW = 15 * 60  # seconds: the lockout window of the contract

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": JWT_SIGNING_KEY,
}

# ---------------------------------------------------------------------------
# REST framework
# ---------------------------------------------------------------------------
# THROTTLE_RATES: comma-separated scope=rate pairs in DRF's notation.
THROTTLE_RATES = {
    "anon": "120/min",
    "user": "2400/min",
    "register": "30/hour",
    "message": "20/s",
}
for pair in env.list("THROTTLE_RATES", default=[]):
    scope, _, rate = pair.partition("=")
    if not rate:
        raise ImproperlyConfigured(f"THROTTLE_RATES entry {pair!r} is not scope=rate.")
    THROTTLE_RATES[scope.strip()] = None if rate.strip().lower() == "none" else rate.strip()

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "chitchat.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["chitchat.parsers.ORJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "chitchat.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "chitchat.throttling.AnonRateThrottle",
        "chitchat.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "EXCEPTION_HANDLER": "chitchat.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}
# Request bodies above this many bytes are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "Chit-Chat API",
    "DESCRIPTION": "Self-hosted chat server: accounts, chats, messages and live events.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The contract's common error responses (401, 429, ...) on every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "chitchat.schema.document_error_responses",
    ],
}

# ---------------------------------------------------------------------------
# Attachments: files under MEDIA_ROOT by default; an S3-compatible bucket when
# AWS_STORAGE_BUCKET_NAME is set (django-storages; AWS_S3_ENDPOINT_URL for MinIO and the like)
# ---------------------------------------------------------------------------
# Relative to the project's directory unless absolute.
MEDIA_ROOT = BASE_DIR / env.str("MEDIA_ROOT", default="media")
MEDIA_URL = "media/"  # never served as is: downloads go through the API's membership checks
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_ORPHAN_HOURS = env.int("ATTACHMENT_ORPHAN_HOURS", default=24)
# Images above this many pixels are refused (decompression bombs), whatever the byte size.
ATTACHMENT_MAX_IMAGE_PIXELS = env.int("ATTACHMENT_MAX_IMAGE_PIXELS", default=50_000_000)
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
    AWS_LOCATION = env.str("AWS_LOCATION", default="")
    # Downloads redirect to a signed URL that expires within a minute; objects stay private.
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = min(env.int("AWS_QUERYSTRING_EXPIRE", default=60), 60)
    AWS_S3_SIGNATURE_VERSION = env.str("AWS_S3_SIGNATURE_VERSION", default="s3v4")
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# ---------------------------------------------------------------------------
# Email: console by default, SMTP (or anything django-environ knows) with EMAIL_URL
# ---------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Chit-Chat <noreply@localhost>")
FRONTEND_URL = env.str("FRONTEND_URL", default="http://127.0.0.1:8000")

# ---------------------------------------------------------------------------
# Internationalisation, static files
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# whitenoise serves the admin's and the browsable API's files from the app process itself;
# with finders on, it works without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# ---------------------------------------------------------------------------
# Logging: one line per record on stderr, each with the request id (chitchat.logs);
# LOG_FORMAT=json writes one JSON object per line for log collectors.
# ---------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json.")
# Python warnings (a library's UserWarning) become log records too, in the same format.
logging.captureWarnings(True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "chitchat.logs.RequestIdLogFilter"},
        "redact_tokens": {"()": "chitchat.logs.RedactTokensLogFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "chitchat.logs.JsonLogFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact_tokens"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The servers' own loggers (configured by them before Django starts) write through the
    # same handler, so their lines too are JSON when asked, and never show a token.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        **{
            name: {"handlers": ["console"], "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "_granian", "granian.access")
        },
    },
}

# ---------------------------------------------------------------------------
# HTTPS behind a reverse proxy (read when DEBUG=false; see README, Production). Off by
# default so that a plain-HTTP local run with DEBUG=false still works; the documented
# production environment turns each on, and `manage.py check --deploy` is then clean.
# ---------------------------------------------------------------------------
if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    # The load balancer's probe may speak plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # Only behind a proxy that sets X-Forwarded-Proto itself (overwriting the client's):
    # otherwise any client could claim HTTPS.
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# ---------------------------------------------------------------------------
# Per-request shared state (speed): the token check and the throttle windows go to Redis in
# one round trip on a client that lives for the process (chitchat.shared_state).
# ---------------------------------------------------------------------------
# How long an "active" mark lets a user's tokens in without reading the row. Deactivation and
# deletion replace it at once; it only matters if that write fails while Redis keeps its data.
AUTH_ACTIVE_MARK_SECONDS = env.int("AUTH_ACTIVE_MARK_SECONDS", default=120)
# Plain API requests (under /api/, no session cookie, not asking for HTML) skip the session,
# auth and messages middleware; the admin and the browsable API keep them.
PLAIN_API_PATHS = ("/api/",)
if env.bool("API_SKIPS_BROWSER_MIDDLEWARE", default=True):
    _BROWSER_ONLY = {
        "django.contrib.sessions.middleware.SessionMiddleware": (
            "chitchat.api_middleware.BrowserSessionMiddleware"
        ),
        "django.contrib.auth.middleware.AuthenticationMiddleware": (
            "chitchat.api_middleware.BrowserAuthenticationMiddleware"
        ),
        "django.contrib.messages.middleware.MessageMiddleware": (
            "chitchat.api_middleware.BrowserMessageMiddleware"
        ),
    }
    MIDDLEWARE = [_BROWSER_ONLY.get(name, name) for name in MIDDLEWARE]

# ---------------------------------------------------------------------------
# Hardening of logins and input (issue 11, accounts/login/input findings)
# ---------------------------------------------------------------------------
# Every password check (token endpoint, browsable-API and admin logins) goes through one
# backend, which applies the shared login lockout.
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
# X-Forwarded-For is trusted only from this many proxies in front of the app (the client
# address is the one the outermost trusted proxy saw); 0 ignores the header entirely.
REST_FRAMEWORK["NUM_PROXIES"] = env.int("NUM_PROXIES", default=0)
# At most one password-reset mail per account in this many seconds (0: no limit).
PASSWORD_RESET_MAIL_INTERVAL = env.int("PASSWORD_RESET_MAIL_INTERVAL", default=60)
# JSON bodies nested deeper than this are a 400.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)
# Wrong passkeys per user and chat before joining is refused (429) for the window.
PASSKEY_MAX_FAILURES = env.int("PASSKEY_MAX_FAILURES", default=5)
PASSKEY_FAILURE_WINDOW = 15 * 60  # seconds
# Error answers under /api/ are JSON also when Django itself refuses a request (bad Host,
# too many query parameters) before any view runs.
# Right after the request id, so that a replaced answer still carries its X-Request-ID.
MIDDLEWARE.insert(
    MIDDLEWARE.index("chitchat.request_id.RequestIdMiddleware") + 1,
    "chitchat.middleware.JSONErrorsUnderAPIMiddleware",
)
# ---------------------------------------------------------------------------
