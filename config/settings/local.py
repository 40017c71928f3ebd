"""Developer machine: DEBUG on, plain HTTP, an insecure key that never leaves the laptop."""

import base64
import copy
import hashlib
from typing import Any

from .base import *  # noqa: F403
from .base import LOGGING as BASE_LOGGING
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-key-do-not-deploy")
API_SECRET_PEPPER = env("ONBOARD_API_SECRET_PEPPER", default="") or SECRET_KEY
# No ONBOARD_PII_KEYS on a local machine: a key derived from SECRET_KEY (insecure, local only;
# data encrypted with it is unreadable once SECRET_KEY changes).
PII_KEYS = env("ONBOARD_PII_KEYS", default="") or (
    "local:" + base64.b64encode(hashlib.sha256(b"pii:" + SECRET_KEY.encode()).digest()).decode()
)
PII_INDEX_KEY = env("ONBOARD_PII_INDEX_KEY", default="") or "local-index:" + SECRET_KEY
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# The dev server logs each request once: API requests by `onboard.access`, other paths by
# runserver's `django.server` (config/devlog.py). A 4xx answer is already in the access
# line's status, so `onboard.errors` speaks only for 5xx here.
_logging: dict[str, Any] = copy.deepcopy(BASE_LOGGING)
_logging["filters"]["non_api"] = {"()": "config.devlog.NonApiRequestsOnly"}
_logging["loggers"]["django.server"] = {
    "level": "INFO",
    "propagate": True,
    "filters": ["scrub", "non_api"],
}
_logging["loggers"]["onboard.errors"] = {"level": "WARNING", "propagate": True}
LOGGING = _logging
