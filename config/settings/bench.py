"""Benchmark run (`make bench`): production behaviour on loopback, plus the bench-only floor.

Everything that shapes request cost is as in production (DEBUG off, the same middleware,
authentication, logging and database options). What differs: plain HTTP on loopback (no TLS
redirect), a fixed local-only secret, and `bench.urls`, which adds the floor endpoint to
`config.urls` so that production never routes it.
"""

import base64
import hashlib

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="bench-only-insecure-key-never-deployed")
API_SECRET_PEPPER = env("ONBOARD_API_SECRET_PEPPER", default="") or SECRET_KEY
# No ONBOARD_PII_KEYS on a bench machine: a key derived from SECRET_KEY (insecure, bench only;
# data encrypted with it is unreadable once SECRET_KEY changes).
PII_KEYS = env("ONBOARD_PII_KEYS", default="") or (
    "bench:" + base64.b64encode(hashlib.sha256(b"pii:" + SECRET_KEY.encode()).digest()).decode()
)
PII_INDEX_KEY = env("ONBOARD_PII_INDEX_KEY", default="") or "bench-index:" + SECRET_KEY
# `testserver` is the Django test client's host: the harness counts queries in-process.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
