"""A PDF's first page as a PNG thumbnail, for the operator's review page (SPEC §12).

Rendered with PDFium (`pypdfium2`) in memory, on demand, from the decrypted bytes: nothing is
written to disk or kept. Bounded: the first page only, its longer side at most
`MAX_PREVIEW_PX` pixels (whatever size the page claims), so one preview costs at most one
bitmap of about 1200 x 1200 x 3 bytes. A PDF that PDFium cannot open or render gives `None`,
and the caller shows a placeholder instead.

PDFium is not thread-safe: one lock serialises renders within a process (gunicorn's sync
workers never contend for it; the development server's threads may).
"""

from __future__ import annotations

import io
import logging
import threading
from functools import lru_cache

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

logger = logging.getLogger(__name__)

MAX_PREVIEW_PX = 1200
# below this, a page's longer side (in PDF points) is treated as degenerate: nothing to show
_MIN_PAGE_POINTS = 1.0
_RENDER_LOCK = threading.Lock()


def first_page_png(pdf: bytes, *, max_px: int = MAX_PREVIEW_PX) -> bytes | None:
    """The first page of `pdf` as PNG bytes (longer side ≤ max_px), or None if it won't render."""
    try:
        with _RENDER_LOCK:
            document = pdfium.PdfDocument(pdf)
            try:
                if len(document) < 1:
                    return None
                page = document[0]
                try:
                    width, height = page.get_size()
                    longest = max(width, height)
                    if longest < _MIN_PAGE_POINTS:
                        return None
                    bitmap = page.render(scale=max_px / longest, may_draw_forms=False)
                    try:
                        # to_pil() shares PDFium's buffer: encode before the bitmap goes
                        image = bitmap.to_pil()
                        # a rounding pixel over the bound, at most: never more than max_px
                        image.thumbnail((max_px, max_px))
                        out = io.BytesIO()
                        image.convert("RGB").save(out, format="PNG")
                    finally:
                        bitmap.close()
                finally:
                    page.close()
            finally:
                document.close()
        return out.getvalue()
    except (pdfium.PdfiumError, ValueError, OSError) as exc:
        # the reason only: never the document's content
        logger.warning("pdf preview not rendered: %s", type(exc).__name__)
        return None


@lru_cache(maxsize=1)
def placeholder_png() -> bytes:
    """A grey card saying that no preview could be made (the PDF is still downloadable)."""
    image = Image.new("RGB", (360, 480), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 359, 479), outline=(180, 180, 180), width=2)
    draw.text((40, 220), "No preview available", fill=(90, 90, 90))
    draw.text((40, 240), "download the PDF to review it", fill=(90, 90, 90))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
