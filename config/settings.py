"""Settings for the CRM, every knob read from the environment (see config/env.py).

With nothing set the project runs on the embedded default: a SQLite file, the in-memory
channel layer and a local-memory cache. DATABASE_URL and REDIS_URL switch it to
PostgreSQL and Redis.
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_choice,
    env_currency,
    env_decimal,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -----------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)
# Commands that only read and write source files never serve a request nor use the key, and must
# work in a bare checkout (a CI step, a pre-commit hook). Refused settings would not even say so
# there: Django's command runner swallows the error and fails later with AppRegistryNotReady.
_SOURCE_ONLY_COMMANDS = frozenset({"makemigrations", "makemessages", "compilemessages"})
_SOURCE_ONLY = len(sys.argv) > 1 and sys.argv[1] in _SOURCE_ONLY_COMMANDS
_INSECURE_KEY = "django-insecure-crm-embedded-default-key-change-me-for-production-use"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _INSECURE_KEY)
if not DEBUG and not _SOURCE_ONLY and (SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 32 characters when DJANGO_DEBUG is off."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not _SOURCE_ONLY and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names the site is served on.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "dbbackup",
    "crm_core.common",
    "crm_core.accounts",
    "crm_core.customers",
    "crm_core.orders",
    "crm_core.inspections",
    "crm_core.inventory",
    "crm_core.reports",
    "realtime",
    "consumers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm_core.common.middleware.HtmxMessagesMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm_core.common.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------

DATABASE_URL = env_url("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
DB_POOL_MAX = env_int("CRM_DB_POOL_MAX", 20, minimum=1)
if DATABASE_URL and not DATABASE_URL.startswith("sqlite"):
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
    _db["ENGINE"] = "django.db.backends.postgresql"
    _db.setdefault("OPTIONS", {})
    # Django's psycopg 3 pool keeps connections warm for Daphne's thread pool.
    _db["OPTIONS"]["pool"] = {"min_size": 1, "max_size": DB_POOL_MAX, "timeout": 30}
    _db["TEST"] = {"NAME": env_str("CRM_TEST_DATABASE", "test_" + (_db.get("NAME") or "crm"))}
elif DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL)
else:
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two writers queue instead of
    # failing with "database is locked" half-way through a service.
    _db.setdefault("OPTIONS", {}).setdefault("transaction_mode", "IMMEDIATE")
    _db["OPTIONS"].setdefault("timeout", 20)
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and channel layer --------------------------------------------------------------

REDIS_URL = env_url("REDIS_URL", ("redis", "rediss", "unix"))
# Keys of the cache and the channel layer start with this: several deployments (or test runs)
# can share one Redis.
CRM_REDIS_PREFIX = env_str("CRM_REDIS_PREFIX", "crm")
if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,40}", CRM_REDIS_PREFIX):
    raise ImproperlyConfigured(f"CRM_REDIS_PREFIX must be 1-40 letters, digits or _ . : -, got {CRM_REDIS_PREFIX!r}.")
# Channel layer: messages one process may have waiting before new ones are dropped (the
# stream then tells its clients to resync), seconds a message waits, seconds a group lives.
CRM_CHANNEL_CAPACITY = env_int("CRM_CHANNEL_CAPACITY", 1500, minimum=10)
CRM_CHANNEL_EXPIRY = env_int("CRM_CHANNEL_EXPIRY", 30, minimum=5)
CRM_CHANNEL_GROUP_EXPIRY = env_int("CRM_CHANNEL_GROUP_EXPIRY", 86400, minimum=60)
# Redis connections one process may hold for the channel layer. redis-py's asyncio pool allows
# 100 and then raises "Too many connections" rather than waiting: when the sockets of a process
# join or leave at once (a restart, a network blip: bench/ws_fanout.py --connect-concurrency 1000
# had 844 of 1,000 streams report "live updates paused"), the joins, leaves and publishes past
# the hundredth fail. Connections open only as needed and stay in the pool; keep processes ×
# this under Redis's maxclients (10,000 by default).
CRM_CHANNEL_MAX_CONNECTIONS = env_int("CRM_CHANNEL_MAX_CONNECTIONS", 1000, minimum=10)
# Live streams: how often each process checks the channel layer (and re-joins its consumers'
# groups after Redis lost them), how long a missing message may be late before a resync, and
# how long a publish may wait for the layer before giving up (the change is saved regardless).
CRM_LIVE_CHECK_SECONDS = env_int("CRM_LIVE_CHECK_SECONDS", 5, minimum=1)
CRM_LIVE_GAP_GRACE_SECONDS = env_int("CRM_LIVE_GAP_GRACE_SECONDS", 3, minimum=1)
CRM_PUBLISH_TIMEOUT_SECONDS = env_int("CRM_PUBLISH_TIMEOUT_SECONDS", 2, minimum=1)
# Presence ("who else is here"): each page re-announces itself this often, and an entry not
# heard from for the expiry is dropped (a crashed process sends no "left").
CRM_PRESENCE_HEARTBEAT_SECONDS = env_int("CRM_PRESENCE_HEARTBEAT_SECONDS", 25, minimum=1)
CRM_PRESENCE_EXPIRY_SECONDS = env_int("CRM_PRESENCE_EXPIRY_SECONDS", 70, minimum=3)
if REDIS_URL:
    CACHES = {
        "default": {
            # RedisCache that logs and answers "miss" while Redis is down, instead of a 500.
            "BACKEND": "crm_core.common.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            # Apart from the channel layer's keys ("<prefix>:group:…"), so clear() spares them.
            "KEY_PREFIX": f"{CRM_REDIS_PREFIX}:cache",
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.redis_layer.RedisChannelLayer",
            "CONFIG": {
                # Calls are bounded where they are made (publish, join, the live watch). The layer's
                # blocking receive ends inside redis-py's 5 s socket timeout (realtime/redis_layer.py).
                "hosts": [{"address": REDIS_URL, "max_connections": CRM_CHANNEL_MAX_CONNECTIONS}],
                "prefix": CRM_REDIS_PREFIX,
                "capacity": CRM_CHANNEL_CAPACITY,
                "expiry": CRM_CHANNEL_EXPIRY,
                "group_expiry": CRM_CHANNEL_GROUP_EXPIRY,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "crm"}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {
                "capacity": CRM_CHANNEL_CAPACITY,
                "expiry": CRM_CHANNEL_EXPIRY,
                "group_expiry": CRM_CHANNEL_GROUP_EXPIRY,
            },
        }
    }

# --- Authentication -------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
AXES_FAILURE_LIMIT = env_int("CRM_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = env_choice("CRM_LANGUAGE", "ar", ("ar", "en"))
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_time_zone("CRM_TIME_ZONE", "Africa/Cairo")
USE_I18N = True
USE_TZ = True

CRM_CURRENCY = env_currency("CRM_CURRENCY", "EGP")
CRM_TAX_RATE = env_decimal("CRM_TAX_RATE", "0.14", minimum="0", maximum="1")

# --- Static and media files ------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
    "dbbackup": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("CRM_BACKUP_DIR", str(BASE_DIR / "backups"))},
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("CRM_MEDIA_ROOT", str(BASE_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Backups ----------------------------------------------------------------------------------

DBBACKUP_CLEANUP_KEEP = env_int("CRM_BACKUP_KEEP", 10, minimum=1)
# Backup file names carry this instead of the (random, in containers) host name.
DBBACKUP_HOSTNAME = "crm"

# --- REST API (/api/v1/) ------------------------------------------------------------------------


def _env_rate(name: str, default: str) -> str:
    """A throttle rate such as ``60/min``: a positive number, a slash, then sec, min, hour or day."""
    value = env_str(name, default)
    number, _slash, period = value.partition("/")
    if not (number.isdigit() and int(number) > 0 and period in ("s", "sec", "m", "min", "h", "hour", "d", "day")):
        raise ImproperlyConfigured(f"{name} must be a rate such as 60/min (per sec, min, hour or day), got {value!r}.")
    return value


REST_FRAMEWORK = {
    # JWT for mobile apps and integrations; the session (with CSRF) for the browser. The first
    # class decides the 401 challenge (WWW-Authenticate: Bearer).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm_core.common.api.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies; the photo upload alone also reads multipart (its own parser_classes).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "crm_core.common.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "crm_core.common.api.throttles.AnonRateThrottle",
        "crm_core.common.api.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": _env_rate("CRM_API_ANON_RATE", "60/min"),
        "user": _env_rate("CRM_API_USER_RATE", "1200/min"),
        # Token obtain: a stricter limit per client address on top of django-axes' lockout.
        "auth": _env_rate("CRM_API_AUTH_RATE", "10/min"),
    },
    # Client addresses for throttling come from REMOTE_ADDR unless this many proxies stand in front
    # (then from X-Forwarded-For, counted from the right): a client cannot choose its own address.
    "NUM_PROXIES": env_int("CRM_TRUSTED_PROXIES", 0, minimum=0),
    "EXCEPTION_HANDLER": "crm_core.common.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# How long a replayable answer to an Idempotency-Key is kept (payments, stock movements).
CRM_IDEMPOTENCY_TTL_HOURS = env_int("CRM_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
# One-time WebSocket tickets (POST /api/v1/auth/ws-ticket/) live this many seconds.
CRM_WS_TICKET_SECONDS = env_int("CRM_WS_TICKET_SECONDS", 30, minimum=5)

_JWT_ACCESS_MINUTES = env_int("CRM_JWT_ACCESS_MINUTES", 10, minimum=1)
if _JWT_ACCESS_MINUTES > 60:
    raise ImproperlyConfigured(
        f"CRM_JWT_ACCESS_MINUTES must be at most 60 (access tokens are short-lived), got {_JWT_ACCESS_MINUTES}."
    )
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=_JWT_ACCESS_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("CRM_JWT_REFRESH_DAYS", 7, minimum=1)),
    # A refresh token works once: refreshing returns a new one and blacklists the old.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("CRM_JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Deactivated users are refused on every request, and a password change revokes every token.
    "CHECK_USER_IS_ACTIVE": True,
    "CHECK_REVOKE_TOKEN": True,
    "LEEWAY": 0,
    "TOKEN_OBTAIN_SERIALIZER": "crm_core.common.api.auth.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "crm_core.common.api.auth.TokenRefreshSerializer",
    "TOKEN_VERIFY_SERIALIZER": "crm_core.common.api.auth.TokenVerifySerializer",
    "TOKEN_BLACKLIST_SERIALIZER": "crm_core.common.api.auth.TokenBlacklistSerializer",
}
if len(SIMPLE_JWT["SIGNING_KEY"]) < 32 and not DEBUG:
    raise ImproperlyConfigured("CRM_JWT_SIGNING_KEY must be at least 32 characters long.")

SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": (
        "Version 1 of the CRM's JSON API: the same services, scoping and events as the web pages.\n\n"
        "**Authentication**: `POST /api/v1/auth/token/` returns an access and a refresh token; send "
        "`Authorization: Bearer <access>`. A refresh token works once (it is rotated). The browser may "
        "use its session cookie with the `X-CSRFToken` header instead.\n\n"
        '**Errors** always have the shape `{"error": {"code", "message", "fields"}}`.\n\n'
        "**Scoping**: a record of a branch you do not see is a 404, also when its id is sent in a "
        "request body.\n\n"
        "**Concurrency**: editable records carry an `ETag`; send it back in `If-Match` on PUT/PATCH "
        "and on the actions that change them: a stale version answers 412.\n\n"
        "**Idempotency**: POSTs that record payments or stock movements accept an `Idempotency-Key` "
        "header; the same key with the same body replays the first answer and writes nothing more."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "crm_core.customers.models.CustomerKind",
        "CustomerStatusEnum": "crm_core.customers.models.CustomerStatus",
        "OrderStatusEnum": "crm_core.orders.models.OrderStatus",
        "PaymentMethodEnum": "crm_core.orders.models.PaymentMethod",
        "ShippingMethodEnum": "crm_core.orders.models.ShippingMethod",
        "InspectionStatusEnum": "crm_core.inspections.models.InspectionStatus",
        "MovementKindEnum": "crm_core.inventory.models.MovementKind",
        "NewMovementKindEnum": "crm_core.inventory.api.NewMovementKind",
        "NotificationKindEnum": "crm_core.accounts.models.NotificationKind",
        "LanguageEnum": [("ar", "Arabic"), ("en", "English")],
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm_core.common.api.schema.add_error_responses",
    ],
}

# --- Logging ---------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("CRM_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
    },
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # dbbackup installs a handler of its own; propagating would print every line twice.
        "dbbackup": {"propagate": False},
    },
}
