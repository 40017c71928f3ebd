"""The back-office in a real browser: Playwright driving Debian's headless Chromium.

The browser and a page per test are the shared fixtures of tests/conftest.py (Debian's
`/usr/bin/chromium`; a failing test leaves a screenshot in `test-artifacts/`).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from backoffice.groups import COMPLIANCE, SUPPORT
from risk.models import Screening
from tests.admin.conftest import PASSWORD, make_operator
from tests.conftest import ARTIFACTS
from tests.factories import AccountHolderFactory
from users.models import Address, Identification, StatusChange, UserEvent

sync_api = pytest.importorskip("playwright.sync_api")

DOCS_SCREENSHOT = Path(settings.BASE_DIR) / "docs" / "admin-user.png"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/admin/login/?next=/admin/users/accountholder/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#changelist")


def richly_recorded_user(program):  # type: ignore[no-untyped-def]
    """A user with documents, an address, history and a screening: what operators look at."""
    user = AccountHolderFactory(
        program=program,
        first_name="Grace",
        last_name="Hopper",
        email="grace.hopper@example.com",
        mobile_country_code="65",
        mobile="91234567",
        nationality="USA",
        birth_date=timezone.now().date() - timedelta(days=365 * 40),
        client_ref_id="REF-0001",
        customer_id="CUST-0001",
    )
    Identification.objects.create(
        user=user,
        program=program,
        id_type="passport",
        number="E12345678",
        country_of_issue="USA",
    )
    Address.objects.create(
        user=user, type="residential", address_1="1 Fusionopolis Way", city="Singapore"
    )
    UserEvent.objects.create(
        user=user,
        type="created",
        actor_kind="api_client",
        actor_id="cl_demo",
        channel="api_v2",
        at=timezone.now(),
    )
    Screening.objects.create(
        user=user,
        program=program,
        trigger="create",
        outcome="clear",
        score=0,
        threshold=100,
        matcher_version="1",
        created_at=timezone.now(),
    )
    return user


def test_operator_finds_a_user_by_email_and_suspends_with_a_reason(
    page, live_server, program_a
) -> None:
    operator = make_operator("cleo.compliance", COMPLIANCE)
    user = richly_recorded_user(program_a)
    AccountHolderFactory.create_batch(3, program=program_a)
    log_in(page, live_server, operator.username)

    page.fill("#searchbar", "GRACE.HOPPER@example.com")
    with page.expect_navigation():
        page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert user.public_id in rows.first.inner_text()
    assert "grace.hopper" not in rows.first.inner_text()  # masked in the list

    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "suspend_users")
    page.click("button[name=index]")
    page.wait_for_selector("#action-confirmation-form")
    page.fill("textarea[name=reason]", "Card reported stolen, ticket 4711")
    page.click("#action-confirmation-form input[type=submit]")

    assert "1 suspended" in page.locator(".messagelist").inner_text()
    page.click(f"text={user.public_id}")
    history = page.locator("#status_changes-group")
    assert "suspended" in history.inner_text()
    assert "Card reported stolen, ticket 4711" in history.inner_text()
    assert StatusChange.objects.get(user=user).actor_id == operator.username

    # the README's picture of the user page; refreshed on demand, not on every run
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") or not DOCS_SCREENSHOT.exists():
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)


def test_support_does_not_see_compliance_actions(page, live_server, program_a) -> None:
    operator = make_operator("sam.support", SUPPORT)
    user = richly_recorded_user(program_a)
    log_in(page, live_server, operator.username)

    options = page.locator("select[name=action] option").all_inner_texts()
    assert any("Lock" in o for o in options) and any("Re-activate" in o for o in options)
    assert not any("Suspend" in o or "Block" in o for o in options)

    page.click(f"text={user.public_id}")
    tools = page.locator(".object-tools").text_content() or ""
    assert "Change status" in tools and "Add note" in tools
    for compliance_tool in ("KYC review", "Risk exemption", "Mark verified", "Wallet created"):
        assert compliance_tool not in tools
    assert page.locator("#screenings-group").count() == 0

    response = page.goto(f"{live_server.url}/admin/users/accountholder/{user.pk}/risk/")
    assert response is not None and response.status == 403


def test_users_changelist_fits_1280_pixels(browser, live_server, program_a) -> None:  # type: ignore[no-untyped-def]
    """Status, KYC and risk are visible at 1280 x 800 without scrolling sideways."""
    operator = make_operator("cleo.compliance", COMPLIANCE)
    richly_recorded_user(program_a)
    AccountHolderFactory.create_batch(3, program=program_a)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server, operator.username)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-users-1280.png"))
        for column in ("status_badge", "kyc_badge", "risk_badge"):
            for cell in (f"th.column-{column}", f"td.field-{column}"):
                box = page.locator(cell).first.bounding_box()
                assert box is not None, cell
                assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, (cell, box)
                assert box["y"] + box["height"] <= 800, (cell, box)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 1280, scroll_width
        # nor does the table scroll inside its own box
        results = page.locator("#changelist .results")
        overflow = results.evaluate("e => e.scrollWidth - e.clientWidth")
        assert overflow <= 0, overflow
        # "View site" leads to the landing page at /
        assert page.locator("#user-tools a", has_text="View site").get_attribute("href") == "/"
    finally:
        context.close()
