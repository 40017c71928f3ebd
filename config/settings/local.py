"""Developer machine: DEBUG on, plain HTTP, an insecure key that never leaves the laptop."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-key-do-not-deploy")
API_SECRET_PEPPER = env("ONBOARD_API_SECRET_PEPPER", default="") or SECRET_KEY
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
