"""`manage.py run_worker`: one webhook delivery worker (run any number, on any machines).

It runs django-tasks' own database worker (the loop of its `db_worker` command: claim a
ready task row with `SELECT ... FOR UPDATE SKIP LOCKED`, run it, record the result) and
adds what a long-running worker needs:

- it survives the database going away (a restart, a dropped connection): the error is
  logged, the connections are closed, and the loop starts again once the database answers;
- every `WEBHOOK_SWEEP_SECONDS` (and at start) it re-enqueues what a killed worker left
  behind — a delivery whose lease expired, events no dispatch took (`webhooks.tasks.sweep`);
- on PostgreSQL its own transactions commit without waiting for the WAL flush
  (`synchronous_commit = off` for its sessions; `--synchronous-commit` keeps the server's
  setting). Everything a worker writes can be derived again — task rows, deliveries, leases,
  attempts — and a database crash forgets at most its last fraction of a second of it,
  which is then redone: the events are dispatched again, the deliveries sent again
  (at-least-once, in order). The writes that must last — a change, its event and its task
  row — are the API's transactions, which keep waiting for the flush. A commit on a loaded
  machine waits milliseconds for the disk: several per delivery were most of its cost.

SIGTERM / SIGINT stop it after the current task, like `db_worker`.
"""

from __future__ import annotations

import logging
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, InterfaceError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks.backends.database.management.commands.db_worker import Worker
from django_tasks.utils import get_random_id

from webhooks import tasks

logger = logging.getLogger("webhooks.worker")
RECONNECT_PAUSE_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class Command(BaseCommand):
    help = "Run one webhook delivery worker (django-tasks database worker, with recovery)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--queue-name", default="default")
        parser.add_argument(
            "--interval",
            type=float,
            default=0.1,
            help="Seconds to wait when the queue is empty (default: %(default)s).",
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run until the queue is empty, then exit."
        )
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--worker-id", default=None)
        parser.add_argument(
            "--synchronous-commit",
            action="store_true",
            help="Wait for the WAL flush at every commit, as the web servers do (slower).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["synchronous_commit"]:
            connection_created.connect(_asynchronous_commit, dispatch_uid="webhooks-worker-commit")
            connections.close_all()  # reopened with the setting
        worker = Worker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"] or get_random_id(),
        )
        worker.configure_signals()
        stop = threading.Event()
        if not options["batch"]:
            threading.Thread(target=_sweeper, args=(stop,), daemon=True).start()
        logger.info("webhook worker %s started", worker.worker_id)
        failures = 0
        try:
            while worker.running:
                try:
                    _sweep_once()
                    worker.run()
                    break  # batch done, max tasks reached, or asked to stop
                except (DatabaseError, InterfaceError) as exc:
                    pause = RECONNECT_PAUSE_SECONDS[min(failures, len(RECONNECT_PAUSE_SECONDS) - 1)]
                    failures += 1
                    logger.warning(
                        "webhook worker %s: database error (%s); reconnecting in %.1f s",
                        worker.worker_id,
                        type(exc).__name__,
                        pause,
                    )
                    connections.close_all()
                    time.sleep(pause)
        finally:
            stop.set()
            connection_created.disconnect(dispatch_uid="webhooks-worker-commit")
        logger.info("webhook worker %s stopped", worker.worker_id)


def _asynchronous_commit(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")


def _sweep_once() -> None:
    users, streams = tasks.sweep()
    if users or streams:
        logger.info("webhook sweep: re-enqueued %s users, %s streams", users, streams)


def _sweeper(stop: threading.Event) -> None:
    while not stop.wait(settings.WEBHOOK_SWEEP_SECONDS):
        try:
            _sweep_once()
        except (DatabaseError, InterfaceError) as exc:
            logger.warning("webhook sweep failed (%s); retrying later", type(exc).__name__)
        finally:
            connections.close_all()
