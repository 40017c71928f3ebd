"""Operator groups with least privilege (SPEC §8), as data.

- `support`: view users, lock and unlock them, read and add notes.
- `compliance`: everything on users (status changes, KYC, pending updates, risk reviews,
  verification), the risk app (blacklist, settings, exemptions, screenings); reads programs.
- `admin`: every permission.

Operators log in to the admin only with `is_staff`; the group decides what they may do there.
`setup_groups()` is idempotent and makes each group's permissions exactly the listed ones, so
a group edited by hand is put back on the next `migrate` / `setup_groups`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

# Custom permissions on users.AccountHolder (declared here, not in the model's Meta, so the
# back-office owns them; they are created on the AccountHolder content type).
PERM_LOCK = "users.lock_accountholder"
PERM_CHANGE_STATUS = "users.change_status_accountholder"
PERM_REVIEW = "users.review_accountholder"

CUSTOM_PERMISSIONS: dict[str, str] = {
    "lock_accountholder": "Can lock and unlock users",
    "change_status_accountholder": "Can change a user's status (suspend, block, re-activate, …)",
    "review_accountholder": (
        "Can review users (KYC, pending updates, risk review, exemptions, verification)"
    ),
}


@dataclass(frozen=True)
class Grant:
    """`app_label.codename` patterns (fnmatch) a group gets, minus the excluded ones."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    def matches(self, perm: str) -> bool:
        return any(fnmatchcase(perm, p) for p in self.include) and not any(
            fnmatchcase(perm, p) for p in self.exclude
        )


SUPPORT = "support"
COMPLIANCE = "compliance"
ADMIN = "admin"

GROUPS: dict[str, Grant] = {
    SUPPORT: Grant(
        include=(
            "users.view_accountholder",
            PERM_LOCK,
            "users.view_identification",
            "users.view_address",
            "users.view_taxresidency",
            "users.view_document",
            "users.view_statuschange",
            "users.view_userevent",
            "users.view_pendingupdate",
            "users.view_usernote",
            "users.add_usernote",
        )
    ),
    COMPLIANCE: Grant(
        include=("users.*", "risk.*", "programs.view_program", "privacy.*"),
        # the audit trail and users are never deleted, not even by compliance
        exclude=("users.delete_*", "privacy.delete_*"),
    ),
    ADMIN: Grant(include=("*",)),
}

# Apps whose permissions the groups grant: their content types and default permissions are
# made sure of first (post_migrate may run for this app before a later-added one).
_GRANTED_APPS = (
    "auth",
    "contenttypes",
    "programs",
    "enumerations",
    "users",
    "risk",
    "privacy",
)


@transaction.atomic
def setup_groups(*, using: str = "default") -> dict[str, int]:
    """Create or refresh the operator groups; returns each group's permission count."""
    for label in _GRANTED_APPS:
        config = apps.app_configs.get(label)
        if config is not None:
            create_contenttypes(config, verbosity=0, using=using)
            create_permissions(config, verbosity=0, using=using)

    holder_type = ContentType.objects.db_manager(using).get_by_natural_key("users", "accountholder")
    for codename, name in CUSTOM_PERMISSIONS.items():
        permission, created = Permission.objects.using(using).get_or_create(
            content_type=holder_type, codename=codename, defaults={"name": name}
        )
        if not created and permission.name != name:
            permission.name = name
            permission.save(using=using, update_fields=["name"])

    every = list(
        Permission.objects.using(using)
        .select_related("content_type")
        .values_list("pk", "content_type__app_label", "codename")
    )
    counts: dict[str, int] = {}
    for group_name, grant in GROUPS.items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        wanted = [pk for pk, app, codename in every if grant.matches(f"{app}.{codename}")]
        group.permissions.set(wanted)
        counts[group_name] = len(wanted)
    return counts
