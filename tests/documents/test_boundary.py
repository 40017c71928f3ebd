"""Issue 12: the input boundary covers upload bodies too.

The boundary middleware leaves multipart API bodies to the views' parsers (an upload must be
streamed, so nothing may read the body first) and upload routes parse JSON with a streaming
decoder: their text fields used to reach the views unchecked. Each case here sends what the
boundary refuses everywhere else (NUL, a lone surrogate, a non-finite number) in an upload's
text field; the answer is the version's 400 naming the field, and nothing is stored.
"""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import error_codes
from documents.models import Document
from tests.documents import files
from tests.documents.conftest import stored_names
from tests.documents.test_api_v1 import BASE, as_user, v1_error
from tests.users.v2_support import assert_v2_error, sources


def v2_url(user) -> str:
    return f"/{user.program.code}/v2/users/{user.public_id}/documents"


def nothing_stored(before: set[str]) -> None:
    assert not Document.objects.exists()
    assert stored_names() == before


@pytest.mark.parametrize("bad", ["pass\x00port", "0001-01-01"])
def test_v2_multipart_text_fields_pass_the_boundary(api_a, user_a, bad):
    before = stored_names()
    body = {
        "file": SimpleUploadedFile("id.png", files.png(), content_type="image/png"),
        "document_type": bad,
        "kyc_type": "ekyc",
    }
    response = api_a.post(v2_url(user_a), body, format="multipart")
    body = assert_v2_error(response, 400, error_codes.VALIDATION_ERROR)
    assert ("document_type", error_codes.INVALID_VALUE) in sources(body)
    nothing_stored(before)


def test_v2_json_upload_fields_pass_the_boundary(api_a, user_a):
    before = stored_names()
    data = base64.b64encode(files.png()).decode()
    text = f'{{"document_type": "passport", "kyc_type": "ekyc\\u0000", "data": "{data}"}}'
    response = api_a.post(v2_url(user_a), data=text, content_type="application/json")
    body = assert_v2_error(response, 400, error_codes.VALIDATION_ERROR)
    assert ("kyc_type", error_codes.INVALID_VALUE) in sources(body)
    nothing_stored(before)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        # the streaming decoder cannot hold a non-finite number: the body does not parse
        ("1e309", error_codes.INVALID_REQUEST_BODY),
        # it decodes a lone surrogate as "?", which no enumeration holds
        ('"\\ud800"', error_codes.VALIDATION_ERROR),
    ],
)
def test_v2_json_uploads_refuse_what_the_decoder_cannot_hold(api_a, user_a, raw, code):
    before = stored_names()
    data = base64.b64encode(files.png()).decode()
    text = f'{{"document_type": "passport", "kyc_type": {raw}, "data": "{data}"}}'
    response = api_a.post(v2_url(user_a), data=text, content_type="application/json")
    assert_v2_error(response, 400, code)
    nothing_stored(before)


def test_v1_upload_fields_pass_the_boundary(api_a, user_a):
    before = stored_names()
    body = {
        "data": base64.b64encode(files.png()).decode(),
        "document_type": "national_id_front\x00",
        "kyc_type": "manual",
    }
    response = api_a.post(f"{BASE}/documents", body, format="multipart", headers=as_user(user_a))
    error = v1_error(response, 400, error_codes.INVALID_VALUE)
    assert [e["field"] for e in error["errors"]] == ["document_type"]
    nothing_stored(before)


def test_v1_non_upload_multipart_bodies_pass_the_boundary(api_a, user_a):
    """Not an upload route (DELETE takes a small form): DRF's multipart parser, checked."""
    response = api_a.delete(
        f"{BASE}/documents",
        data=f'--b\r\nContent-Disposition: form-data; name="document"\r\n\r\n{"f" * 31}\x00'
        "\r\n--b--\r\n",
        content_type="multipart/form-data; boundary=b",
        headers=as_user(user_a),
    )
    error = v1_error(response, 400, error_codes.INVALID_VALUE)
    assert [e["field"] for e in error["errors"]] == ["document"]
