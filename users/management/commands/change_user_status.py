"""change_user_status USER_ID STATUS --reason R [--sub-status S]: the lifecycle from a terminal."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApiError
from users.lifecycle import Actor, allowed_targets, user_change_status, user_reactivate
from users.models import AccountHolder, ActorKind, Channel, Status, SubStatus
from users.selectors import is_public_id


class Command(BaseCommand):
    help = (
        "Change a user's status through the lifecycle service, as an operator at the command "
        "line (actor `cli`): the transition table applies and the change is recorded with "
        "the reason. Use it for support fixes when the admin is not at hand. `active` is the "
        "re-activation every door shares (a risk-flagged user needs an unexpired exemption); "
        "a refusal exits non-zero and prints the refusal's code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", help="The user's public id (32 lower-case hex).")
        parser.add_argument("status", help="Target status, e.g. locked, suspended, active.")
        parser.add_argument("--reason", required=True, help="Why (recorded in the history).")
        parser.add_argument("--sub-status", dest="sub_status", help="Override the sub-status.")

    def handle(self, *args: Any, **options: Any) -> None:
        user_id: str = options["user_id"].strip()
        status: str = options["status"].strip().lower()
        reason: str = (options["reason"] or "").strip()
        sub_status: str | None = options.get("sub_status")
        if not is_public_id(user_id):
            raise CommandError(f"{user_id!r} is not a user id (32 lower-case hex characters).")
        if status not in Status.values:
            raise CommandError(f"Unknown status {status!r}; one of: {', '.join(Status.values)}.")
        if sub_status is not None and sub_status not in SubStatus.values:
            raise CommandError(
                f"Unknown sub-status {sub_status!r}; one of: {', '.join(SubStatus.values)}."
            )
        if not reason:
            raise CommandError("--reason must not be empty.")
        if status == Status.ACTIVE and sub_status not in (None, SubStatus.ACTIVE):
            raise CommandError(
                "--sub-status does not apply to re-activation: an active user's sub-status "
                "is `active`. Leave it out."
            )
        user = AccountHolder.objects.filter(public_id=user_id).first()
        if user is None:
            raise CommandError(f"No user {user_id}.")
        before = user.status
        actor = Actor(ActorKind.CLI, _operator_name())
        try:
            if status == Status.ACTIVE:
                # the one re-activation (SPEC §4): the API and the admin answer alike
                user_reactivate(user=user, actor=actor, channel=Channel.CLI, reason=reason)
            else:
                user_change_status(
                    user=user,
                    to_status=status,
                    actor=actor,
                    channel=Channel.CLI,
                    reason=reason,
                    sub_status=sub_status,
                )
        except ApiError as exc:
            allowed = ", ".join(allowed_targets(user.status, ActorKind.CLI)) or "none"
            raise CommandError(
                f"{exc.code}: {exc.description} Allowed from {user.status}: {allowed}."
            ) from exc
        if user.status == before:
            self.stdout.write(f"{user_id}: already {before}, nothing changed")
            return
        self.stdout.write(f"{user_id}: {before} → {user.status} ({user.sub_status})")


def _operator_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
