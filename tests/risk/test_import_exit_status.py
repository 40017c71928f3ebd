"""`import_blacklist` exits non-zero when it rejected rows, and its --help lists the allowed
values (issue 13 item 5)."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from risk.models import Action, BlacklistEntry, EntityAttribute, MatchType

pytestmark = pytest.mark.django_db

HEADER = "entity_attribute,value,match,action,weight,reason\n"


def test_rejected_rows_make_the_exit_status_1(seeded, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        HEADER + "customer.email,ok@example.com,exact,block,,\ncustomer.x,y,exact,block,,\n"
    )
    with pytest.raises(CommandError) as raised:
        call_command("import_blacklist", str(path), "--no-progress", stdout=StringIO())
    assert raised.value.returncode == 1
    assert "1 row(s) rejected" in str(raised.value)
    assert BlacklistEntry.objects.count() == 1  # the good row is kept


def test_a_clean_file_exits_0(seeded, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(HEADER + "customer.email,ok@example.com,exact,block,,\n")
    call_command("import_blacklist", str(path), "--no-progress", stdout=StringIO())


def test_help_and_readme_list_the_allowed_values():
    result = subprocess.run(
        [sys.executable, "manage.py", "import_blacklist", "--help"],
        cwd=settings.BASE_DIR, capture_output=True, text=True, check=True, timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    text = " ".join(result.stdout.split())
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    for value in [*EntityAttribute.values, *MatchType.values, *Action.values]:
        assert value in text, value
        assert f"`{value}`" in readme, value
    assert "exit status is 1" in text
