"""IdempotencyRecord and RateLimitCounter now belong to the `api` app (api/migrations/0001):
dropped from core's migration state only; their tables stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('api', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='IdempotencyRecord'),
                migrations.DeleteModel(name='RateLimitCounter'),
            ],
        ),
    ]
