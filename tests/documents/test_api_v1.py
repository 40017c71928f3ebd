"""v1 identity authentication (MatchMove's resources, SPEC §12)."""

from __future__ import annotations

import base64

import pytest

from core import error_codes
from documents.models import Document, KycSubmission
from tests.conftest import api_for
from tests.documents import files
from tests.documents.conftest import kyc_ready_user, stored_names
from tests.factories import ApiClientFactory
from users.models import UserEvent

BASE = "/alpha/v1/users/authentications"


@pytest.fixture
def api_a(client_a):
    return api_for(client_a)


def as_user(user) -> dict[str, str]:
    return {"X-Auth-User-ID": user.public_id}


def upload(api, user, data: bytes, fmt: str = "json", **extra):
    body = {
        "data": base64.b64encode(data).decode(),
        "document_type": "national_id_front",
        "kyc_type": "manual",
        **extra,
    }
    return api.post(f"{BASE}/documents", body, format=fmt, headers=as_user(user))


def v1_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "description", "link", "errors"}
    assert body["code"] == code
    return body


def test_empty_before_any_upload(api_a, user_a):
    body = api_a.get(f"{BASE}/documents", headers=as_user(user_a)).json()
    assert body == {
        "documents": [],
        "count": 0,
        "status": "pending",
        "sub_status": "pending_document_submission",
        "kyc_details": {},
    }


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_upload_confirm_history(api_a, user_a, client, fmt):
    response = upload(api_a, user_a, files.png(), fmt=fmt)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["status"]) == (1, "pending")
    item = body["documents"][0]
    assert set(item) == {"document_id", "document_type", "kyc_type", "link"}
    assert (item["document_type"], item["kyc_type"]) == ("national_id_front", "manual")
    assert client.get(item["link"])["Content-Type"] == "image/png"

    confirmed = api_a.put(f"{BASE}/documents", headers=as_user(user_a))
    assert confirmed.json() == {"status": "in_progress", "count": 1}
    listed = api_a.get(f"{BASE}/documents", headers=as_user(user_a)).json()
    assert (listed["status"], listed["sub_status"]) == ("in_progress", "submitted")
    v1_error(
        api_a.put(f"{BASE}/documents", headers=as_user(user_a)),
        400,
        error_codes.KYC_ALREADY_SUBMITTED,
    )
    history = api_a.get(f"{BASE}/history", headers=as_user(user_a)).json()["submissions"]
    assert [(s["status"], s["sub_status"]) for s in history] == [("in_progress", "submitted")]
    assert history[0]["documents"][0]["document_id"] == item["document_id"]


def test_prerequisites_listed(api_a, program_a):
    user = kyc_ready_user(program_a, gender=None)
    user.addresses.all().delete()
    upload(api_a, user, files.png())
    body = v1_error(
        api_a.put(f"{BASE}/documents", headers=as_user(user)),
        400,
        error_codes.KYC_PREREQUISITES_MISSING,
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("gender", "resource_user_gender_required"),
        ("address", "resource_user_address_required"),
    ]


def test_no_documents(api_a, user_a):
    v1_error(
        api_a.put(f"{BASE}/documents", headers=as_user(user_a)), 400, error_codes.KYC_NO_DOCUMENTS
    )


def test_delete_by_id_or_file_name(api_a, user_a, django_capture_on_commit_callbacks):
    first = upload(api_a, user_a, files.png()).json()["documents"][0]
    second = upload(api_a, user_a, files.pdf()).json()["documents"][1]
    with django_capture_on_commit_callbacks(execute=True):
        gone = api_a.delete(
            f"{BASE}/documents", {"document": first["document_id"]}, headers=as_user(user_a)
        )
        assert gone.json() == {"success": True}
        file_name = second["link"].rsplit("/", 1)[-1]
        assert file_name.endswith(".pdf")
        gone = api_a.delete(f"{BASE}/documents", {"document": file_name}, headers=as_user(user_a))
        assert gone.json() == {"success": True}
    assert not Document.objects.exists()
    assert stored_names() & {first["document_id"]} == set()
    v1_error(
        api_a.delete(f"{BASE}/documents", {"document": "f" * 32}, headers=as_user(user_a)),
        404,
        error_codes.DOCUMENT_NOT_FOUND,
    )
    events = UserEvent.objects.filter(user=user_a, type="document_deleted").count()
    assert events == 2


def test_invalid_base64_and_types(api_a, user_a):
    body = v1_error(
        api_a.post(
            f"{BASE}/documents",
            {"data": "%%%", "document_type": "x", "kyc_type": "manual"},
            format="json",
            headers=as_user(user_a),
        ),
        400,
        error_codes.DOCUMENT_TYPE_NOT_ALLOWED,
    )
    assert [e["code"] for e in body["errors"]] == [
        error_codes.DOCUMENT_TYPE_NOT_ALLOWED,
        error_codes.DOCUMENT_DATA_INVALID,
    ]
    body = v1_error(
        api_a.post(
            f"{BASE}/documents",
            {"data": "%%%", "document_type": "passport", "kyc_type": "manual"},
            headers=as_user(user_a),
        ),
        400,
        error_codes.DOCUMENT_DATA_INVALID,
    )
    assert not Document.objects.exists()


def test_needs_the_user_header(api_a, user_a):
    v1_error(api_a.get(f"{BASE}/documents"), 404, error_codes.USER_IMPROPER_ID)


def test_statuses_need_the_kyc_decisions_permission(api_a, user_a):
    upload(api_a, user_a, files.png())
    api_a.put(f"{BASE}/documents", headers=as_user(user_a))
    body = {"hash_id": user_a.public_id, "status": "approved"}
    v1_error(api_a.put(f"{BASE}/statuses", body), 403, error_codes.RESTRICTED_RESOURCE)
    assert KycSubmission.objects.get().state == "submitted"


def test_partner_decides_reject_then_approve(program_a, user_a):
    partner = ApiClientFactory(program=program_a, permissions=["kyc_decisions"])
    api = api_for(partner)
    upload(api, user_a, files.png())
    api.put(f"{BASE}/documents", headers=as_user(user_a))

    no_message = {"hash_id": user_a.public_id, "status": "rejected"}
    body = v1_error(api.put(f"{BASE}/statuses", no_message), 400, error_codes.KYC_MESSAGE_REQUIRED)
    bad = {"hash_id": user_a.public_id, "status": "maybe", "kyc_details": "{not json"}
    body = v1_error(api.put(f"{BASE}/statuses", bad), 400, error_codes.KYC_STATUS_INVALID)
    assert [e["field"] for e in body["errors"]] == ["status", "kyc_details"]

    reject = {
        "hash_id": user_a.public_id,
        "status": "rejected",
        "sub_status": "document_blurred",
        "message": "The photo is blurred",
        "kyc_details": '{"score": 0.2}',
        "kyc_type": "manual",
    }
    answer = api.put(f"{BASE}/statuses", reject)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "success": "true",
        "sub_status": "document_blurred",
        "kyc_details": {"score": 0.2},
        "kyc_type": "manual",
        "message": "The photo is blurred",
    }
    v1_error(api.put(f"{BASE}/statuses", reject), 400, error_codes.KYC_NOT_SUBMITTED)

    # re-upload and resubmit: a new submission, the old one kept
    assert upload(api, user_a, files.jpeg_with_gps()).status_code == 200
    assert api.put(f"{BASE}/documents", headers=as_user(user_a)).status_code == 200
    approve = {"hash_id": user_a.public_id, "status": "approved"}
    assert api.put(f"{BASE}/statuses", approve).status_code == 200
    history = api.get(f"{BASE}/history", headers=as_user(user_a)).json()["submissions"]
    assert [s["sub_status"] for s in history] == ["approved", "rejected"]
    assert history[1]["message"] == "The photo is blurred"
    user_a.refresh_from_db()
    assert (user_a.kyc_status, user_a.kyc_sub_status) == ("completed", "approved")
    decided = UserEvent.objects.filter(user=user_a, type="kyc_decided")
    assert {e.actor_kind for e in decided} == {"api_client"}
