"""A 12 MiB upload streams: the worker's Python heap grows by far less than 40 MB.

The request goes through Django's WSGI handler with the body in a file (as gunicorn hands it
over), and tracemalloc measures the peak of Python allocations while it runs: the body is
spooled to disk, the file part lands in a temporary file, and base64 is decoded slice by
slice — at no point are two copies of the file in memory.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import tempfile
import tracemalloc
from typing import Any

import pytest
from django.test import RequestFactory
from django.test.client import ClientHandler
from rest_framework.request import Request

from documents.api.parsing import SpooledBody, parse_upload
from documents.models import Document
from tests.conftest import basic
from tests.documents import files

LIMIT = 40 * 1024 * 1024
# reading a 10.7 MiB JSON body: 0.3-0.4 MB measured; 11.5 MB while ijson built the string
READ_LIMIT = 2 * 1024 * 1024


def run(path: str, body: Any, size: int, content_type: str, client: Any) -> tuple[int, int]:
    """(status, peak bytes allocated above the start) of one request whose body is a file."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(size),
        "CONTENT_TYPE": content_type,
        "HTTP_AUTHORIZATION": basic(client.client_id, client.plain_secret),
        "HTTP_IDEMPOTENCY_KEY": f"memory-{content_type[:9]}",
    }
    handler = ClientHandler(enforce_csrf_checks=False)
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        response = handler(environ)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response.status_code, peak - baseline


@pytest.fixture(scope="module")
def big_pdf() -> bytes:
    return files.pdf_of_size(8 * 1024 * 1024)


def test_12_mib_base64_json_upload(client_a, user_a, big_pdf):
    body = tempfile.TemporaryFile()  # noqa: SIM115 - the request reads it; closed at exit
    body.write(b'{"document_type": "passport", "kyc_type": "ekyc", "data": "')
    body.write(base64.b64encode(big_pdf))
    body.write(b'"}')
    size = body.tell()
    assert size > 10 * 1024 * 1024  # base64 of 8 MiB: the largest valid upload body
    body.seek(0)
    path = f"/{user_a.program.code}/v2/users/{user_a.public_id}/documents"
    status, peak = run(path, body, size, "application/json", client_a)
    assert status == 201
    assert Document.objects.get().size == len(big_pdf)
    assert peak < LIMIT, f"peak {peak / 1e6:.1f} MB"
    print(f"base64 JSON {size / 2**20:.1f} MiB body peak: {peak / 1e6:.1f} MB")


def test_8_mib_multipart_upload(client_a, user_a, big_pdf):
    boundary = "onboardboundary"
    body = tempfile.TemporaryFile()  # noqa: SIM115 - the request reads it; closed at exit
    for name, value in (("document_type", "passport"), ("kyc_type", "ekyc")):
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
    )
    body.write(big_pdf)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    size = body.tell()
    body.seek(0)
    path = f"/{user_a.program.code}/v2/users/{user_a.public_id}/documents"
    status, peak = run(path, body, size, f"multipart/form-data; boundary={boundary}", client_a)
    assert status == 201
    assert peak < LIMIT, f"peak {peak / 1e6:.1f} MB"
    print(f"multipart 8 MiB peak: {peak / 1e6:.1f} MB")


@pytest.mark.parametrize("escaped", [False, True], ids=["plain", "php-escaped-slashes"])
def test_reading_a_json_body_never_holds_the_data_string(big_pdf, escaped):
    encoded = base64.b64encode(big_pdf)
    body = tempfile.TemporaryFile()  # noqa: SIM115 - closed at exit
    body.write(b'{"document_type": "passport", "kyc_type": "ekyc", "data": "')
    body.write(encoded.replace(b"/", b"\\/") if escaped else encoded)
    body.write(b'"}')
    size = body.tell()
    body.seek(0)
    request = Request(RequestFactory().post("/", b"{}", content_type="application/json"))
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        parsed = parse_upload(
            request, SpooledBody(body, "", size), allowed=("data", "document_type", "kyc_type")
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parsed.fields == {"document_type": "passport", "kyc_type": "ekyc", "data": True}
    assert parsed.file is not None and not parsed.errors
    assert hashlib.sha256(parsed.file.read()).digest() == hashlib.sha256(big_pdf).digest()
    parsed.close()
    assert peak - baseline < READ_LIMIT, f"peak {(peak - baseline) / 1e6:.1f} MB"
    print(f"reading a {size / 2**20:.1f} MiB JSON body: peak {(peak - baseline) / 1e6:.2f} MB")
