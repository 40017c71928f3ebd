"""Personal data encrypted at rest, step 2 of 3: encrypt the existing values.

Every clear value of an encrypted column becomes an envelope and every blind index is filled,
in primary-key batches of BATCH rows, each batch committed on its own (the migration is not
atomic): an interrupted run resumes where it stopped — values already `pii1:` are skipped.
The same work is `manage.py encrypt_pii` (with a progress bar), which can run online before
this migration on a large table so that the migration finds nothing left to do.
"""

from django.db import migrations

from core.fields import encrypt_rows

BATCH = 1000
MODELS = ("AccountHolder", "Identification", "Address", "TaxResidency")


def encrypt_existing(apps, schema_editor):
    for name in MODELS:
        encrypt_rows(apps.get_model("users", name), batch_size=BATCH)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("users", "0009_personal_data_encrypted_columns")]

    operations = [
        # backwards: the values stay encrypted (the fields of 0009 read both forms)
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop, elidable=False),
    ]
