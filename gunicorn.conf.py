"""gunicorn settings for `make serve` (and any deployment): `gunicorn -c gunicorn.conf.py`.

gunicorn also loads this file by itself when started from the repository root (command-line
options still win), so keep it free of anything a benchmark or a test would not want.

Every value can be overridden from the environment; the defaults suit a VM or container
behind a TLS-terminating load balancer.
"""

import multiprocessing
import os

bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)

# Sync workers: the work is database-bound and short; (2 x cores) + 1 keeps the cores busy
# while some workers wait on PostgreSQL. WEB_CONCURRENCY overrides (the common PaaS name).
# A sync worker is held by one connection for as long as its client takes to send the
# request: never expose gunicorn to clients directly; the buffering proxy of
# deploy/nginx.conf reads requests whole before they reach a worker (README "Security").
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"

# A request running longer than this is killed. It must stay below IN_PROGRESS_TIMEOUT in
# api/idempotency.py (60 s), after which a killed request's Idempotency-Key is reclaimable.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5

# Request-line and header bounds (bodies are bounded by DATA_UPLOAD_MAX_MEMORY_SIZE).
# gunicorn answers requests beyond them itself, with small HTML pages (400, 414, 431) the API
# envelope cannot cover. In production nginx (deploy/nginx.conf) stands in front: its own
# limits are tighter, so it answers first, in JSON, and it turns gunicorn's 431 (more than
# limit_request_fields headers) into JSON too (README "Security").
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# The load balancer's address(es) whose X-Forwarded-* headers gunicorn trusts.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Django writes one JSON access line per API request (api/middleware.py); gunicorn's own
# access log would duplicate it without the request id, so only errors go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Do not import the app in the master: each worker opens its own database connections.
preload_app = False

# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), which
# two instances on one host would fight over; nothing here uses it.
control_socket_disable = True
