"""KYC document routes under /{program}/ (v1 identity authentication, v2 documents)."""

from django.urls import path

from documents.api import v1, v2

urlpatterns: list = [
    path(
        "v1/users/authentications/documents",
        v1.AuthenticationDocumentsV1View.as_view(),
        name="v1-authentications-documents",
    ),
    path(
        "v1/users/authentications/statuses",
        v1.AuthenticationStatusesV1View.as_view(),
        name="v1-authentications-statuses",
    ),
    path(
        "v1/users/authentications/history",
        v1.AuthenticationHistoryV1View.as_view(),
        name="v1-authentications-history",
    ),
    path(
        "v2/users/<str:user_id>/documents",
        v2.UserDocumentsV2View.as_view(),
        name="v2-user-documents",
    ),
    path(
        "v2/users/<str:user_id>/documents/<str:document_id>",
        v2.UserDocumentV2View.as_view(),
        name="v2-user-document",
    ),
    path(
        "v2/users/<str:user_id>/documents/<str:document_id>/content",
        v2.UserDocumentContentV2View.as_view(),
        name="v2-user-document-content",
    ),
    path(
        "v2/users/<str:user_id>/kyc/submission",
        v2.UserKycSubmissionV2View.as_view(),
        name="v2-user-kyc-submission",
    ),
]
