"""The one settings base. Everything that varies between machines comes from the environment.

With no variables set this is the embedded default: SQLite and Celery's filesystem transport
under DATA_DIR, secrets generated once into DATA_DIR. Setting DATABASE_URL switches to the
services mode, where SECRET_KEY and FIELD_ENCRYPTION_KEYS must be given explicitly.
"""

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_str, local_secret, new_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent

DATA_DIR = Path(env_str("DATA_DIR", "var"))
if not DATA_DIR.is_absolute():
    DATA_DIR = REPO_DIR / DATA_DIR
# Everything under DATA_DIR is private to the service's user: the folder 0700, files 0600
# (the SQLite file, broker messages, generated secrets, PDFs), whichever process creates them.
os.umask(0o077)
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
if DATA_DIR.stat().st_uid == os.geteuid():
    DATA_DIR.chmod(0o700)  # tighten a folder left by an older version
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

DEBUG = env_bool("DEBUG", default=False)
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
DATABASE_URL = env_str("DATABASE_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
EMBEDDED = not DATABASE_URL
# Demo clinic, clients and a full-scope token (seed_demo): only on the embedded default, unless
# asked for explicitly (DEMO=true or `seed_demo --demo`).
DEMO = env_bool("DEMO", default=EMBEDDED)


def _secret(name: str, filename: str, make: Callable[[], str]) -> str:
    value = env_str(name)
    if value:
        return value
    if EMBEDDED or DEBUG:
        return local_secret(DATA_DIR, filename, make)
    raise ImproperlyConfigured(f"{name} is required when DATABASE_URL is set and DEBUG is false.")


SECRET_KEY = _secret("SECRET_KEY", ".secret_key", new_secret_key)
FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in _secret(
        "FIELD_ENCRYPTION_KEYS", ".field_keys", lambda: Fernet.generate_key().decode()
    ).split(",")
    if key.strip()
]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes)."
        ) from None
# Keys the audit chain (HMAC-SHA256). Kept out of the database, so the database alone cannot
# rewrite the trail; in the services mode without it, start-up names it.
AUDIT_KEY = _secret("AUDIT_KEY", ".audit_key", new_secret_key)

# How the outside world reaches this service (webhook links, the OpenAPI `servers` block).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env_str("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "formtools",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "common",
    "accounts",
    "clients",
    "audit",
    "intake",
    "plans",
    "documents",
    "language",
    "referrals",
    "fhir_r4",
    "smart",
    "webhooks",
    "exports",
]

MIDDLEWARE = [
    "common.middleware.LengthRequiredMiddleware",  # first: nothing reads a body it cannot see
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "common.middleware.CommonMiddleware",  # Django's, no slash redirects for API writes
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.middleware.NoStoreMiddleware",
    "audit.context.RequestIdMiddleware",
    "audit.middleware.ReadAuditMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns lockouts into a response.
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

if DATABASE_URL:
    # Connections are kept for a minute (web requests and worker tasks alike) and checked
    # before each request or task reuses one, so a restarted database costs no request.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "db.sqlite3"),
            # The web server and the worker write to the same file: WAL lets readers go on
            # while one writes, and IMMEDIATE transactions avoid deadlocked upgrades.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Quick exit: where the wizard's quick-exit control leaves to (a neutral page). Default: this
# service's own neutral page; else an absolute https:// address or a local path.
QUICK_EXIT_URL = env_str("QUICK_EXIT_URL", "/away/")
if not (
    QUICK_EXIT_URL.startswith("https://")
    or (QUICK_EXIT_URL.startswith("/") and not QUICK_EXIT_URL.startswith("//"))
):
    raise ImproperlyConfigured("QUICK_EXIT_URL must be an https:// address or a local path")

LANGUAGE_CODE = "en"
# The languages a client can choose (DESIGN "Languages"); a new one is a catalogue in
# backend/locale/<code>/ plus a line here (README "Adding a language").
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "files"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Sessions: a shared screen in a clinic room is the norm, so sessions are short.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# Secure cookies and HSTS need HTTPS, which the embedded local default does not have, nor a
# compose try-out on http://127.0.0.1. SECURE_COOKIES=true once a TLS proxy serves the site.
_HTTPS = env_bool("SECURE_COOKIES", default=not DEBUG and not EMBEDDED)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_HSTS_SECONDS = 31536000 if _HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # no referrer ever leaves the site
X_FRAME_OPTIONS = "DENY"

# Requests and uploads: the largest legitimate body is one intake step.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "accounts.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ClinicMember"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["common.parsers.SafeJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "common.schema.ApiAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["common.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_RATE", "600/min")},
    "UNAUTHENTICATED_USER": None,
    # Who is calling, for the rate limits: the connection's address, never a header the caller
    # writes (X-Forwarded-For), unless this many proxies of our own stand in front and append it.
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0, minimum=0),
}
# Refused API tokens from one address in a minute before every token from it is refused (429).
API_TOKEN_FAILURES_PER_MINUTE = 30
SPECTACULAR_SETTINGS = {
    "TITLE": "Intake and care plan API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response models, so read-only fields (id, created_at) are never
    # required in a request body of a generated client.
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable names for the enums a generated client exposes as types.
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventEnum": "webhooks.models.EVENTS",
        "DeliveryEventEnum": "webhooks.models.DELIVERY_EVENTS",
        "IntakeStatusEnum": "intake.models.Status",
        "DocumentStatusEnum": "documents.models.DocStatus",
        "PlanStatusEnum": "plans.models.PlanStatus",
        "ExportStatusEnum": "exports.models.ExportStatus",
        "AgreementClientDecisionEnum": "plans.models.ClientDecision",
        "ReferralClientDecisionEnum": "referrals.models.ClientDecision",
        "SupportsEnum": "plans.selectors.SUPPORT_CODES",
        "CodeEnum": "documents.api.WORDING_REVIEW_CODES",
        "ServicesEnum": "referrals.api.SERVICE_CODES",
    },
    "SERVERS": [{"url": PUBLIC_BASE_URL, "description": "This service"}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "webhooks.api.delivery_headers",
        "intake.api.step_body_required",
    ],
    # The schema describes the API, not anyone's data: integrators may read it unsigned.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Served from this service, not a CDN: nothing about who reads the docs leaves the site.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

AUTHENTICATION_BACKENDS = [
    "accounts.signin_limits.AddressLimitBackend",  # per-address limit across usernames
    "axes.backends.AxesStandaloneBackend",  # lockout first
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed sign-ins for a username from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Against password spraying: this many failed sign-ins from one address, whatever the usernames,
# refuse every sign-in from it for the same cool-off (counted in the shared cache).
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model name
# knox's own migration creates its default token table even when the model is swapped for ours.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": None,  # integration tokens live until revoked
    "TOKEN_MODEL": "accounts.ApiToken",
    "TOKEN_PREFIX": "cp_",
}

# One cache shared by every process (API rate limits, sign-in limits): CACHE_URL if given
# (redis://… or db://), else Redis when the broker is Redis, else the database (embedded mode;
# its table is made by a migration in common/).
CACHE_URL = env_str("CACHE_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "db://"
)
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            # Fails open: a Redis outage suspends the limits, it does not stop the API.
            "BACKEND": "common.cache.FailOpenRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "intake-cache",
        }
    }
elif CACHE_URL == "db://":
    CACHES = {
        "default": {
            "BACKEND": "common.cache.AtomicDatabaseCache",
            "LOCATION": "django_cache",
        }
    }
else:
    raise ImproperlyConfigured("CACHE_URL must be redis://…, rediss://… or db://")

# Celery (read by config/celery.py under the CELERY_ namespace). Tasks carry ids only and
# results live in status rows, so there is no result backend.
if CELERY_BROKER_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport with atomic writes and claims that survive a killed worker
    # (common/broker.py; README "Broker" says why this and not SQLite).
    from kombu.transport import TRANSPORT_ALIASES

    TRANSPORT_ALIASES["atomicfs"] = "common.broker:Transport"
    _broker = DATA_DIR / "broker"
    for _sub in ("queue", "control", "claimed"):
        (_broker / _sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    CELERY_BROKER_URL = "atomicfs://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "control_folder": str(_broker / "control"),
        "claimed_folder": str(_broker / "claimed"),
        # A killed process never leaves a partial message (atomic rename); fsync also covers a
        # power cut at ~6 ms per message. Off: after a power cut the sweepers re-send (README).
        "fsync": env_bool("BROKER_FSYNC", default=False),
        # Celery's 1 s default would add up to a second to every job.
        "polling_interval": 0.02,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task waiting this long for a free pool process means the pool is stuck: the worker restarts
# (common/tasks.py). Well above a pool's own replacement of a killed process (about 10 s here).
WORKER_POOL_STUCK_SECONDS = env_int("WORKER_POOL_STUCK_SECONDS", 60, minimum=5)
# /healthz counts a worker as down when its heartbeat (every 2 s) is older than this.
HEALTH_WORKER_STALE_SECONDS = env_int("HEALTH_WORKER_STALE_SECONDS", 10, minimum=3)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup would close the database connection before and after every task (a new
# PostgreSQL connection for each PDF: about 10 ms of the client's wait here). config.celery
# closes it only when CONN_MAX_AGE or a failed health check says so, as a web request does.
CELERY_DB_REUSE_MAX = 1_000_000
# Recycle pool children so a long export cannot walk a worker's memory up: a child is replaced
# after this many tasks, or once it holds more than this many KiB. Children fork from the warm
# parent (documents.tasks warms WeasyPrint at worker_init), so a new one starts warm.
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("WORKER_MAX_TASKS_PER_CHILD", 200, minimum=1)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("WORKER_MAX_MEMORY_KIB", 200 * 1024, minimum=1024)
CELERY_TASK_TIME_LIMIT = env_int("TASK_TIME_LIMIT", 120, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5
CELERY_TIMEZONE = "UTC"
# Webhooks may only reach public https endpoints, except in development.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)

# Completed records untouched for this long are erased (0 keeps them). Set it to what the law
# where you practise requires; 7 years is a common minimum for clinical records.
RETENTION_DAYS = env_int("RETENTION_DAYS", 7 * 365, minimum=0)
# Bulk-export zips are deleted this many days after they were requested.
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 7, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "purge-expired-records": {
        "task": "clients.tasks.purge_expired_records",
        "schedule": 24 * 3600.0,
    },
    "expire-exports": {"task": "exports.tasks.expire_exports", "schedule": 3600.0},
    "purge-plan-drafts": {"task": "plans.tasks.purge_plan_drafts", "schedule": 3600.0},
    # Re-enqueue documents whose message was lost to a killed worker or a restarted broker.
    "sweep-documents": {"task": "documents.tasks.sweep_documents", "schedule": 60.0},
    # The same for webhook deliveries left pending, and exports left queued, running or
    # half-assembled, by a dead process or a lost message.
    "sweep-webhooks": {"task": "webhooks.tasks.sweep_webhooks", "schedule": 60.0},
    "sweep-exports": {"task": "exports.tasks.sweep_exports", "schedule": 60.0},
    # Chain the reads appended since the last change (they are written without a lock).
    "seal-audit-chains": {"task": "audit.tasks.seal_audit_chains", "schedule": 30.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
TASK_MAX_DELIVERIES = 3
# `GET /api/v1/documents/{id}/?wait=N` holds a web thread for up to N seconds (at most this),
# answering as soon as the document is ready. At most DOCUMENT_WAITERS such reads wait at once in
# each web process (keep it below the process's threads); the rest answer at once, as without
# `wait`, so waiting clients can never take every thread from the rest of the API.
DOCUMENT_WAIT_MAX_SECONDS = 10
DOCUMENT_WAITERS = env_int("DOCUMENT_WAITERS", 4, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No library may log client text (common/logs.py): its loggers at ERROR, and a filter.
    "filters": {"library_text": {"()": "common.logs.RedactLibraryText"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["library_text"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs the request path of 4xx/5xx; paths carry only ids, never client text.
        "django.request": {"level": "ERROR"},
        # WeasyPrint logs each character its fonts lack: the client's words, one per line.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
        "pydyf": {"level": "ERROR"},
    },
}

# Sessions end after 30 minutes without activity, and 12 hours after sign-in whatever happens.
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 30, minimum=1))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)

# FHIR: the public base URL of /fhir (e.g. https://care.example.org/fhir). It names the
# Questionnaire canonical URLs and the OAuth token URL that assertions must name as `aud`;
# empty: built from each request's host.
FHIR_BASE_URL = env_str("FHIR_BASE_URL").rstrip("/")
if FHIR_BASE_URL and not FHIR_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("FHIR_BASE_URL must be an http(s) URL.")
# The identifier system of the EHR ids (Client.external_id) in Patient.identifier; optional.
FHIR_EHR_ID_SYSTEM = env_str("FHIR_EHR_ID_SYSTEM")
SMART_TOKEN_LIFETIME = env_int("SMART_TOKEN_LIFETIME", 300, minimum=30, maximum=3600)
