"""Indexes of the v1 user search (users.api.search, SPEC §11): the birthday, and on PostgreSQL
the case-insensitive prefix indexes of customer_id, partner_id, mobile and id numbers."""

from django.db import migrations, models

from users.api.search import SEARCH_INDEXES


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in SEARCH_INDEXES.values():
        schema_editor.execute(statement)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("users", "0004_kyc_document_events_replace_document_reference")]

    operations = [
        migrations.AddIndex(
            model_name="accountholder",
            index=models.Index(fields=["program", "birth_date"], name="user_program_birth_idx"),
        ),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
