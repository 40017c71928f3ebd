"""Blacklist, risk settings, exemptions and screenings (SPEC §6b)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, Value

from programs.models import Program
from risk.normalize import NAME_ATTRIBUTES


class EntityAttribute(models.TextChoices):
    """The user attributes a blacklist entry can name (SPEC §6b)."""

    FIRST_NAME = "customer.first_name"
    MIDDLE_NAME = "customer.middle_name"
    LAST_NAME = "customer.last_name"
    PREFERRED_NAME = "customer.preferred_name"
    MAIDEN_NAME = "customer.maiden_name"
    EMAIL = "customer.email"
    MOBILE = "customer.mobile"
    ID_NUMBER = "customer.id_number"
    NATIONALITY = "customer.nationality"
    BIRTHDAY = "customer.birthday"
    NAME = "customer.name"  # the full name (SPEC §14)


class MatchType(models.TextChoices):
    EXACT = "exact", "exact (canonical form)"
    NORMALIZED = "normalized", "normalized (case, accents, punctuation, spacing folded)"
    FUZZY = "fuzzy", "fuzzy (names: spelling, order, transliteration)"


class Action(models.TextChoices):
    BLOCK = "block", "block the write"
    SCORE = "score", "add its weight to the score"


class BlacklistState(models.Model):
    """The list version: one row, bumped by every change to the blacklist.

    Entries carry the version that last changed them and every screening records the version
    it saw, so an operator can tell which list state produced a result.
    """

    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "blacklist version"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="blacklist_state_singleton")]

    def __str__(self) -> str:
        return f"v{self.version}"


_NAME_ATTRS = sorted(NAME_ATTRIBUTES | {"customer.name"})


class BlacklistEntry(models.Model):
    """One listed value: who or what to block or score, everywhere or in one program."""

    entity_attribute = models.CharField(max_length=40, choices=EntityAttribute.choices)
    value = models.CharField(max_length=255, help_text="As entered (shown to operators only).")
    value_normalized = models.CharField(
        max_length=255, editable=False, help_text="The key this entry's match type compares."
    )
    match = models.CharField(max_length=10, choices=MatchType.choices, default=MatchType.EXACT)
    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="blacklist_entries",
        help_text="Empty: the entry applies to every program.",
        db_index=False,  # blacklist_program_created_idx leads with it
    )
    action = models.CharField(max_length=5, choices=Action.choices, default=Action.BLOCK)
    weight = models.PositiveIntegerField(
        null=True, blank=True, help_text="Required for `score` entries; empty for `block`."
    )
    reason = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        # not indexed: only deleting an operator account looks entries up by it, and an
        # index here would cost every one of a million imported rows
        db_index=False,
    )
    added_by_label = models.CharField(
        max_length=150, blank=True, help_text="Who added it when not an operator (e.g. `cli`)."
    )
    version = models.PositiveBigIntegerField(
        default=0, editable=False, help_text="List version of the last change to this entry."
    )
    # customer.name entries (SPEC §14): more names of the listed party and the evidence that
    # strengthens or weakens a name match
    aliases = models.JSONField(
        default=list,
        db_default=Value([], models.JSONField()),
        blank=True,
        help_text="More names of the same party (matched too).",
    )
    weak_aliases = models.JSONField(
        default=list,
        db_default=Value([], models.JSONField()),
        blank=True,
        help_text="Low-quality aliases: shown, never matched.",
    )
    birth_dates = models.JSONField(
        default=list,
        db_default=Value([], models.JSONField()),
        blank=True,
        help_text="`YYYY-MM-DD` (exact), `YYYY` (year) or `YYYY..YYYY` (range).",
    )
    nationalities = models.JSONField(
        default=list,
        db_default=Value([], models.JSONField()),
        blank=True,
        help_text="ISO 3166 alpha-3 codes.",
    )
    source = models.CharField(
        max_length=30,
        blank=True,
        default="",
        db_default="",
        help_text="The list it was imported from (`ofac-sdn`, …).",
    )
    source_id = models.CharField(
        max_length=64, blank=True, default="", db_default="", help_text="Its id in that list."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "blacklist entry"
        verbose_name_plural = "blacklist entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(entity_attribute__in=EntityAttribute.values),
                name="blacklist_attribute_valid",
            ),
            models.CheckConstraint(
                condition=Q(match__in=MatchType.values), name="blacklist_match_valid"
            ),
            models.CheckConstraint(
                condition=Q(action__in=Action.values), name="blacklist_action_valid"
            ),
            models.CheckConstraint(
                condition=(Q(action=Action.BLOCK) & Q(weight__isnull=True))
                | (Q(action=Action.SCORE) & Q(weight__isnull=False) & Q(weight__gt=0)),
                name="blacklist_weight_iff_score",
            ),
            models.CheckConstraint(
                condition=~Q(match=MatchType.FUZZY) | Q(entity_attribute__in=_NAME_ATTRS),
                name="blacklist_fuzzy_names_only",
            ),
            models.CheckConstraint(
                condition=~Q(value_normalized=""), name="blacklist_key_not_empty"
            ),
            # one active entry per attribute, match type, key and scope; NULL program = global,
            # hence two partial constraints (NULLs are distinct in a plain unique index).
            # Imported parties are told apart by their source id: two listed people may share
            # a name.
            models.UniqueConstraint(
                fields=["entity_attribute", "match", "value_normalized"],
                condition=Q(is_active=True, program__isnull=True, source=""),
                name="blacklist_global_unique",
            ),
            models.UniqueConstraint(
                fields=["program", "entity_attribute", "match", "value_normalized"],
                condition=Q(is_active=True, program__isnull=False, source=""),
                name="blacklist_program_unique",
            ),
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=~Q(source=""),
                name="blacklist_source_unique",
            ),
            models.CheckConstraint(
                condition=Q(source="") | ~Q(source_id=""), name="blacklist_source_has_id"
            ),
        ]
        indexes = [
            # The screening look-up (key IN (...)) and the admin's search (key = or key LIKE
            # 'prefix%'): pattern_ops serves both equality and prefixes on PostgreSQL. Kept to
            # few indexes on purpose: every one is maintained by each imported row.
            models.Index(
                fields=["value_normalized"],
                name="blacklist_value_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["-created_at", "-id"], name="blacklist_created_idx"),
            models.Index(
                fields=["program", "-created_at", "-id"], name="blacklist_program_created_idx"
            ),
        ]

    def __str__(self) -> str:
        scope = self.program.code if self.program_id and self.program else "global"
        return f"{self.entity_attribute} {self.match} {self.action} ({scope})"


class BlacklistToken(models.Model):
    """A candidate key of a `fuzzy` entry (phonetic / one-edit keys, see matching.py).

    The fuzzy matcher looks up a screened name's keys here and compares only the entries they
    point to, so its cost depends on how many listed names sound alike, not on the list size.
    """

    entry = models.ForeignKey(
        BlacklistEntry,
        on_delete=models.CASCADE,
        related_name="tokens",
        db_index=False,  # blacklist_token_unique (entry, key) leads with it
    )
    entity_attribute = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    # customer.name entries: which of the entry's names give the key, one bit each (bit 0 the
    # listed name, bit i alias i; the last bit stands for every alias from NAME_BITS - 1 on),
    # so a screening compares only the names that share a key with it (risk.matching)
    names = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ("entry_id", "key")
        constraints = [
            models.UniqueConstraint(fields=["entry", "key"], name="blacklist_token_unique"),
        ]
        indexes = [
            models.Index(fields=["key", "entity_attribute"], name="blacklist_token_key_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class RiskSettings(models.Model):
    """A program's screening configuration.

    The threshold may be stored empty or non-positive (an operator's mistake must not block the
    admin), but such settings cannot be evaluated: every write of the program then answers
    `500 resource_risk_service_config_error` and saves nothing, until an operator fixes them.
    """

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="risk_settings")
    threshold = models.IntegerField(
        null=True, blank=True, default=100, help_text="Score at which a write is refused."
    )
    enabled = models.BooleanField(default=True, help_text="Off: writes are not screened.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("program__code",)
        verbose_name = "risk settings"
        verbose_name_plural = "risk settings"

    def __str__(self) -> str:
        return f"risk settings of {self.program.code}"

    @property
    def can_evaluate(self) -> bool:
        return self.threshold is not None and self.threshold > 0


class ExemptionEnd(models.TextChoices):
    REVOKED = "revoked", "revoked by an operator"
    DATA_CHANGED = "data_changed", "name or id data changed"
    SUPERSEDED = "superseded", "replaced by a newer exemption"


class RiskExemption(models.Model):
    """An operator's permission to re-activate a flagged user, until it expires or ends."""

    user = models.ForeignKey(
        "users.AccountHolder", on_delete=models.CASCADE, related_name="risk_exemptions"
    )
    reason = models.TextField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    end_cause = models.CharField(max_length=12, choices=ExemptionEnd.choices, blank=True)
    ended_reason = models.TextField(blank=True)

    class Meta:
        ordering = ("-granted_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("granted_at")),
                name="exemption_expires_after_grant",
            ),
            models.CheckConstraint(
                condition=(Q(ended_at__isnull=True) & Q(end_cause=""))
                | (Q(ended_at__isnull=False) & Q(end_cause__in=ExemptionEnd.values)),
                name="exemption_end_consistent",
            ),
            # at most one open exemption per user; granting a new one ends the old one
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_at__isnull=True), name="exemption_one_open"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-granted_at"], name="exemption_user_idx"),
            models.Index(fields=["-granted_at", "-id"], name="exemption_granted_idx"),
        ]

    def __str__(self) -> str:
        return f"exemption until {self.expires_at:%Y-%m-%d %H:%M}"


class ScreeningTrigger(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    PENDING_UPDATE = "pending_update", "pending update applied"
    RESCREEN = "rescreen"
    APPROVAL = "approval"


class ScreeningOutcome(models.TextChoices):
    BLOCK = "block"
    THRESHOLD = "threshold"
    FLAG = "flag"
    CLEAR = "clear"
    DISABLED = "disabled"


class Screening(models.Model):
    """One screening of a user: what matched, the score against which threshold, and why.

    `matches` lists every matched entry (id, attribute, match type, matcher, similarity,
    action, weight, entry version); with `list_version` and `matcher_version` a result can be
    explained and re-run. Listed values are not copied here: the entry ids point to them.
    """

    user = models.ForeignKey(
        "users.AccountHolder", on_delete=models.CASCADE, related_name="screenings"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=15, choices=ScreeningTrigger.choices)
    outcome = models.CharField(max_length=10, choices=ScreeningOutcome.choices)
    score = models.PositiveIntegerField(default=0)
    threshold = models.IntegerField(null=True, blank=True)
    matches = models.JSONField(default=list, blank=True)
    heaviest_attribute = models.CharField(max_length=40, blank=True)
    list_version = models.PositiveBigIntegerField(default=0)
    matcher_version = models.CharField(max_length=20)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger__in=ScreeningTrigger.values), name="screening_trigger_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=ScreeningOutcome.values), name="screening_outcome_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="screening_user_idx"),
            models.Index(
                fields=["program", "outcome", "-created_at"], name="screening_outcome_idx"
            ),
            models.Index(fields=["-created_at", "-id"], name="screening_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} ({self.score}/{self.threshold})"
