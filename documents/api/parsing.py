"""Upload bodies, streamed (SPEC §12): never more than one copy of the file in memory.

`spool_body` copies the raw request body to a temporary file in chunks, hashing it for the
Idempotency-Key fingerprint and stopping at the upload limit. The spooled body is then read:
- `multipart/form-data`: Django's MultiPartParser with the TemporaryFileUploadHandler only,
  so the `file` part goes straight to a temporary file;
- JSON: ijson walks the top-level object, except the base64 `data` string (a `data:` URI
  too): `_DataStrings` takes its characters out of the body as ijson reads it, unescapes them
  and decodes them into a temporary file, so the string is never held whole (10.7 MiB for an
  8 MiB file; reading such a body now takes 0.3-0.4 MB of Python allocations, 11.5 MB while
  ijson built the string). Neither ijson nor json-stream (2.5) hands out a string value in
  pieces, hence this small scanner. Decoding stops once the size limit is passed, and
  `resource_document_too_large` is raised when ijson reaches that pair (so a syntax error
  before it still answers first);
- form-encoded (v1): Django's QueryDict over the body — v1 form bodies are small or the
  client sends JSON; the JSON and multipart forms are the streamed ones.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import json
import re
import tempfile
from collections import deque
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
_PREFIX_MAX = 512  # characters in which a `data:` URI prefix must end
# `_DataStrings`: a top-level key spelled `data` takes at most 4 escapes of 6 bytes (`\u0064`)
_KEY_MAX = 24
_QUOTE, _BACKSLASH, _COMMA, _COLON = b'"\\,:'
# the bytes it stops at: outside strings, in strings, in a `data` string
_STRUCTURE = re.compile(rb'[{}\[\]",:]')
_IN_STRING = re.compile(rb'["\\]')
_NOT_SPACE = re.compile(rb"[^ \t\r\n]")
# a string's content up to its closing quote, a control character, a bad or cut escape
_STRING_RUN = re.compile(rb'(?:[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*+')
_UNESCAPE = re.compile(r'\\(?:(["\\/bfnrt])|u([0-9A-Fa-f]{4}))')
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")
_ESCAPES = {
    ord('"'): '"',
    ord("\\"): "\\",
    ord("/"): "/",
    ord("b"): "\b",
    ord("f"): "\f",
    ord("n"): "\n",
    ord("r"): "\r",
    ord("t"): "\t",
}


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
    source = _DataStrings(body.file)
    try:
        # ijson sees each top-level `data` string as "": its characters went to a decoder
        for name, value in ijson.kvitems(source, "", use_float=True):
            if name == "data":
                # a repeated key: the last one counts, as in json.loads
                parsed.fields["data"] = True
                parsed.close()
                parsed.errors = [e for e in parsed.errors if e.field != "data"]
                parsed.file = source.strings.popleft().finish() if isinstance(value, str) else None
                if parsed.file is None:
                    parsed.errors.append(FieldError("data", error_codes.DOCUMENT_DATA_INVALID))
            else:
                parsed.fields[name] = value
    except (ijson.JSONError, _InvalidString) as exc:
        parsed.close()
        raise ApiError(error_codes.INVALID_REQUEST_BODY) from exc
    except ApiError:
        parsed.close()
        raise
    finally:
        source.close()
    return parsed


class _InvalidString(ValueError):
    """The `data` string is not a JSON string (a bad escape, a control character, bad UTF-8)."""


class _DataStrings:
    """The JSON body as ijson reads it, each top-level `data` string emptied on the way.

    A top-level `data` string's characters never reach ijson: they are unescaped as they are
    read and go to a `Base64Writer`, so at no point is the string held whole (an 8 MiB file is
    a 10.7 MiB string). ijson parses and validates everything else, and sees `"data": ""`; the
    readers of those strings wait in `strings`, in order, for `_json` to claim them. This only
    tracks what it must to find those strings: nesting depth, strings and their escapes, and
    whether a top-level string is a key; if the body is not JSON, ijson says so.
    """

    def __init__(self, body: IO[bytes]) -> None:
        self.body = body
        self.strings: deque[_StringReader] = deque()
        self.depth = 0
        self.in_string = False
        self.escaped = False  # in a string, the previous byte was a backslash
        self.key: bytearray | None = None  # the raw bytes of a top-level key being read
        self.expect_key = False
        self.data_key = False  # the last top-level key was `data`
        self.await_value = False  # after `"data":`, before its value
        self.current: _StringReader | None = None

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for 0 bytes to learn the stream's type
            return b""
        # an empty answer means the end to ijson: read on while a chunk was all `data`
        while chunk := self.body.read(CHUNK):
            if out := self._scan(chunk):
                return out
        return b""

    def close(self) -> None:
        """Closes the temporary files of the strings no pair claimed."""
        for reader in self.strings:
            reader.writer.drop()
        self.strings.clear()

    def _scan(self, chunk: bytes) -> bytes:
        out: list[bytes] = []
        position, size = 0, len(chunk)
        while position < size:
            if self.current is not None:
                end = self.current.feed(chunk, position)
                if end is None:
                    break
                out.append(b'"')
                self.current = None
                position = end
            elif self.in_string:
                if self.escaped:
                    self.escaped = False
                    end = position + 1
                    self._key_bytes(chunk[position:end])
                else:
                    match = _IN_STRING.search(chunk, position)
                    end = match.end() if match else size
                    if match is None:
                        self._key_bytes(chunk[position:end])
                    elif chunk[match.start()] == _BACKSLASH:
                        self._key_bytes(chunk[position:end])
                        self.escaped = True
                    else:
                        self._key_bytes(chunk[position : end - 1])
                        self.in_string = False
                        self._key_end()
                out.append(chunk[position:end])
                position = end
            elif self.await_value:
                match = _NOT_SPACE.search(chunk, position)
                end = match.start() if match else size
                out.append(chunk[position:end])
                position = end
                if match is not None:
                    self.await_value = False
                    if chunk[end] == _QUOTE:
                        out.append(b'"')
                        position = end + 1
                        self.current = _StringReader()
                        self.strings.append(self.current)
            else:
                match = _STRUCTURE.search(chunk, position)
                end = match.end() if match else size
                out.append(chunk[position:end])
                position = end
                if match is not None:
                    self._structure(chunk[match.start()])
        return b"".join(out)

    def _structure(self, byte: int) -> None:
        if byte == _QUOTE:
            self.in_string = True
            self.key = bytearray() if self.depth == 1 and self.expect_key else None
        elif byte in b"{[":
            self.depth += 1
            if self.depth == 1:
                self.expect_key = True
        elif byte in b"}]":
            self.depth -= 1
        elif self.depth == 1 and byte == _COMMA:
            self.expect_key = True
        elif self.depth == 1 and byte == _COLON:
            self.expect_key = False
            self.await_value = self.data_key
            self.data_key = False

    def _key_bytes(self, raw: bytes) -> None:
        if self.key is not None:
            self.key += raw
            if len(self.key) > _KEY_MAX:
                self.key = None  # too long to spell `data`

    def _key_end(self) -> None:
        key, self.key = self.key, None
        try:
            self.data_key = key is not None and json.loads(b'"' + key + b'"') == "data"
        except ValueError:  # ijson refuses the body
            self.data_key = False


class _StringReader:
    """One JSON string's characters, unescaped as they arrive, into a `Base64Writer`."""

    def __init__(self) -> None:
        self.writer = Base64Writer()
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.pending = b""  # an escape cut by the end of a chunk, from its backslash

    def feed(self, chunk: bytes, position: int) -> int | None:
        """Reads `chunk` from `position`: the index past the closing quote, or None."""
        text: list[str] = []
        try:
            if self.pending:  # the escape the last chunk cut
                self.utf8.decode(b"", final=True)  # no UTF-8 sequence may be cut by it
                data = self.pending + chunk[position : position + 6]
                escape = _escape(data)
                if escape is None:  # a chunk of fewer than 6 bytes, still inside it
                    self.pending = data
                    return None
                char, length = escape
                position += length - len(self.pending)
                self.pending = b""
                text.append(char)
            # the longest run of valid string content: plain bytes and whole escapes
            match = _STRING_RUN.match(chunk, position)  # it matches, if only ""
            end = match.end() if match else position
            run = self.utf8.decode(chunk[position:end])
            if "\\\\" not in run:  # each backslash starts an escape: PHP's `\/` the fast way
                run = run.replace("\\/", "/")
            text.append(_UNESCAPE.sub(_unescaped, run) if "\\" in run else run)
            if end == len(chunk):
                self.writer.write("".join(text))
                return None
            stop = chunk[end]
            if stop == _QUOTE:
                self.utf8.decode(b"", final=True)
                self.writer.write("".join(text))
                return end + 1
            if stop == _BACKSLASH and _escape(chunk[end : end + 6]) is None:  # the chunk ends in it
                self.pending = chunk[end:]
                self.writer.write("".join(text))
                return None
            raise _InvalidString("a control character or a bad escape in a string")
        except UnicodeDecodeError as exc:
            raise _InvalidString("not UTF-8") from exc

    def finish(self) -> IO[bytes] | None:
        return self.writer.finish()


def _unescaped(match: re.Match[str]) -> str:
    if match[1]:
        return _ESCAPES[ord(match[1])]
    # a surrogate stays one character: no base64 holds it either way
    return chr(int(match[2], 16))


def _escape(data: bytes) -> tuple[str, int] | None:
    """The character that `data` (from a backslash on) escapes and the escape's length; None
    if `data` stops before the escape does."""
    if len(data) < 2:
        return None
    if data[1] == ord("u"):
        if len(data) < 6:
            return None
        if not _HEX4.fullmatch(data, 2, 6):
            raise _InvalidString("a bad \\u escape")
        return chr(int(data[2:6], 16)), 6
    if (char := _ESCAPES.get(data[1])) is None:
        raise _InvalidString("a bad escape")
    return char, 2


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
    writer = Base64Writer()
    for start in range(0, len(text), B64_SLICE):
        writer.write(text[start : start + B64_SLICE])
        if writer.too_large:
            break
    return writer.finish()


class Base64Writer:
    """Base64 text (or a `data:` URI) decoded into a temporary file as it arrives, in pieces
    of any size. Past the decoded size limit, or at the first character that is not base64,
    it decodes no more; `finish` then raises `resource_document_too_large` or returns None.
    """

    def __init__(self) -> None:
        self.limit: int = settings.DOCUMENT_MAX_BYTES
        self.out: IO[bytes] | None = tempfile.TemporaryFile()  # noqa: SIM115 - see finish
        self.head: str | None = ""  # the first characters, until a `data:` prefix is settled
        self.carry = ""  # base64 characters short of a group of 4
        self.written = 0
        self.ended = False  # padding seen: nothing may follow
        self.invalid = False
        self.too_large = False

    def write(self, text: str) -> None:
        if self.out is None:
            return
        if self.head is not None:
            self.head += text
            if len(self.head) < _PREFIX_MAX:
                return
            text = self._after_prefix()
        self._decode(text, last=False)

    def finish(self) -> IO[bytes] | None:
        """The decoded file (the caller closes it), or None; raises past the size limit."""
        if self.out is not None:
            self._decode(self._after_prefix() if self.head is not None else "", last=True)
        if self.too_large:
            raise ApiError.field("data", error_codes.DOCUMENT_TOO_LARGE)
        out, self.out = self.out, None
        if out is None or self.written == 0:
            if out is not None:
                out.close()
            return None
        out.seek(0)
        return out

    def drop(self) -> None:
        """Closes the temporary file: what was decoded so far is not wanted."""
        if self.out is not None:
            self.out.close()
            self.out = None

    def _after_prefix(self) -> str:
        head, self.head = self.head or "", None
        match = _DATA_URI.match(head[:_PREFIX_MAX])
        return head[match.end() :] if match else head

    def _decode(self, text: str, *, last: bool) -> None:
        assert self.out is not None
        piece = self.carry + _WHITESPACE.sub("", text)
        usable = len(piece) if last else len(piece) - len(piece) % 4
        piece, self.carry = piece[:usable], piece[usable:]
        if not piece:
            return
        stripped = piece.rstrip("=")
        padding = len(piece) - len(stripped)
        if self.ended or padding > 2 or len(piece) % 4 or not _B64_ALPHABET.match(stripped):
            self.invalid = True
            self.drop()
            return
        self.ended = padding > 0
        try:
            chunk = base64.b64decode(piece, validate=True)
        except binascii.Error:
            self.invalid = True
            self.drop()
            return
        self.written += len(chunk)
        if self.written > self.limit:
            self.too_large = True
            self.drop()
            return
        self.out.write(chunk)
