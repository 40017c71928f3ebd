"""`Idempotency-Key` on POST (SPEC §3): a retried create never creates twice.

Put `@idempotent` on a program view's `post` handler. Without the header nothing changes.
With it, per API client:

1. The key is claimed by INSERTing an `IdempotencyRecord` in its own, committed transaction
   before the request runs; the unique (client, key) constraint makes that the lock. A
   concurrent request with the same key loses the INSERT and answers
   `409 idempotency_key_in_use`.
2. The handler then runs inside one transaction together with the UPDATE that stores its
   answer, so the write and the stored answer commit (or vanish) together: a retry can never
   find the user created but the answer missing.
3. The same key with the same request within 24 hours replays the stored answer (status,
   body, content type) with `Idempotent-Replayed: true`; with a different method, path or
   body it answers `422 idempotency_key_reused`.

Decisions where the spec is silent:

- Every answer below 500 is stored and replayed, 4xx included: a retried invalid request
  gets the same 400 without re-validating (it could differ only if the world changed, which
  is what the client must not observe).
- A 5xx answer is not stored: its transaction is rolled back and the key released, so the
  client may retry with the same key once the fault is fixed.
- A request that dies without answering (worker killed) leaves the key in progress; after
  `IN_PROGRESS_TIMEOUT` (longer than the worker and statement timeouts) another request with
  the same key and body may take it over. Its transaction was never committed, so re-running
  it is safe.
- The body is compared in canonical form: JSON with sorted keys, forms with sorted fields.
- Expired records are ignored (a new request takes the key over) and deleted by
  `manage.py cleanup_idempotency`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode

from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from api.models import IdempotencyRecord, IdempotencyState
from core import crypto, error_codes
from core.exceptions import ApiError
from programs.models import ApiClient

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
# Longer than gunicorn's worker timeout (30 s) and the PostgreSQL statement timeout (15 s):
# a request still "in progress" after this long has died.
IN_PROGRESS_TIMEOUT = timedelta(seconds=60)
# Response headers worth replaying; the rest (request id, vary, ...) belong to each answer.
STORED_HEADERS = ("Content-Type", "Location", "ETag", "Last-Modified")

_KEY = re.compile(r"^[\x20-\x7e]+\Z")

logger = logging.getLogger("onboard.idempotency")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def validate_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not _KEY.match(key):
        raise ApiError(error_codes.IDEMPOTENCY_KEY_INVALID)
    return key


def canonical_body(content_type: str, body: bytes) -> bytes:
    """The body in a form that ignores key order and whitespace; raw bytes if unparsable."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        if media_type == "application/json" or media_type.endswith("+json"):
            parsed = json.loads(body.decode("utf-8"))
            return json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
        if media_type == "application/x-www-form-urlencoded":
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            return urlencode(sorted(fields)).encode()
    except (UnicodeDecodeError, ValueError):
        pass
    return body


def request_fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update((request.method or "").encode())
    digest.update(b"\0")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    # user-scope endpoints (SPEC §11) name the user in this header, as others do in the path
    digest.update(request.headers.get("X-Auth-User-ID", "").strip().encode())
    digest.update(b"\0")
    # upload views spool their (large) body to disk and hash it there: `body_fingerprint`
    spooled = getattr(request, "body_fingerprint", None)
    digest.update(spooled or canonical_body(request.content_type or "", request.body))
    return digest.hexdigest()


def _reclaimable(record: IdempotencyRecord, now: Any) -> bool:
    if record.expires_at <= now:
        return True
    return (
        record.state == IdempotencyState.IN_PROGRESS
        and record.claimed_at <= now - IN_PROGRESS_TIMEOUT
    )


def claim(*, client: ApiClient, key: str, fingerprint: str) -> IdempotencyRecord | HttpResponse:
    """Take the key for this request, or answer: the stored response, 409 or 422.

    Runs in autocommit, outside any request transaction, so the claim is visible to every
    other app server before the request's work starts.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                client=client,
                key=key,
                fingerprint=fingerprint,
                claimed_at=now,
                expires_at=now + RETENTION,
            )
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(client=client, key=key).first()
    if existing is None:
        # Released (a 5xx) or cleaned up between our INSERT and SELECT: the holder is gone,
        # but a third request may be claiming it right now; let the client retry.
        raise ApiError(error_codes.IDEMPOTENCY_KEY_IN_USE)
    if existing.expires_at > now and existing.fingerprint != fingerprint:
        raise ApiError(error_codes.IDEMPOTENCY_KEY_REUSED)
    if _reclaimable(existing, now):
        return _take_over(existing, fingerprint, now)
    if existing.state == IdempotencyState.COMPLETED:
        return replay(existing)
    raise ApiError(error_codes.IDEMPOTENCY_KEY_IN_USE)


def _take_over(record: IdempotencyRecord, fingerprint: str, now: Any) -> IdempotencyRecord:
    # Conditional on the row being unchanged since we read it: of several requests taking
    # over the same stale key, exactly one UPDATE matches.
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, state=record.state, claimed_at=record.claimed_at
    ).update(
        fingerprint=fingerprint,
        state=IdempotencyState.IN_PROGRESS,
        claimed_at=now,
        expires_at=now + RETENTION,
        response_status=None,
        response_body=None,
        response_headers={},
    )
    if not taken:
        raise ApiError(error_codes.IDEMPOTENCY_KEY_IN_USE)
    record.fingerprint = fingerprint
    record.state = IdempotencyState.IN_PROGRESS
    record.claimed_at = now
    return record


def _answer_aad(record_id: int) -> bytes:
    return crypto.associated_data(IdempotencyRecord._meta.db_table, "response_body", record_id)


def stored_answer(record: IdempotencyRecord) -> bytes:
    """The answer kept for replays, in clear. It is stored encrypted (SPEC §15): an answer
    carries the user's record — birth date, id numbers, addresses — for 24 hours."""
    blob = bytes(record.response_body or b"")
    if not crypto.is_encrypted(blob):
        return blob  # written before answers were encrypted (gone within 24 hours)
    return crypto.decrypt(blob, _answer_aad(record.pk))


def replay(record: IdempotencyRecord) -> HttpResponse:
    headers = dict(record.response_headers)
    response = HttpResponse(
        stored_answer(record),
        status=record.response_status or 200,
        content_type=headers.pop("Content-Type", "application/json"),
    )
    for name, value in headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def complete(record: IdempotencyRecord, response: HttpResponse) -> None:
    """Store the answer; called inside the request's transaction (see module docstring)."""
    IdempotencyRecord.objects.filter(pk=record.pk, claimed_at=record.claimed_at).update(
        state=IdempotencyState.COMPLETED,
        response_status=response.status_code,
        response_body=crypto.encrypt(response.content, _answer_aad(record.pk)),
        response_headers={h: response[h] for h in STORED_HEADERS if response.has_header(h)},
    )


def release(record: IdempotencyRecord) -> None:
    """Give the key back after a failure, so the client may retry with it at once.

    Best effort: when the database itself is what failed, the key stays in progress and
    becomes reclaimable after IN_PROGRESS_TIMEOUT; the original error is what the client
    must see, not this one.
    """
    try:
        IdempotencyRecord.objects.filter(pk=record.pk, claimed_at=record.claimed_at).delete()
    except DatabaseError:
        logger.warning("idempotency key not released", extra={"code": "idempotency_release"})


def idempotent(handler: Handler) -> Handler:
    """Decorate a ProgramAPIView's `post` to honour the Idempotency-Key header.

    The OpenAPI schema documents the header and the 409 / 422 answers for every handler
    carrying this decorator (see api/schema.py).
    """

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        raw_key = request.headers.get(KEY_HEADER)
        if raw_key is None:
            return cast(HttpResponse, handler(view, request, *args, **kwargs))
        key = validate_key(raw_key)
        outcome = claim(client=view.client, key=key, fingerprint=request_fingerprint(request))
        if isinstance(outcome, HttpResponse):
            return outcome
        record = outcome
        try:
            with transaction.atomic():
                response = _run(view, handler, request, *args, **kwargs)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                else:
                    complete(record, response)
        except BaseException:
            release(record)
            raise
        if response.status_code >= 500:
            release(record)
        return response

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return cast(Handler, wrapper)


def _run(
    view: Any, handler: Callable[..., Any], request: Request, *args: Any, **kwargs: Any
) -> Any:
    """The handler's answer, rendered: errors become their envelope here, not in dispatch."""
    try:
        response = handler(view, request, *args, **kwargs)
    except Exception as exc:
        response = view.handle_exception(exc)
    response = view.finalize_response(request, response, *args, **kwargs)
    if isinstance(response, Response):
        response.render()
    return response
