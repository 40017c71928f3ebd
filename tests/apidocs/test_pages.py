"""The public pages (SPEC §10): the landing page, offline Swagger UI / ReDoc, and the error
catalogue — complete for every code the code base defines, now and when codes are added."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apidocs import catalogue
from core import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_catalogue():  # type: ignore[no-untyped-def]
    catalogue.catalogue.cache_clear()
    yield
    catalogue.catalogue.cache_clear()


def _rows(html: str) -> dict[str, list[str]]:
    rows = {}
    for code, body in re.findall(r'<tr id="([a-z0-9_]+)">(.*?)</tr>', html, re.S):
        rows[code] = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td>(.*?)</td>", body, re.S)
        ]
    return rows


def test_every_code_constant_has_an_anchored_complete_row(fresh_catalogue):
    response = Client().get("/api/docs/errors/")
    assert response.status_code == 200
    rows = _rows(response.content.decode())
    constants = catalogue.module_codes()
    assert len(constants) > 40  # the module's constants, whatever their number
    missing = sorted(set(constants.values()) - set(rows))
    assert not missing, missing
    for code in [*constants.values(), *error_codes.DESCRIPTIONS]:
        code_cell, status, versions, meaning, cause, fix = rows[code]
        assert code_cell == code
        assert re.fullmatch(r"\d{3}(, \d{3})*", status), (code, status)
        assert versions in ("v1", "v2", "v1, v2"), (code, versions)
        assert meaning and cause and fix, code


def test_every_code_the_schema_documents_is_in_the_catalogue(fresh_catalogue):
    schema = Client().get("/api/schema/?format=json").json()
    documented = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status >= "400":
                    documented |= set(re.findall(r"`([a-z0-9_]+)`", response["description"]))
    rows = _rows(Client().get("/api/docs/errors/").content.decode())
    assert documented and not (documented - set(rows)), documented - set(rows)
    assert "404" in rows["user_record_not_found"][1]
    assert "404" in rows["resource_user_address_type_invalid"][1]
    # v2-only field rules (addresses, tax residencies) are listed, as v2 source codes
    assert rows["resource_user_address_country_not_allowed"][1:3] == ["400", "v2"]
    assert rows["resource_user_tax_residency_tin_rule"][2] == "v2"
    assert rows["resource_user_first_name_lengthmax"][2] == "v1, v2"


def test_a_code_added_later_is_listed_without_touching_the_catalogue(fresh_catalogue, monkeypatch):
    monkeypatch.setattr(error_codes, "SOMETHING_NEW", "something_new_happened", raising=False)
    monkeypatch.setitem(error_codes.DESCRIPTIONS, "something_new_happened", "Something new.")
    rows = _rows(Client().get("/api/docs/errors/").content.decode())
    assert rows["something_new_happened"][3] == "Something new."


def test_specific_guidance_and_filled_placeholders(fresh_catalogue):
    rows = _rows(Client().get("/api/docs/errors/").content.decode())
    assert "X-Auth-User-ID" in rows["user_improper_id"][4]
    assert (
        rows["resource_user_email_required"][4] == "`email` is missing and the program requires it."
    )
    assert not [row[3] for row in rows.values() if "{" in row[3]]  # placeholders shown by name


def test_landing_page_links_docs_admin_and_health(db):
    response = Client().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for href in ("/api/docs/", "/api/redoc/", "/api/docs/errors/", "/admin/", "/healthz"):
        assert f'href="{href}"' in html
    assert Client().post("/").status_code == 405


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_load_only_local_assets(db, path):
    html = Client().get(path).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/drf_spectacular_sidecar/") for s in sources), (
        sources
    )
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


def test_readme_and_guide_link_nothing_outside_the_repository():
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    for document in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)", document.read_text()):
            if target.startswith(("http://127.0.0.1", "http://localhost")):
                continue
            assert "://" not in target, (document.name, target)
            path = (document.parent / target).resolve()
            assert path.is_relative_to(root.resolve()) and path.exists(), (document.name, target)
