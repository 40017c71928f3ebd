"""The KYC documents flow through the services (documents/services.py), on both storages."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import close_old_connections, connection

from core import error_codes
from core.exceptions import ApiError
from documents import services
from documents.models import Document, DocumentRead, KycSubmission, SubmissionState
from documents.storage import document_storage
from enumerations.catalog import get_catalog
from tests.conftest import requires_postgres
from tests.documents import files
from tests.documents.conftest import kyc_ready_user, stored_names
from users import kyc
from users.lifecycle import Actor
from users.models import (
    AccountHolder,
    Channel,
    EventType,
    KycStatus,
    KycSubStatus,
    Status,
    UserEvent,
)

PARTNER = Actor("api_client", "partner-1")
OPERATOR = Actor("operator", "cleo")


def upload(user, data: bytes, document_type: str = "passport", kyc_type: str = "ekyc"):
    return services.document_upload(
        user=user,
        source=io.BytesIO(data),
        document_type=document_type,
        kyc_type=kyc_type,
        actor=PARTNER,
        channel=Channel.API_V2,
        catalog=get_catalog(),
    )


def state() -> tuple[int, int, int, set[str]]:
    return (
        Document.objects.count(),
        KycSubmission.objects.count(),
        UserEvent.objects.filter(type=EventType.DOCUMENT_UPLOADED).count(),
        stored_names(),
    )


def test_upload_read_delete_on_each_storage(
    user_a, document_store, django_capture_on_commit_callbacks
):
    data = files.pdf(pages=2)
    document = upload(user_a, data)
    assert document.content_type == "application/pdf"
    assert (document.pages, document.size) == (2, len(data))
    assert len(document.sha256) == 64
    assert document.storage_name.endswith(".pdf")
    assert document.storage_name in stored_names()
    with services.document_read(
        document=document, reader=OPERATOR, channel=Channel.ADMIN
    ) as handle:
        assert handle.read() == data
    assert DocumentRead.objects.filter(document=document, reader="cleo").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(
            user=user_a, document_id=document.public_id, actor=PARTNER, channel=Channel.API_V2
        )
    assert not Document.objects.exists()
    assert document.storage_name not in stored_names()
    assert UserEvent.objects.filter(type=EventType.DOCUMENT_DELETED).count() == 1


@pytest.mark.parametrize(
    "data",
    [files.polyglot(), files.truncated_jpeg(), files.png_bomb(), files.encrypted_pdf()],
    ids=["polyglot", "truncated", "bomb", "encrypted"],
)
def test_refused_upload_leaves_nothing(user_a, document_store, data):
    before = state()
    with pytest.raises(ApiError) as refused:
        upload(user_a, data)
    assert refused.value.errors[0].code == error_codes.DOCUMENT_FORMAT_NOT_ALLOWED
    assert state() == before


def test_unknown_types_refused_first(user_a):
    with pytest.raises(ApiError) as refused:
        upload(user_a, files.png(), document_type="birth_certificate", kyc_type="telepathy")
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("document_type", error_codes.DOCUMENT_TYPE_NOT_ALLOWED),
        ("kyc_type", error_codes.KYC_TYPE_NOT_ALLOWED),
    ]


def test_fifth_document_refused_and_its_file_removed(user_a, document_store):
    for _ in range(4):
        upload(user_a, files.png())
    before = state()
    with pytest.raises(ApiError) as refused:
        upload(user_a, files.png())
    assert refused.value.code == error_codes.DOCUMENT_LIMIT_EXCEEDED
    assert state() == before


def test_submit_needs_documents_then_prerequisites(program_a):
    user = kyc_ready_user(program_a, title=None, gender="")
    user.addresses.all().delete()
    with pytest.raises(ApiError) as refused:
        services.kyc_submit(user=user, actor=PARTNER, channel=Channel.API_V1)
    assert refused.value.code == error_codes.KYC_NO_DOCUMENTS
    upload(user, files.png())
    with pytest.raises(ApiError) as refused:
        services.kyc_submit(user=user, actor=PARTNER, channel=Channel.API_V1)
    assert refused.value.code == error_codes.KYC_PREREQUISITES_MISSING
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("title", "resource_user_title_required"),
        ("gender", "resource_user_gender_required"),
        ("address", "resource_user_address_required"),
    ]
    user.identifications.all().delete()
    with pytest.raises(ApiError) as refused:
        services.kyc_submit(user=user, actor=PARTNER, channel=Channel.API_V1)
    assert [e.field for e in refused.value.errors] == [
        "title",
        "id_type",
        "id_number",
        "country_of_issue",
        "gender",
        "address",
    ]


def test_full_flow_reject_resubmit_approve(program_a):
    program_a.kyc_required = True
    program_a.save()
    user = kyc_ready_user(program_a, status=Status.PENDING_VERIFICATION)
    first = upload(user, files.png())
    services.kyc_submit(user=user, actor=PARTNER, channel=Channel.API_V1)
    user.refresh_from_db()
    assert (user.kyc_status, user.kyc_sub_status) == (KycStatus.IN_PROGRESS, KycSubStatus.SUBMITTED)

    # a submitted KYC takes no documents and keeps the ones it has
    with pytest.raises(ApiError) as refused:
        upload(user, files.png())
    assert refused.value.code == error_codes.KYC_ALREADY_SUBMITTED
    with pytest.raises(ApiError) as refused:
        services.document_delete(
            user=user, document_id=first.public_id, actor=PARTNER, channel=Channel.API_V1
        )
    assert refused.value.code == error_codes.KYC_ALREADY_SUBMITTED

    with pytest.raises(ApiError) as refused:
        services.kyc_decide(
            user=user, approve=False, message="", actor=OPERATOR, channel=Channel.ADMIN
        )
    assert refused.value.errors[0].code == error_codes.KYC_MESSAGE_REQUIRED
    services.kyc_decide(
        user=user, approve=False, message="blurred photo", actor=OPERATOR, channel=Channel.ADMIN
    )
    user.refresh_from_db()
    assert (user.kyc_status, user.kyc_sub_status) == (KycStatus.COMPLETED, KycSubStatus.REJECTED)
    assert user.status == Status.PENDING_VERIFICATION

    # resubmission: a new submission, the old one kept
    upload(user, files.jpeg_with_gps())
    services.kyc_submit(user=user, actor=PARTNER, channel=Channel.API_V1)
    services.kyc_decide(user=user, approve=True, message="", actor=OPERATOR, channel=Channel.ADMIN)
    user.refresh_from_db()
    assert (user.kyc_status, user.kyc_sub_status) == (KycStatus.COMPLETED, KycSubStatus.APPROVED)
    assert user.status == Status.ACTIVE  # moved on through the lifecycle service
    history = list(services.submissions_of(user))
    assert [s.state for s in history] == [SubmissionState.APPROVED, SubmissionState.REJECTED]
    assert [len(s.documents.all()) for s in history] == [1, 1]
    assert history[1].message == "blurred photo"
    types = list(
        UserEvent.objects.filter(user=user).order_by("at", "id").values_list("type", flat=True)
    )
    for expected in ("document_uploaded", "kyc_submitted", "kyc_decided", "status_changed"):
        assert expected in types
    # nothing more after an approval
    with pytest.raises(ApiError) as refused:
        upload(user, files.png())
    assert refused.value.code == error_codes.KYC_ALREADY_SUBMITTED


def test_decide_needs_a_submitted_kyc(user_a):
    with pytest.raises(ApiError) as refused:
        services.kyc_decide(
            user=user_a, approve=True, message="", actor=OPERATOR, channel=Channel.ADMIN
        )
    assert refused.value.code == error_codes.KYC_NOT_SUBMITTED


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_uploads_race_for_the_fourth_slot(program_a):
    user = kyc_ready_user(program_a)
    for _ in range(3):
        upload(user, files.png())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def racer() -> None:
        try:
            barrier.wait(timeout=10)
            upload(AccountHolder.objects.get(pk=user.pk), files.png())
            outcomes.append("stored")
        except ApiError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == sorted(["stored", error_codes.DOCUMENT_LIMIT_EXCEEDED])
    assert Document.objects.filter(user=user).count() == 4
    names = set(Document.objects.values_list("storage_name", flat=True))
    storage = document_storage()
    assert all(storage.exists(name) for name in names)


@pytest.mark.parametrize(
    "document_type",
    [
        "passport",
        "national_id_front",
        "national_id_back",
        "drivers_license",
        "proof_of_address",
        "selfie",
        "residence_permit",
        "bank_statement",
    ],
)
def test_seeded_document_types_are_accepted(seeded, document_type):
    assert services.check_types(
        catalog=get_catalog(), restrictions=None, document_type=document_type, kyc_type="EKYC"
    ) == (document_type, "ekyc")


def test_program_restrictions_narrow_the_document_types(program_a):
    program_a.restrictions = {"document_types": ["passport"]}
    program_a.save()
    user = kyc_ready_user(program_a)
    with pytest.raises(ApiError) as refused:
        upload(user, files.png(), document_type="selfie")
    assert refused.value.errors[0].code == error_codes.DOCUMENT_TYPE_NOT_ALLOWED
    assert upload(user, files.png(), document_type="passport").document_type == "passport"


def test_a_decision_made_on_the_user_page_closes_the_submission(user_a):
    upload(user_a, files.png())
    services.kyc_submit(user=user_a, actor=PARTNER, channel=Channel.API_V1)
    kyc.kyc_approve(user=user_a, operator="cleo", reason="seen on the user page")
    submission = services.kyc_decide(
        user=user_a, approve=True, message="", actor=OPERATOR, channel=Channel.ADMIN
    )
    assert submission.state == SubmissionState.APPROVED
