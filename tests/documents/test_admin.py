"""The KYC back-office: queue, review page with previews, recorded reads, the decision."""

from __future__ import annotations

import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from documents import services
from documents.models import DocumentRead, KycSubmission
from enumerations.catalog import get_catalog
from tests.admin.conftest import logged_in
from tests.documents import files
from tests.documents.conftest import kyc_ready_user
from users.lifecycle import Actor
from users.models import Channel

PARTNER = Actor("api_client", "partner-1")


def submitted(program, *, data: bytes | None = None, ago: int = 0):
    user = kyc_ready_user(program)
    services.document_upload(
        user=user,
        source=io.BytesIO(data or files.png()),
        document_type="passport",
        kyc_type="ekyc",
        actor=PARTNER,
        channel=Channel.API_V2,
        catalog=get_catalog(),
    )
    submission = services.kyc_submit(user=user, actor=PARTNER, channel=Channel.API_V2)
    if ago:
        KycSubmission.objects.filter(pk=submission.pk).update(
            submitted_at=timezone.now() - timedelta(hours=ago)
        )
    return user, submission


QUEUE = "/admin/documents/kycqueueentry/"


def review_url(submission) -> str:
    return reverse("admin:documents_kycsubmission_review", args=[submission.pk])


def test_queue_oldest_first_with_age(program_a, support):
    _, newer = submitted(program_a, ago=1)
    _, older = submitted(program_a, ago=30)
    page = support.get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(older.user.public_id) < html.index(newer.user.public_id)
    assert "1\xa0day" in html  # the age of the older one


def test_review_page_previews_and_reads(program_a, support, support_user):
    user, submission = submitted(program_a)
    page = support.get(review_url(submission))
    assert page.status_code == 200
    html = page.content.decode()
    document = submission.documents.get()
    content = reverse("admin:documents_document_content", args=[document.public_id])
    assert f'<img src="{content}"' in html
    # identity beside the documents (masked for support, SPEC §15)
    assert "****" + user.identifications.get().number[-4:] in html
    assert 'id="kyc-decision"' not in html  # support sees, cannot decide
    image = support.get(content)
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline")
    read = DocumentRead.objects.get()
    assert (read.reader, read.operator, read.channel) == ("sam.support", support_user, "admin")


def test_pdf_is_a_download_link(program_a, support):
    _, submission = submitted(program_a, data=files.pdf(pages=2))
    html = support.get(review_url(submission)).content.decode()
    assert "Download PDF (2 pages)" in html


def test_support_cannot_decide(program_a, support):
    _, submission = submitted(program_a)
    response = support.post(review_url(submission), {"decision": "approve"})
    assert response.status_code == 403
    assert KycSubmission.objects.get().state == "submitted"


def test_compliance_rejects_with_message_then_approves(program_a, compliance):
    user, submission = submitted(program_a)
    refused = compliance.post(review_url(submission), {"decision": "reject", "message": ""})
    assert refused.status_code == 200
    assert "needs a message" in refused.content.decode()
    done = compliance.post(review_url(submission), {"decision": "reject", "message": "glare"})
    assert done.status_code == 302
    submission.refresh_from_db()
    assert (submission.state, submission.message, submission.decided_by) == (
        "rejected",
        "glare",
        "cleo.compliance",
    )
    user.refresh_from_db()
    assert user.kyc_sub_status == "rejected"
    # decided: the page shows it, without a form
    assert 'id="kyc-decision"' not in compliance.get(review_url(submission)).content.decode()


def test_user_page_lists_documents(program_a, compliance):
    user, submission = submitted(program_a)
    page = compliance.get(reverse("admin:users_accountholder_change", args=[user.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "KYC documents" in html
    assert reverse("admin:documents_kycsubmission_review", args=[submission.pk]) in html
    assert "submitted · review" in html


def test_no_access_without_user_view_permission(program_a, staff_no_group):
    _, submission = submitted(program_a)
    client = logged_in(staff_no_group)
    assert client.get(review_url(submission)).status_code == 403
    document = submission.documents.get()
    content = reverse("admin:documents_document_content", args=[document.public_id])
    assert client.get(content).status_code == 403
    assert not DocumentRead.objects.exists()
