"""Test run: fast password hashing for operator fixtures only; API user passwords stay Argon2."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import STORAGES, document_storage, env

DEBUG = False
SECRET_KEY = "test-only-key"
API_SECRET_PEPPER = "test-only-pepper"
# Fixed personal-data keys (32 bytes of 0x11 / 0x22): a test run never reads the environment's.
PII_KEYS = (
    "test2:ERERERERERERERERERERERERERERERERERERERERERE=,"
    "test1:IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI="
)
PII_INDEX_KEY = "test-only-pii-index-key"
ALLOWED_HOSTS = ["*"]
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://onboard-test")}
# Document files of a test run go to a throw-away directory, never the project's var/.
DOCUMENT_ROOT = tempfile.mkdtemp(prefix="onboard-test-documents-")
STORAGES = {**STORAGES, "documents": document_storage("", DOCUMENT_ROOT)}

# bootstrap_demo in tests never writes into the checkout
DEMO_CREDENTIALS_FILE = str(
    Path(tempfile.gettempdir()) / f"onboard-test-demo-credentials-{os.getpid()}.env"
)

# webhooks: loopback receivers, and a schedule of fractions of a second
WEBHOOK_ALLOW_PRIVATE = True
WEBHOOK_RETRY_SCHEDULE = [0.05, 0.1, 0.15]
WEBHOOK_DISABLE_AFTER_SECONDS = 3600
WEBHOOK_TIMEOUT_SECONDS = 1.5
WEBHOOK_LEASE_SECONDS = 2
WEBHOOK_SWEEP_SECONDS = 1
