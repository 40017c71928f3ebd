"""Production: everything secret comes from the environment; nothing has a default."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import MIDDLEWARE, STORAGES, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production.")
API_SECRET_PEPPER = env("ONBOARD_API_SECRET_PEPPER", default="") or SECRET_KEY
# Rotating DJANGO_SECRET_KEY: the old key goes here until sessions signed with it expired.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
PII_KEYS = env("ONBOARD_PII_KEYS", default="")
if not PII_KEYS:
    raise ImproperlyConfigured("ONBOARD_PII_KEYS must be set in production (SPEC §15).")
PII_INDEX_KEY = env("ONBOARD_PII_INDEX_KEY", default="")
if not PII_INDEX_KEY:
    raise ImproperlyConfigured("ONBOARD_PII_INDEX_KEY must be set in production (SPEC §15).")

# TLS usually terminates at the load balancer; it tells us the scheme in a header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Turned off only behind a proxy that redirects HTTP itself: then Django's warning is moot.
SILENCED_SYSTEM_CHECKS = [] if SECURE_SSL_REDIRECT else ["security.W008"]
# Health checks from the balancer come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# gunicorn serves the admin's static files itself (no separate web server needed): compressed,
# with far-future cache headers on hashed names. `make serve` runs collectstatic first.
# Right after SecurityMiddleware, so the HTTPS redirect still comes first.
_AFTER_SECURITY = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE = [
    *MIDDLEWARE[:_AFTER_SECURITY],
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[_AFTER_SECURITY:],
]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# A file missing from the manifest (collectstatic not re-run) is served unhashed, not a 500.
WHITENOISE_MANIFEST_STRICT = False
