"""Standard Webhooks signatures, with the `standardwebhooks` library (SPEC §13)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secrets_in_force: list[str], msg_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,<sig>` per secret in force, space-separated.

    During a rotation's overlap both the new and the previous secret sign, so a receiver
    still configured with either verifies the delivery.
    """
    return " ".join(
        Webhook(secret).sign(msg_id=msg_id, timestamp=at, data=body) for secret in secrets_in_force
    )


def new_message_suffix() -> str:
    """The random part of a `webhook.test` message id."""
    return secrets.token_hex(16)
