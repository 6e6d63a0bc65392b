"""koastops settings: every knob comes from the environment (see README, "Configuration").

Defaults aim at the zero-setup quickstart (`make run`): SQLite and Celery's filesystem
transport under `var/`. Production sets DATABASE_URL, CELERY_BROKER_URL and friends.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("KOASTOPS_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
# Without a key (and DEBUG off) the process gets a random one of its own, so commands that
# sign nothing lasting (`makemigrations --check`, `check`, `collectstatic`) work on a bare
# checkout. Nothing signed with it outlives the process, so serving refuses it: the WSGI /
# ASGI entry points and the Celery app stop at once (koastops.core.checks.
# require_secret_key) and `check --deploy` fails (koastops.E002).
SECRET_KEY_MISSING = not SECRET_KEY and not DEBUG
if not SECRET_KEY:
    SECRET_KEY = (
        "django-insecure-dev-only-" + "x" * 40
        if DEBUG
        else "ephemeral-" + secrets.token_urlsafe(50)
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "guardian",
    # Installed so the API docs page uses its bundled Swagger UI files, never a CDN.
    "ninja",
    "koastops.core",
    "koastops.accounts",
    "koastops.catalog",
    "koastops.activity",
    "koastops.api",
    "koastops.system",
    "koastops.dashboard",
    "koastops.taxonomy",
    "koastops.consent",
    "koastops.notifications",
    "koastops.quality",
    "koastops.launches",
    # seed_demo, bench, devserver: may import every app, nothing imports it.
    "koastops.devtools",
    "axes",  # failed-login lockout (see "Login hardening" below)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs a signed-in user unless marked @login_not_required; htmx requests
    # get HX-Redirect to the sign-in page instead of a 302 that htmx would swap in.
    "koastops.core.login.HtmxLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends a session SESSION_ABSOLUTE_TIMEOUT after sign-in, however active (needs messages).
    "koastops.core.session.AbsoluteSessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "koastops.core.middleware.RequestIdMiddleware",
    # The app's 404 / 403 / 500 pages, with DEBUG too (DEBUG_ERROR_PAGES below).
    "koastops.core.errors.ErrorPageMiddleware",
    # Last, as axes requires: turns a locked-out login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "koastops.urls"
# With DEBUG, the app still answers its own 404 / 403 / 500 pages, as production does (a
# quickstart user never sees the URL patterns). A developer who wants Django's technical
# pages (URL patterns, traceback, settings) sets DEBUG_ERROR_PAGES=1.
DEBUG_ERROR_PAGES = env.bool("DEBUG_ERROR_PAGES", default=False)
# A refused CSRF check: a friendly page, or a toast for htmx (never the reason codes).
CSRF_FAILURE_VIEW = "koastops.core.errors.csrf_failure"
WSGI_APPLICATION = "koastops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "koastops.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'koastops.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer, the busy
    # timeout waits instead of failing, IMMEDIATE takes the write lock at BEGIN so two
    # transactions never deadlock upgrading their locks.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    _db["ENGINE"] = "django.db.backends.postgresql"
    _db["CONN_HEALTH_CHECKS"] = True
    if env.bool("DATABASE_POOL", default=True):
        # psycopg 3's pool; Django requires CONN_MAX_AGE = 0 with it.
        _db["CONN_MAX_AGE"] = 0
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=1),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            "timeout": 10,
        }
    else:
        _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------------------
if env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out logins before any backend checks the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Guardian: no anonymous user row; object permissions only for signed-in users.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# --- Login hardening (django-axes; unlock: docs/operations.md) ---------------------------
# Lock out an email address from one IP after AXES_FAILURE_LIMIT wrong passwords, for
# AXES_COOLOFF_MINUTES; other addresses and IPs stay unaffected (no easy denial of service).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the login form's "username" field holds the email
# Keyed on the email as sign-in matches it (case-insensitively), so case cannot dodge it.
AXES_USERNAME_CALLABLE = "koastops.accounts.lockout.lockout_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429

# --- Internationalisation --------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not env.bool("STATIC_MANIFEST", default=not DEBUG)
# {% icon "typo" %} raises instead of rendering nothing (DEBUG and tests; see core/templatetags/ui.py).
UI_ICON_STRICT = env.bool("UI_ICON_STRICT", default=DEBUG)

# --- Email -----------------------------------------------------------------------------
# With DEBUG: the development outbox (files under var/outbox/, shown at /dev/outbox/, and
# printed decoded to the console, so links are never cut by quoted-printable wrapping).
_email_backend = env.str(
    "EMAIL_BACKEND",
    default="koastops.devtools.mail.OutboxEmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": (
            {
                "host": env.str("EMAIL_HOST", default="localhost"),
                "port": env.int("EMAIL_PORT", default=25),
                "username": env.str("EMAIL_HOST_USER", default=""),
                "password": env.str("EMAIL_HOST_PASSWORD", default=""),
                "use_tls": env.bool("EMAIL_USE_TLS", default=False),
                "timeout": 10,
            }
            if _email_backend.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="koastops <koastops@localhost>")
EMAIL_OUTBOX_DIR = Path(env.str("EMAIL_OUTBOX_DIR", default=str(VAR_DIR / "outbox")))
# Links in emails start with this (never with a request's Host header). Required in
# production (`check --deploy` fails without it).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "")

# --- Security --------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Idle timeout: the session expires SESSION_COOKIE_AGE after the last request (each
# request saves it); the absolute timeout ends it that long after sign-in regardless.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=120) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_TIMEOUT = datetime.timedelta(
    hours=env.float("SESSION_ABSOLUTE_TIMEOUT_HOURS", default=12)
)
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the body attribute, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Scripts and styles only from our origin or with the per-request nonce; no inline
# handlers, no eval (htmx is configured with allowEval: false).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a hard-to-undo commitment for the whole domain and its
        # subdomains; a self-hosted install opts in explicitly, so the reminder is muted.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The health probes are called over plain HTTP by the orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Secrets at rest (pixel access tokens): Fernet keys, newest first, comma separated.
# Old keys stay readable after rotation (MultiFernet). In DEBUG a key is derived from
# SECRET_KEY so the quickstart needs no setup; production must set its own.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS and DEBUG:
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    ]

# Activity log chain (HMAC-SHA256): "key_id:secret" entries, newest first, comma separated.
# The first signs new rows and checkpoints; every listed key verifies (rotation, see
# docs/operations.md). Kept out of the database so its owner cannot re-sign a rewritten
# log. In DEBUG a key is derived from SECRET_KEY; production must set its own.
ACTIVITY_LOG_KEYS = env.list("ACTIVITY_LOG_KEYS", default=[])
if not ACTIVITY_LOG_KEYS and DEBUG:
    ACTIVITY_LOG_KEYS = [
        "dev:" + hashlib.sha256(b"koastops.activity:" + SECRET_KEY.encode()).hexdigest()
    ]
# Signed checkpoints of the chain's head, written by beat outside the database.
ACTIVITY_CHECKPOINT_DIR = Path(
    env.str("ACTIVITY_CHECKPOINT_DIR", default=str(VAR_DIR / "activity-checkpoints"))
)
ACTIVITY_CHECKPOINT_WEBHOOK_URL = env.str("ACTIVITY_CHECKPOINT_WEBHOOK_URL", default="")
ACTIVITY_CHECKPOINT_MINUTES = env.float("ACTIVITY_CHECKPOINT_MINUTES", default=10)

# --- Celery ----------------------------------------------------------------------------
_celery_fs = VAR_DIR / "celery-broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL == "filesystem://":
    # The transport ignores the host, but kombu warns on every connection without one.
    CELERY_BROKER_URL = "filesystem://localhost/"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (_celery_fs / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_fs / "queue"),
        "data_folder_out": str(_celery_fs / "queue"),
        "processed_folder": str(_celery_fs / "processed"),
        "control_folder": str(_celery_fs / "control"),
        "store_processed": False,
        # The transport polls its folder for messages (kombu's default: once a second); a
        # launch's checklist is two hops (the run, then one task per check), so at 1 s the
        # quickstart's checks would take two seconds to start. A folder listing every 0.1 s
        # costs nothing measurable.
        "polling_interval": 0.1,
    }
else:
    # Longer than the longest task's hard time limit, so a slow task is not redelivered
    # to a second worker while the first still runs it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60 * 2}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A run whose worker died this many times (OOM, segfault, hard time limit) is given up
# instead of redelivered again (koastops.celery.KoastopsTask).
CELERY_TASK_MAX_DELIVERIES = env.int("CELERY_TASK_MAX_DELIVERIES", default=3)
# On a lost broker connection, cancel running acks_late tasks (they are redelivered)
# instead of finishing work whose acknowledgement can no longer reach the broker.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Recycle pool processes: after this many tasks, or past this resident memory (KiB).
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=1000)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int(
    "CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=512 * 1024
)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "heartbeat": {"task": "koastops.system.heartbeat", "schedule": 60.0},
    "activity-checkpoint": {
        "task": "koastops.activity.checkpoint_write",
        "schedule": ACTIVITY_CHECKPOINT_MINUTES * 60,
    },
    # Consent reminders to legal reviewers (review due, sign-off expiring): hourly is
    # plenty, an edit also reminds at once (consent.services).
    "consent-reminders": {"task": "koastops.consent.reminders", "schedule": 3600.0},
}

# --- Event quality (koastops.quality) -------------------------------------------------------
# The Meta Graph API: a self-hosted install may point at a proxy, the tests at a local server.
META_GRAPH_BASE_URL = env.str("META_GRAPH_BASE_URL", default="https://graph.facebook.com")
META_GRAPH_API_VERSION = env.str("META_GRAPH_API_VERSION", default="v25.0")
# Seconds per HTTP request to a platform, and how many times a retryable failure is retried.
PLATFORM_HTTP_TIMEOUT = env.float("PLATFORM_HTTP_TIMEOUT", default=20.0)
PLATFORM_HTTP_RETRIES = env.int("PLATFORM_HTTP_RETRIES", default=4)
# CRM conversion uploads above this size are refused with a clear message.
CONVERSIONS_UPLOAD_MAX_BYTES = env.int("CONVERSIONS_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
# Pulls run on their own queue, so a backlog of pulls never delays checks or emails.
CELERY_TASK_ROUTES = {"koastops.quality.pull_*": {"queue": "pulls"}}
# CRM conversions: where uploaded files wait for the worker (web and worker must share
# it: one volume in docker-compose.yml).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Hosts (host or host:port) core.safefetch lets through its address and
# port checks: tests against a local server, intranets. Empty: only public addresses.
SAFE_FETCH_ALLOWED_HOSTS = env.list("SAFE_FETCH_ALLOWED_HOSTS", default=[])
# The launch checklist answers landing URLs on ``*.example`` hosts (RFC 2606: never
# resolvable) with a labelled demo page instead of fetching them (demo data, DEBUG).
LAUNCH_DEMO_LANDING_PAGES = env.bool("LAUNCH_DEMO_LANDING_PAGES", default=DEBUG)
# Alert rules evaluate after each pull and every 15 minutes (silent and discrepancy rules
# change without a pull).
CELERY_BEAT_SCHEDULE["quality-evaluate-alerts"] = {
    "task": "koastops.quality.evaluate_alerts",
    "schedule": 15 * 60.0,
}
# Task modules not named tasks.py (autodiscovery finds only those).
CELERY_IMPORTS = ["koastops.quality.tasks_conversions", "koastops.quality.tasks_alerts"]
# quality: pulls — time limits of one pull (a backfill of months runs inline, not as a
# task), when the reaper gives up on a silent run, and the beat jobs (docs/quality.md).
# Counts at :05 every hour, quality at :35 every 6 h: never at the same moment, since a
# pixel has one pull at a time and the second would be skipped.
from celery.schedules import crontab  # noqa: E402 -- only the beat block needs it

QUALITY_PULL_SOFT_TIME_LIMIT = env.int("QUALITY_PULL_SOFT_TIME_LIMIT", default=540)
QUALITY_PULL_TIME_LIMIT = env.int("QUALITY_PULL_TIME_LIMIT", default=600)
QUALITY_PULL_REAP_MARGIN = env.int("QUALITY_PULL_REAP_MARGIN", default=120)
QUALITY_PULL_QUEUED_TIMEOUT = env.int("QUALITY_PULL_QUEUED_TIMEOUT", default=3600)
QUALITY_REAP_EVERY = env.int("QUALITY_REAP_EVERY", default=300)
CELERY_BEAT_SCHEDULE.update(
    {
        "quality-pull-counts": {
            "task": "koastops.quality.schedule_pulls",
            "schedule": crontab(minute=5),
            "kwargs": {"kind": "counts"},
        },
        "quality-pull-quality": {
            "task": "koastops.quality.schedule_pulls",
            "schedule": crontab(minute=35, hour="*/6"),
            "kwargs": {"kind": "quality"},
        },
        "quality-reap-stale-pulls": {
            "task": "koastops.quality.reap_stale_pulls",
            "schedule": float(QUALITY_REAP_EVERY),
        },
        "quality-ensure-partitions": {
            "task": "koastops.quality.ensure_partitions",
            "schedule": crontab(minute=15, hour=2),
        },
    }
)

# --- Launches (koastops.launches) ----------------------------------------------------------
# One check of a launch's checklist: time limits of its task (the landing-URL check fetches
# every URL, 5 s each, several at a time). A run whose worker died is ended "error" by the
# reaper once its heartbeat is older than the hard limit plus the margin (docs/launches.md).
LAUNCH_CHECK_SOFT_TIME_LIMIT = env.int("LAUNCH_CHECK_SOFT_TIME_LIMIT", default=60)
LAUNCH_CHECK_TIME_LIMIT = env.int("LAUNCH_CHECK_TIME_LIMIT", default=90)
LAUNCH_RUN_REAP_MARGIN = env.int("LAUNCH_RUN_REAP_MARGIN", default=30)
LAUNCH_REAP_EVERY = env.int("LAUNCH_REAP_EVERY", default=60)
CELERY_BEAT_SCHEDULE.update(
    {
        "launches-reap-stale-runs": {
            "task": "koastops.launches.reap_stale_runs",
            "schedule": float(LAUNCH_REAP_EVERY),
        },
        "launches-post-launch-checks": {
            "task": "koastops.launches.schedule_post_launch",
            "schedule": crontab(minute=45, hour=3),
        },
    }
)

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "koastops.core.middleware.RequestIdLogFilter"},
        "quiet_housekeeping": {"()": "koastops.core.logfilters.QuietHousekeepingTasks"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if DEBUG else "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Every record goes through the one root handler, once. Django's default config gives
    # the "django" logger a console handler of its own (with DEBUG), which printed each of
    # its lines twice; here it has none and propagates like every other logger.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        # Beat's minutely housekeeping sends (and the worker's receipts of them) are DEBUG.
        "celery.beat": {"filters": ["quiet_housekeeping"]},
        "celery.worker.strategy": {"filters": ["quiet_housekeeping"]},
        "celery.app.trace": {"filters": ["quiet_housekeeping"]},
        # axes logs every sign-in at INFO; lock-outs and failures are WARNING.
        "axes": {"level": env.str("AXES_LOG_LEVEL", default="WARNING")},
    },
}

# --- Rate limits (django's cache; per process with the default local-memory cache) -----
# The API, per token user: "<requests>/<s|min|hour|day>"; empty switches it off.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
# Password-reset requests: at most this many per email address and per client IP in
# PASSWORD_RESET_WINDOW_MINUTES (0 switches that limit off).
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=20)
PASSWORD_RESET_WINDOW_MINUTES = env.int("PASSWORD_RESET_WINDOW_MINUTES", default=60)

# --- koastops --------------------------------------------------------------------------
KOASTOPS_PAGE_SIZE = env.int("KOASTOPS_PAGE_SIZE", default=25)
