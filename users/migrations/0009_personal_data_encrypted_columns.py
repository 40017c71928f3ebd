"""Personal data encrypted at rest (SPEC §15, issue 17), step 1 of 3: the columns.

Id numbers, tax ids, birth dates and address lines (not the country) become `text` columns
holding `pii1:` envelopes (core/fields.py); the blind-index columns that replace the clear
`number_canonical` and the birth-date index are added, empty. Existing values are still clear
after this step: the fields read them as they are until step 2 (0010) encrypts them.
"""

import core.fields
import users.models
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0003_program_retention_days"),
        ("users", "0008_personal_data_event_types"),
    ]

    operations = [
        # an index on encrypted text would serve nothing (0011 adds the blind-index one)
        migrations.RemoveIndex(model_name="accountholder", name="user_program_birth_idx"),
        migrations.AddField(
            model_name="accountholder",
            name="birth_date_index",
            field=core.fields.BlindIndexField(
                purpose="user.birth_date", source="birth_date", transform=core.fields.iso_date
            ),
        ),
        migrations.AddField(
            model_name="accountholder",
            name="birth_month_index",
            field=core.fields.BlindIndexField(
                purpose="user.birth_date.month",
                source="birth_date",
                transform=core.fields.iso_month,
            ),
        ),
        migrations.AddField(
            model_name="accountholder",
            name="birth_year_index",
            field=core.fields.BlindIndexField(
                purpose="user.birth_date.year", source="birth_date", transform=core.fields.iso_year
            ),
        ),
        migrations.AddField(
            model_name="identification",
            name="number_index",
            field=core.fields.BlindIndexField(
                purpose="identification.number",
                source="number",
                transform=users.models.canonical_id_number,
            ),
        ),
        migrations.AlterField(
            model_name="accountholder",
            name="birth_date",
            field=core.fields.EncryptedDateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="address",
            name="address_1",
            field=core.fields.EncryptedTextField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name="address",
            name="address_2",
            field=core.fields.EncryptedTextField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name="address",
            name="address_3",
            field=core.fields.EncryptedTextField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name="address",
            name="address_4",
            field=core.fields.EncryptedTextField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name="address",
            name="city",
            field=core.fields.EncryptedTextField(blank=True, max_length=100, null=True),
        ),
        migrations.AlterField(
            model_name="address",
            name="state",
            field=core.fields.EncryptedTextField(blank=True, max_length=100, null=True),
        ),
        migrations.AlterField(
            model_name="address",
            name="zipcode",
            field=core.fields.EncryptedTextField(blank=True, max_length=20, null=True),
        ),
        migrations.AlterField(
            model_name="identification",
            name="number",
            field=core.fields.EncryptedTextField(max_length=30),
        ),
        migrations.AlterField(
            model_name="taxresidency",
            name="tin",
            field=core.fields.EncryptedTextField(blank=True, max_length=50, null=True),
        ),
    ]
