"""Delete idempotency records past their 24-hour retention; run it hourly (cron, systemd)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from tqdm import tqdm

from api.models import IdempotencyRecord


class Command(BaseCommand):
    help = (
        "Delete expired Idempotency-Key records (older than their 24 h retention), in batches "
        "so the table stays available. Safe to run while the service runs; idempotent. "
        "The last line is `N expired idempotency records deleted`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Rows deleted per statement."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = max(1, options["batch_size"])
        cutoff = timezone.now()
        expired = IdempotencyRecord.objects.filter(expires_at__lte=cutoff)
        total = expired.count()  # an index range on expires_at, not a table scan
        deleted = 0
        with tqdm(
            total=total,
            unit="record",
            desc="expired idempotency records",
            disable=options["no_progress"] or total == 0,
            file=self.stderr,
        ) as bar:
            while True:
                batch = list(expired.order_by("pk").values_list("pk", flat=True)[:batch_size])
                if not batch:
                    break
                count, _ = IdempotencyRecord.objects.filter(
                    pk__in=batch, expires_at__lte=cutoff
                ).delete()
                deleted += count
                bar.update(count)
        self.stdout.write(f"{deleted} expired idempotency records deleted")
