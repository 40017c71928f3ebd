"""The KYC document scenarios (SPEC §12): uploads of 100 KB and 8 MiB, and the documents list.

- Uploads are v2 `multipart/form-data` (`file`, `document_type`, `kyc_type`), each to a user
  who can take it: a user holds at most `DOCUMENT_MAX_PER_SUBMISSION` (4) documents in the open
  submission, so the pool lists users without any KYC submission, each `per user` times, in
  rounds (`u1 … uN, u1 … uN, …`): two requests in flight never race for one user's last slot,
  and the pool is consumed (`pool_exhaust`), never wrapped into a fifth upload.
- The base64 scenario sends the largest document an upload route accepts in its largest form:
  the 8 MiB PDF base64-encoded in JSON (`data`), a 10.7 MiB body (the routes take up to
  12 MiB).
- After the run the documents the upload scenarios created are removed (rows and files), so
  a `--reuse` run finds the same users fresh.
- The documents list reads users holding 1 to 4 documents (seeded once through the product's
  own upload service), so its query count shows whether it grows with the documents.

The files are made here: a JPEG of about 100 KB (a photo-like image: gradient and noise, as a
phone picture of an id card), and a PDF of exactly 8 MiB (one page and an incompressible
stream).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

from django.conf import settings
from django.db import transaction
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from bench.scenarios import Scenario
from documents import services
from documents.models import Document, KycSubmission, SubmissionState
from documents.storage import document_storage
from enumerations.catalog import get_catalog
from programs.models import Program
from users.lifecycle import Actor
from users.models import AccountHolder, ActorKind, Channel, KycStatus, Status

SMALL_BYTES = 100 * 1000
LARGE_BYTES = 8 * 1024 * 1024
LIST_USERS = 200
UPLOAD_USERS_SMALL = 3_000
UPLOAD_USERS_LARGE = 600
BOUNDARY = "benchdocumentboundary7f3a"
DOCUMENT_TYPE = "passport"
KYC_TYPE = "ekyc"


# --- files -----------------------------------------------------------------------------------


def photo_jpeg(target: int = SMALL_BYTES) -> bytes:
    """A photo-like JPEG (gradient plus noise) of about `target` bytes (within 10 %)."""
    side = 320
    best = b""
    for _ in range(12):
        gradient = Image.linear_gradient("L").resize((side, side * 3 // 4))
        noise = Image.effect_noise(gradient.size, 40)
        image = Image.merge("RGB", (gradient, noise, Image.blend(gradient, noise, 0.5)))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
        best = out.getvalue()
        if abs(len(best) - target) <= target // 10:
            return best
        side = max(64, int(side * (target / len(best)) ** 0.5))
    return best


def pdf_of_size(size: int = LARGE_BYTES) -> bytes:
    """A one-page PDF of exactly `size` bytes: the padding is an incompressible stream that
    the catalog references (so a parser walking the document reads it), then whitespace."""
    block = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(2048))
    padding = max(0, size - 2000)
    stream = DecodedStreamObject()
    stream.set_data((block * (padding // len(block) + 1))[:padding])
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer._root_object[NameObject("/PieceInfo")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    if len(data) > size:
        raise ValueError(f"a {size}-byte PDF cannot be made ({len(data)} bytes at least)")
    return data + b"\n" * (size - len(data))


def multipart_body(content: bytes, filename: str, content_type: str) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (("document_type", DOCUMENT_TYPE), ("kyc_type", KYC_TYPE))
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    return b"".join([*parts, content, f"\r\n--{BOUNDARY}--\r\n".encode()])


def base64_json_body(content: bytes) -> bytes:
    head = json.dumps({"document_type": DOCUMENT_TYPE, "kyc_type": KYC_TYPE})[:-1]
    return f'{head}, "data": "'.encode() + base64.b64encode(content) + b'"}'


# --- users -----------------------------------------------------------------------------------


def fresh_users(program: Program, count: int) -> list[str]:
    """Active users without any KYC submission (each can take 4 uploads), newest first."""
    return list(
        AccountHolder.objects.filter(
            program=program, status=Status.ACTIVE, kyc_submissions__isnull=True
        )
        .order_by("-id")
        .values_list("public_id", flat=True)[:count]
    )


def share(available: int, wanted: tuple[int, ...]) -> tuple[int, ...]:
    """Users per scenario (one of them for the in-process check): as wanted when there are
    enough, else in proportion, at least 2 each while there are users for it (small sets)."""
    total = sum(w + 1 for w in wanted)
    if available >= total:
        return tuple(w + 1 for w in wanted)
    shares = [max(2, available * (w + 1) // total) for w in wanted]
    while sum(shares) > available and max(shares) > 0:
        shares[shares.index(max(shares))] -= 1
    return tuple(shares)


def in_rounds(users: list[str], per_user: int) -> list[str]:
    """`u1 … uN` repeated `per_user` times: each user once per round."""
    return users * per_user


def list_users(program: Program, client_id: str, count: int = LIST_USERS) -> list[str]:
    """The oldest `count` active, KYC-pending users, holding 1, 2, 3, 4, 1, … documents.

    Seeded through `documents.services.document_upload` (the API's own door) the first time;
    a `--reuse` run finds them seeded and uploads nothing.
    """
    users = list(
        AccountHolder.objects.filter(
            program=program, status=Status.ACTIVE, kyc_status=KycStatus.PENDING
        ).order_by("id")[:count]
    )
    image = photo_jpeg(20_000)
    actor = Actor(ActorKind.API_CLIENT, client_id)
    catalog = get_catalog()
    for index, user in enumerate(users):
        want = 1 + index % settings.DOCUMENT_MAX_PER_SUBMISSION
        have = Document.objects.filter(user=user, submission__state=SubmissionState.OPEN).count()
        for _ in range(want - have):
            services.document_upload(
                user=user,
                source=io.BytesIO(image),
                document_type=DOCUMENT_TYPE,
                kyc_type=KYC_TYPE,
                actor=actor,
                channel=Channel.API_V2,
                catalog=catalog,
            )
    return [u.public_id for u in users]


def remove_uploaded(scenarios: list[Scenario]) -> int:
    """Remove what the upload scenarios created: their users' submissions, documents, files.

    A bench fixture reset, like putting re-activated users back to sleep: those users had no
    submission before the run (`fresh_users`), so this puts them back as they were (their
    audit trail keeps the upload events). Never runs outside the bench database.
    """
    users = sorted({u for s in scenarios for u in s.documents_of})
    removed = 0
    storage = document_storage()
    for start in range(0, len(users), 1000):
        batch = users[start : start + 1000]
        documents = Document.objects.filter(user__public_id__in=batch)
        names = list(documents.values_list("storage_name", flat=True))
        with transaction.atomic():
            documents.delete()
            KycSubmission.objects.filter(user__public_id__in=batch).delete()
        for name in names:
            storage.delete(name)
        removed += len(names)
    return removed


# --- scenarios -------------------------------------------------------------------------------


def document_scenarios(
    *, program: Program, client_id: str, files_dir: Path, count: int = LIST_USERS
) -> tuple[list[Scenario], list[str]]:
    """The upload scenarios, and `count` users holding documents (the documents list's)."""
    listed = list_users(program, client_id, count)
    per_user = settings.DOCUMENT_MAX_PER_SUBMISSION
    wanted = (UPLOAD_USERS_SMALL, UPLOAD_USERS_LARGE, UPLOAD_USERS_LARGE)
    fresh = fresh_users(program, sum(wanted) + len(wanted))
    wanted = share(len(fresh), wanted)
    files_dir.mkdir(parents=True, exist_ok=True)
    pdf = pdf_of_size(LARGE_BYTES)
    bodies = {
        "v2_upload_100kb": (
            multipart_body(photo_jpeg(SMALL_BYTES), "id-card.jpg", "image/jpeg"),
            f"multipart/form-data; boundary={BOUNDARY}",
            "v2 upload 100 KB JPEG (multipart)",
        ),
        "v2_upload_8mib": (
            multipart_body(pdf, "statement.pdf", "application/pdf"),
            f"multipart/form-data; boundary={BOUNDARY}",
            "v2 upload 8 MiB PDF (multipart)",
        ),
        "v2_upload_8mib_base64": (
            base64_json_body(pdf),
            "application/json",
            "v2 upload 8 MiB PDF as base64 JSON (10.7 MiB body)",
        ),
    }
    scenarios: list[Scenario] = []
    start = 0
    for (key, (body, content_type, label)), count in zip(bodies.items(), wanted, strict=True):
        # one user for the in-process check (2 requests), the rest for the load generator
        mine = fresh[start : start + count]
        start += count
        path = files_dir / f"{key}.body"
        path.write_bytes(body)
        scenario = Scenario(
            key=key,
            label=label,
            method="POST",
            path=f"/{program.code}/v2/users/{{id}}/documents",
            body_file=str(path),
            content_type=content_type,
            expect=(201,),
            pool=in_rounds(mine[1:], per_user),
            probe_pool=mine[:1],
            pool_exhaust=True,
            write=True,
            documents_of=mine,
            sample_rss=key != "v2_upload_100kb",
            note=f"body {len(body) / 2**20:.2f} MiB; {len(mine) - 1} users x {per_user} uploads",
        )
        if len(mine) < 2:
            scenario.failure = "no active user without a KYC submission to upload to"
        scenarios.append(scenario)
    return scenarios, listed
