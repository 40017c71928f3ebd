"""Structured JSON logs that carry the request context; values are ids and codes, never PII.

PII reaches log lines by three roads, each closed here:

- exception messages: a PostgreSQL IntegrityError quotes the row (`Key (email)=(ada@...)`),
  so tracebacks are rendered by `safe_traceback`, which keeps the frames and the exception
  type, withholds the message of every database error (naming the constraint instead) and
  masks e-mails and long numbers in other messages;
- paths: a client can put anything in a URL, so `path` fields keep only public ids and route
  words (`loggable_path`); query strings are never logged;
- free-text messages: `scrub` masks e-mail addresses, dates and number-like tokens in any
  message formatted by `JsonFormatter`, whoever logged it, with the one mask of each kind
  (`core.masking`): `a***@example.com`, `****-**-**`, `*****567D`.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from types import TracebackType

from core import request_context
from core.masking import mask_text

_CONTEXT_KEYS = ("request_id", "error_id", "program", "client_id")
_EXTRA_KEYS = (
    "method",
    "path",
    "status",
    "code",
    "duration_ms",
    "replayed",
    "error_id",
    "exception_type",
)

_PUBLIC_ID = re.compile(r"^[0-9a-f]{32}\Z")
_WORD = re.compile(r"^[a-z][a-z0-9_-]{0,49}\Z")
_DIGIT_RUN = re.compile(r"[0-9]{4}")
_DB_MODULES = ("django.db", "psycopg", "psycopg2", "sqlite3")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def scrub(text: str) -> str:
    """Mask e-mail addresses, dates and number-like tokens (phones, id numbers) with the masks
    the admin and the audit trail use (`core.masking.mask_text`)."""
    return mask_text(text)


def loggable_path(path: str) -> str:
    """The path with every segment that is not a public id or a route word replaced by `~`."""
    return "/".join(
        segment
        if not segment
        or _PUBLIC_ID.match(segment)
        or (_WORD.match(segment) and not _DIGIT_RUN.search(segment))
        else "~"
        for segment in path.split("/")
    )


def _is_database_error(exc: BaseException) -> bool:
    return any(
        type(e).__module__.startswith(_DB_MODULES) for e in (exc, exc.__cause__) if e is not None
    )


def _constraint_name(exc: BaseException) -> str:
    for e in (exc, exc.__cause__):
        diag = getattr(e, "diag", None)
        name = getattr(diag, "constraint_name", None)
        if name:
            return str(name)
    return ""


def safe_message(exc: BaseException) -> str:
    if _is_database_error(exc):
        constraint = _constraint_name(exc)
        detail = f" (constraint {constraint})" if constraint else ""
        return f"[message withheld: database errors quote row values]{detail}"
    return scrub(str(exc))


def safe_traceback(exc: BaseException) -> str:
    """Like traceback.format_exception, with every message replaced by `safe_message`."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for index, link in enumerate(reversed(chain)):
        if index:
            parts.append("\nThe above exception led to the following one:\n\n")
        if link.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(traceback.extract_tb(link.__traceback__)))
        name = f"{type(link).__module__}.{type(link).__qualname__}"
        parts.append(f"{name}: {safe_message(link)}\n")
    return "".join(parts)


class ScrubFilter(logging.Filter):
    """On Django's own loggers: bake the scrubbed message into the record itself, so every
    handler (not only the JSON one) sees it; `django.request` quotes raw request paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        return True


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in request_context.current().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request context, extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key in (*_CONTEXT_KEYS, *_EXTRA_KEYS):
            value = getattr(record, key, None)
            if value is not None:
                payload[key] = loggable_path(str(value)) if key == "path" else value
        traceback_text = getattr(record, "traceback", None)
        if record.exc_info and record.exc_info[1] is not None:
            traceback_text = safe_traceback(record.exc_info[1])
        if traceback_text:
            payload["exception"] = traceback_text
        return json.dumps(payload, default=str)

    def formatException(self, ei: object) -> str:
        # Used by handlers that call it directly; never the raw message.
        exc = ei[1] if isinstance(ei, tuple) and len(ei) > 1 else None
        return safe_traceback(exc) if isinstance(exc, BaseException) else ""
