"""The target of the signed links the API issues: the bytes, without API credentials."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.http import require_GET

from core import error_codes
from documents import services
from documents.links import read_link
from documents.models import Document
from users.lifecycle import Actor
from users.models import ActorKind


@require_GET
def document_download(request: HttpRequest, token: str, name: str) -> HttpResponseBase:
    """Stream the document a valid, unexpired link names; the read is recorded."""
    claim = read_link(token)
    document = (
        Document.objects.filter(public_id=claim.document_id).first() if claim is not None else None
    )
    if claim is None or document is None or name != document.file_name:
        return JsonResponse(
            {
                "code": error_codes.DOCUMENT_NOT_FOUND,
                "description": "The link is unknown, altered or expired; ask the API for another.",
            },
            status=404,
        )
    handle = services.document_read(
        document=document, reader=Actor(ActorKind.API_CLIENT, claim.reader), channel=claim.channel
    )
    return attachment(handle, document)


def attachment(handle: object, document: Document) -> FileResponse:
    response = FileResponse(
        handle,
        content_type=document.content_type,
        as_attachment=True,
        filename=document.file_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
