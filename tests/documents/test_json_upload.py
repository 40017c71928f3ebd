"""The base64 `data` string of a JSON upload, read in pieces (SPEC §12, issue 14).

`documents.api.parsing` unescapes the top-level `data` string as it reads the body and decodes
it as it goes; ijson sees the rest. Each test sends what a client may write (PHP's `\\/`,
`\\u` escapes, line breaks, a `data:` URI, a repeated key) or what it must not, and checks that
the answer is what a parser holding the whole string would give. The small-chunk cases cut
every escape and every base64 group across two reads.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from core import error_codes
from documents.api import parsing
from documents.models import Document
from tests.documents import files
from tests.documents.conftest import stored_names
from tests.users.v2_support import assert_v2_error, sources


def url(user) -> str:
    return f"/{user.program.code}/v2/users/{user.public_id}/documents"


def post(api, user, body: bytes):
    return api.post(url(user), data=body, content_type="application/json")


def body_with(data: str, key: str = '"data"') -> bytes:
    """An upload body whose `data` string is `data` as written (escapes and all)."""
    return f'{{"document_type": "passport", {key}: "{data}", "kyc_type": "ekyc"}}'.encode()


def php_style(text: str) -> str:
    """PHP's json_encode: every `/` escaped."""
    return text.replace("/", "\\/")


def u_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if i % 3 == 0 else c for i, c in enumerate(text))


def line_broken(text: str) -> str:
    """MIME-style base64, lines of 76 characters joined by an escaped newline."""
    return "\\r\\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def assert_stored(pdf: bytes) -> None:
    document = Document.objects.get()
    assert (document.size, document.sha256) == (len(pdf), hashlib.sha256(pdf).hexdigest())


@pytest.fixture
def pdf() -> bytes:
    pdf = files.pdf(padding=3000)
    assert "/" in base64.b64encode(pdf).decode()  # so the `\/` cases escape something
    return pdf


@pytest.mark.parametrize("chunk", [1, 5, parsing.CHUNK])
@pytest.mark.parametrize(
    "spell",
    [php_style, u_escaped, line_broken, lambda s: php_style("data:application/pdf;base64," + s)],
    ids=["escaped-slash", "u-escapes", "line-breaks", "data-uri"],
)
def test_escapes_decode_as_json_loads_does(api_a, user_a, pdf, spell, chunk, monkeypatch):
    monkeypatch.setattr(parsing, "CHUNK", chunk)
    body = body_with(spell(base64.b64encode(pdf).decode()))
    assert json.loads(body)["data"].endswith(base64.b64encode(pdf).decode()[-8:])
    response = post(api_a, user_a, body)
    assert response.status_code == 201, response.content
    assert_stored(pdf)


@pytest.mark.parametrize("key", ['"d\\u0061ta"', '"\\u0064\\u0061\\u0074\\u0061"'])
def test_an_escaped_key_is_data(api_a, user_a, pdf, key):
    response = post(api_a, user_a, body_with(base64.b64encode(pdf).decode(), key=key))
    assert response.status_code == 201, response.content
    assert_stored(pdf)


def test_a_nested_data_string_is_not_the_file(api_a, user_a, pdf):
    body = json.dumps(
        {
            "document_type": "passport",
            "kyc_type": "ekyc",
            "data": base64.b64encode(pdf).decode(),
        }
    ).encode()
    # the same key one level down is another field's content, not the file
    nested = body[:-1] + b', "extra": {"data": "QUJD", "x": ["data", "\\"data\\""]}}'
    response = post(api_a, user_a, nested)
    body = assert_v2_error(response, 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("extra", error_codes.USER_UNKNOWN_FIELD)]


@pytest.mark.parametrize("chunk", [3, parsing.CHUNK])
def test_a_repeated_data_key_the_last_counts(api_a, user_a, pdf, chunk, monkeypatch):
    monkeypatch.setattr(parsing, "CHUNK", chunk)
    encoded = base64.b64encode(pdf).decode()
    first = f'{{"data": "{encoded}", "document_type": "passport", "kyc_type": "ekyc"'.encode()
    before = stored_names()
    refused = post(api_a, user_a, first + b', "data": "not base64!"}')
    body = assert_v2_error(refused, 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("data", error_codes.DOCUMENT_DATA_INVALID)]
    assert not Document.objects.exists() and stored_names() == before
    invalid_first = b'{"data": "not base64!", "data": 5, ' + first[1:] + b"}"
    response = post(api_a, user_a, invalid_first)
    assert response.status_code == 201, response.content
    assert_stored(pdf)


def test_oversize_stops_at_the_limit(api_a, user_a, settings):
    settings.DOCUMENT_MAX_BYTES = 3000
    before = stored_names()
    # past the limit the decoder stops: the invalid tail, two reads on, is never looked at
    data = base64.b64encode(files.pdf(padding=2 * parsing.CHUNK)).decode() + "!not base64!"
    body = assert_v2_error(post(api_a, user_a, body_with(data)), 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("data", error_codes.DOCUMENT_TOO_LARGE)]
    assert not Document.objects.exists() and stored_names() == before


@pytest.mark.parametrize("data", ["5", "null", "true", '["QUJD"]', '{"data": "QUJD"}'])
def test_data_that_is_not_a_string(api_a, user_a, data):
    body = f'{{"document_type": "passport", "kyc_type": "ekyc", "data": {data}}}'.encode()
    body = assert_v2_error(post(api_a, user_a, body), 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("data", error_codes.DOCUMENT_DATA_INVALID)]


@pytest.mark.parametrize(
    "tail",
    [
        b"QUJD",  # the body ends inside the string
        b'QUJD"',  # after it, before the closing brace
        b"QUJD\\",  # inside an escape
        b"QUJD\\u00",
        b'QU\\xJD"}',  # an escape JSON does not have
        b'QU\\u00GD"}',
        b'QU\x01JD"}',  # a control character
        b'QU\xffJD"}',  # not UTF-8
        b'QU\xc3"}',  # a UTF-8 sequence cut by the quote
        b'QUJD"} trailing',
    ],
)
def test_a_data_string_that_is_not_json(api_a, user_a, tail):
    before = stored_names()
    body = b'{"document_type": "passport", "kyc_type": "ekyc", "data": "' + tail
    with pytest.raises(ValueError):
        json.loads(body)
    assert_v2_error(post(api_a, user_a, body), 400, error_codes.INVALID_REQUEST_BODY)
    assert not Document.objects.exists() and stored_names() == before


@pytest.mark.parametrize(
    "data",
    [
        "\\ud800QUJD",  # a lone surrogate
        "QUJD\\\\/QUJD",  # an escaped backslash, then `/`: not `\/`
        "QU\\\\JD",
        "QU\\u00e9D",
        "QUJD\\tQUJD\\u0000",  # a tab is whitespace between groups, NUL is not base64
    ],
)
def test_escapes_that_are_not_base64(api_a, user_a, data):
    body = body_with(data)
    decoded = json.loads(body)["data"]
    with pytest.raises(ValueError):
        base64.b64decode(decoded.replace("\t", ""), validate=True)
    body = assert_v2_error(post(api_a, user_a, body), 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("data", error_codes.DOCUMENT_DATA_INVALID)]


@pytest.mark.parametrize(
    ("raw", "code"),
    [('"ekyc\\u0000"', error_codes.VALIDATION_ERROR), ("1e309", error_codes.INVALID_REQUEST_BODY)],
)
def test_fields_after_the_data_string_pass_the_boundary(api_a, user_a, pdf, raw, code):
    before = stored_names()
    encoded = php_style(base64.b64encode(pdf).decode())
    body = f'{{"data": "{encoded}", "document_type": "passport", "kyc_type": {raw}}}'.encode()
    answer = assert_v2_error(post(api_a, user_a, body), 400, code)
    if code == error_codes.VALIDATION_ERROR:
        assert ("kyc_type", error_codes.INVALID_VALUE) in sources(answer)
    assert not Document.objects.exists() and stored_names() == before
