"""Test files made in code (Pillow, pypdf): good ones and every kind of bad one."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), color)
    info = PngInfo()
    info.add_text("Author", "Ada Lovelace")  # metadata the re-encoding must drop
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_gps(width: int = 80, height: int = 60) -> bytes:
    """A JPEG carrying EXIF with a GPS position and a comment."""
    image = Image.new("RGB", (width, height), (20, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (1.0, 17.0, 30.0), 3: "E", 4: (103.0, 51.0, 0.0)}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"taken at home")
    return out.getvalue()


def pdf(pages: int = 1, padding: int = 0) -> bytes:
    """A plain PDF; `padding` bytes of incompressible data in an extra stream object."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if padding:
        stream = DecodedStreamObject()
        stream.set_data(_noise(padding))
        # referenced from the catalog, so a reader walking the document loads it
        writer._root_object[NameObject("/PieceInfo")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_drawn(width: float = 595, height: float = 842, pages: int = 1) -> bytes:
    """A PDF whose first page has its lower-left quarter painted red (a content stream)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=height)
    stream = DecodedStreamObject()
    stream.set_data(f"1 0 0 rg 0 0 {width / 2:.2f} {height / 2:.2f} re f".encode())
    writer.pages[0][NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _noise(size: int) -> bytes:
    # deterministic, incompressible enough, cheap: a repeated block of hashes
    block = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(2048))
    return (block * (size // len(block) + 1))[:size]


def pdf_of_size(size: int) -> bytes:
    """A valid PDF of exactly `size` bytes (padding in a stream, then trailing whitespace)."""
    base = pdf(padding=max(0, size - 2000))
    assert len(base) <= size, (len(base), size)
    return base + b"\n" * (size - len(base))


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript(open_action: bool = True) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if open_action:
        action = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('hi')"),
            }
        )
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    else:  # a document-level script in the /Names /JavaScript name tree
        action = writer._add_object(
            DictionaryObject(
                {
                    NameObject("/S"): NameObject("/JavaScript"),
                    NameObject("/JS"): TextStringObject("app.alert('hi')"),
                }
            )
        )
        tree = DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject("boot"), action])}
        )
        writer._root_object[NameObject("/Names")] = writer._add_object(
            DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def polyglot() -> bytes:
    """A valid JPEG whose comment segment carries a PDF header."""
    image = Image.new("RGB", (32, 32), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="JPEG", comment=b"%PDF-1.4\n1 0 obj << >> endobj")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    image = Image.effect_noise((256, 256), 64).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    data = out.getvalue()
    return data[: len(data) // 2]


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG header claiming width x height pixels (the IHDR of a tiny PNG, rewritten)."""
    data = bytearray(png(1, 1))
    # IHDR data starts at 16 (8 signature + 4 length + 4 type); CRC covers type + data
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)
