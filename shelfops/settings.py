"""Settings: wiring only, everything configurable through the environment (django-environ).

With no environment at all the portal runs self-contained: SQLite and a file-system Celery broker under ``var/``,
providers pointed at the local sandbox (``SANDBOX_URL``). Set ``DATABASE_URL`` / ``REDIS_URL`` to run on
PostgreSQL and Redis (broker, cache, shared rate budgets, locks).
"""

import os
import secrets
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import environ
from cryptography.fernet import Fernet

from integrations.providers.registry import PROVIDER_PACKAGES

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret(name: str, make) -> str:
    """A secret generated once into var/ and reused, so the embedded default needs no configuration
    and never ships a key in the repository. Never in production: a key made per container would differ
    between web and workers (the guard at the end of this file refuses to start without the real one)."""
    if env.str("SHELFOPS_ENV", default="local") == "production":
        return ""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _persistent_secret("secret.key", lambda: secrets.token_urlsafe(50))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
BASE_URL = env.str("BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Encryption keys for secrets at rest (django-fernet-fields-v2): newest first; older keys still decrypt.
FERNET_KEYS = env.list("FERNET_KEYS", default=[]) or [
    _persistent_secret("fernet.key", lambda: Fernet.generate_key().decode())
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, no CDN
    "django_celery_beat",
    "inventory",
    "integrations",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shelfops.urls"
WSGI_APPLICATION = "shelfops.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker, beat and sandbox share one file: wait for locks instead of failing, and use WAL so
    # readers do not block the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not :memory:, so a Celery worker started by an end-to-end test sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/portal/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on a missing root before the first collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True  # serve without collectstatic on the embedded default
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Celery -------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _q = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control", "results"):
        (_q / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_q / "queue"),
        "data_folder_out": str(_q / "queue"),
        "processed_folder": str(_q / "processed"),
        "control_folder": str(_q / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{_q / 'results'}"
else:
    CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# The small fixed set of periodic tasks beat runs (django-celery-beat's admin manages them; created or updated by
# `manage.py ensure_periodic_tasks`). Per-stream sync schedules live in integrations.SyncSchedule instead, claimed
# by the dispatcher, because beat's database scheduler stalls with thousands of rows.
SHELFOPS_PERIODIC_TASKS = {
    "Dispatch due sync schedules": ("integrations.sync.dispatch_due_schedules", 30),
    "Refresh expiring OAuth tokens": ("integrations.oauth.refresh_expiring_tokens", 300),
    "Sweep webhook events never enqueued": ("integrations.webhooks.sweep_stale_events", 60),
    "Prune API call logs": ("integrations.http.prune_api_call_logs", 24 * 3600),
    "Prune expired OAuth sessions": ("integrations.oauth.prune_oauth_sessions", 3600),
}

# --- Sync (integrations/sync) ---------------------------------------------------------------------------------
# Cursor = newest provider updated_at seen minus this overlap (streams may widen it: Square orders use 72 h).
SYNC_OVERLAP_SECONDS = env.int("SYNC_OVERLAP_SECONDS", default=300)
# A running run whose heartbeat is older than this is declared dead; the next run resumes from its cursor.
SYNC_HEARTBEAT_TIMEOUT_SECONDS = env.int("SYNC_HEARTBEAT_TIMEOUT_SECONDS", default=600)
SYNC_QUEUED_RESEND_SECONDS = env.int("SYNC_QUEUED_RESEND_SECONDS", default=120)
SYNC_QUEUED_STUCK_SECONDS = env.int("SYNC_QUEUED_STUCK_SECONDS", default=3600)
SYNC_DISPATCH_BATCH_SIZE = env.int("SYNC_DISPATCH_BATCH_SIZE", default=1000)
SYNC_DISPATCH_JITTER_SECONDS = env.float("SYNC_DISPATCH_JITTER_SECONDS", default=20.0)
# Pages read ahead (in a thread) while the current page is ingested; 0 reads and ingests one after the other.
SYNC_PREFETCH_PAGES = env.int("SYNC_PREFETCH_PAGES", default=1)

# --- REST API -----------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["inventory.api.authentication.RetailerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "inventory.api.schema.ShelfOpsAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["inventory.api.filters.FilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["inventory.api.throttling.ApiTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_token": env.str("API_THROTTLE_RATE", default="6000/min")},
    "EXCEPTION_HANDLER": "inventory.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,  # no AnonymousUser: API callers are tokens or nothing
}
# The changes feed (ordering=updated_at) holds back rows younger than this (see inventory/api/horizon.py).
API_CHANGES_SETTLE_SECONDS = env.float("API_CHANGES_SETTLE_SECONDS", default=2.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "ShelfOps Integration Portal API",
    "DESCRIPTION": "Synced stores, products, inventory levels and sales transactions, scoped to your retailer. "
    "Send `Authorization: Token <key>`. Lists are cursor-paginated (`next`, `has_more`); errors have one shape "
    "(`status`, `code`, `detail`, `errors[].field`). Follow changes with `updated_since` + `ordering=updated_at`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "COMPONENT_SPLIT_REQUEST": True,  # PATCH bodies get their own (writable-only) schema
}

# --- Providers ----------------------------------------------------------------------------------------------
# SANDBOX_URL is the local provider sandbox (`manage.py runsandbox`); a provider whose environment is "local"
# talks to it instead of the real host. Every host below is overridable on its own as well.
SANDBOX_URL = env.str("SANDBOX_URL", default="http://127.0.0.1:8100").rstrip("/")
# Each provider declares its own settings (integrations/providers/<key>/settings.py, names unchanged: the
# deployment contract); only that module is imported here, before any Django app.
for _package in PROVIDER_PACKAGES:
    globals().update(import_module(f"integrations.providers.{_package}.settings").declare(
        env, local=env.str("SHELFOPS_ENV", default="local") != "production", sandbox_url=SANDBOX_URL))
del _package

# --- Operations ---------------------------------------------------------------------------------------------
ADMINS = [tuple(a.split(":", 1)) for a in env.list("ADMINS", default=[]) if ":" in a]
SERVER_EMAIL = env.str("SERVER_EMAIL", default="shelfops@localhost")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
API_CALL_LOG_RETENTION_DAYS = env.int("API_CALL_LOG_RETENTION_DAYS", default=14)
# The resilient provider client (integrations/http): timeouts, retries, shared budgets, circuit breaker.
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=60.0)
HTTP_MAX_ATTEMPTS = env.int("HTTP_MAX_ATTEMPTS", default=5)
HTTP_BACKOFF_BASE_SECONDS = env.float("HTTP_BACKOFF_BASE_SECONDS", default=0.5)
HTTP_BACKOFF_MAX_SECONDS = env.float("HTTP_BACKOFF_MAX_SECONDS", default=30.0)
HTTP_MAX_RETRY_AFTER_SECONDS = env.float("HTTP_MAX_RETRY_AFTER_SECONDS", default=120.0)
HTTP_MAX_BUDGET_WAIT_SECONDS = env.float("HTTP_MAX_BUDGET_WAIT_SECONDS", default=60.0)
HTTP_BUDGET_HEADROOM_SECONDS = env.float("HTTP_BUDGET_HEADROOM_SECONDS", default=0.1)
HTTP_REACTIVE_SLOW_SECONDS = env.float("HTTP_REACTIVE_SLOW_SECONDS", default=300.0)
HTTP_BREAKER_FAILURES = env.int("HTTP_BREAKER_FAILURES", default=5)
HTTP_BREAKER_WINDOW_SECONDS = env.float("HTTP_BREAKER_WINDOW_SECONDS", default=60.0)
HTTP_BREAKER_COOLDOWN_SECONDS = env.float("HTTP_BREAKER_COOLDOWN_SECONDS", default=30.0)
HTTP_POOL_MAXSIZE = env.int("HTTP_POOL_MAXSIZE", default=32)
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=2 * 1024 * 1024)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=1800.0)
# Stored events still unprocessed this long after they were (or should have been) enqueued are re-enqueued.
WEBHOOK_SWEEP_AFTER_SECONDS = env.int("WEBHOOK_SWEEP_AFTER_SECONDS", default=120)
WEBHOOK_REJECTION_SAMPLES = env.int("WEBHOOK_REJECTION_SAMPLES", default=10)
# Receive path -> dispatcher (integrations/webhooks/dispatch.py): a burst of deliveries sends one wake-up; the flag
# lives this long at most (a lost wake-up delays the next by this much), and the dispatcher claims rows in batches.
WEBHOOK_DISPATCH_WAKE_TTL_SECONDS = env.int("WEBHOOK_DISPATCH_WAKE_TTL_SECONDS", default=2)
# A batch that had to skip a still-unfinished event (locked for a moment elsewhere) tries it again this soon.
WEBHOOK_SKIPPED_RECHECK_SECONDS = env.float("WEBHOOK_SKIPPED_RECHECK_SECONDS", default=1.0)
WEBHOOK_DISPATCH_BATCH = env.int("WEBHOOK_DISPATCH_BATCH", default=500)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(WEBHOOK_MAX_BODY_BYTES + 1024, 2_621_440)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "shelfops.alerts": {"handlers": ["console", "mail_admins"], "level": "ERROR", "propagate": False},
    },
}

# --- issue 22: access (audit trail, login throttling, staff two-factor, sessions) ---------------------------
INSTALLED_APPS += ["audit"]
# Audit entries older than this are pruned daily (audit.tasks.prune_audit_entries).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
SHELFOPS_PERIODIC_TASKS["Prune audit entries"] = ("audit.prune_audit_entries", 24 * 3600)
# Proxies in front of the app that append to X-Forwarded-For (read in production mode only, see audit/addresses.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# Login throttling (django-axes): every authenticate() call (portal login, admin login) counts. An account or an
# address with AXES_FAILURE_LIMIT failures is locked for the cool-off; staff lift it in admin (Access attempts).
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = ["accounts.backends.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes asks
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks: guesses at one account, or from one place
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_CLIENT_IP_CALLABLE = "audit.addresses.axes_client_ip"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit trail; no second, unpruned log
LOGGING["loggers"]["axes"] = {"handlers": ["console"], "level": "WARNING", "propagate": False}  # no line per login

# Two-factor sign-in (django-otp, TOTP + recovery codes): required for staff in production mode, optional for
# merchants (once enrolled, required for them too). accounts/middleware.py holds everyone else at the code page.
INSTALLED_APPS += ["django_otp", "accounts"]  # devices in accounts.models (secrets encrypted / hashed)
_auth_mw = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
MIDDLEWARE[_auth_mw + 1:_auth_mw + 1] = ["django_otp.middleware.OTPMiddleware",
                                         "accounts.middleware.SecondFactorMiddleware"]
del _auth_mw
OTP_TOTP_ISSUER = "ShelfOps"

# Sessions: end after SESSION_IDLE_MINUTES without a request (each request pushes the expiry on), a new session
# key at every login (Django), and other sessions of a user end when the password changes (Django's session
# auth hash). Cookies are HttpOnly and SameSite=Lax; Secure with an https BASE_URL (above).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_SAMESITE = "Lax"
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=5)  # reset e-mails asked per address per hour

# --- issue 15: connection health, failure recovery, notifications ---
# A stream is stale (notified) when its last completed run is older than 2 intervals + this grace.
HEALTH_FRESHNESS_GRACE_SECONDS = env.int("HEALTH_FRESHNESS_GRACE_SECONDS", default=600)
# A run cut short by the provider (open breaker, outage, rate limit) is retried after base * 2**(n-1) seconds
# (at least the breaker's Retry-After), capped: minutes, not the next schedule slot.
SYNC_RETRY_BASE_SECONDS = env.float("SYNC_RETRY_BASE_SECONDS", default=60.0)
SYNC_RETRY_MAX_SECONDS = env.float("SYNC_RETRY_MAX_SECONDS", default=900.0)
# This many failed runs in a row, failing for at least the grace period, pause a stream with its reason.
SYNC_PAUSE_AFTER_FAILURES = env.int("SYNC_PAUSE_AFTER_FAILURES", default=5)
SYNC_PAUSE_GRACE_SECONDS = env.int("SYNC_PAUSE_GRACE_SECONDS", default=600)
# Breaker on failure rate: open when at least HTTP_BREAKER_FAILURES failures make up at least this share of
# the calls within HTTP_BREAKER_WINDOW_SECONDS (15% transient errors slow a sync instead of aborting it).
HTTP_BREAKER_FAILURE_RATE = env.float("HTTP_BREAKER_FAILURE_RATE", default=0.5)
# "Sync now" from the portal: at most one request per connection per this many seconds.
PORTAL_SYNC_NOW_MIN_SECONDS = env.int("PORTAL_SYNC_NOW_MIN_SECONDS", default=60)
SHELFOPS_PERIODIC_TASKS["Check connection health"] = ("integrations.health.check_connections", 60)
TEMPLATES[0]["OPTIONS"]["context_processors"].append("integrations.context_processors.health_banner")

# --- issue 20: operations console (admin dashboard, /metrics, structured logs) ---
# The admin site with the ShelfOps header and the dashboard home replaces the stock one (same app label "admin").
INSTALLED_APPS = [
    "integrations.console.site.ConsoleAdminConfig" if app == "django.contrib.admin" else app for app in INSTALLED_APPS
]
# A request id on every log line (and the X-Request-ID response header); first so every later line has it.
MIDDLEWARE = ["integrations.console.middleware.RequestIdMiddleware", *MIDDLEWARE]
# Structured logs through structlog: JSON lines in production (or LOG_JSON=true), aligned text locally; every line
# redacted (OAuth query values, bearer tokens, configured secrets) whichever logger wrote it.
LOG_JSON = env.bool("LOG_JSON", default=env.str("SHELFOPS_ENV", default="local") == "production")
LOGGING["formatters"]["structured"] = {"()": "integrations.console.logs.build_formatter", "json": LOG_JSON}
LOGGING["handlers"]["console"]["formatter"] = "structured"
# runserver's request lines carry query strings (?code=...&state=...): through the redacting formatter too.
LOGGING["loggers"]["django.server"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
# Celery workers keep Django's LOGGING (the redacting structlog formatter) instead of installing their own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat rolls up the dashboard charts' closed hours (integrations/console/tasks.py); `ensure_periodic_tasks` adds it.
SHELFOPS_PERIODIC_TASKS["Roll up dashboard chart hours"] = ("integrations.console.roll_up_hours", 600)


# --- issue 18: webhook batch processing, sync run tuning ---
# Events per processing task (integrations/webhooks/batch.py): one bulk ingest per connection and batch hook in it
# (Square's BatchRetrieveOrders takes 100 ids a call; a group of more orders makes more calls). Much of a batch's
# cost is per batch: bench/webhooks_cpu.py measured worker CPU per 1,000 events 0.36 s at 100 and 0.22 s at 250
# (same run, a loaded machine); a batch of 250 is still a fraction of a second's work.
WEBHOOK_PROCESS_BATCH = env.int("WEBHOOK_PROCESS_BATCH", default=250)
# A sync run's process-wide interpreter settings (integrations/sync/tuning.py: a higher GC threshold and a shorter
# GIL switch interval while a run executes); False leaves the interpreter's defaults alone.
SYNC_RUN_TUNING = env.bool("SYNC_RUN_TUNING", default=True)
# Added to the nice value of a Celery worker that runs syncs and no webhooks (integrations/sync/priority.py), so web
# intake and webhook processing get the CPU first; 0 leaves the priority alone.
SYNC_WORKER_NICE = env.int("SYNC_WORKER_NICE", default=10)

# --- issue 16: surviving faults (queues, broker loss, dependency outages) ---
# Three queues, routed by task-name prefix, each with its own worker (scripts/run.sh, docker-compose.yml), so a
# burst of long syncs never holds the slots webhook processing needs. Unrouted tasks (beat's maintenance set,
# ping) land on "maintenance", which is also the default queue.
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
SHELFOPS_QUEUES = ("webhooks", "syncs", "maintenance")
CELERY_TASK_QUEUES = {name: {"exchange": name, "routing_key": name} for name in SHELFOPS_QUEUES}
CELERY_TASK_ROUTES = {
    "integrations.webhooks.*": {"queue": "webhooks"},
    "integrations.sync.*": {"queue": "syncs"},
    "*": {"queue": "maintenance"},
}
# Reconnect forever instead of giving up after 100 tries: an outage longer than the retry budget otherwise ends
# the worker process.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# On broker loss let running tasks finish rather than cancel them (Celery 6's default is to cancel): a sync
# run does not need the broker to keep paging, and cancelling it would leave the run to the stale-heartbeat
# recovery. Its late ack is lost with the channel, so the message comes back after the visibility timeout and
# finds the run finished (claiming is atomic); webhook processing is idempotent the same way.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Redis redelivers a message unacknowledged this long; longer than the longest sync page (an hour's default would
# leave a lost message waiting an hour, shorter would run a slow sync twice). The database sweeps stay the
# durable record either way.
_REDIS_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=1800),
    "socket_timeout": 10,
    "socket_connect_timeout": 5,
    # No retry_on_timeout: a retried pipeline could publish a batch twice, so kombu then refuses to batch (the
    # dispatcher's sends would cost one round trip each); Celery's own publish retry covers reconnects.
    "health_check_interval": 15,
}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):  # rediss: the same, over TLS
    CELERY_BROKER_TRANSPORT_OPTIONS = _REDIS_TRANSPORT_OPTIONS
    # kombu's Redis transport, minus the AttributeError that ended workers when Redis dropped (shelfops/broker.py).
    CELERY_BROKER_TRANSPORT = "shelfops.broker:Transport"
# Every request that fails on a database or Redis outage answers 503 + Retry-After (JSON under /api/ and
# /webhooks/), never Django's HTML 500 page (shelfops/outage.py). Redis calls fail fast instead of holding a
# web worker.
MIDDLEWARE = [*MIDDLEWARE, "shelfops.outage.DependencyOutageMiddleware"]
if REDIS_URL:
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})
# How long the API tells a client to wait when a dependency (database, Redis) is down: JSON 503 + Retry-After.
API_UNAVAILABLE_RETRY_AFTER_SECONDS = env.int("API_UNAVAILABLE_RETRY_AFTER_SECONDS", default=30)
# Webhook bodies nested deeper than this are refused with 400 (a provider's envelope is a handful of levels;
# the parser's recursion limit is ~1000 and must never be the one to say no).
WEBHOOK_MAX_JSON_DEPTH = env.int("WEBHOOK_MAX_JSON_DEPTH", default=64)

# --- issue 17: production mode (fails closed), HTTPS behind the proxy, health probes, metrics token ---
# "local" is the zero-configuration default of `make run` / `make test`; "production" refuses to start on any
# missing or unsafe setting (shelfops/production.py here, shelfops/checks.py for the provider rules).
SHELFOPS_ENV = env.str("SHELFOPS_ENV", default="local")
# oauthlib refuses to build a consent URL on plain http. Only the local sandbox is plain http, and production
# mode refuses providers pointed at it, so outside production the sandbox is allowed; in production the library's
# https rule stands.
if SHELFOPS_ENV != "production":
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
# Bearer token for GET /metrics (built by the metrics work); required in production.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# /healthz and /readyz are answered before host validation and the HTTPS redirect, so a container health check
# on http://127.0.0.1 works with a strict ALLOWED_HOSTS.
MIDDLEWARE = ["shelfops.health.HealthCheckMiddleware", *MIDDLEWARE]
# Beat writes each task's last run to the database as soon as it sends it (a handful of writes a minute), so the
# beat health check (`manage.py beat_health`) and beat's admin see real times, not ones up to 3 minutes old.
CELERY_BEAT_SYNC_EVERY = env.int("CELERY_BEAT_SYNC_EVERY", default=1)
import importlib.util  # noqa: E402

from shelfops import production as _production  # noqa: E402  (its guard reads the finished settings below)

if importlib.util.find_spec("sandbox") is None:  # an install without the [sandbox] extra's code
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "sandbox"]
if SHELFOPS_ENV == "production":
    # No local fallbacks: each must come from the environment (the guard below names what is missing).
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    BASE_URL = env.str("BASE_URL", default="").rstrip("/")
    FERNET_KEYS = [key for key in FERNET_KEYS if key]
    # The provider sandbox is a dev/test extra: not installed in the image, never routed.
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "sandbox"]
    # TLS ends at the reverse proxy, which sets X-Forwarded-Proto (and must overwrite any the client sent).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Prometheus scrapes web:8000 over the private network; /metrics is still bearer-protected.
    SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Login forms post with Origin = the public URL, whatever port the proxy listens on.
    CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, *_production.origins(BASE_URL)]
_production.guard_settings(globals())

