"""The content check (documents/content.py): judged by the bytes, never by a name."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core import error_codes
from documents.content import ContentRefused, check_content
from tests.documents import files


def test_png_passes_re_encoded_without_metadata():
    checked = check_content(io.BytesIO(files.png(64, 48)))
    assert (checked.content_type, checked.width, checked.height) == ("image/png", 64, 48)
    stored = Image.open(checked.file)
    assert stored.format == "PNG"
    assert "Author" not in stored.info


def test_jpeg_loses_exif_gps_and_comment():
    source = files.jpeg_with_gps()
    assert Image.open(io.BytesIO(source)).getexif().get(0x8825)  # the input has GPS
    checked = check_content(io.BytesIO(source))
    data = checked.file.read()
    assert checked.size == len(data)
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert "comment" not in stored.info


def test_pdf_passes_as_is_with_pages():
    data = files.pdf(pages=3)
    checked = check_content(io.BytesIO(data))
    assert (checked.content_type, checked.pages) == ("application/pdf", 3)
    assert checked.file.read() == data


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (files.polyglot(), error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.truncated_jpeg(), error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.png_bomb(), error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.encrypted_pdf(), error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.pdf_with_javascript(open_action=True), error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (files.pdf_with_javascript(open_action=False), error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (b"GIF89a" + b"\0" * 100, error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (b"just some text, named passport.pdf", error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (b"%PDF-1.7\nnot really a pdf", error_codes.DOCUMENT_FORMAT_NOT_ALLOWED),
        (b"", error_codes.DOCUMENT_DATA_INVALID),
    ],
    ids=[
        "polyglot",
        "truncated-jpeg",
        "png-bomb-30000x30000",
        "encrypted-pdf",
        "pdf-openaction-js",
        "pdf-names-js",
        "gif",
        "text",
        "broken-pdf",
        "empty",
    ],
)
def test_refused(data, code):
    with pytest.raises(ContentRefused) as refused:
        check_content(io.BytesIO(data))
    assert refused.value.code == code
    assert refused.value.reason


def test_size_limit_is_8_mib_exactly(settings):
    limit = settings.DOCUMENT_MAX_BYTES
    assert limit == 8 * 1024 * 1024
    checked = check_content(io.BytesIO(files.pdf_of_size(limit)))
    assert checked.size == limit
    with pytest.raises(ContentRefused) as refused:
        check_content(io.BytesIO(files.pdf_of_size(limit + 1)))
    assert refused.value.code == error_codes.DOCUMENT_TOO_LARGE


def test_pixel_limit_is_a_setting(settings):
    settings.DOCUMENT_MAX_PIXELS = 64 * 48 - 1
    with pytest.raises(ContentRefused):
        check_content(io.BytesIO(files.png(64, 48)))
