"""v2 KYC documents endpoints (SPEC §12)."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from core import error_codes
from documents import services
from documents.models import Document, DocumentRead, KycSubmission
from tests.conftest import api_for
from tests.documents import files
from tests.documents.conftest import kyc_ready_user, stored_names
from tests.users.v2_support import assert_v2_error, sources
from users.lifecycle import Actor
from users.models import Channel


def url(user, suffix: str = "") -> str:
    return f"/{user.program.code}/v2/users/{user.public_id}/documents{suffix}"


def multipart(api, user, data: bytes, name: str = "id.png", declared: str = "image/png", **extra):
    body = {
        "file": SimpleUploadedFile(name, data, content_type=declared),
        "document_type": "passport",
        "kyc_type": "ekyc",
        **extra,
    }
    return api.post(url(user), body, format="multipart")


def as_json(api, user, data: str, **headers):
    body = {"data": data, "document_type": "passport", "kyc_type": "ekyc"}
    return api.post(url(user), body, format="json", headers=headers)


def nothing_stored(before: set[str]) -> None:
    assert not Document.objects.exists()
    assert stored_names() == before


@pytest.fixture
def api_a(client_a):
    return api_for(client_a)


def test_png_declared_as_pdf_is_stored_and_served_as_png(api_a, user_a):
    response = multipart(
        api_a, user_a, files.png(), name="passport.pdf", declared="application/pdf"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == ("image/png", 64, 48)
    content = api_a.get(url(user_a, f"/{body['id']}/content"))
    assert content.status_code == 200
    assert content["Content-Type"] == "image/png"
    assert content["Content-Disposition"].startswith("attachment")
    assert ".png" in content["Content-Disposition"]
    assert "passport" not in content["Content-Disposition"]
    assert Image.open(io.BytesIO(b"".join(content.streaming_content))).format == "PNG"
    assert DocumentRead.objects.count() == 1


def test_pdf_declared_as_jpeg_is_a_pdf(api_a, user_a):
    response = multipart(api_a, user_a, files.pdf(), name="selfie.jpg", declared="image/jpeg")
    assert response.status_code == 201, response.content
    assert (response.json()["content_type"], response.json()["pages"]) == ("application/pdf", 1)


def test_json_base64_and_data_uri(api_a, user_a):
    encoded = base64.b64encode(files.pdf()).decode()
    assert as_json(api_a, user_a, encoded).status_code == 201
    response = as_json(api_a, user_a, "data:application/pdf;base64," + encoded)
    assert response.status_code == 201, response.content
    assert Document.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (files.polyglot(), "file", error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.truncated_jpeg(), "file", error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.png_bomb(), "file", error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.encrypted_pdf(), "file", error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.pdf_with_javascript(), "file", error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (b"", "file", error_codes.DOCUMENT_DATA_INVALID),
    ],
    ids=["polyglot", "truncated", "bomb", "encrypted", "javascript", "empty"],
)
def test_bad_files_refused_nothing_stored(api_a, user_a, data, field, code):
    before = stored_names()
    response = multipart(api_a, user_a, data)
    body = assert_v2_error(response, 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [(field, code)]
    nothing_stored(before)


@pytest.mark.parametrize(
    "data", ["not base64 at all!", "QUJD=QUJD", "", "QUJDR", "data:image/png;base64,"]
)
def test_invalid_base64_refused(api_a, user_a, data):
    before = stored_names()
    body = assert_v2_error(as_json(api_a, user_a, data), 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("data", error_codes.DOCUMENT_DATA_INVALID)]
    nothing_stored(before)


def test_8_mib_plus_one_refused(api_a, user_a, settings):
    before = stored_names()
    data = base64.b64encode(files.pdf_of_size(settings.DOCUMENT_MAX_BYTES + 1)).decode()
    body = assert_v2_error(as_json(api_a, user_a, data), 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("data", error_codes.DOCUMENT_TOO_LARGE)]
    nothing_stored(before)


def test_body_over_the_upload_limit_is_413(api_a, user_a, settings):
    settings.UPLOAD_MAX_BODY_BYTES = 4096
    response = as_json(api_a, user_a, "A" * 8000)
    assert_v2_error(response, 413, error_codes.REQUEST_TOO_LARGE)


def test_other_routes_keep_the_default_limit(api_a, user_a, settings):
    big = {"first_name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)}
    response = api_a.put(f"/{user_a.program.code}/v2/users/{user_a.public_id}", big, format="json")
    assert_v2_error(response, 413, error_codes.REQUEST_TOO_LARGE)


def test_unknown_types_and_fields(api_a, user_a):
    response = multipart(api_a, user_a, files.png(), document_type="diary", colour="red")
    body = assert_v2_error(response, 400, error_codes.VALIDATION_ERROR)
    assert ("colour", error_codes.USER_UNKNOWN_FIELD) in sources(body)
    response = multipart(api_a, user_a, files.png(), document_type="diary")
    body = assert_v2_error(response, 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("document_type", error_codes.DOCUMENT_TYPE_NOT_ALLOWED)]


def test_fifth_document_refused(api_a, user_a):
    for _ in range(4):
        assert multipart(api_a, user_a, files.png()).status_code == 201
    before = stored_names()
    body = assert_v2_error(
        multipart(api_a, user_a, files.png()), 400, error_codes.DOCUMENT_LIMIT_EXCEEDED
    )
    assert body["source"] == []
    assert stored_names() == before
    assert Document.objects.count() == 4


def test_submitted_kyc_takes_no_upload(api_a, user_a):
    multipart(api_a, user_a, files.png())
    response = api_a.post(url(user_a).replace("/documents", "/kyc/submission"))
    assert response.status_code == 200, response.content
    assert (response.json()["kyc_status"], response.json()["kyc_sub_status"]) == (
        "in_progress",
        "submitted",
    )
    assert_v2_error(multipart(api_a, user_a, files.png()), 400, error_codes.KYC_ALREADY_SUBMITTED)
    document = Document.objects.get()
    response = api_a.delete(url(user_a, f"/{document.public_id}"))
    assert_v2_error(response, 400, error_codes.KYC_ALREADY_SUBMITTED)


def test_submission_prerequisites(api_a, program_a):
    user = kyc_ready_user(program_a, title=None)
    submit = url(user).replace("/documents", "/kyc/submission")
    assert_v2_error(api_a.post(submit), 400, error_codes.KYC_NO_DOCUMENTS)
    multipart(api_a, user, files.png())
    body = assert_v2_error(api_a.post(submit), 400, error_codes.KYC_PREREQUISITES_MISSING)
    assert sources(body) == [("title", "resource_user_title_required")]


def test_another_programs_user_is_not_found(client_b, user_a):
    api_b = api_for(client_b)
    before = stored_names()
    response = api_b.post(
        f"/{client_b.program.code}/v2/users/{user_a.public_id}/documents",
        {
            "file": SimpleUploadedFile("a.png", files.png()),
            "document_type": "passport",
            "kyc_type": "ekyc",
        },
        format="multipart",
    )
    assert_v2_error(response, 404, error_codes.USER_RECORD_NOT_FOUND)
    nothing_stored(before)


def test_read_only_client_cannot_upload(readonly_client_a, user_a):
    response = multipart(api_for(readonly_client_a), user_a, files.png())
    assert_v2_error(response, 403, error_codes.RESTRICTED_RESOURCE)
    assert not Document.objects.exists()


def test_metadata_signed_link_and_delete(api_a, user_a, client, django_capture_on_commit_callbacks):
    created = multipart(api_a, user_a, files.pdf()).json()
    meta = api_a.get(url(user_a, f"/{created['id']}"))
    assert meta.status_code == 200
    link = meta.json()["download_url"]
    assert link.startswith("http://testserver/documents/")
    anonymous = client.get(link)  # no API credentials: the signature grants it
    assert anonymous.status_code == 200
    assert anonymous["Content-Type"] == "application/pdf"
    read = DocumentRead.objects.get()
    assert (read.reader_kind, read.channel) == ("api_client", "api_v2")
    assert client.get(link[:-10] + "x" * 6 + link[-4:]).status_code == 404
    listed = api_a.get(url(user_a)).json()
    assert [d["id"] for d in listed["data"]] == [created["id"]]
    with django_capture_on_commit_callbacks(execute=True):
        assert api_a.delete(url(user_a, f"/{created['id']}")).status_code == 204
    assert_v2_error(
        api_a.get(url(user_a, f"/{created['id']}")), 404, error_codes.DOCUMENT_NOT_FOUND
    )
    assert api_a.get(url(user_a)).json()["data"] == []


def test_link_expires_after_15_minutes(api_a, user_a, client, settings):
    created = multipart(api_a, user_a, files.png()).json()
    link = api_a.get(url(user_a, f"/{created['id']}")).json()["download_url"]
    settings.DOCUMENT_LINK_MAX_AGE = -1
    assert client.get(link).status_code == 404


def test_idempotent_upload_replays(api_a, user_a):
    data = base64.b64encode(files.png()).decode()
    first = as_json(api_a, user_a, data, **{"Idempotency-Key": "up-1"})
    second = as_json(api_a, user_a, data, **{"Idempotency-Key": "up-1"})
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert Document.objects.count() == 1
    other = as_json(
        api_a, user_a, base64.b64encode(files.pdf()).decode(), **{"Idempotency-Key": "up-1"}
    )
    assert_v2_error(other, 422, error_codes.IDEMPOTENCY_KEY_REUSED)


def test_list_queries_do_not_grow_with_documents(api_a, user_a):
    multipart(api_a, user_a, files.png())
    with CaptureQueriesContext(connection) as one:
        assert api_a.get(url(user_a)).status_code == 200
    for _ in range(3):
        multipart(api_a, user_a, files.png())
    with CaptureQueriesContext(connection) as four:
        assert len(api_a.get(url(user_a)).json()["data"]) == 4
    assert len(four) == len(one)


def test_decided_submission_history_kept(api_a, user_a):
    multipart(api_a, user_a, files.png())
    api_a.post(url(user_a).replace("/documents", "/kyc/submission"))
    services.kyc_decide(
        user=user_a,
        approve=False,
        message="glare",
        actor=Actor("operator", "cleo"),
        channel=Channel.ADMIN,
    )
    assert multipart(api_a, user_a, files.png()).status_code == 201
    assert KycSubmission.objects.filter(user=user_a).count() == 2
    listed = api_a.get(url(user_a)).json()
    assert len(listed["data"]) == 1
    assert listed["kyc_sub_status"] == "rejected"


def test_unsupported_media_type(api_a, user_a):
    response = api_a.post(url(user_a), b"abc", content_type="text/plain")
    assert_v2_error(response, 415, error_codes.UNSUPPORTED_MEDIA_TYPE)


def raw_multipart(boundary: str, data: bytes) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="document_type"\r\n\r\npassport\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="kyc_type"\r\n\r\nekyc\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n",
    ]
    return "".join(parts).encode() + data + f"\r\n--{boundary}--\r\n".encode()


def test_idempotent_multipart_retry_with_another_boundary_replays(api_a, user_a):
    data = files.png()
    answers = [
        api_a.post(
            url(user_a),
            raw_multipart(boundary, data),
            content_type=f"multipart/form-data; boundary={boundary}",
            headers={"Idempotency-Key": "retry-1"},
        )
        for boundary in ("first-boundary", "second-boundary")
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert Document.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[1, 2]", error_codes.INVALID_MODEL),
        (b'{"data": ', error_codes.INVALID_REQUEST_BODY),
        (b"", error_codes.INVALID_REQUEST_BODY),
    ],
)
def test_malformed_json_bodies(api_a, user_a, body, code):
    response = api_a.post(url(user_a), body, content_type="application/json")
    assert_v2_error(response, 400, code)
    assert not Document.objects.exists()


def test_data_of_the_wrong_type(api_a, user_a):
    response = api_a.post(
        url(user_a),
        {"data": {"nested": 1}, "document_type": "passport", "kyc_type": "ekyc"},
        format="json",
    )
    body = assert_v2_error(response, 400, error_codes.VALIDATION_ERROR)
    assert sources(body) == [("data", error_codes.DOCUMENT_DATA_INVALID)]
