"""v2 KYC documents (SPEC §12): upload (multipart `file` or JSON base64 `data`), list,
metadata with a signed download link, content, delete, and confirming the submission."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.schema import error_responses
from core import error_codes
from core.exceptions import ApiError
from documents import services
from documents.api.common import UPLOAD_FIELDS, DocumentsAPIView, utc
from documents.models import Document
from documents.views import attachment
from users.api.v2_render import etag_for, render_user, with_v2_relations
from users.models import AccountHolder, Channel
from users.selectors import is_public_id, users_of

_TAGS = ["v2 KYC documents"]
ID_404 = [error_codes.USER_IMPROPER_ID, error_codes.USER_RECORD_NOT_FOUND]
DOC_404 = [*ID_404, error_codes.DOCUMENT_NOT_FOUND]
UPLOAD_400 = [
    error_codes.DOCUMENT_TYPE_NOT_ALLOWED,
    error_codes.KYC_TYPE_NOT_ALLOWED,
    error_codes.DOCUMENT_DATA_INVALID,
    error_codes.DOCUMENT_FORMAT_NOT_ALLOWED,
    error_codes.DOCUMENT_TOO_LARGE,
    error_codes.DOCUMENT_LIMIT_EXCEEDED,
    error_codes.KYC_ALREADY_SUBMITTED,
    error_codes.USER_UNKNOWN_FIELD,
    error_codes.INVALID_REQUEST_BODY,
    error_codes.INVALID_MODEL,
    error_codes.IDEMPOTENCY_KEY_INVALID,
]


class V2DocumentSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The document's id (32 hex characters).")
    document_type = serializers.CharField()
    kyc_type = serializers.CharField()
    content_type = serializers.ChoiceField(
        choices=["image/jpeg", "image/png", "application/pdf"],
        help_text="What the content is (judged by the bytes, never the declared type).",
    )
    size = serializers.IntegerField(help_text="Bytes, as stored (images are re-encoded).")
    sha256 = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    pages = serializers.IntegerField(allow_null=True)
    submission_id = serializers.CharField()
    uploaded_at = serializers.CharField()


class V2DocumentDetailSerializer(V2DocumentSerializer):
    download_url = serializers.CharField(help_text="Signed link to the bytes, valid 15 minutes.")
    download_url_expires_at = serializers.CharField()


class V2DocumentListSerializer(serializers.Serializer):
    kyc_status = serializers.CharField()
    kyc_sub_status = serializers.CharField()
    submission_id = serializers.CharField(allow_null=True)
    data = V2DocumentSerializer(many=True)  # type: ignore[assignment]


class V2UploadMultipart(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG or PDF, at most 8 MiB.")
    document_type = serializers.CharField(help_text="A code of the `document_types` enumeration.")
    kyc_type = serializers.CharField(help_text="A code of the `kyc_types` enumeration.")


class V2UploadJson(serializers.Serializer):
    data = serializers.CharField(  # type: ignore[assignment]
        help_text="The file base64-encoded (or a `data:` URI)."
    )
    document_type = serializers.CharField()
    kyc_type = serializers.CharField()


USER_ID = OpenApiParameter("user_id", OpenApiTypes.STR, OpenApiParameter.PATH)
DOCUMENT_ID = OpenApiParameter("document_id", OpenApiTypes.STR, OpenApiParameter.PATH)


def render_document(document: Document) -> dict[str, Any]:
    return {
        "id": document.public_id,
        "document_type": document.document_type,
        "kyc_type": document.kyc_type,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "width": document.width,
        "height": document.height,
        "pages": document.pages,
        "submission_id": document.submission.public_id,
        "uploaded_at": utc(document.uploaded_at),
    }


class V2DocumentsView(DocumentsAPIView):
    channel = Channel.API_V2

    def find_user(self, user_id: str) -> AccountHolder:
        if not is_public_id(user_id):
            raise ApiError(error_codes.USER_IMPROPER_ID)
        user = users_of(self.program).filter(public_id=user_id).first()
        if user is None:
            raise ApiError(error_codes.USER_RECORD_NOT_FOUND)
        user.program = self.program
        return user


class UserDocumentsV2View(V2DocumentsView):
    """`/{program}/v2/users/{user_id}/documents`: upload, list."""

    takes_upload = True
    upload_fields = ("file", "data", *UPLOAD_FIELDS)

    @extend_schema(
        operation_id="v2_user_documents_create",
        tags=_TAGS,
        summary="Upload a KYC document",
        description=(
            "`multipart/form-data` with `file`, `document_type`, `kyc_type`; or JSON with the "
            "file base64-encoded in `data`. The content decides the type (JPEG, PNG or PDF); "
            "images are re-encoded without metadata. At most 8 MiB decoded, 4 documents in the "
            "open submission; a submitted KYC takes none. Bodies up to 12 MiB. Accepts "
            "`Idempotency-Key`."
        ),
        parameters=[USER_ID],
        request={"multipart/form-data": V2UploadMultipart, "application/json": V2UploadJson},
        responses={
            201: V2DocumentSerializer,
            **error_responses(
                "v2",
                {
                    400: UPLOAD_400,
                    404: ID_404,
                    409: [error_codes.IDEMPOTENCY_KEY_IN_USE],
                    413: [error_codes.REQUEST_TOO_LARGE],
                    415: [error_codes.UNSUPPORTED_MEDIA_TYPE],
                    422: [error_codes.IDEMPOTENCY_KEY_REUSED],
                },
            ),
        },
    )
    @idempotent
    def post(self, request: Request, program: str, user_id: str) -> Response:
        user = self.find_user(user_id)
        upload = self.read_upload()
        document = self.store(request, user, upload)
        return Response(render_document(document), status=201)

    @extend_schema(
        operation_id="v2_user_documents_list",
        tags=_TAGS,
        summary="The documents of the current KYC submission, and the KYC status",
        parameters=[USER_ID],
        responses={200: V2DocumentListSerializer, **error_responses("v2", {404: ID_404})},
    )
    def get(self, request: Request, program: str, user_id: str) -> Response:
        user = self.find_user(user_id)
        submission = services.latest_submission(user)
        documents = list(submission.documents.all()) if submission is not None else []
        for document in documents:
            document.submission = submission  # type: ignore[assignment]
        return Response(
            {
                "kyc_status": user.kyc_status,
                "kyc_sub_status": user.kyc_sub_status,
                "submission_id": submission.public_id if submission else None,
                "data": [render_document(d) for d in documents],
            }
        )


class UserDocumentV2View(V2DocumentsView):
    """`/{program}/v2/users/{user_id}/documents/{document_id}`: metadata, delete."""

    @extend_schema(
        operation_id="v2_user_documents_retrieve",
        tags=_TAGS,
        summary="A document's metadata, with a signed download link (15 minutes)",
        parameters=[USER_ID, DOCUMENT_ID],
        responses={200: V2DocumentDetailSerializer, **error_responses("v2", {404: DOC_404})},
    )
    def get(self, request: Request, program: str, user_id: str, document_id: str) -> Response:
        document = services.document_get(self.find_user(user_id), document_id)
        url, expires = self.link(document)
        return Response(
            {
                **render_document(document),
                "download_url": url,
                "download_url_expires_at": utc(expires),
            }
        )

    @extend_schema(
        operation_id="v2_user_documents_destroy",
        tags=_TAGS,
        summary="Delete a document of the open submission",
        parameters=[USER_ID, DOCUMENT_ID],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses("v2", {400: [error_codes.KYC_ALREADY_SUBMITTED], 404: DOC_404}),
        },
    )
    def delete(self, request: Request, program: str, user_id: str, document_id: str) -> Response:
        services.document_delete(
            user=self.find_user(user_id),
            document_id=document_id,
            actor=self.actor(),
            channel=self.channel,
        )
        return Response(status=204)


class UserDocumentContentV2View(V2DocumentsView):
    """`/{program}/v2/users/{user_id}/documents/{document_id}/content`: the bytes."""

    @extend_schema(
        operation_id="v2_user_documents_content",
        tags=_TAGS,
        summary="A document's bytes (attachment, with its real content type)",
        parameters=[USER_ID, DOCUMENT_ID],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="image/jpeg, image/png or application/pdf; read recorded.",
            ),
            **error_responses("v2", {404: DOC_404}),
        },
    )
    def get(self, request: Request, program: str, user_id: str, document_id: str) -> Any:
        document = services.document_get(self.find_user(user_id), document_id)
        handle = services.document_read(
            document=document, reader=self.actor(), channel=self.channel
        )
        return attachment(handle, document)


class UserKycSubmissionV2View(V2DocumentsView):
    """`/{program}/v2/users/{user_id}/kyc/submission`: confirm the open submission."""

    @extend_schema(
        operation_id="v2_user_kyc_submission_create",
        tags=_TAGS,
        summary="Confirm the KYC submission",
        description=(
            "Needs at least one document and the KYC prerequisites (title, id_type, id_number, "
            "country_of_issue, gender, a residential address; each missing one is a `source` "
            "item). The user's KYC becomes `in_progress` / `submitted`. Accepts `Idempotency-Key`."
        ),
        parameters=[USER_ID],
        request=None,
        responses={
            200: OpenApiResponse(description="The v2 user."),
            **error_responses(
                "v2",
                {
                    400: [
                        error_codes.KYC_ALREADY_SUBMITTED,
                        error_codes.KYC_NO_DOCUMENTS,
                        error_codes.KYC_PREREQUISITES_MISSING,
                        error_codes.IDEMPOTENCY_KEY_INVALID,
                    ],
                    404: ID_404,
                    409: [error_codes.IDEMPOTENCY_KEY_IN_USE],
                    422: [error_codes.IDEMPOTENCY_KEY_REUSED],
                },
            ),
        },
    )
    @idempotent
    def post(self, request: Request, program: str, user_id: str) -> Response:
        user = self.find_user(user_id)
        services.kyc_submit(user=user, actor=self.actor(), channel=self.channel)
        fresh = with_v2_relations(AccountHolder.objects.filter(pk=user.pk)).get()
        fresh.program = self.program
        data = render_user(fresh, catalog=self.catalog, program_code=self.program.code)
        return Response(data, headers={"ETag": etag_for(fresh)})
