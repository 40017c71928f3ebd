"""v1 identity authentication (MatchMove's resources, SPEC §12): documents, statuses, history.

User scope is the `X-Auth-User-ID` header, as for `/users`; `statuses` is program scope (the
user in `hash_id`) and only for clients an operator granted `kyc_decisions`.
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.parsers import FormParser, JSONParser, MultiPartParser
from api.schema import error_responses
from core import error_codes
from core.exceptions import ApiError, FieldError
from documents import services
from documents.api.common import UPLOAD_FIELDS, DocumentsAPIView, submission_kyc, utc
from documents.models import Document, KycSubmission
from users.api.common import USER_ID_HEADER, header_user_id
from users.api.v1 import body_items
from users.models import AccountHolder, Channel
from users.selectors import user_get

_TAGS = ["v1 identity authentication"]
ID_404 = [error_codes.USER_IMPROPER_ID, error_codes.USER_RECORD_NOT_FOUND]
HEADER = OpenApiParameter(
    USER_ID_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The user's id (MatchMove's user scope).",
)

_ITEM = inline_serializer(
    "AuthenticationDocumentV1",
    {
        "document_id": serializers.CharField(),
        "document_type": serializers.CharField(),
        "kyc_type": serializers.CharField(),
        "link": serializers.CharField(help_text="Signed link to the file, valid 15 minutes."),
    },
)


class V1AuthenticationView(DocumentsAPIView):
    channel = Channel.API_V1
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def user(self) -> AccountHolder:
        user = user_get(program=self.program, public_id=header_user_id(self.request), prefetch=())
        return user

    def item(self, document: Document) -> dict[str, Any]:
        url, _ = self.link(document)
        return {
            "document_id": document.public_id,
            "document_type": document.document_type,
            "kyc_type": document.kyc_type,
            "link": url,
        }


class AuthenticationDocumentsV1View(V1AuthenticationView):
    """`/{program}/v1/users/authentications/documents`."""

    takes_upload = True
    upload_fields = ("data", *UPLOAD_FIELDS)

    @extend_schema(
        operation_id="v1_authentications_documents_create",
        tags=_TAGS,
        summary="Upload a KYC document (base64 `data`)",
        description=(
            "Body `data` (base64, or a `data:` URI), `document_type`, `kyc_type`. Answers the "
            "open submission after the upload. Accepts `Idempotency-Key`."
        ),
        parameters=[HEADER],
        request=inline_serializer(
            "AuthenticationDocumentUploadV1",
            {
                "data": serializers.CharField(),
                "document_type": serializers.CharField(),
                "kyc_type": serializers.CharField(),
            },
        ),
        responses={
            200: inline_serializer(
                "AuthenticationDocumentsUploadedV1",
                {
                    "documents": _ITEM.__class__(many=True),
                    "count": serializers.IntegerField(),
                    "status": serializers.CharField(),
                },
            ),
            **error_responses(
                "v1",
                {
                    400: [
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
                    ],
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
    def post(self, request: Request, program: str) -> Response:
        user = self.user()
        upload = self.read_upload()
        document = self.store(request, user, upload)
        documents = list(document.submission.documents.all())
        user.refresh_from_db(fields=["kyc_status"])
        return Response(
            {
                "documents": [self.item(d) for d in documents],
                "count": len(documents),
                "status": user.kyc_status,
            }
        )

    @extend_schema(
        operation_id="v1_authentications_documents_list",
        tags=_TAGS,
        summary="The latest KYC submission's documents and status",
        parameters=[HEADER],
        responses={
            200: inline_serializer(
                "AuthenticationDocumentsV1",
                {
                    "documents": _ITEM.__class__(many=True),
                    "count": serializers.IntegerField(),
                    "status": serializers.CharField(),
                    "sub_status": serializers.CharField(),
                    "kyc_details": serializers.JSONField(),
                },
            ),
            **error_responses("v1", {404: ID_404}),
        },
    )
    def get(self, request: Request, program: str) -> Response:
        user = self.user()
        submission = services.latest_submission(user)
        documents = list(submission.documents.all()) if submission is not None else []
        return Response(
            {
                "documents": [self.item(d) for d in documents],
                "count": len(documents),
                "status": user.kyc_status,
                "sub_status": user.kyc_sub_status,
                "kyc_details": (submission.kyc_details if submission else None) or {},
            }
        )

    @extend_schema(
        operation_id="v1_authentications_documents_confirm",
        tags=_TAGS,
        summary="Confirm the KYC submission",
        description=(
            "Needs at least one document and the prerequisites: `title`, `id_type`, "
            "`id_number`, `country_of_issue`, `gender`, a residential address — each missing "
            "one an item `resource_user_<field>_required` under "
            "`resource_kyc_prerequisites_missing`."
        ),
        parameters=[HEADER],
        request=None,
        responses={
            200: inline_serializer(
                "AuthenticationConfirmedV1",
                {"status": serializers.CharField(), "count": serializers.IntegerField()},
            ),
            **error_responses(
                "v1",
                {
                    400: [
                        error_codes.KYC_ALREADY_SUBMITTED,
                        error_codes.KYC_NO_DOCUMENTS,
                        error_codes.KYC_PREREQUISITES_MISSING,
                    ],
                    404: ID_404,
                },
            ),
        },
    )
    def put(self, request: Request, program: str) -> Response:
        user = self.user()
        submission = services.kyc_submit(user=user, actor=self.actor(), channel=self.channel)
        user.refresh_from_db(fields=["kyc_status"])
        return Response({"status": user.kyc_status, "count": submission.documents.count()})

    @extend_schema(
        operation_id="v1_authentications_documents_destroy",
        tags=_TAGS,
        summary="Delete a document before the submission is confirmed",
        parameters=[HEADER],
        request=inline_serializer(
            "AuthenticationDocumentDeleteV1",
            {
                "document": serializers.CharField(
                    help_text="`document_id`, or the link's file name."
                )
            },
        ),
        responses={
            200: inline_serializer(
                "AuthenticationDeletedV1", {"success": serializers.BooleanField()}
            ),
            **error_responses(
                "v1",
                {
                    400: [
                        error_codes.KYC_ALREADY_SUBMITTED,
                        error_codes.USER_UNKNOWN_FIELD,
                        error_codes.INVALID_REQUEST_BODY,
                    ],
                    404: [*ID_404, error_codes.DOCUMENT_NOT_FOUND],
                },
            ),
        },
    )
    def delete(self, request: Request, program: str) -> Response:
        user = self.user()
        items = body_items(request.data)
        unknown = [
            FieldError(name, error_codes.USER_UNKNOWN_FIELD, f"Unknown field `{name}`.")
            for name in items
            if name != "document"
        ]
        if unknown:
            raise ApiError.from_field_errors(unknown)
        document = items.get("document") or request.query_params.get("document")
        services.document_delete(
            user=user, document_id=document, actor=self.actor(), channel=self.channel
        )
        return Response({"success": True})


STATUS_FIELDS = ("hash_id", "status", "sub_status", "message", "kyc_details", "kyc_type")


class AuthenticationStatusesV1View(V1AuthenticationView):
    """`/{program}/v1/users/authentications/statuses`: a partner's own KYC decision."""

    @extend_schema(
        operation_id="v1_authentications_statuses_update",
        tags=_TAGS,
        summary="Decide a submitted KYC (partners with the `kyc_decisions` permission)",
        description=(
            "`hash_id` (the user id), `status` `approved`/`rejected`, `sub_status`, `message` "
            "(a rejection needs one of them), `kyc_details` (JSON text, stored), `kyc_type`. "
            "Clients without the `kyc_decisions` permission: `403 restricted_resource`."
        ),
        request=inline_serializer(
            "AuthenticationStatusV1",
            {
                name: serializers.CharField(required=name in ("hash_id", "status"))
                for name in STATUS_FIELDS
            },
        ),
        responses={
            200: inline_serializer(
                "AuthenticationStatusDecidedV1",
                {
                    "success": serializers.CharField(),
                    "sub_status": serializers.CharField(),
                    "kyc_details": serializers.JSONField(),
                    "kyc_type": serializers.CharField(),
                    "message": serializers.CharField(),
                },
            ),
            **error_responses(
                "v1",
                {
                    400: [
                        error_codes.KYC_STATUS_INVALID,
                        error_codes.KYC_NOT_SUBMITTED,
                        error_codes.KYC_MESSAGE_REQUIRED,
                        error_codes.KYC_TYPE_NOT_ALLOWED,
                        error_codes.USER_UNKNOWN_FIELD,
                        error_codes.INVALID_REQUEST_BODY,
                        "resource_user_kyc_details_invalid",
                    ],
                    404: ID_404,
                },
            ),
        },
    )
    def put(self, request: Request, program: str) -> Response:
        if not self.client.has_permission("kyc_decisions"):
            raise ApiError(error_codes.RESTRICTED_RESOURCE, params={"method": "PUT"})
        items = body_items(request.data)
        errors = [
            FieldError(name, error_codes.USER_UNKNOWN_FIELD, f"Unknown field `{name}`.")
            for name in items
            if name not in STATUS_FIELDS
        ]
        status = str(items.get("status") or "").strip().lower()
        if status not in ("approved", "rejected"):
            errors.append(FieldError("status", error_codes.KYC_STATUS_INVALID))
        details: Any = None
        raw_details = items.get("kyc_details")
        if raw_details not in (None, ""):
            try:
                details = json.loads(raw_details) if isinstance(raw_details, str) else raw_details
            except ValueError:
                errors.append(FieldError("kyc_details", "resource_user_kyc_details_invalid"))
        kyc_type = str(items.get("kyc_type") or "").strip()
        if kyc_type:
            entry = self.catalog.lookup("kyc_types", kyc_type)
            if entry is None:
                errors.append(FieldError("kyc_type", error_codes.KYC_TYPE_NOT_ALLOWED))
            else:
                kyc_type = entry.code
        if errors:
            raise ApiError.from_field_errors(errors)
        user = user_get(program=self.program, public_id=items.get("hash_id"), prefetch=())
        sub_status = str(items.get("sub_status") or "").strip()
        message = str(items.get("message") or "").strip() or sub_status
        submission = services.kyc_decide(
            user=user,
            approve=status == "approved",
            message=message,
            actor=self.actor(),
            channel=self.channel,
            kyc_details=details,
            kyc_type=kyc_type,
        )
        return Response(
            {
                "success": "true",
                "sub_status": sub_status or status,
                "kyc_details": submission.kyc_details or {},
                "kyc_type": submission.kyc_type,
                "message": submission.message,
            }
        )


class AuthenticationHistoryV1View(V1AuthenticationView):
    """`/{program}/v1/users/authentications/history`: every submission, newest first."""

    @extend_schema(
        operation_id="v1_authentications_history",
        tags=_TAGS,
        summary="The user's KYC submissions, newest first",
        parameters=[HEADER],
        responses={
            200: inline_serializer(
                "AuthenticationHistoryV1",
                {
                    "submissions": inline_serializer(
                        "AuthenticationSubmissionV1",
                        {
                            "id": serializers.CharField(),
                            "status": serializers.CharField(),
                            "sub_status": serializers.CharField(),
                            "submitted_at": serializers.CharField(allow_null=True),
                            "decided_at": serializers.CharField(allow_null=True),
                            "decided_by": serializers.CharField(),
                            "message": serializers.CharField(),
                            "documents": _ITEM.__class__(many=True),
                        },
                        many=True,
                    )
                },
            ),
            **error_responses("v1", {404: ID_404}),
        },
    )
    def get(self, request: Request, program: str) -> Response:
        user = self.user()
        return Response(
            {"submissions": [self.submission(s) for s in services.submissions_of(user)]}
        )

    def submission(self, submission: KycSubmission) -> dict[str, Any]:
        status, sub_status = submission_kyc(submission)
        return {
            "id": submission.public_id,
            "status": status,
            "sub_status": sub_status,
            "submitted_at": utc(submission.submitted_at),
            "decided_at": utc(submission.decided_at),
            "decided_by": submission.decided_by,
            "message": submission.message,
            "documents": [self.item(d) for d in submission.documents.all()],
        }
