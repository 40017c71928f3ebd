"""The KYC back-office (SPEC §12): the queue, the review page, previews, the decision.

- **KYC queue**: submitted submissions, oldest first, with their age — what compliance works.
- **Review page** of a submission: the user's identity fields beside the documents (images
  inline; PDFs as their first page rendered to a PNG, and a download with their page count),
  earlier reads, and the decision form (approve, or reject with a message for the partner).
  The decision goes through `documents.services.kyc_decide`, the same door the partner API
  uses.
- Document bytes reach the browser only through an admin view that records the read.
- On the user page, an inline lists the user's documents with thumbnails (hooked in through
  `users.admin.USER_PAGE_INLINES`: users does not import this app).
Who: whoever may view users (`support` included) sees the queue, pages and files; only
operators with the review permission (`compliance`, `admin`) decide.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Model, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from backoffice.groups import PERM_REVIEW
from core.admin_utils import ReadOnlyInline, ReadOnlyModelAdmin, page_context, refusal_text
from core.exceptions import ApiError
from core.masking import mask_address_line, mask_date, mask_number
from documents import services
from documents.models import Document, KycQueueEntry, KycSubmission, SubmissionState
from documents.preview import first_page_png, placeholder_png
from documents.views import attachment
from users.admin import USER_PAGE_INLINES, USER_PAGE_TOOLS
from users.lifecycle import Actor
from users.models import AccountHolder, Channel

VIEW_USERS = "users.view_accountholder"
# reviewers who decide (compliance) compare identity fields in clear; others see them masked
PERM_REVEAL = "privacy.reveal_pii"


def can_view(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff) and request.user.has_perm(
        VIEW_USERS
    )


def can_decide(request: HttpRequest) -> bool:
    return can_view(request) and request.user.has_perm(PERM_REVIEW)


_ModelT = TypeVar("_ModelT", bound=Model)


class ViewOnlyAdmin(ReadOnlyModelAdmin[_ModelT]):
    """Seen by whoever may view users; nothing is added, edited or deleted by hand."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request)


def content_url(document: Document) -> str:
    return reverse("admin:documents_document_content", args=[document.public_id])


def preview_url(document: Document) -> str:
    return reverse("admin:documents_document_preview", args=[document.public_id])


def preview(document: Document, height: int = 240) -> SafeString:
    """An image inline, or a PDF's first page rendered (both through recording admin views)
    above the PDF's download link."""
    if document.content_type == "application/pdf":
        return format_html(
            '<a href="{url}" target="_blank"><img src="{src}" alt="{alt} (first page)" '
            'class="kyc-preview kyc-pdf-preview" '
            'style="max-height:{h}px;max-width:100%;border:1px solid #ccc"></a><br>'
            '<a href="{url}" class="kyc-download">Download PDF ({pages} page{plural})</a>',
            url=content_url(document),
            src=preview_url(document),
            alt=document.document_type,
            h=height,
            pages=document.pages or 0,
            plural="" if document.pages == 1 else "s",
        )
    if document.content_type.startswith("image/"):
        return format_html(
            '<a href="{url}" target="_blank"><img src="{url}" alt="{alt}" class="kyc-preview" '
            'style="max-height:{h}px;max-width:100%;border:1px solid #ccc"></a>',
            url=content_url(document),
            alt=document.document_type,
            h=height,
        )
    return format_html(
        '<a href="{}" class="kyc-download">Download PDF ({} page{})</a>',
        content_url(document),
        document.pages or 0,
        "" if document.pages == 1 else "s",
    )


class KycDocumentInline(ReadOnlyInline):
    """The user page's KYC documents, newest submission first."""

    model = Document
    fk_name = "user"
    verbose_name_plural = "KYC documents"
    fields = (
        "document_type",
        "kyc_type",
        "content_type",
        "size",
        "uploaded_at",
        "thumbnail",
        "review",
    )
    readonly_fields = fields
    ordering = ("-uploaded_at", "-id")

    @admin.display(description="preview")
    def thumbnail(self, obj: Document) -> SafeString:
        return preview(obj, height=120)

    @admin.display(description="submission")
    def review(self, obj: Document) -> SafeString:
        return format_html(
            '<a href="{}">{} · review</a>',
            reverse("admin:documents_kycsubmission_review", args=[obj.submission_id]),
            obj.submission.state,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        return super().get_queryset(request).select_related("submission")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request)


USER_PAGE_INLINES.append(KycDocumentInline)


def kyc_review_tool(request: HttpRequest, user: AccountHolder) -> tuple[str, str] | None:
    """The user page's way to a KYC decision: the review page of the submitted submission.

    KYC is decided on a submitted submission only (SPEC §12), through `services.kyc_decide`;
    the link costs the user page no query (the submission is looked up when followed).
    """
    if not can_decide(request) or user.is_terminal:
        return None
    return "KYC review", reverse("admin:documents_kycsubmission_for_user", args=[user.pk])


USER_PAGE_TOOLS.append(kyc_review_tool)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject")], widget=forms.RadioSelect
    )
    message = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For the partner; required to reject (what to fix before resubmitting).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "reject" and not (data.get("message") or "").strip():
            self.add_error("message", "A rejection needs a message for the partner.")
        return data


@admin.register(KycQueueEntry)
class KycQueueAdmin(ViewOnlyAdmin[KycQueueEntry]):
    """Submitted KYC, oldest first: the compliance work queue."""

    list_display = ("user_link", "program", "submitted_at", "age", "documents", "kyc_type")
    list_select_related = ("user__program",)
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[KycQueueEntry]:
        return (
            super()
            .get_queryset(request)
            .filter(state=SubmissionState.SUBMITTED)
            .annotate(document_count=Count("documents"))
            .order_by("submitted_at", "id")
        )

    @admin.display(description="user")
    def user_link(self, obj: KycSubmission) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:documents_kycsubmission_review", args=[obj.pk]),
            obj.user.public_id,
        )

    @admin.display(description="program")
    def program(self, obj: KycSubmission) -> str:
        return obj.user.program.code

    @admin.display(description="waiting")
    def age(self, obj: KycSubmission) -> str:
        return timesince(obj.submitted_at, timezone.now()) if obj.submitted_at else "-"

    @admin.display(description="documents")
    def documents(self, obj: Any) -> int:
        return int(obj.document_count)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra = {"title": "KYC queue: submitted, oldest first", **(extra_context or {})}
        return super().changelist_view(request, extra)

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kw: Any) -> Any:
        return HttpResponseRedirect(
            reverse("admin:documents_kycsubmission_review", args=[object_id])
        )


@admin.register(KycSubmission)
class KycSubmissionAdmin(ViewOnlyAdmin[KycSubmission]):
    """Every submission (history); each opens on its review page."""

    list_display = ("public_id", "user", "state", "created_at", "submitted_at", "decided_at")
    list_filter = ("state",)
    list_select_related = ("user",)
    search_fields = ("=public_id", "=user__public_id")
    show_full_result_count = False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/review/", wrap(self.review_view), name="documents_kycsubmission_review"),
            path(
                "user/<int:user_pk>/",
                wrap(self.for_user_view),
                name="documents_kycsubmission_for_user",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kw: Any) -> Any:
        return HttpResponseRedirect(
            reverse("admin:documents_kycsubmission_review", args=[object_id])
        )

    def for_user_view(self, request: HttpRequest, user_pk: int) -> HttpResponse:
        """The review page of the user's submitted submission; back to the user page (with
        why) when none awaits a decision: there is nothing to decide KYC on."""
        if not can_view(request):
            raise PermissionDenied
        user = AccountHolder.objects.filter(pk=user_pk).only("pk", "public_id").first()
        if user is None:
            raise Http404("No such user.")
        submission = (
            KycSubmission.objects.filter(user=user, state=SubmissionState.SUBMITTED)
            .only("pk")
            .first()
        )
        if submission is not None:
            return HttpResponseRedirect(
                reverse("admin:documents_kycsubmission_review", args=[submission.pk])
            )
        self.message_user(
            request,
            f"{user.public_id}: no KYC submission awaits a decision. KYC is decided on the "
            "documents the partner submitted.",
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse("admin:users_accountholder_change", args=[user.pk]))

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not can_view(request):
            raise PermissionDenied
        submission = (
            KycSubmission.objects.select_related("user__program")
            .prefetch_related("documents")
            .filter(pk=pk)
            .first()
        )
        if submission is None:
            raise Http404("No such submission.")
        user = submission.user
        decidable = submission.state == SubmissionState.SUBMITTED and can_decide(request)
        form = DecisionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            if not decidable:
                raise PermissionDenied
            if form.is_valid():
                try:
                    services.kyc_decide(
                        user=user,
                        approve=form.cleaned_data["decision"] == "approve",
                        message=form.cleaned_data["message"],
                        actor=Actor.operator(request.user),
                        channel=Channel.ADMIN,
                    )
                except ApiError as exc:
                    form.add_error(None, refusal_text(exc))
                else:
                    verb = "approved" if form.cleaned_data["decision"] == "approve" else "rejected"
                    self.message_user(request, f"{user.public_id}: KYC {verb}.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:documents_kycqueueentry_changelist"))
        documents = list(submission.documents.all())
        title = f"KYC review: {user.public_id}"
        queue = reverse("admin:documents_kycqueueentry_changelist")
        context = page_context(
            self,
            request,
            title=title,
            crumbs=[("KYC queue", queue), (title, "")],
            submission=submission,
            identity=identity_rows(user, clear=request.user.has_perm(PERM_REVEAL)),
            documents=[(d, preview(d)) for d in documents],
            reads=services.reads_of(documents)[:20],
            form=form if decidable else None,
            user_url=reverse("admin:users_accountholder_change", args=[user.pk]),
        )
        return TemplateResponse(request, "admin/documents/review.html", context)


def identity_rows(user: AccountHolder, *, clear: bool) -> list[tuple[str, Any]]:
    """The identity fields a reviewer compares with the documents (SPEC §15: birth date, id
    number and address masked unless the operator may reveal personal data)."""
    rows = _identity_rows(user)
    if clear:
        return rows
    masks = {
        "birth date": mask_date,
        "id number": mask_number,
        "residential address": mask_address_line,
    }
    return [
        (label, masks[label](str(value)) if label in masks and value else value)
        for label, value in rows
    ]


def _identity_rows(user: AccountHolder) -> list[tuple[str, Any]]:
    primary = user.identifications.filter(is_primary=True).first()
    address = user.addresses.filter(type="residential").first()
    return [
        ("title", user.title),
        ("first name", user.first_name),
        ("middle name", user.middle_name),
        ("last name", user.last_name),
        ("gender", user.gender),
        ("birth date", user.birth_date),
        ("nationality", user.nationality),
        ("id type", primary.id_type if primary else None),
        ("id number", primary.number if primary else None),
        ("country of issue", primary.country_of_issue if primary else None),
        ("id expiry", primary.expiry_date if primary else None),
        (
            "residential address",
            ", ".join(
                v
                for v in (
                    address.address_1,
                    address.address_2,
                    address.city,
                    address.zipcode,
                    address.country,
                )
                if v
            )
            if address
            else None,
        ),
        ("status", user.status),
        ("KYC", f"{user.kyc_status} / {user.kyc_sub_status}"),
    ]


@admin.register(Document)
class DocumentAdmin(ViewOnlyAdmin[Document]):
    """Documents are looked at from the review page; this serves their bytes, recorded."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False  # not a menu entry: reached from the queue and the user page

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<str:public_id>/content/",
                wrap(self.content_view),
                name="documents_document_content",
            ),
            path(
                "<str:public_id>/preview.png",
                wrap(self.preview_view),
                name="documents_document_preview",
            ),
            *super().get_urls(),
        ]

    def content_view(self, request: HttpRequest, public_id: str) -> HttpResponseBase:
        if not can_view(request):
            raise PermissionDenied
        document = Document.objects.filter(public_id=public_id).first()
        if document is None:
            raise Http404("No such document.")
        handle = services.document_read(
            document=document,
            reader=Actor.operator(request.user),
            channel=Channel.ADMIN,
            operator=request.user,
        )
        response = attachment(handle, document)
        if document.content_type.startswith("image/"):
            response["Content-Disposition"] = f'inline; filename="{document.file_name}"'
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    def preview_view(self, request: HttpRequest, public_id: str) -> HttpResponseBase:
        """A PDF's first page as a PNG (SPEC §12), rendered in memory from the decrypted file;
        the read is recorded like any other. A page PDFium cannot render answers a placeholder
        image, so the review page never shows a broken image."""
        if not can_view(request):
            raise PermissionDenied
        document = Document.objects.filter(
            public_id=public_id, content_type="application/pdf"
        ).first()
        if document is None:
            raise Http404("No such PDF document.")
        with services.document_read(
            document=document,
            reader=Actor.operator(request.user),
            channel=Channel.ADMIN,
            operator=request.user,
            in_memory=True,
        ) as handle:
            rendered = first_page_png(handle.read())
        response = HttpResponse(rendered or placeholder_png(), content_type="image/png")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
