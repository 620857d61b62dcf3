"""Per-request shared state in one Redis round trip, on a client that lives for the process.

An authenticated API request reads one value (the user's mark, accounts.authentication) and
counts one hit in each of its throttle windows (chitchat.throttling). With Redis they go out
together in one pipeline. Django's RedisCache builds a new `redis.Redis` for every call (redis-py
fills ~170 response callbacks in each constructor, about 0.4 ms), so this module keeps one
client per process instead; its connection pool starts afresh in a forked child (redis-py
checks the pid), so it is fork-safe. Keys are the cache's own (`cache.make_key`) and values
the integers Django's Redis serializer stores as plain numbers, so `cache.get`/`cache.set`
read and write the same entries. Without Redis (local memory) the same calls go through the
Django cache API.
"""

import threading

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.dispatch import receiver

_lock = threading.Lock()
_client: redis.Redis | None = None
_client_location: str | None = None


def _redis_location() -> str | None:
    """The Redis URL of the default cache, or None when it is not a Redis cache."""
    config = settings.CACHES.get("default", {})
    if config.get("BACKEND") != f"{RedisCache.__module__}.{RedisCache.__qualname__}":
        return None
    location = config.get("LOCATION")
    if isinstance(location, list | tuple):
        location = location[0]
    return location or None


def redis_client() -> redis.Redis | None:
    """The process's Redis client for the default cache (None when the cache is not Redis)."""
    global _client, _client_location
    location = _redis_location()
    if location is None:
        return None
    if _client is None or _client_location != location:
        with _lock:
            if _client is None or _client_location != location:
                options = settings.CACHES["default"].get("OPTIONS", {})
                pool = redis.ConnectionPool.from_url(
                    location,
                    socket_connect_timeout=options.get("socket_connect_timeout", 1.0),
                    socket_timeout=options.get("socket_timeout", 1.0),
                    max_connections=options.get("max_connections"),
                )
                _client = redis.Redis(connection_pool=pool)
                _client_location = location
    return _client


@receiver(setting_changed)
def _forget_client(*, setting, **kwargs):
    global _client, _client_location
    if setting == "CACHES":
        _client = None
        _client_location = None


def _as_int(value) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_and_count(key: str | None, windows: list[tuple[str, int]]) -> tuple[int | None, list[int]]:
    """The integer under `key` (None if missing), and each window's counter after adding one.

    `windows` are (key, seconds): a counter made by the first hit expires a second after its
    window. Redis: GET, then INCR and EXPIRE NX per window, in one pipeline (one round trip).
    Raises when the store cannot be reached; the callers decide what that means.
    """
    client = redis_client()
    if client is None:
        value = _as_int(cache.get(key)) if key is not None else None
        return value, [_count_locally(window_key, seconds) for window_key, seconds in windows]
    pipe = client.pipeline(transaction=False)
    if key is not None:
        pipe.get(cache.make_key(key))
    for window_key, seconds in windows:
        full_key = cache.make_key(window_key)
        pipe.incr(full_key)
        pipe.expire(full_key, seconds + 1, nx=True)
    replies = pipe.execute()
    value = _as_int(replies[0]) if key is not None else None
    first = 1 if key is not None else 0
    return value, [int(count) for count in replies[first::2]]


def _count_locally(key: str, seconds: int) -> int:
    if cache.add(key, 1, timeout=seconds + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=seconds + 1)
        return 1
