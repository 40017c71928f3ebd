"""Personal data encrypted at rest, step 3 of 3: the blind indexes take over.

The id-number uniqueness (`max_duplicate` slots) moves from the clear `number_canonical` to the
number's blind index, the search indexes move to the blind-index columns, and the clear
`number_canonical` column (and, on PostgreSQL, its prefix-search index) is dropped.
"""

from django.db import migrations, models

from users.api.search import RETIRED_SEARCH_INDEXES


def drop_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in RETIRED_SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("users", "0010_encrypt_personal_data")]

    operations = [
        migrations.RunPython(drop_prefix_indexes, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="identification", name="identification_number_slot_unique"
        ),
        migrations.RemoveIndex(model_name="identification", name="identification_number_idx"),
        migrations.RemoveField(model_name="identification", name="number_canonical"),
        migrations.AddIndex(
            model_name="accountholder",
            index=models.Index(
                fields=["program", "birth_year_index", "birth_month_index", "birth_date_index"],
                name="user_program_birth_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="identification",
            index=models.Index(fields=["number_index"], name="identification_number_idx"),
        ),
        migrations.AddConstraint(
            model_name="identification",
            constraint=models.UniqueConstraint(
                condition=models.Q(("holder_live", True)),
                fields=("program", "id_type", "number_index", "dup_slot"),
                name="identification_number_slot_unique",
            ),
        ),
    ]
