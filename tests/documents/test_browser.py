"""The KYC review in a real browser (Playwright, Debian's headless Chromium).

An operator opens the queue, sees the uploaded image, rejects with a message; the partner
uploads again and resubmits through the API; the operator approves.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backoffice.groups import COMPLIANCE, setup_groups
from documents.models import KycSubmission
from tests.admin.conftest import PASSWORD, make_operator
from tests.conftest import api_for
from tests.documents import files
from tests.documents.conftest import kyc_ready_user

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def partner_submits(api, user) -> None:  # type: ignore[no-untyped-def]
    base = f"/{user.program.code}/v2/users/{user.public_id}"
    upload = api.post(
        f"{base}/documents",
        {
            "file": SimpleUploadedFile("passport.png", files.png(320, 200, (30, 90, 200))),
            "document_type": "passport",
            "kyc_type": "ekyc",
        },
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    assert api.post(f"{base}/kyc/submission").status_code == 200


def open_first_in_queue(page, live_server, user) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/admin/documents/kycqueueentry/")
    row = page.locator("#result_list tbody tr").first
    assert user.public_id in row.inner_text()
    with page.expect_navigation():
        row.locator("a", has_text=user.public_id).click()
    image = page.locator("img.kyc-preview").first
    image.wait_for()
    loaded = image.evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 320  # the uploaded image, served through the admin


def test_operator_rejects_partner_resubmits_operator_approves(
    page, live_server, program_a, client_a
) -> None:
    setup_groups()
    operator = make_operator("cleo.compliance", COMPLIANCE)
    user = kyc_ready_user(program_a)
    api = api_for(client_a)
    partner_submits(api, user)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/documents/kycqueueentry/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")

    open_first_in_queue(page, live_server, user)
    page.check("#id_decision_1")  # reject
    page.fill("#id_message", "The passport photo is cut off; upload the full page.")
    with page.expect_navigation():
        page.click("#kyc-decision input[type=submit]")
    assert "KYC rejected" in page.locator(".messagelist").inner_text()

    partner_submits(api, user)  # a new submission; the rejected one is kept
    open_first_in_queue(page, live_server, user)
    page.check("#id_decision_0")  # approve
    with page.expect_navigation():
        page.click("#kyc-decision input[type=submit]")
    assert "KYC approved" in page.locator(".messagelist").inner_text()

    states = list(KycSubmission.objects.filter(user=user).values_list("state", flat=True))
    assert states == ["approved", "rejected"]
    user.refresh_from_db()
    assert user.kyc_sub_status == "approved"
