"""Settings of the 会计之星 portal, read from the environment (every variable is in .env.example).

Defaults are production-safe: DEBUG is off unless asked, SECRET_KEY is required outside
development. With no DATABASE_URL the portal runs on SQLite, and with no CELERY_BROKER_URL
or REDIS_URL on kombu's filesystem transport, so that a fresh machine needs only Python.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG")
VAR_DIR = Path(os.environ.get("KJZX_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite, the file broker and uploads live here by default

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
    SECRET_KEY = "development-only-secret-key-never-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "kjzx.admin_apps.AdminConfig",  # django.contrib.admin, the portal's site: second factor, 三权分立
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",  # API tokens: stored hashed, expiring (django-rest-knox; replaced rest_framework.authtoken)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_fsm",
    "kjzx.vendor_apps.AxesConfig",  # "axes" (login lockouts) under its Chinese name in the admin
    "csp",
    # The staff second factor (accounts.otp): TOTP devices and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "kjzx",
    "accounts",
    "records",
    "transfers",
    "cpe",
    "workbench",  # the review queue and dashboards: reads every app above, imported by none
    "employers",  # 用人单位: their own accountants, read only, and CE reminders
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor passed in this session
    # Audit rows take this request's address and client; refusals (403, 404 outside scope) and downloads
    # are audit rows of their own (kjzx.audit_middleware).
    "kjzx.audit_middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kjzx.middleware.SessionLimitsMiddleware",  # 12 hours at most; ended by logout/password change elsewhere
    "kjzx.middleware.SecondFactorMiddleware",  # staff (and enrolled accountants) reach nothing on a password alone
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kjzx.middleware.ContentSecurityPolicyMiddleware",
    "kjzx.middleware.NoStoreForAuthenticatedMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kjzx.urls"
WSGI_APPLICATION = "kjzx.wsgi.application"

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
                "kjzx.context_processors.portal",
                "csp.context_processors.nonce",  # CSP_NONCE, for an inline <script nonce="…">
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Persistent connections suit gunicorn's sync workers (one connection per worker, checked before reuse);
# under runserver, which starts a thread per request, every kept connection leaked until PostgreSQL
# refused new ones: there, and by default with DEBUG, each request opens and closes its own.
RUNSERVER = len(sys.argv) > 1 and sys.argv[1] == "runserver"
DB_CONN_MAX_AGE = 0 if RUNSERVER else envint("DB_CONN_MAX_AGE", 0 if DEBUG else 60)
# Every web and worker connection runs without JIT and without parallel plans: on the portal's small
# indexed queries they cost more than they save (an overdue count: a parallel plan several times slower
# than the plain one; JIT compiles for tens of milliseconds). Measured by ``python -m bench`` ("database
# settings"); docs/deployment.md "Database settings". DB_SESSION_OPTIONS replaces them (empty: the server's).
DB_SESSION_OPTIONS = os.environ.get("DB_SESSION_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE,
                                                  conn_health_checks=DB_CONN_MAX_AGE > 0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_SESSION_OPTIONS.strip():
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = DB_SESSION_OPTIONS
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "kjzx.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis when configured; login lockout counters and rate limits live here) ---------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication and accounts --------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's password check; admin-site rights only from the administrator's role (三权分立).
    "accounts.backends.RoleBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "name", "mobile")}},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "accounts.validators.MaximumLengthValidator"},
    {"NAME": "accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Site and bureau names, the user's name in pinyin, ID-number fragments, keyboard walks, common
    # Chinese passwords, the published demo password (docs/security.md, item 13).
    {"NAME": "accounts.passwords.GuessablePasswordValidator"},
]

# Lockout (等保 8.1.4.1 b): 5 failures for one username from one address lock it for 30 minutes.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# No login name in axes' tables (an accountant's is the ID number): rows are keyed by a keyed hash of the
# normalised name, so the lockout still works per user; successful logins are in the audit history instead.
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_DISABLE_ACCESS_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "password", "otp", "code", "id_number", "mobile", "ip_address"]
# Behind a proxy, the client address comes from the header the proxy sets, never from the client:
# kjzx.http.client_ip reads X-Forwarded-For only when TRUSTED_PROXY_COUNT proxies stand in front.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "kjzx.http.client_ip"

# Sessions end after 30 idle minutes and at browser close, and 12 hours after login however busy
# (kjzx.middleware.SessionLimitsMiddleware, ASVS 7.3.2). A request does not write its session: the
# middleware renews the idle timer when the last renewal is SESSION_TOUCH_SECONDS old or more (the
# session then ends 29–30 minutes after the last request) and itself ends a session idle past
# SESSION_COOKIE_AGE, whatever the backend's own expiry. With Redis, sessions are read from the cache
# and written through to the table (cached_db: a cache flush logs nobody out); without it, the table.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = envint("SESSION_IDLE_MINUTES", 30) * 60
SESSION_ABSOLUTE_HOURS = envint("SESSION_ABSOLUTE_HOURS", 12)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Text messages (kjzx.sms): password-reset codes, and notifications a person must act on.
# Production must name the province's gateway backend; the default there sends nothing (and says so
# in the log, without the text) rather than logging codes. In development the logging backend writes
# each text with the mobile masked.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "kjzx.sms.LoggingBackend" if DEBUG else "kjzx.sms.UnconfiguredBackend")
SMS_CODE_TTL_MINUTES = envint("SMS_CODE_TTL_MINUTES", 10)
SMS_CODE_MAX_ATTEMPTS = 5

# Second factor (django-otp, accounts.otp): TOTP as RFC 6238 and API.md §1 fix it — SHA-1, 30-second
# steps, 6 digits, one step of drift either way (TOTPDevice's defaults). Each failure doubles the wait
# before the next try (1 s, 2 s, 4 s, …), on top of the login lockout it counts towards.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "会计之星")
OTP_TOTP_SYNC = False  # the window stays now ± 1 step; a learned drift would widen it over time
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Between the password and the code: the password step is good for this long.
OTP_PENDING_MINUTES = envint("OTP_PENDING_MINUTES", 5)

# Audit history (docs/security.md, "Audit"; kjzx.audit_chain): each row carries the HMAC-SM3 of the one
# before under this key (empty: derived from SECRET_KEY; set one of its own in production, and keep
# the retired ones in AUDIT_CHAIN_OLD_KEYS as "id:key,…" so `manage.py audit_verify` still checks old rows).
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY", "")
AUDIT_CHAIN_KEY_ID = os.environ.get("AUDIT_CHAIN_KEY_ID", "1")
AUDIT_CHAIN_OLD_KEYS = os.environ.get("AUDIT_CHAIN_OLD_KEYS", "")
# Kept at least six months (网络安全法 art. 21: 184 days covers any six calendar months); nothing shorter.
AUDIT_RETENTION_MIN_DAYS = 184
AUDIT_RETENTION_DAYS = envint("AUDIT_RETENTION_DAYS", AUDIT_RETENTION_MIN_DAYS)
if AUDIT_RETENTION_DAYS < AUDIT_RETENTION_MIN_DAYS:
    raise ImproperlyConfigured(f"AUDIT_RETENTION_DAYS must be at least {AUDIT_RETENTION_MIN_DAYS} (six months).")
# Refused requests (403, 404 outside one's scope) write an audit row each, up to this many per
# (user or address, route, kind) and minute; the rest are counted into the next row (kjzx.audit).
AUDIT_DENIALS_PER_MINUTE = envint("AUDIT_DENIALS_PER_MINUTE", 10)

# --- Encryption at rest (kjzx.crypto; docs/security.md item 44, docs/deployment.md "Data keys") -----
# ID and mobile numbers are stored sealed with SM4-GCM under KJZX_DATA_KEYS ("<key id>:<base64 of 16
# bytes>,…": the first seals, every one listed opens) and searched through HMAC-SM3 blind indexes under
# KJZX_HASH_KEY (base64, 32 bytes or more). With DEBUG off both are required, as SECRET_KEY is; with
# DEBUG, when unset, both are derived from SECRET_KEY (development only).
KJZX_DATA_KEYS = os.environ.get("KJZX_DATA_KEYS", "")
KJZX_HASH_KEY = os.environ.get("KJZX_HASH_KEY", "")
KJZX_DERIVED_DATA_KEYS = DEBUG and not (KJZX_DATA_KEYS or KJZX_HASH_KEY)
if not DEBUG and not (KJZX_DATA_KEYS and KJZX_HASH_KEY):
    raise ImproperlyConfigured("KJZX_DATA_KEYS and KJZX_HASH_KEY must be set when DEBUG is off "
                               "(ID and mobile numbers are stored encrypted; see .env.example).")

# --- Production hardening (manage.py check --deploy is clean with DEBUG off) -----------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
# The interface is Chinese for everyone; strings are marked for translation should another language come.
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files and uploads ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads live outside the static tree and are served only by views that check who asks.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
MEDIA_URL = "/media/"  # never routed: no URL serves MEDIA_ROOT directly
STORAGES = {
    # Set STORAGE_BACKEND=storages.backends.s3.S3Storage (and the AWS_* variables) for object storage.
    "default": {"BACKEND": STORAGE_BACKEND},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# S3-compatible object storage (django-storages reads these settings when STORAGE_BACKEND is S3Storage).
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or None
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True  # uploads are private: links are signed and short-lived
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_MB", 10) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Online learning (docs/cpe.md): the largest lesson video or PDF an institution uploads, and a factor
# (0.001–1) by which a demo or a test shortens every lesson's required time. The factor is honoured only
# with DEBUG or the test settings (never in production) and leaves every heartbeat check as it is.
LEARNING_MEDIA_MAX_MB = envint("LEARNING_MEDIA_MAX_MB", 500)
KJZX_LEARNING_TIME_SCALE = os.environ.get("KJZX_LEARNING_TIME_SCALE", "")

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kjzx.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "kjzx.parsers.JSONParser",  # DRF's, refusing absurdly nested JSON with a 400
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "kjzx.api.exception_handler",
    # Per client address (kjzx.http.client_ip): a county office behind one NAT must still be able to
    # log everyone in; registration answers whether an ID number is registered, so it is tighter.
    "DEFAULT_THROTTLE_RATES": {"auth": "120/minute", "register": "20/hour"},
    # DRF's own reading of X-Forwarded-For, for any throttle not built on kjzx.http.ClientAddressThrottle:
    # the same count of trusted proxies (0: REMOTE_ADDR only, whatever the client sends).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
# API tokens (django-rest-knox): `Authorization: Bearer <token>` (API.md §1), stored as SHA-512 digests,
# valid 10 hours from issue (no sliding renewal); logout revokes the token, a password change all of them.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(hours=envint("API_TOKEN_TTL_HOURS", 10)),
    "AUTO_REFRESH": False,
}

# Content-Security-Policy on every HTML page (django-csp; kjzx.middleware.ContentSecurityPolicyMiddleware
# adds it to HTML responses only and lets a view that may be framed by the portal say so). An inline
# script needs nonce="{{ request.csp_nonce }}"; inline style attributes are refused: use CSS classes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "会计之星 API",
    "DESCRIPTION": ("山西省会计管理信息系统的 REST 接口（/api/v1/）"
                    "与全国会计人员管理服务平台交换接口（/api/exchange/v1/）。"),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-spectacular's default hook, then: every operation documents the 406 of content negotiation, and every
    # operation with a body the 415.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "kjzx.workflow_api.document_content_negotiation"],
}

# --- Celery (Redis in production; kombu's filesystem transport when nothing is configured) ---
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    for _folder in ("queue", "processed", "control"):
        (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# No task runs forever: a soft limit raises inside the task (it can say why it stopped), the hard one
# replaces the worker process. Tasks that read uploaded files set tighter limits (cpe/tasks.py).
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 30 * 60)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 35 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Warn provincial staff when next year's working-day arrangement is still missing (R-DL-1).
    "check-calendar-coverage": {
        "task": "kjzx.tasks.check_calendar_coverage",
        "schedule": crontab(hour=8, minute=0),
    },
    # Remind reviewers before a review step is due; report overdue steps to the level above (R-DL-2).
    # Both sweep the stored due dates, so a run missed while the machine was down is caught up (R-DL-3).
    "remind-due-steps": {
        "task": "kjzx.tasks.remind_due_steps",
        "schedule": crontab(hour=8, minute=0),
    },
    "escalate-overdue-steps": {
        "task": "kjzx.tasks.escalate_overdue_steps",
        "schedule": crontab(hour=8, minute=5),
    },
    # An uploaded outbound transfer the destination province did not answer in time returns to the
    # origin by itself (R-TRF-3); hourly, from the stored upload times, so a missed run is caught up (R-DL-3).
    "return-unanswered-outbound": {
        "task": "transfers.tasks.return_unanswered_outbound",
        "schedule": crontab(minute=20),
    },
    # Freeze each CE year the day after its registration closes, into the credit-information file
    # (R-CE-13), and open the new year's policy on 1 January (R-CE-5). From the stored dates, so a
    # missed run is caught up by the next (R-DL-3).
    "close-due-cpe-years": {
        "task": "cpe.tasks.close_due_cpe_years",
        "schedule": crontab(hour=0, minute=30),
    },
    # Delete uploaded files no attachment row references (a rolled-back upload), older than a day.
    "sweep-orphaned-uploads": {
        "task": "records.tasks.sweep_orphaned_uploads",
        "schedule": crontab(hour=3, minute=40),
    },
    # Notifications by e-mail and SMS (kjzx.deliveries): queue again what a lost task left
    # pending, mark a dead worker's sends unknown (never resent); each reviewer's reminders and
    # escalations of the morning's sweeps in one e-mail; CE year deadline reminders.
    "sweep-deliveries": {
        "task": "kjzx.tasks.sweep_deliveries",
        "schedule": crontab(minute="*/5"),
    },
    "send-reviewer-digests": {
        "task": "kjzx.tasks.send_reviewer_digests",
        "schedule": crontab(hour=8, minute=30),
    },
    "remind-cpe-year-deadlines": {
        "task": "kjzx.tasks.remind_cpe_year_deadlines",
        "schedule": crontab(hour=9, minute=0),
    },
}

# --- E-mail (notifications; console in development, SMTP from the environment in production) -----
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend" if DEBUG
                               else "django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@kjzx.example")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)  # seconds; far below NOTIFICATION_LEASE_SECONDS
# Sending notifications (kjzx.deliveries): how long a worker holds a message it is sending (after
# that the sweep marks it "unknown", never resent), how long a pending one waits before the sweep
# queues it again, and how many the sweep queues at a time.
NOTIFICATION_LEASE_SECONDS = envint("NOTIFICATION_LEASE_SECONDS", 600)
NOTIFICATION_REQUEUE_SECONDS = envint("NOTIFICATION_REQUEUE_SECONDS", 300)
NOTIFICATION_SWEEP_LIMIT = envint("NOTIFICATION_SWEEP_LIMIT", 20000)
# Days before a CE year's deadline (完成期限, R-CE-5) on which people obliged and not complete are told.
CPE_DEADLINE_REMINDER_DAYS = sorted({int(day) for day in envlist("CPE_DEADLINE_REMINDER_DAYS", "30,7")},
                                    reverse=True)

# --- Logging: no personal data in logs ---------------------------------------------------------
QUIET_LOGGERS = {  # libraries that say too much at INFO (the test settings keep them quiet too)
    "axes": {"level": "WARNING"},
    "weasyprint.progress": {"level": "WARNING"},  # seven "Step N" lines for every certificate rendered
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": QUIET_LOGGERS,
}

PORTAL_NAME = _("会计之星")
PORTAL_SYSTEM_NAME = _("山西省会计管理信息系统")
# The portal's public address (https://kjzx.example.gov.cn), printed and QR-coded on certificates
# (/verify/<code>), and the "去办理" links of notification e-mail and SMS; never the host a request came
# to. Empty: http://127.0.0.1:8000 with DEBUG (scripts/run.sh's address), else https:// and the first
# host name of ALLOWED_HOSTS.
DEVELOPMENT_SITE_URL = "http://127.0.0.1:8000"
_site_hosts = [host for host in ALLOWED_HOSTS if host != "*" and not host.startswith(".")]
SITE_URL = (os.environ.get("SITE_URL", "").strip().rstrip("/")
            or (f"https://{_site_hosts[0]}" if _site_hosts and not DEBUG else DEVELOPMENT_SITE_URL))

# Certificates' PAdES signature (cpe/ledger/certificates/signing.py): each a PEM file's path or the PEM
# text itself ("\n" may stand for line breaks); the certificate may be followed by its chain. Both
# empty: a development pair made on first use under VAR_DIR/certificate-signing/ (not for production).
CERTIFICATE_SIGNING_KEY = os.environ.get("CERTIFICATE_SIGNING_KEY", "")
CERTIFICATE_SIGNING_CERT = os.environ.get("CERTIFICATE_SIGNING_CERT", "")
CERTIFICATE_SIGNING_KEY_PASSWORD = os.environ.get("CERTIFICATE_SIGNING_KEY_PASSWORD", "")
if bool(CERTIFICATE_SIGNING_KEY) != bool(CERTIFICATE_SIGNING_CERT):
    raise ImproperlyConfigured("Set CERTIFICATE_SIGNING_KEY and CERTIFICATE_SIGNING_CERT together (see .env.example).")
