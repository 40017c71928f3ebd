"""Signals the programs app sends, for the apps above it (programs imports none of them)."""

from django.dispatch import Signal

# Sent by `program_create` inside its transaction, with `program`. The risk app gives every
# new program its default risk settings (risk/signals.py).
program_created = Signal()
