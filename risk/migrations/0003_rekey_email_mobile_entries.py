"""Re-key blacklist entries on `customer.email` / `customer.mobile` (issue 12 item 5).

Their `exact` keys are now core/identifiers.py's canonical forms (NFKC, IDNA domain; E.164
digits, so `+44 07400 123456` keys as `447400123456`) and phone `normalized` keys follow
them. An entry whose new key another active entry of the same scope already holds keeps its
old key and is reported (printed and logged with both entry ids): an operator deactivates
the duplicate in the admin.
"""

import logging

from django.db import migrations

from risk.normalize import key_for

logger = logging.getLogger("onboard.migrations")

ATTRIBUTES = ("customer.email", "customer.mobile")


def rekey(apps, schema_editor):
    BlacklistEntry = apps.get_model("risk", "BlacklistEntry")
    entries = list(
        BlacklistEntry.objects.filter(entity_attribute__in=ATTRIBUTES).order_by("id")
    )
    taken = {
        (e.program_id, e.entity_attribute, e.match, e.value_normalized): e.pk
        for e in entries
        if e.is_active
    }
    changed = []
    for entry in entries:
        key = key_for(entry.entity_attribute, entry.match, entry.value)
        if not key or key == entry.value_normalized:
            continue
        scope = (entry.program_id, entry.entity_attribute, entry.match, key)
        if entry.is_active:
            holder = taken.get(scope)
            if holder is not None and holder != entry.pk:
                message = f"blacklist entries {holder} and {entry.pk} now share one key"
                logger.warning(message, extra={"kept": holder, "other": entry.pk})
                print(f"  {message}; {entry.pk} keeps its old key")  # the operator reads it
                continue
            taken.pop((entry.program_id, entry.entity_attribute, entry.match,
                       entry.value_normalized), None)
            taken[scope] = entry.pk
        entry.value_normalized = key
        changed.append(entry)
    BlacklistEntry.objects.bulk_update(changed, ["value_normalized"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("risk", "0002_fewer_write_indexes")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
