"""Log records: each with its request id, tokens redacted, written as text or JSON lines.

Attached to the one console handler (settings.LOGGING), which also takes over the servers'
loggers (uvicorn's, granian's), so every line has the same shape.
"""

import json
import logging
import re
from datetime import UTC, datetime

from chitchat.request_id import current_request_id

# A token in a URL (the socket's /ws/?token=...) or a header value, wherever a line shows it.
_TOKEN = re.compile(r"((?:token|access|refresh)=)[^&\s\"']+|(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)


def redact(text: str) -> str:
    return _TOKEN.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", text)


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every record: the current request's, or that of the request the
    record is about (Django logs 4xx/5xx responses after the middleware has returned)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        if request_id is None:
            request_id = getattr(getattr(record, "request", None), "request_id", None)
        record.request_id = request_id or "-"
        return True


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RedactTokensLogFilter(logging.Filter):
    """Access tokens never reach a log: an access log line of `/ws/?token=...` (if one is
    enabled after all) shows `token=[redacted]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True
