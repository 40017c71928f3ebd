"""PostgreSQL-only indexes for the v2 list's `q` prefix search (see users.filters).

`LOWER(col) LIKE 'prefix%'` needs a `text_pattern_ops` btree on PostgreSQL; SQLite has no
operator classes and its LIKE uses no index anyway, so nothing runs there.
"""

from django.db import migrations

from users.filters import POSTGRES_SEARCH_INDEXES


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in POSTGRES_SEARCH_INDEXES.values():
        schema_editor.execute(statement)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in POSTGRES_SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("users", "0002_list_filter_indexes")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
