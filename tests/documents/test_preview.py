"""The review page's PDF previews: the first page rendered in memory, bounded, recorded."""

from __future__ import annotations

import io

import pypdfium2
from django.urls import reverse
from PIL import Image

from documents import preview as preview_module
from documents import storage
from documents.models import DocumentRead
from documents.preview import MAX_PREVIEW_PX, first_page_png, placeholder_png
from tests.admin.conftest import logged_in
from tests.documents import files
from tests.documents.test_admin import review_url, submitted


def preview_url(document) -> str:
    return reverse("admin:documents_document_preview", args=[document.public_id])


def png_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def test_review_page_shows_the_first_page_of_a_pdf(
    program_a, support, support_user, document_store
):
    # both storages: the local file system, and moto's S3 server
    _, submission = submitted(program_a, data=files.pdf_drawn(pages=3))
    document = submission.documents.get()
    html = support.get(review_url(submission)).content.decode()
    assert f'<img src="{preview_url(document)}"' in html
    assert "Download PDF (3 pages)" in html  # the whole file stays one click away
    assert not DocumentRead.objects.exists()  # the page itself reads no file

    response = support.get(preview_url(document))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    image = png_image(response.content)
    # A4 portrait: the longer side is the bound, the other in proportion
    assert image.size == (round(595 * MAX_PREVIEW_PX / 842), MAX_PREVIEW_PX)
    width, height = image.size
    # PDF y grows upwards: the painted lower-left quarter is the image's bottom-left
    assert image.getpixel((width // 4, height * 3 // 4)) == (255, 0, 0)
    assert image.getpixel((width * 3 // 4, height // 4)) == (255, 255, 255)
    read = DocumentRead.objects.get()
    assert (read.document, read.reader, read.operator, read.channel) == (
        document,
        "sam.support",
        support_user,
        "admin",
    )


def test_preview_never_puts_the_cleartext_on_disk(program_a, support, monkeypatch):
    _, submission = submitted(program_a, data=files.pdf_drawn())
    document = submission.documents.get()

    def no_disk(*args, **kwargs):
        raise AssertionError("the preview spooled the cleartext towards a temporary file")

    monkeypatch.setattr(storage.tempfile, "SpooledTemporaryFile", no_disk)
    monkeypatch.setattr(storage.tempfile, "TemporaryFile", no_disk)
    monkeypatch.setattr(storage.tempfile, "NamedTemporaryFile", no_disk)
    response = support.get(preview_url(document))
    assert response.status_code == 200
    assert png_image(response.content).size[1] == MAX_PREVIEW_PX


def test_a_huge_page_is_rendered_within_the_bound():
    # 14 400 pt (200 inches, PDF's largest page) by 600 pt: a naive 150 dpi render would be
    # 30 000 pixels wide
    rendered = first_page_png(files.pdf_drawn(width=14_400, height=600))
    assert rendered is not None
    image = png_image(rendered)
    assert image.size == (MAX_PREVIEW_PX, 50)


def test_what_pdfium_cannot_open_gives_none():
    assert first_page_png(b"%PDF-1.7\nnot really a pdf") is None
    assert first_page_png(b"") is None


def test_a_failed_render_answers_a_placeholder(program_a, support, monkeypatch):
    _, submission = submitted(program_a, data=files.pdf_drawn())
    document = submission.documents.get()

    class Broken:
        def __init__(self, *args, **kwargs):
            raise pypdfium2.PdfiumError("Failed to load document (PDFium: Data format error).")

    monkeypatch.setattr(preview_module.pdfium, "PdfDocument", Broken)
    response = support.get(preview_url(document))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == placeholder_png()
    assert png_image(response.content).size == (360, 480)
    assert DocumentRead.objects.count() == 1  # the file was still read, and that is recorded


def test_only_pdfs_have_a_rendered_preview(program_a, support):
    _, submission = submitted(program_a)  # a PNG: shown as itself
    document = submission.documents.get()
    assert support.get(preview_url(document)).status_code == 404
    unknown = reverse("admin:documents_document_preview", args=["0" * 32])
    assert support.get(unknown).status_code == 404
    assert not DocumentRead.objects.exists()


def test_no_preview_without_user_view_permission(program_a, staff_no_group):
    _, submission = submitted(program_a, data=files.pdf_drawn())
    document = submission.documents.get()
    assert logged_in(staff_no_group).get(preview_url(document)).status_code == 403
    assert not DocumentRead.objects.exists()
