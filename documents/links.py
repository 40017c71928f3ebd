"""Short-lived signed links to a document's bytes (SPEC §12: at most 15 minutes).

The API issues them to the client that asked (v1 `link`, v2 `download_url`); the link names
the document and that client, so the read it leads to is recorded against the client.
Django's signing (HMAC with SECRET_KEY, timestamped) — nothing hand-rolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from documents.models import Document

SALT = "documents.download"


@dataclass(frozen=True)
class LinkClaim:
    document_id: str
    reader: str
    channel: str


def signed_link(
    request: HttpRequest, document: Document, *, reader: str, channel: str
) -> tuple[str, datetime]:
    """An absolute URL to the document's bytes, and when it stops working."""
    token = signing.dumps({"d": document.public_id, "r": reader, "c": channel}, salt=SALT)
    path = reverse("document-download", kwargs={"token": token, "name": document.file_name})
    expires = timezone.now() + timedelta(seconds=settings.DOCUMENT_LINK_MAX_AGE)
    return request.build_absolute_uri(path), expires


def read_link(token: str) -> LinkClaim | None:
    """What a link grants, or None when it is forged, altered or expired."""
    try:
        claim = signing.loads(token, salt=SALT, max_age=settings.DOCUMENT_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    return LinkClaim(document_id=claim["d"], reader=claim["r"], channel=claim["c"])
