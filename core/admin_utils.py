"""Building blocks the back-office admins share: cheap counts, masked cells, reason forms.

Operators work on tables of a million users, so nothing here may scan a whole table: the
paginator estimates instead of `COUNT(*)`, and inlines show a bounded number of rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import F, Model, QuerySet
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst

from core.exceptions import ApiError

# ---------------------------------------------------------------------------------------------
# The one base of every admin: declared lookups only, secrets never loaded
# ---------------------------------------------------------------------------------------------

# What a declared list filter may add to its field path in the query string: Django's own
# field filters use these (`status__exact`, `program__id__exact`, `created_at__gte`, ...).
FILTER_SUFFIXES: frozenset[str] = frozenset(
    {"exact", "isnull", "isempty", "in", "gte", "gt", "lte", "lt", "id", "pk"}
)


def declared_lookup(lookup: str, list_filter: Sequence[Any]) -> bool:
    """Whether `lookup` is a query-string parameter one of these list filters declares.

    A custom filter declares exactly its `parameter_name`; a field filter its field path,
    followed only by the comparison suffixes Django's field filters write. Anything else —
    `password__startswith`, `email__startswith`, `first_name__regex`, a field nobody filters
    on — is not a filter the page offers.
    """
    for item in list_filter:
        if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
            if lookup == item.parameter_name:
                return True
            continue
        path = item[0] if isinstance(item, list | tuple) else item
        if not isinstance(path, str):
            continue
        if lookup == path:
            return True
        head, sep, rest = lookup.partition(path + "__")
        if not head and sep and all(part in FILTER_SUFFIXES for part in rest.split("__")):
            return True
    return False


class GuardedAdminMixin:
    """Closes the changelist's query string to everything the page does not declare.

    Django's default `lookup_allowed` applies any lookup on the model's own fields, so
    `?password__startswith=<guess>` narrows the list one character at a time until a hash is
    recovered, and `?email__startswith=` unmasks masked columns. Here only the lookups of
    `list_filter` pass (search has its own box); anything else answers 400 "invalid filter"
    without filtering. A NUL in any parameter (PostgreSQL text cannot hold it) is refused the
    same way instead of failing in the database.

    `secret_fields` (password and secret hashes) are deferred out of every queryset the admin
    reads and excluded from its forms, so no page can render, filter or post them.
    """

    secret_fields: tuple[str, ...] = ()

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        model_admin = cast(admin.ModelAdmin, self)
        list_filter = (
            model_admin.get_list_filter(request) if request is not None else self.list_filter  # type: ignore[attr-defined]
        )
        return declared_lookup(lookup, list_filter) and cast(Any, super()).lookup_allowed(
            lookup, value, request
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = cast(Any, super()).get_queryset(request)
        return queryset.defer(*self.secret_fields) if self.secret_fields else queryset

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        excluded = cast(Any, super()).get_exclude(request, obj)
        if not self.secret_fields:
            return excluded
        return [*(excluded or ()), *self.secret_fields]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if any("\x00" in key or "\x00" in value for key, value in _params(request)):
            return self._invalid_filter(request, "a filter value holds a NUL character.")
        try:
            return cast(Any, super()).changelist_view(request, extra_context)
        except DisallowedModelAdminLookup as exc:
            return self._invalid_filter(request, f"{exc}.")

    def _invalid_filter(self, request: HttpRequest, detail: str) -> HttpResponse:
        model_admin = cast(admin.ModelAdmin, self)
        context = page_context(model_admin, request, title="Invalid filter", detail=detail)
        return TemplateResponse(request, "admin/invalid_filter.html", context, status=400)


Crumb = tuple[str, str]  # (label, url); the page itself has no url


def page_context(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    title: str,
    trail: Sequence[Crumb] = (),
    crumbs: Sequence[Crumb] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The context of a page on `admin/onboard/page.html`: the site's, the model's, the title,
    and the breadcrumbs after Home — app > model list > `trail` > title, or `crumbs` as given
    for a page that does not belong under its model's list."""
    opts = model_admin.opts
    if crumbs is None:
        crumbs = [
            (
                str(opts.app_config.verbose_name),
                reverse("admin:app_list", kwargs={"app_label": opts.app_label}),
            ),
            (
                capfirst(str(opts.verbose_name_plural)),
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            ),
            *trail,
            (title, ""),
        ]
    return {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "crumbs": list(crumbs),
        **extra,
    }


def _params(request: HttpRequest) -> Iterable[tuple[str, str]]:
    """The filter parameters; the search box's term is each admin's own (users strip NUL)."""
    for key, values in request.GET.lists():
        if key == SEARCH_VAR:
            continue
        for value in values:
            yield key, value


_ModelT = TypeVar("_ModelT", bound=Model)

if TYPE_CHECKING:
    _TypedModelAdmin = admin.ModelAdmin
else:

    class _TypedModelAdmin(admin.ModelAdmin):
        """`ModelAdmin` subscriptable at run time, as django-stubs types it: the model in
        `GuardedModelAdmin[AccountHolder]` is for mypy (each hook's `obj` is that model)."""

        def __class_getitem__(cls, item: Any) -> type:
            return cls


class GuardedModelAdmin(GuardedAdminMixin, _TypedModelAdmin[_ModelT]):
    """The base of every `ModelAdmin` of the project (a test iterates the registry), typed by
    its model: `class AccountHolderAdmin(GuardedModelAdmin[AccountHolder])`."""


class NothingByHand:
    """Rows nobody adds, edits or deletes by hand: they change only through services (the
    API, the workflows and actions that call them). First among an admin's bases."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyModelAdmin(NothingByHand, GuardedModelAdmin[_ModelT]):
    """A read-only admin (lists and detail pages; actions and workflows call services)."""


# ---------------------------------------------------------------------------------------------
# Counting without COUNT(*)
# ---------------------------------------------------------------------------------------------


class EstimatedCountPaginator(Paginator):
    """A paginator whose `count` never scans a large table.

    - PostgreSQL, unfiltered: the planner's row estimate for the table (`pg_class.reltuples`).
    - PostgreSQL, filtered: the planner's estimate of the query (`EXPLAIN`).
    - Either way, when the estimate is small (or missing: a table never analysed) the exact
      count is taken instead, bounded so that a wrong estimate still costs at most `exact_limit`
      rows.
    - SQLite has no estimates: a count bounded to `exact_limit + 1` rows.

    `is_estimate` tells templates to print "about N" (or "N+" when the bound was hit).
    """

    exact_limit = 10_000

    def __init__(self, object_list: Any, per_page: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.is_estimate = False
        self.is_lower_bound = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        if connections[queryset.db].vendor == "postgresql":
            estimate = _postgres_estimate(queryset)
            if estimate is not None and estimate > self.exact_limit:
                self.is_estimate = True
                return estimate
        bounded = queryset.order_by()[: self.exact_limit + 1].count()
        if bounded > self.exact_limit:
            self.is_estimate = self.is_lower_bound = True
            return self.exact_limit
        return bounded


class IndexedOrderingChangeList(ChangeList):
    """Honours `?o=` only for the columns in `sortable_by`.

    Django hides the other headers' sort links but still applies a hand-written `?o=`; on a
    large table an ORDER BY without an index sorts every row.
    """

    def get_ordering_field(self, field_name: Any) -> Any:
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)


class SearchOrderingChangeList(IndexedOrderingChangeList):
    """While searching, orders by expressions that no index provides.

    Search terms are looked up through their own indexes (a bitmap OR of equalities) and match
    few rows. Ordering those rows by an indexed column in SQL tempts the planner into walking
    that column's index and filtering row by row until a page of matches turns up, which for a
    rare term is most of the table. `COALESCE(col, col)` orders the same but matches no index,
    so the matches are fetched first and then sorted.
    """

    def get_ordering(self, request: HttpRequest, queryset: QuerySet) -> list[Any]:
        ordering = super().get_ordering(request, queryset)
        if not self.query:
            return ordering
        return [_unindexed(item) for item in ordering]


def _unindexed(item: Any) -> Any:
    if not isinstance(item, str) or item.lstrip("-") in ("pk", "id"):
        return item  # the tie-breaker
    name = item.lstrip("-")
    expression = Coalesce(F(name), F(name))
    return expression.desc() if item.startswith("-") else expression.asc()


def _postgres_estimate(queryset: QuerySet) -> int | None:
    """The planner's row estimate; None when the statistics cannot say."""
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        if not queryset.query.where:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
            # -1: never vacuumed or analysed; fall back to a bounded exact count
            return int(row[0]) if row and row[0] >= 0 else None
        sql, params = queryset.order_by().query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# ---------------------------------------------------------------------------------------------
# Masked personal data in lists (the masks are `core.masking`'s, the ones the audit trail and
# the logs use; the detail page shows data in full to authorised operators)
# ---------------------------------------------------------------------------------------------

EMPTY = "—"


def shown(masked: str) -> str:
    """A masked value as a list cell: `—` for nothing."""
    return masked or EMPTY


# ---------------------------------------------------------------------------------------------
# Badges
# ---------------------------------------------------------------------------------------------

BADGE_COLOURS = {
    "green": ("#e6f4ea", "#1e7b34"),
    "amber": ("#fff4e0", "#8a5300"),
    "red": ("#fde8e8", "#a11d1d"),
    "blue": ("#e8f0fe", "#1a4fa0"),
    "grey": ("#eeeeee", "#555555"),
}


def badge(text: str | SafeString, colour: str) -> SafeString:
    background, foreground = BADGE_COLOURS.get(colour, BADGE_COLOURS["grey"])
    return format_html(
        '<span class="badge badge-{}" style="background:{};color:{};padding:1px 7px;'
        'border-radius:9px;font-size:11px;white-space:nowrap">{}</span>',
        colour,
        background,
        foreground,
        text,
    )


# ---------------------------------------------------------------------------------------------
# Forms and results of operator actions
# ---------------------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    """Every operator decision is recorded with a reason."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Recorded with the change in the user's history.",
    )

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise ValidationError("A reason is required.")
        return reason


def refusal_text(exc: Exception) -> str:
    """The service's own words for a refusal (never a stack trace), with the contract's code
    where there is one: the same code the API answers and `change_user_status` prints."""
    if isinstance(exc, ApiError):
        return f"{exc.description} ({exc.code})"
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


@dataclass
class BulkOutcome:
    """Per-object results of a bulk action, reported as one message."""

    verb: str
    done: list[str] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def message(self) -> str:
        """`3 locked; 1 unchanged: <id>: already locked; 1 refused: <id>: <service message>`."""
        text = f"{len(self.done)} {self.verb}"
        if self.unchanged:
            details = "; ".join(f"{ident}: {why}" for ident, why in self.unchanged)
            text += f"; {len(self.unchanged)} unchanged: {details}"
        if self.refused:
            details = "; ".join(f"{ident}: {why}" for ident, why in self.refused)
            text += f"; {len(self.refused)} refused: {details}"
        return text

    def report(self, request: HttpRequest) -> None:
        if self.refused and not self.done:
            level = messages.ERROR
        elif self.refused or self.unchanged:
            level = messages.WARNING
        else:
            level = messages.SUCCESS
        messages.add_message(request, level, self.message())


# Bulk actions act on at most this many rows at once: each is its own transaction with its
# own result, and "select all 1 000 000" must not lock a table for minutes.
MAX_BULK = 500

BULK_REFUSALS = (ApiError, ValidationError, PermissionDenied)


def confirmation_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    action: str,
    title: str,
    form: forms.Form,
    rows: Iterable[tuple[Any, ...]],
    headers: Sequence[str],
) -> TemplateResponse:
    """The intermediate page of a bulk action: the selection, and a form asking for a reason.

    It posts back to the changelist with the action, the selected ids and `confirm=yes`, the
    way Django's own delete confirmation does.
    """
    rows = list(rows)
    context = page_context(
        model_admin,
        request,
        title=title,
        action=action,
        action_checkbox_name=ACTION_CHECKBOX_NAME,
        rows=[row[1:] for row in rows],
        selected=[row[0] for row in rows],
        headers=headers,
        form=form,
    )
    return TemplateResponse(request, "admin/backoffice/bulk_action_confirmation.html", context)


def reasoned_bulk_action(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    verb: str,
    headers: Sequence[str],
    row: Callable[[Any], tuple[Any, ...]],
    ident: Callable[[Any], str],
    apply: Callable[[Any, str], str | None],
    max_rows: int = MAX_BULK,
    noun: str = "",
) -> HttpResponse | None:
    """The one reasoned bulk action: cap, reason + confirmation page, then a per-row result.

    - more than `max_rows` selected: an error message, nothing done;
    - first POST: the confirmation page listing `row(item)` (its first element is the pk);
    - confirmed with a reason: `apply(item, reason)` per item, each its own service call —
      `None` means done, a string means unchanged (why), an `ApiError` / `ValidationError` /
      `PermissionDenied` means refused (the service's words); one message reports them all.
    """
    items = list(queryset[: max_rows + 1])
    if len(items) > max_rows:
        what = f" {noun}" if noun else ""
        model_admin.message_user(
            request,
            f"Select at most {max_rows}{what} at a time (narrow the list with filters).",
            messages.ERROR,
        )
        return None
    confirmed = request.POST.get("confirm") == "yes"
    form = ReasonForm(request.POST if confirmed else None)
    if not (confirmed and form.is_valid()):
        return confirmation_page(
            model_admin,
            request,
            action=action,
            title=title,
            form=form,
            rows=[row(item) for item in items],
            headers=headers,
        )
    outcome = BulkOutcome(verb)
    for item in items:
        try:
            unchanged = apply(item, form.cleaned_data["reason"])
        except BULK_REFUSALS as exc:
            outcome.refused.append((ident(item), refusal_text(exc)))
        else:
            if unchanged is None:
                outcome.done.append(ident(item))
            else:
                outcome.unchanged.append((ident(item), unchanged))
    outcome.report(request)
    return None


# ---------------------------------------------------------------------------------------------
# Read-only, bounded inlines
# ---------------------------------------------------------------------------------------------


class LatestRowsFormSet(BaseInlineFormSet):
    """Shows only the newest `max_rows` related rows: a user's audit trail can be long."""

    max_rows = 50

    def get_queryset(self) -> Any:
        if not hasattr(self, "_latest_rows"):
            self._latest_rows = list(super().get_queryset()[: self.max_rows])
        return self._latest_rows


class ReadOnlyInline(NothingByHand, admin.TabularInline):
    """A history or reference table on a change page: nothing to add, edit or delete."""

    extra = 0
    max_num = 0
    can_delete = False
    formset = LatestRowsFormSet
    select_related: Sequence[str] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return tuple(str(name) for name in self.fields or ())


def joined(values: Iterable[str]) -> str:
    return ", ".join(values) or EMPTY
