"""IdempotencyRecord and RateLimitCounter move from `core` to `api` in the migration state
only: the tables keep their names (`db_table`), so no row moves (core/migrations/0002 drops
the models from core's state)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('programs', '0001_initial'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=255)),
                        ('fingerprint', models.CharField(help_text='SHA-256 of method, path and canonical body.', max_length=64)),
                        ('state', models.CharField(choices=[('in_progress', 'In Progress'), ('completed', 'Completed')], default='in_progress', max_length=12)),
                        ('claimed_at', models.DateTimeField(help_text='When the request now running took the key.')),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_body', models.BinaryField(blank=True, null=True)),
                        ('response_headers', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('expires_at', models.DateTimeField(db_index=True)),
                        ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='idempotency_records', to='programs.apiclient')),
                    ],
                    options={
                        'db_table': 'core_idempotencyrecord',
                        'ordering': ('client_id', 'key'),
                        'constraints': [models.UniqueConstraint(fields=('client', 'key'), name='idempotency_client_key_unique'), models.CheckConstraint(condition=models.Q(('state__in', ['in_progress', 'completed'])), name='idempotency_state_valid'), models.CheckConstraint(condition=models.Q(('state', 'in_progress'), ('response_status__isnull', False), _connector='OR'), name='idempotency_completed_has_status')],
                    },
                ),
                migrations.CreateModel(
                    name='RateLimitCounter',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scope', models.CharField(help_text='`read` or `write`.', max_length=8)),
                        ('window_start', models.BigIntegerField(help_text='The window: minutes since the epoch (fixed one-minute windows).')),
                        ('count', models.PositiveIntegerField(default=0)),
                        ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rate_limit_counters', to='programs.apiclient')),
                    ],
                    options={
                        'db_table': 'core_ratelimitcounter',
                        'ordering': ('client_id', 'scope'),
                        'constraints': [models.UniqueConstraint(fields=('client', 'scope'), name='ratelimit_client_scope_unique')],
                    },
                ),
            ],
        ),
    ]
