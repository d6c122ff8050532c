"""Bridgeway settings, read from the environment (see CONTRACT.md and .env.example)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_secret, env_str, with_password
from config.log_config import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key"
SECRET_KEY = env_secret("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE), or DEBUG=1 for development."
    )

# Encryption at rest (common.crypto): Fernet keys, newest first, and the key of the blind
# hashes that phone lookups use. Their own secrets, never derived from SECRET_KEY; in
# development fixed keys that protect nothing. Production without them fails `check`.
_DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1hLXNlY3JldCE="
FIELD_ENCRYPTION_KEYS = [
    key.strip() for key in env_secret("FIELD_ENCRYPTION_KEYS").split(",") if key.strip()
] or ([_DEV_FIELD_KEY] if DEBUG else [])
FIELD_HASH_KEY = env_secret("FIELD_HASH_KEY") or ("dev-only-field-hash-key" if DEBUG else "")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Proxies appending to X-Forwarded-For (deploy/nginx.conf is one): only then do limits,
# lockouts and the audit take the client's address from it (README, NUM_PROXIES).
NUM_PROXIES = env_int("NUM_PROXIES", 1 if BEHIND_PROXY else 0)
# Production TLS: HSTS (subdomains and preload unless turned off) and an HTTPS redirect;
# not for the health check and metrics, which compose and Prometheus reach over plain HTTP.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^metrics/$"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_q",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oauth2_provider",
    "notifications",
    "scheduling",
    "referrals",
    "fhir",
]

MIDDLEWARE = [
    # Outermost: every request is timed (common.metrics) and has an id for its log lines.
    "common.metrics.MetricsMiddleware",
    "common.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the session or a parameter: a NUL would reach PostgreSQL.
    "common.middleware.RefuseNulMiddleware",
    "common.headers.PrivateResponsesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "common.headers.TokenPageCsrfMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "common.mfa.policy.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

# A strict CSP (django-csp): everything from this site only, no inline script or style,
# never framed; images may also be data: URIs (the blank favicon, Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Django's check looks for CsrfViewMiddleware by name; common.headers.TokenPageCsrfMiddleware
# is that class, with Origin: null accepted on token pages only.
SILENCED_SYSTEM_CHECKS = ["security.W003"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Plain text (SMS bodies, email subjects and text parts): no HTML escaping, so an
        # apostrophe stays an apostrophe. Rendered through notifications.text.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# Database: SQLite by default; any Django-supported URL through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Persistent connections: reconnecting to PostgreSQL per request costs more than a booking.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes every transaction take the write lock at BEGIN, so concurrent
    # writers (web and worker) serialize instead of failing on lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# django-axes first: every sign-in that calls authenticate() with the request (the site's
# login, the admin's) is refused while locked out, and every failure is recorded.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout after LOGIN_FAILURE_LIMIT failures from one address or for one username within
# LOGIN_LOCKOUT_MINUTES (0: until `axes_reset`); attempts live in the database, shared.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 30)
AXES_COOLOFF_TIME = timedelta(minutes=_LOCKOUT_MINUTES) if _LOCKOUT_MINUTES > 0 else None
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "common.limits.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# A second factor (common.mfa: an authenticator app, or recovery codes) for staff and for
# whoever these functions name, on every page and session-authenticated API call. Off in
# development so make run's demo logins work with a password alone.
REQUIRE_MFA = env_bool("REQUIRE_MFA", not DEBUG)
MFA_REQUIRED_FOR = ["referrals.access.is_coordinating", "scheduling.booking.access.user_provider"]
OTP_TOTP_ISSUER = "Bridgeway"
# Idle timeout: a session ends SESSION_IDLE_TIMEOUT_MINUTES after its last request. Every
# request saves the session, pushing its expiry forward in the database and in the cookie.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
LOGIN_URL = "/accounts/login/"
# Providers land on their portal, coordinators on the referral board (referrals.views).
LOGIN_REDIRECT_URL = "after-login"
LOGOUT_REDIRECT_URL = "find-help"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "knox.auth.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    # JSON nested deeper than any request needs is 400 malformed_request (common.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "NUM_PROXIES": NUM_PROXIES or None,
}
# `Authorization: Token …` (common.api_tokens): stored hashed, expiring after API_TOKEN_DAYS.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# OAuth2 client credentials for /fhir/ (fhir.auth), per RFC 9700: hashed, header-only tokens.
_BCP = "IMPLICIT_GRANT PASSWORD_GRANT PKCE_METHOD ACCESS_TOKEN_TRANSPORT AUTHZ_RESPONSE_ISS"
_BCP += " TOKEN_STORAGE REFRESH_TOKEN REDIRECT_URI_SCHEME"
OAUTH2_PROVIDER = {
    "SCOPES": {"fhir": "Read and change FHIR resources of the client's organization"},
    "DEFAULT_SCOPES": ["fhir"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OAUTH2_ACCESS_TOKEN_SECONDS", 3600),
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    **{f"COMPLIANT_BCP_RFC9700_{name}": True for name in _BCP.split()},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bridgeway API",
    "DESCRIPTION": "Telehealth appointment and referral scheduling.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # drf-spectacular-sidecar's static files, never a CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CalendarSourceKindEnum": "scheduling.calendar.models.SourceKind",
        "ProviderKindEnum": "scheduling.models.ProviderKind",
    },
}
# /api/schema/ and /api/docs/ answer 404 unless enabled (on in development).
API_DOCS_ENABLED = env_bool("API_DOCS_ENABLED", DEBUG)

# Email: EMAIL_URL (e.g. smtp://user:pass@host:587/?tls=True), else Django's EMAIL_*; console in dev.
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    _email = dj_email_url.parse(EMAIL_URL)
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
else:
    EMAIL_BACKEND = env_str(
        "EMAIL_BACKEND",
        "django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend",
    )
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Bridgeway <appointments@bridgeway.invalid>")
# How a national number someone types is read (django-phonenumber-field's setting).
PHONENUMBER_DEFAULT_REGION = env_str("PHONENUMBER_DEFAULT_REGION", "US")
SERVICE_CONTACT_LINE = env_str(
    "SERVICE_CONTACT_LINE", "Bridgeway scheduling. Questions: reply or call the clinic."
)

# SMS: Twilio when both credentials are set, else the development outbox.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com").rstrip("/")
SMS_BACKEND = env_str(
    "SMS_BACKEND",
    "notifications.backends.twilio.TwilioBackend"
    if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
    else "notifications.backends.outbox.OutboxBackend",
)
# notifications hands inbound SMS replies to this handler (scheduling owns the meaning).
SMS_REPLY_HANDLER = "scheduling.booking.replies.handle_reply"
# /metrics/ answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is a 404.
METRICS_TOKEN = env_secret("METRICS_TOKEN")
# Told of each STOP (phone=...): a patient who stops texts still has visits to hear about.
SMS_OPT_OUT_OBSERVERS = ["scheduling.booking.replies.texts_stopped"]
NOTIFICATION_SEND_CHECK = "scheduling.circle.sending.check_send"  # see notifications.holds
# Who puts a private link's token back into a message at send time (notifications.sealing),
# by the message's subject: the outbox stores no working link.
NOTIFICATION_LINK_RESOLVERS = {
    "appointment": "scheduling.booking.links.token_for_message",
    "series": "scheduling.booking.links.token_for_series_message",
    "waitlist": "scheduling.booking.waitlist.links.token_for_message",
    "referral": "referrals.links.token_for_message",
}
# Calling codes texts may go to; other numbers get 400 phone_not_supported (SMS-pumping fraud).
SMS_ALLOWED_COUNTRY_CODES = env_list("SMS_ALLOWED_COUNTRY_CODES", ["1"])

# Proof of possession (notifications.verification): codes sent per number and per address,
# checks per address, and how long a checked code stands for the proof.
VERIFICATION_SEND_RATE_PER_NUMBER = env_str("VERIFICATION_SEND_RATE_PER_NUMBER", "3/10min")
VERIFICATION_SEND_RATE_PER_CLIENT = env_str("VERIFICATION_SEND_RATE_PER_CLIENT", "10/hour")
VERIFICATION_CHECK_RATE_PER_CLIENT = env_str("VERIFICATION_CHECK_RATE_PER_CLIENT", "30/10min")
VERIFICATION_TOKEN_MINUTES = env_int("VERIFICATION_TOKEN_MINUTES", 30)

# Retention (notifications.retention, purged daily): the words of settled messages, and
# inbound texts. The message rows themselves stay as the accounting of disclosures.
MESSAGE_RETENTION_DAYS = env_int("MESSAGE_RETENTION_DAYS", 90)
INBOUND_RETENTION_DAYS = env_int("INBOUND_RETENTION_DAYS", 30)
TWILIO_HTTP_TIMEOUT_SECONDS = env_int("TWILIO_HTTP_TIMEOUT_SECONDS", 15)
# Outbox delivery (notifications.delivery): attempts before `failed`, backoff, the lease a
# worker holds a `sending` row for (longer than Q_CLUSTER timeout, so a live task never
# loses it), and how many rows one task sends, several at a time.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 5)
NOTIFICATION_RETRY_BASE_SECONDS = env_int("NOTIFICATION_RETRY_BASE_SECONDS", 30)
NOTIFICATION_RETRY_MAX_SECONDS = env_int("NOTIFICATION_RETRY_MAX_SECONDS", 3600)
NOTIFICATION_SENDING_LEASE_SECONDS = env_int("NOTIFICATION_SENDING_LEASE_SECONDS", 120)
NOTIFICATION_SWEEP_LIMIT = env_int("NOTIFICATION_SWEEP_LIMIT", 20000)
NOTIFICATIONS_BATCH_SIZE = env_int("NOTIFICATIONS_BATCH_SIZE", 50)
NOTIFICATIONS_SEND_CONCURRENCY = env_int("NOTIFICATIONS_SEND_CONCURRENCY", 25)
# "queue" (django-q2) everywhere but unit tests, which may say "sync".
NOTIFICATIONS_DISPATCH = env_str("NOTIFICATIONS_DISPATCH", "queue")
# Outbound webhooks (notifications.webhooks); private/loopback addresses only in development.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20)
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
CALENDAR_ALLOW_PRIVATE_HOSTS = env_bool("CALENDAR_ALLOW_PRIVATE_HOSTS", False)

# Told of every appointment change in its transaction (scheduling never imports referrals;
# scheduling/booking/observers.py); the waitlist hears of freed places there too.
APPOINTMENT_OBSERVERS = ["referrals.hooks", "scheduling.booking.waitlist.hooks"]

# Audit trail (scheduling.audit): the history of directory, availability, referral and
# coordinator changes is django-simple-history's; its middleware names the user who changed.
INSTALLED_APPS += ["simple_history"]
MIDDLEWARE += ["simple_history.middleware.HistoryRequestMiddleware"]

VIDEO_ROOM_BASE_URL = env_str("VIDEO_ROOM_BASE_URL", "https://meet.jit.si/")

# Reminders before an appointment, in hours.
REMINDER_OFFSETS_HOURS = [int(h) for h in env_list("REMINDER_OFFSETS_HOURS", ["24", "2"])]
# Referral deadlines before escalation, in hours.
REFERRAL_DEADLINE_HOURS = {
    "urgent": env_int("REFERRAL_DEADLINE_URGENT_HOURS", 72),
    "routine": env_int("REFERRAL_DEADLINE_ROUTINE_HOURS", 14 * 24),
}
BOOKING_RATE_LIMIT = env_str("BOOKING_RATE_LIMIT", "30/min")
# Bookings one address may make with one provider (slot exhaustion by a single client).
BOOKING_PER_PROVIDER_RATE_LIMIT = env_str("BOOKING_PER_PROVIDER_RATE_LIMIT", "4/day")
# Sign-in and password-reset POSTs per address (login, admin login, password reset).
LOGIN_RATE_LIMIT = env_str("LOGIN_RATE_LIMIT", "10/min")
PASSWORD_RESET_RATE_LIMIT = env_str("PASSWORD_RESET_RATE_LIMIT", "5/hour")
# Password-reset POSTs per email address named, whoever sends them (known or not alike).
PASSWORD_RESET_ACCOUNT_RATE_LIMIT = env_str("PASSWORD_RESET_ACCOUNT_RATE_LIMIT", "3/hour")

# django-q2: ORM broker by default, Redis with REDIS_URL. Its defaults retry forever and
# rerun tasks whose timeout exceeds retry, so: timeout < retry, few attempts.
# The password may come apart from the URL (REDIS_PASSWORD or REDIS_PASSWORD_FILE, a
# container secret); TLS is a rediss:// URL, e.g.
# rediss://redis.internal:6380/0?ssl_cert_reqs=required&ssl_ca_certs=/run/secrets/redis_ca.pem
REDIS_URL = with_password(env_secret("REDIS_URL"), env_secret("REDIS_PASSWORD"))
Q_CLUSTER: dict[str, object] = {
    "name": env_str("Q_CLUSTER_NAME", "bridgeway"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 60),
    "retry": env_int("Q_RETRY", 90),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3),
    "save_limit": env_int("Q_SAVE_LIMIT", -1),
    "bulk": env_int("Q_BULK", 10),
    "catch_up": False,
    "ack_failures": True,
    "poll": 0.2,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Cache (rendered calendar feeds): shared by every web process through Redis when
# REDIS_URL is set, else per-process memory, which is right for one embedded server.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "bridgeway",
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bridgeway"}
}

# Logging (config/log_config.py): every record redacted; LOG_FORMAT=json for log shippers.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env_str("LOG_LEVEL", "INFO"),
    q_level=env_str("Q_LOG_LEVEL", "INFO"),
)

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PUBLIC_BASE_URL.startswith("https"))
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Error reports (common.sentry) only when SENTRY_DSN is set; names, phones, emails and link
# tokens are scrubbed before an event leaves the process.
SENTRY_DSN = env_secret("SENTRY_DSN")
if SENTRY_DSN:
    from common.sentry import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"),
        release=env_str("SENTRY_RELEASE") or None,
    )
