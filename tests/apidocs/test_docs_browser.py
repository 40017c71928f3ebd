"""Swagger UI in headless Chromium with every request outside the test server refused: the
docs work offline (SPEC §10). Playwright drives Debian's chromium, as tests/admin does."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

# ReDoc's "API docs by Redocly" footer image is hard-coded in its bundle; it hides itself
# when the fetch fails (onError), so offline it is simply absent.
REDOC_ATTRIBUTION = "https://cdn.redoc.ly/redoc/logo-mini.svg"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("path", "selector", "text"),
    [
        ("/api/docs/", ".opblock-summary-path", "/{program}/v1/users"),
        ("/api/redoc/", "[data-section-id]", "Create a user"),
    ],
)
def test_docs_render_with_no_network(browser, live_server, path, selector, text):
    server = urlsplit(live_server.url).netloc
    refused: list[str] = []

    def only_local(route):  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        elif route.request.url == REDOC_ATTRIBUTION:
            route.abort()
        else:
            refused.append(route.request.url)
            route.abort()

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.route("**/*", only_local)
    try:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector(selector)
        assert text in page.inner_text("body")
        assert not refused, refused
    finally:
        context.close()
