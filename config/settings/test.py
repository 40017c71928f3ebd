"""Test run: fast password hashing for operator fixtures only; API user passwords stay Argon2."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-key"
API_SECRET_PEPPER = "test-only-pepper"
ALLOWED_HOSTS = ["*"]
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://onboard-test")}
