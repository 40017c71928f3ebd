"""Settings shared by every environment. The one place the environment is read."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "api",
    "programs",
    "enumerations",
    "users",
    "risk",
    "documents",
    "apidocs",
    "django_tasks",
    "django_tasks.backends.database",
    "webhooks",
    "axes",  # admin login throttle (issue 12): lockout by username + address
    "privacy",
    # last: grants the permissions of the apps above to the operator groups after migrate
    "backoffice",
]

MIDDLEWARE = [
    "api.middleware.RequestContextMiddleware",
    # refuses NUL, unpaired surrogates, out-of-range dates (api/boundary.py); reads chunked bodies
    "api.boundary.InputBoundaryMiddleware",
    # /healthz answers before anything validates the Host header (balancers probe by IP)
    "api.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last: answers a locked-out login with 429 before the view runs
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_config(url: str) -> dict:
    """Parse DATABASE_URL; tune SQLite so concurrent writers queue instead of failing."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # BEGIN IMMEDIATE takes the write lock up front, so two writers never
            # deadlock on a lock upgrade; the busy timeout makes the second one wait.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
                # erased personal data must not linger in free pages of the file (SPEC §15)
                "PRAGMA secure_delete=ON;"
            ),
        }
    else:
        config.setdefault("OPTIONS", {})
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
        timeout_ms = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=15000)
        config["OPTIONS"]["options"] = f"-c statement_timeout={timeout_ms}"
    config["ATOMIC_REQUESTS"] = False
    return config


DATABASES = {
    "default": database_config(env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://onboard")}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# Largest request body accepted, in bytes; larger bodies answer 413 in the API envelope.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("ONBOARD_MAX_BODY_BYTES", default=256 * 1024)

# --- KYC documents (SPEC §12) -----------------------------------------------------------
# Where document files live. By default the local file system under DOCUMENT_ROOT, which is
# never served (no URL: files leave only through the API's authenticated routes, their signed
# links, and the admin). DOCUMENT_STORAGE_URL `s3://<bucket>[/<prefix>]?endpoint_url=...&
# region_name=...` stores them in an S3-compatible bucket through django-storages instead;
# credentials come from the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables.
DOCUMENT_ROOT = env("ONBOARD_DOCUMENT_ROOT", default=str(BASE_DIR / "var" / "documents"))
DOCUMENT_STORAGE_URL = env("DOCUMENT_STORAGE_URL", default="")


def document_storage(url: str, root: str) -> dict:
    """The `documents` entry of STORAGES for a DOCUMENT_STORAGE_URL (empty: local files)."""
    if not url:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None, "file_permissions_mode": 0o600},
        }
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        raise ValueError("DOCUMENT_STORAGE_URL must look like s3://<bucket>[/<prefix>]?...")
    query = dict(parse_qsl(parts.query))
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": parts.hostname,
            "location": parts.path.strip("/"),
            "endpoint_url": query.get("endpoint_url") or None,
            "region_name": query.get("region_name") or None,
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "documents": document_storage(DOCUMENT_STORAGE_URL, DOCUMENT_ROOT),
}
# Decoded size of one document (SPEC §12: 8 MiB), documents per open submission.
DOCUMENT_MAX_BYTES = 8 * 1024 * 1024
DOCUMENT_MAX_PER_SUBMISSION = 4
# Images larger than this many pixels are refused as decompression bombs (Pillow's own
# default limit is ~89 Mpx; a phone photo is ~12-50 Mpx).
DOCUMENT_MAX_PIXELS = 64_000_000
# Upload routes take bodies up to this size (base64 of 8 MiB plus the form); every other API
# route keeps DATA_UPLOAD_MAX_MEMORY_SIZE. Paths are regular expressions on request.path.
UPLOAD_MAX_BODY_BYTES = env.int("ONBOARD_UPLOAD_MAX_BODY_BYTES", default=12 * 1024 * 1024)
UPLOAD_PATHS = [
    r"^/[^/]+/v1/users/authentications/documents$",
    r"^/[^/]+/v2/users/[^/]+/documents$",
]
# Lifetime of the signed download links the API issues (SPEC §12: at most 15 minutes).
DOCUMENT_LINK_MAX_AGE = 15 * 60

# Key for the keyed hash of API client secrets (HMAC-SHA256). Defaults to SECRET_KEY;
# set it separately to rotate SECRET_KEY without re-issuing every client secret.
API_SECRET_PEPPER = env("ONBOARD_API_SECRET_PEPPER", default="") or SECRET_KEY

# The error catalogue the v1 envelope's `link` points to (absolute URL, `#<code>` appended);
# unset: built from the request's scheme and host and `/api/docs/errors/`.
ERROR_DOCS_BASE_URL = env("ONBOARD_ERROR_DOCS_URL", default="")

# `bootstrap_demo` (make run) keeps the demo credentials here, so they survive re-runs.
DEMO_CREDENTIALS_FILE = env(
    "ONBOARD_DEMO_CREDENTIALS_FILE", default=str(BASE_DIR / ".demo-credentials.env")
)

# Personal data at rest (SPEC §15, core/crypto.py). ONBOARD_PII_KEYS: the key-encryption keys,
# `id:base64key,...`, newest first (new values use the first; any decrypts; `rotate_pii_keys`
# re-wraps onto the first). ONBOARD_PII_INDEX_KEY: the secret the blind-index key is derived
# from (HKDF); it does not rotate with the keys. Production refuses to start without either.
PII_KEYS = env("ONBOARD_PII_KEYS", default="")
PII_INDEX_KEY = env("ONBOARD_PII_INDEX_KEY", default="")

# Client IP: trust X-Forwarded-For only when behind a known number of proxies.
NUM_TRUSTED_PROXIES = env.int("ONBOARD_TRUSTED_PROXIES", default=0)

# Where rate-limit counters live: "database" (default; shared by every app server) or
# "cache" (the default cache; set CACHE_URL to a shared one such as Redis).
RATE_LIMIT_STORE = env("ONBOARD_RATE_LIMIT_STORE", default="database")

# --- Events and webhooks (SPEC §13): delivered by django-tasks workers (`manage.py run_worker`)
TASKS = {"default": {"BACKEND": "django_tasks.backends.database.DatabaseBackend"}}
# URLs resolving to loopback, private, link-local or metadata addresses are refused unless this
# is set (tests, and the `make run` demo); plain http is allowed only then too
WEBHOOK_ALLOW_PRIVATE = env.bool("ONBOARD_WEBHOOK_ALLOW_PRIVATE", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("ONBOARD_WEBHOOK_TIMEOUT_SECONDS", default=15.0)
# seconds after a failed attempt before the next; the last one fails the delivery (~3.2 days)
WEBHOOK_RETRY_SCHEDULE: list[float] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
# an endpoint failing every attempt for this long is disabled
WEBHOOK_DISABLE_AFTER_SECONDS: float = 5 * 24 * 3600
# a worker killed mid-attempt holds its delivery this long (> the timeout) before another retries
WEBHOOK_LEASE_SECONDS = 60
# how often `run_worker` looks for stalled work (a killed worker's claims, undispatched events)
WEBHOOK_SWEEP_SECONDS = 30
WEBHOOK_SECRET_OVERLAP_SECONDS = 24 * 3600

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiClientAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.ProgramAccess"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "api.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.OnboardAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Onboard API",
    "DESCRIPTION": (
        "Account-holder onboarding, compatible with the MatchMove users API. "
        "Every request authenticates with HTTP Basic `client_id:client_secret`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: the docs work offline
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PUBLIC": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/[^/]+/v[12]",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_core_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        # v2 users: account types and the address types a client may send. The account types
        # of v1 and v2 differ in values but share a field name: named apart, or the schema
        # would describe one version's values with the other's (found by schemathesis).
        "V2AccountTypeEnum": ["customer", "corporate"],
        "V1AccountTypeEnum": ["individual", "business"],
        "AddressTypeEnum": ["residential", "billing", "mailing", "work"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "core.logging.RequestContextFilter"},
        "scrub": {"()": "core.logging.ScrubFilter"},
    },
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django logs request bodies nowhere, but 4xx warnings carry paths only; keep them quiet.
        "django.request": {"level": "ERROR", "propagate": True, "filters": ["scrub"]},
        "django.server": {"level": "WARNING", "propagate": True, "filters": ["scrub"]},
        # At DEBUG it logs every SQL statement with its parameters (PII), whatever the root level.
        "django.db.backends": {"level": "INFO", "propagate": True},
    },
}

# --- Admin login throttle (django-axes, issue 12 item 6) -------------------------------------
# AxesStandaloneBackend comes first: a locked-out login is refused before ModelBackend runs
# Argon2, so a flood of guesses costs the database look-up, not ~200 ms of hashing each.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ONBOARD_ADMIN_LOGIN_FAILURE_LIMIT", default=5)
# one operator name tried from one address: a guesser cannot lock a colleague out from elsewhere
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ONBOARD_ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
# axes would log each failure with the typed username (possibly an e-mail): PII stays out of
# the logs; the attempts are visible in the admin ("Access attempts") instead
AXES_VERBOSE = False
