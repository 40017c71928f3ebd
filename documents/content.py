"""What a file really is, judged by its content (SPEC §12), and the bytes that get stored.

The declared name and type of an upload never decide anything here:
- the magic bytes (`filetype`) must say JPEG, PNG or PDF;
- an image must not also carry a PDF header (a polyglot that a PDF reader would open);
- an image must open and decode whole in Pillow (a truncated file does not), stay under the
  pixel limit (decompression bombs), and is re-encoded without its metadata — EXIF (GPS
  included), comments, ICC and text chunks — after applying its EXIF orientation;
- a PDF must parse in pypdf with at least one page, must not be encrypted, and must carry
  no JavaScript (`/JS`, `/JavaScript` name trees, `/S /JavaScript` actions such as an
  `/OpenAction`) nor `/Launch` actions.
Anything else raises `ContentRefused` with the contract's code; nothing is kept.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from core import error_codes

CHUNK = 64 * 1024
ALLOWED = {"image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": "PDF"}
PDF_MARKER = b"%PDF-"
# Objects visited in a PDF looking for scripts; a file with more is refused, not skimmed.
PDF_MAX_OBJECTS = 100_000
_SCRIPT_KEYS = frozenset({"/JS", "/JavaScript"})
_SCRIPT_ACTIONS = frozenset({"/JavaScript", "/Launch"})


class ContentRefused(Exception):
    """The file is not an acceptable document; `code` is the contract's, `reason` for humans."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class Checked:
    """A file that passed: what to store (positioned at 0) and what was found."""

    file: IO[bytes]
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[
            self.content_type
        ]


def refuse_format(reason: str) -> ContentRefused:
    return ContentRefused(error_codes.DOCUMENT_FORMAT_NOT_ALLOWED, reason)


def check_content(source: IO[bytes]) -> Checked:
    """Judge `source` (a seekable binary file) and answer what to store, or raise."""
    size = _size(source)
    if size == 0:
        raise ContentRefused(error_codes.DOCUMENT_DATA_INVALID, "The file is empty.")
    if size > settings.DOCUMENT_MAX_BYTES:
        raise ContentRefused(
            error_codes.DOCUMENT_TOO_LARGE,
            f"The file is {size} bytes; at most {settings.DOCUMENT_MAX_BYTES} are accepted.",
        )
    source.seek(0)
    kind = filetype.guess(source.read(8192))
    mime = kind.mime if kind is not None else None
    if mime not in ALLOWED:
        raise refuse_format("The content is not a JPEG, PNG or PDF file.")
    if mime == "application/pdf":
        return _checked_pdf(source, size)
    if _contains(source, PDF_MARKER):
        raise refuse_format("The image also carries a PDF header (a polyglot file).")
    return _checked_image(source, ALLOWED[mime], mime)


def _size(source: IO[bytes]) -> int:
    source.seek(0, 2)
    return source.tell()


def _contains(source: IO[bytes], needle: bytes) -> bool:
    """Whether `needle` occurs anywhere in the file (read in chunks, overlapping)."""
    source.seek(0)
    tail = b""
    while chunk := source.read(CHUNK):
        if needle in tail + chunk:
            return True
        tail = chunk[-(len(needle) - 1) :]
    return False


def _sha256(file: IO[bytes]) -> tuple[str, int]:
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def _checked_image(source: IO[bytes], pil_format: str, mime: str) -> Checked:
    max_pixels: int = settings.DOCUMENT_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors) above its own limit; ours is lower and explicit
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            source.seek(0)
            with Image.open(source, formats=[pil_format]) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise refuse_format(
                        f"The image is {width} x {height} pixels; at most {max_pixels} pixels "
                        "are accepted (decompression bomb)."
                    )
                probe.verify()
            source.seek(0)
            with Image.open(source, formats=[pil_format]) as image:
                image.load()  # decodes everything: a truncated file fails here
                ImageOps.exif_transpose(image, in_place=True)
                image.info.clear()  # comments, ICC, text chunks, EXIF: nothing is carried over
                out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
                options: dict[str, Any] = {"quality": 92} if pil_format == "JPEG" else {}
                image.save(out, format=pil_format, exif=b"", **options)
    except ContentRefused:
        raise
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise refuse_format(f"The {pil_format} image does not open: {exc}.") from exc
    sha256, size = _sha256(out)
    if size > settings.DOCUMENT_MAX_BYTES:
        out.close()
        raise ContentRefused(
            error_codes.DOCUMENT_TOO_LARGE,
            f"The re-encoded image is {size} bytes; at most {settings.DOCUMENT_MAX_BYTES}.",
        )
    return Checked(
        file=out, content_type=mime, size=size, sha256=sha256, width=width, height=height
    )


def _checked_pdf(source: IO[bytes], size: int) -> Checked:
    source.seek(0)
    try:
        reader = PdfReader(source, strict=False)
        if reader.is_encrypted:
            raise refuse_format("The PDF is encrypted; send it without a password.")
        pages = len(reader.pages)
        if pages < 1:
            raise refuse_format("The PDF has no pages.")
        box = reader.pages[0].mediabox
        width, height = round(float(box.width)), round(float(box.height))
        if _has_script(reader):
            raise refuse_format("The PDF carries JavaScript or launch actions.")
    except ContentRefused:
        raise
    except Exception as exc:
        raise refuse_format("The PDF does not parse.") from exc
    sha256, _ = _sha256(source)
    return Checked(
        file=source,
        content_type="application/pdf",
        size=size,
        sha256=sha256,
        width=width,
        height=height,
        pages=pages,
    )


def _has_script(reader: PdfReader) -> bool:
    """Whether any object reachable from the trailer is or names a script."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise refuse_format("The PDF has too many objects to inspect.")
        if isinstance(item, DictionaryObject):
            for name, value in dict.items(item):
                if name in _SCRIPT_KEYS:
                    return True
                if name == "/S" and isinstance(value, NameObject) and value in _SCRIPT_ACTIONS:
                    return True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(list.__iter__(item))
    return False
