"""Re-key the index rows of `customer.name` entries (issue 16): a screened name now looks up
only the key forms that can find it (risk.names.query_keys), and listed names are indexed
under their one-letter-deleted sounds and joined adjacent parts too (risk.names.name_keys).

Rows of the other fuzzy entries (per-attribute names, risk.matching.candidate_keys) are kept.
"""

from django.db import migrations

FULL_NAME = "customer.name"


def rekey(apps, schema_editor):
    from risk.names import entry_keys

    BlacklistEntry = apps.get_model("risk", "BlacklistEntry")
    BlacklistToken = apps.get_model("risk", "BlacklistToken")
    entries = BlacklistEntry.objects.filter(entity_attribute=FULL_NAME, match="fuzzy")
    BlacklistToken.objects.filter(entity_attribute=FULL_NAME).delete()
    batch = []
    for entry in entries.order_by("id").iterator(chunk_size=2000):
        for key in sorted(entry_keys([entry.value, *(entry.aliases or [])])):
            batch.append(BlacklistToken(entry_id=entry.pk, entity_attribute=FULL_NAME, key=key))
        if len(batch) >= 20_000:
            BlacklistToken.objects.bulk_create(batch)
            batch = []
    BlacklistToken.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("risk", "0004_blacklist_full_names")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
