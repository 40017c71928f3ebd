"""Blacklist, risk settings, exemptions and screenings (SPEC §6b)."""
