"""Query expressions the ORM does not spell the way a plan needs them."""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler


class InSubqueryArray(In):
    """`lhs IN (subquery)`, written on PostgreSQL as `lhs = ANY(ARRAY(subquery))`.

    For `id IN (SELECT entry_id FROM tokens WHERE key IN (…hundreds of keys…))` PostgreSQL
    estimates the subquery's rows from the number of keys; past a few hundred it answers with a
    hash semi-join that reads the whole outer table (measured: 11.6 ms of a 14 ms screening at
    50 000 entries, and it grows with the table). `ARRAY(subquery)` is evaluated once, as an
    init plan, and the outer rows are then fetched by index, whatever the estimate. Other
    databases get the plain `IN (subquery)`. Use it as an expression:
    `Model.objects.filter(InSubqueryArray(F("id"), queryset.values("other_id")))`.
    """

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, Any]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
