"""Test run: fast password hashing for operator fixtures only; API user passwords stay Argon2."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-key"
API_SECRET_PEPPER = "test-only-pepper"
ALLOWED_HOSTS = ["*"]
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://onboard-test")}

# webhooks: loopback receivers, and a schedule of fractions of a second
WEBHOOK_ALLOW_PRIVATE = True
WEBHOOK_RETRY_SCHEDULE = [0.05, 0.1, 0.15]
WEBHOOK_DISABLE_AFTER_SECONDS = 3600
WEBHOOK_TIMEOUT_SECONDS = 1.5
WEBHOOK_LEASE_SECONDS = 2
WEBHOOK_SWEEP_SECONDS = 1
