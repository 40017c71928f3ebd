"""Full-name index rows (issue 16): each row says which of the entry's names give its key
(`BlacklistToken.names`), and the rows of `customer.name` entries are re-keyed: a screened
name now looks up only the key forms that can find it (risk.names.query_keys), and listed names
are indexed under their one-letter-deleted sounds and joined adjacent parts too
(risk.names.name_keys). Rows of the other fuzzy entries (per-attribute names) are kept.
"""

from django.db import migrations, models

FULL_NAME = "customer.name"


def rekey(apps, schema_editor):
    from risk.names import name_masks

    BlacklistEntry = apps.get_model("risk", "BlacklistEntry")
    BlacklistToken = apps.get_model("risk", "BlacklistToken")
    BlacklistToken.objects.filter(entity_attribute=FULL_NAME).delete()
    entries = BlacklistEntry.objects.filter(entity_attribute=FULL_NAME, match="fuzzy")
    batch = []
    for entry in entries.order_by("id").iterator(chunk_size=2000):
        masks = name_masks([entry.value, *(entry.aliases or [])])
        batch += [
            BlacklistToken(entry_id=entry.pk, entity_attribute=FULL_NAME, key=key, names=bits)
            for key, bits in sorted(masks.items())
        ]
        if len(batch) >= 20_000:
            BlacklistToken.objects.bulk_create(batch)
            batch = []
    BlacklistToken.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("risk", "0004_blacklist_full_names")]

    operations = [
        migrations.AddField(
            model_name="blacklisttoken",
            name="names",
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
