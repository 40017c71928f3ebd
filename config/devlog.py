"""Logging for the development server (`make run`): one line per request.

API requests are logged by `onboard.access` (api.middleware) with their request id; the
dev server's own `django.server` line would repeat them, so it is kept for other paths
(admin, docs, static) only.
"""

from __future__ import annotations

import logging


class NonApiRequestsOnly(logging.Filter):
    """Drops `django.server` lines of API paths (`/{program}/v1|v2/...`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        request_line = str(args[0]) if args else ""
        parts = request_line.split(" ")
        path = parts[1] if len(parts) > 1 else ""
        segments = path.split("?", 1)[0].split("/", 3)  # "", program, version, rest
        return not (len(segments) > 2 and segments[2] in ("v1", "v2"))
