"""Test run: fast password hashing for operator fixtures only; API user passwords stay Argon2."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import STORAGES, document_storage, env

DEBUG = False
SECRET_KEY = "test-only-key"
API_SECRET_PEPPER = "test-only-pepper"
ALLOWED_HOSTS = ["*"]
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://onboard-test")}
# Document files of a test run go to a throw-away directory, never the project's var/.
DOCUMENT_ROOT = tempfile.mkdtemp(prefix="onboard-test-documents-")
STORAGES = {**STORAGES, "documents": document_storage("", DOCUMENT_ROOT)}

# bootstrap_demo in tests never writes into the checkout
DEMO_CREDENTIALS_FILE = str(
    Path(tempfile.gettempdir()) / f"onboard-test-demo-credentials-{os.getpid()}.env"
)
