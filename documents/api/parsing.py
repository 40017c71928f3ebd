"""Upload bodies, streamed (SPEC §12): never more than one copy of the file in memory.

`spool_body` copies the raw request body to a temporary file in chunks, hashing it for the
Idempotency-Key fingerprint and stopping at the upload limit. The spooled body is then read:
- `multipart/form-data`: Django's MultiPartParser with the TemporaryFileUploadHandler only,
  so the `file` part goes straight to a temporary file;
- JSON: ijson walks the top-level object; the base64 `data` string (a `data:` URI too) is
  decoded in slices into a temporary file, stopping as soon as it exceeds the size limit;
- form-encoded (v1): Django's QueryDict over the body — v1 form bodies are small or the
  client sends JSON; the JSON and multipart forms are the streamed ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

import ijson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from rest_framework.request import Request

from api.boundary import field_problems
from core import error_codes
from core.exceptions import ApiError, FieldError

CHUNK = 64 * 1024
# base64 characters per decoded slice: a multiple of 4
B64_SLICE = 64 * 1024
_DATA_URI = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w-]+=[\w.+-]+)*;base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_B64_ALPHABET = re.compile(r"^[A-Za-z0-9+/]*$")


@dataclass
class SpooledBody:
    file: IO[bytes]
    sha256: str
    size: int


@dataclass
class UploadInput:
    """What an upload request carried: the text fields, and the file (a temporary file)."""

    fields: dict[str, Any] = field(default_factory=dict)
    file: IO[bytes] | None = None
    file_field: str = "file"
    errors: list[FieldError] = field(default_factory=list)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def spool_body(request: Request) -> SpooledBody:
    """The raw body in a temporary file, with its SHA-256; beyond the limit: 413."""
    limit: int = settings.UPLOAD_MAX_BODY_BYTES
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the request owns it until the response
    digest = hashlib.sha256()
    size = 0
    raw = request._request
    while chunk := raw.read(CHUNK):
        size += len(chunk)
        if size > limit:
            out.close()
            raise ApiError(error_codes.REQUEST_TOO_LARGE)
        digest.update(chunk)
        out.write(chunk)
    out.seek(0)
    return SpooledBody(file=out, sha256=digest.hexdigest(), size=size)


def media_type(request: Request) -> str:
    return (request.content_type or "").split(";", 1)[0].strip().lower()


def parse_upload(request: Request, body: SpooledBody, *, allowed: tuple[str, ...]) -> UploadInput:
    """The upload's fields and file; unknown fields are errors (`resource_user_unknown_field`)."""
    kind = media_type(request)
    if kind == "multipart/form-data":
        parsed = _multipart(request, body)
    elif kind == "application/json" or kind.endswith("+json"):
        parsed = _json(body)
    elif kind == "application/x-www-form-urlencoded":
        parsed = _form(body)
    else:
        raise ApiError(
            error_codes.UNSUPPORTED_MEDIA_TYPE, params={"media_type": f"`{kind or 'none'}`"}
        )
    parsed.errors.extend(
        FieldError(name, error_codes.USER_UNKNOWN_FIELD, f"Unknown field `{name}`.")
        for name in parsed.fields
        if name not in allowed
    )
    # the input boundary's rules (NUL, lone surrogates, non-finite numbers, dates off the
    # calendar) for the text fields, which no middleware or JSON decoder of the plumbing saw:
    # refused before any rule of the upload looks at them, as everywhere else
    refused = field_problems(parsed.fields)
    if refused:
        parsed.close()
        raise ApiError.from_field_errors(refused)
    return parsed


def _multipart(request: Request, body: SpooledBody) -> UploadInput:
    meta = {**request.META, "CONTENT_LENGTH": str(body.size)}
    handler = TemporaryFileUploadHandler(request._request)
    try:
        post, files = MultiPartParser(meta, body.file, [handler], "utf-8").parse()  # type: ignore[arg-type]
    except RequestDataTooBig as exc:  # text parts beyond DATA_UPLOAD_MAX_MEMORY_SIZE
        raise ApiError(error_codes.REQUEST_TOO_LARGE) from exc
    except MultiPartParserError as exc:
        raise ApiError(error_codes.INVALID_REQUEST_BODY) from exc
    parsed = UploadInput(fields={k: post.get(k) for k in post if k != "data"}, file_field="file")
    for name in files:
        if name != "file":
            parsed.fields[name] = "<file>"
    uploaded = files.get("file")
    if uploaded is not None:
        parsed.file = uploaded.file  # a NamedTemporaryFile on disk
    elif "data" in post:  # v1's base64 `data` as a text part (small files)
        parsed.fields["data"] = True
        parsed.file_field = "data"
        parsed.file = decode_base64(post.get("data") or "")
        if parsed.file is None:
            parsed.errors.append(FieldError("data", error_codes.DOCUMENT_DATA_INVALID))
    return parsed


def _json(body: SpooledBody) -> UploadInput:
    first = body.file.read(64).lstrip()
    body.file.seek(0)
    if not first.startswith(b"{"):
        if not first:
            raise ApiError(error_codes.INVALID_REQUEST_BODY)
        raise ApiError(error_codes.INVALID_MODEL)
    parsed = UploadInput(file_field="data")
    try:
        for name, value in ijson.kvitems(body.file, "", use_float=True):
            if name == "data":
                parsed.fields["data"] = True
                parsed.close()  # a repeated key: the last one counts, as in json.loads
                parsed.file = decode_base64(value) if isinstance(value, str) else None
                if parsed.file is None:
                    parsed.errors.append(FieldError("data", error_codes.DOCUMENT_DATA_INVALID))
            else:
                parsed.fields[name] = value
    except ijson.JSONError as exc:
        parsed.close()
        raise ApiError(error_codes.INVALID_REQUEST_BODY) from exc
    except ApiError:
        parsed.close()
        raise
    return parsed


def _form(body: SpooledBody) -> UploadInput:
    try:
        post = QueryDict(body.file.read(), encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(error_codes.INVALID_REQUEST_BODY) from exc
    parsed = UploadInput(fields={k: post.get(k) for k in post if k != "data"}, file_field="data")
    if "data" in post:
        parsed.fields["data"] = True
        parsed.file = decode_base64(post.get("data") or "")
        if parsed.file is None:
            parsed.errors.append(FieldError("data", error_codes.DOCUMENT_DATA_INVALID))
    return parsed


def decode_base64(text: str) -> IO[bytes] | None:
    """`text` (base64, or a `data:` URI) decoded into a temporary file; None if not base64.

    Decoded slice by slice; stops with `resource_document_too_large` as soon as the decoded
    size passes the limit, without decoding the rest.
    """
    limit: int = settings.DOCUMENT_MAX_BYTES
    match = _DATA_URI.match(text[:512])
    start = match.end() if match else 0
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    carry = ""
    written = 0
    ended = False  # padding seen: nothing may follow
    position = start
    try:
        while position < len(text) or carry:
            piece = _WHITESPACE.sub("", text[position : position + B64_SLICE])
            position += B64_SLICE
            piece = carry + piece
            last = position >= len(text)
            usable = len(piece) if last else len(piece) - len(piece) % 4
            piece, carry = piece[:usable], piece[usable:]
            if not piece:
                if last:
                    break
                continue
            if ended:
                return _invalid(out)
            stripped = piece.rstrip("=")
            padding = len(piece) - len(stripped)
            if padding:
                if padding > 2 or not last:
                    return _invalid(out)
                ended = True
            if not _B64_ALPHABET.match(stripped) or len(piece) % 4:
                return _invalid(out)
            chunk = base64.b64decode(piece, validate=True)
            written += len(chunk)
            if written > limit:
                out.close()
                raise ApiError.field("data", error_codes.DOCUMENT_TOO_LARGE)
            out.write(chunk)
            if last:
                break
    except binascii.Error:
        return _invalid(out)
    if written == 0:
        return _invalid(out)
    out.seek(0)
    return out


def _invalid(out: IO[bytes]) -> IO[bytes] | None:
    """Not base64: drop what was decoded so far."""
    out.close()
    return None
