"""The document scenarios: the files they send, their user pools, the list's query count."""

from __future__ import annotations

import base64
import importlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from bench import dataset, documents, run
from bench.build import build_scenarios
from bench.run import RssProbe
from bench.scenarios import Probe, Scenario, basic_auth
from documents.models import Document
from tests.bench.test_run import _server_url as run_url
from tests.conftest import requires_postgres
from tests.factories import AccountHolderFactory
from users.models import AccountHolder

pytestmark = pytest.mark.urls("bench.urls")


@pytest.fixture
def loaded(seeded):
    programs = dataset.ensure_programs()
    dataset.load_users(count=120, programs=programs, progress=False)
    return programs[0], dataset.issue_credentials(programs[0])


def test_the_files_are_what_they_claim() -> None:
    jpeg = documents.photo_jpeg(100_000)
    assert 90_000 <= len(jpeg) <= 110_000
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    pdf = documents.pdf_of_size(3 * 1024 * 1024)
    assert len(pdf) == 3 * 1024 * 1024
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    body = documents.multipart_body(b"%PDF-bytes", "a.pdf", "application/pdf")
    assert body.count(f"--{documents.BOUNDARY}".encode()) == 4  # 3 parts and the closing one
    assert body.endswith(f"\r\n--{documents.BOUNDARY}--\r\n".encode())
    decoded = json.loads(documents.base64_json_body(b"\x00\xff" * 10))
    assert decoded == {
        "document_type": "passport",
        "kyc_type": "ekyc",
        "data": base64.b64encode(b"\x00\xff" * 10).decode(),
    }


def test_upload_pools_never_ask_a_user_for_a_fifth_document(loaded, tmp_path, settings) -> None:
    program, credentials = loaded
    uploads, holders = documents.document_scenarios(
        program=program, client_id=credentials.client_id, files_dir=tmp_path, count=5
    )
    keys = ["v2_upload_100kb", "v2_upload_8mib", "v2_upload_8mib_base64"]
    assert [s.key for s in uploads] == keys
    seen: set[str] = set(holders)
    for scenario in uploads:
        assert scenario.pool_exhaust and scenario.expect == (201,)
        users = set(scenario.pool)
        # every user at most 4 times, in rounds: a user comes back only after all the others
        per_user = settings.DOCUMENT_MAX_PER_SUBMISSION
        assert all(scenario.pool.count(u) == per_user for u in users)
        assert scenario.pool[: len(users)] == scenario.pool[len(users) : 2 * len(users)]
        mine = users | set(scenario.probe_pool)
        assert not mine & seen  # pools are disjoint, and apart from the list's users
        seen |= mine
        assert not Document.objects.filter(user__public_id__in=mine).exists()
    assert (tmp_path / "v2_upload_8mib.body").stat().st_size > 8 * 1024 * 1024


def test_documents_list_users_hold_one_to_four_documents(loaded, tmp_path) -> None:
    program, credentials = loaded
    holders = documents.list_users(program, credentials.client_id, count=6)
    held = [Document.objects.filter(user__public_id=u).count() for u in holders]
    assert held == [1, 2, 3, 4, 1, 2]
    # seeded once: a second preparation (a --reuse run) uploads nothing more
    assert documents.list_users(program, credentials.client_id, count=6) == holders
    assert Document.objects.count() == sum(held)


def test_documents_list_queries_do_not_grow_with_the_documents(loaded, tmp_path) -> None:
    program, credentials = loaded
    holders = documents.list_users(program, credentials.client_id, count=4)
    probe = Probe(
        authorization=basic_auth(credentials.client_id, credentials.client_secret),
        mobile_base=dataset.CREATED_MOBILE_BASE,
    )
    queries = {}
    for held, user in zip((1, 2, 3, 4), holders, strict=True):
        scenario = Scenario(
            key=f"list{held}",
            label="list",
            method="GET",
            path=f"/{program.code}/v2/users/{{id}}/documents",
            pool=[user],
        )
        probe.check(scenario)
        assert not scenario.failure and not scenario.missing
        status, content = probe.request(scenario)
        assert status == 200 and len(json.loads(content)["data"]) == held
        queries[held] = scenario.queries
    assert len(set(queries.values())) == 1, queries
    # the bench's own scenario lists those users
    scenarios, _ = build_scenarios(
        program=program, credentials=credentials, run_id="d0c", files_dir=tmp_path, list_users=4
    )
    listing = next(s for s in scenarios if s.key == "v2_documents_list")
    assert listing.pool == holders


def test_without_document_scenarios_nothing_is_prepared(loaded, tmp_path) -> None:
    program, credentials = loaded
    scenarios, _ = build_scenarios(
        program=program,
        credentials=credentials,
        run_id="0d0",
        files_dir=tmp_path,
        with_documents=False,
    )
    assert not any(s.documents_of for s in scenarios)
    assert not Document.objects.exists() and not list(tmp_path.iterdir())
    assert AccountHolder.objects.count() == 120


def test_rss_probe_sees_a_child_grow() -> None:
    # a child that allocates and touches 60 MB when told to
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; sys.stdin.readline(); b = b'x' * 60_000_000; "
            "print('ok', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.2)
        probe = RssProbe(master=os.getpid())
        probe.start()
        assert child.pid in probe.before
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ok"
        result = probe.finish()
    finally:
        child.stdin.write("done\n")
        child.stdin.flush()
        child.wait(timeout=10)
    mine = next(w for w in result["workers"] if w["pid"] == child.pid)
    assert 55 <= mine["peak_increase_mb"] <= 80, mine
    assert result["hwm_reset"] is True


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_largest_upload_raises_a_gunicorn_workers_peak_rss_by_less_than_40_mb(
    seeded, settings, tmp_path, monkeypatch
) -> None:
    """The real figure (not the Python heap): one sync worker, warmed up by a small upload,
    then 8 MiB PDF uploads as multipart (the first PDF the worker reads) and as base64 JSON
    (10.7 MiB bodies, the largest valid upload), its VmHWM read around each three."""
    settings.API_SECRET_PEPPER = importlib.import_module("config.settings.bench").API_SECRET_PEPPER
    monkeypatch.setenv("ONBOARD_DOCUMENT_ROOT", str(tmp_path / "documents"))
    program, _ = dataset.ensure_programs()
    credentials = dataset.issue_credentials(program)
    multipart = f"multipart/form-data; boundary={documents.BOUNDARY}"
    small = tmp_path / "small.body"
    small.write_bytes(documents.multipart_body(documents.photo_jpeg(), "id.jpg", "image/jpeg"))
    pdf = documents.pdf_of_size()
    large_multipart = tmp_path / "large-multipart.body"
    large_multipart.write_bytes(documents.multipart_body(pdf, "id.pdf", "application/pdf"))
    large_json = tmp_path / "large.body"
    large_json.write_bytes(documents.base64_json_body(pdf))
    assert large_json.stat().st_size > 10 * 1024 * 1024

    def job(user: AccountHolder, body: Path, content_type: str, count: int) -> dict:
        return {
            "host": "127.0.0.1",
            "port": server.port,
            "concurrency": 1,
            "duration": 60,
            "max_requests": count,
            "warmup": 0,
            "request": {
                "method": "POST",
                "path": f"/{program.code}/v2/users/{user.public_id}/documents",
                "headers": {
                    "Authorization": basic_auth(credentials.client_id, credentials.client_secret),
                    "Content-Type": content_type,
                },
                "body": None,
                "body_file": str(body),
            },
        }

    rises: dict[str, float] = {}
    server = run.Server(run_url(), workers=1, log_path=tmp_path / "gunicorn.log")
    try:
        for name, body, content_type in (
            ("multipart", large_multipart, multipart),
            ("base64 JSON", large_json, "application/json"),
        ):
            user = AccountHolderFactory(program=program)  # four documents at most per user
            warm = run.drive(job(user, small, multipart, 1))
            assert warm["statuses"] == {"201": 1}, warm.get("sample_error")
            probe = RssProbe(server.process.pid)
            probe.start()
            result = run.drive(job(user, body, content_type, 3))
            rss = probe.finish()
            assert result["statuses"] == {"201": 3}, (name, result.get("sample_error"))
            assert Document.objects.filter(user=user).count() == 4
            (worker,) = rss["workers"]
            assert rss["hwm_reset"] and not rss["replaced_workers"]
            rises[name] = worker["peak_increase_mb"]
    finally:
        server.stop()
    print(
        ", ".join(
            f"8 MiB {name} upload: worker peak RSS +{mb:.1f} MB" for name, mb in rises.items()
        )
    )
    assert all(mb < 40 for mb in rises.values()), rises
