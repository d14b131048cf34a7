"""Django settings, configured from the environment (twelve-factor).

Environment variables:
    SEARCHLEDGER_HOME          directory for local state (default ``./var``): SQLite database,
                               secret key file, ledger signing key file.
    DATABASE_URL               e.g. ``postgresql://user@host:5432/db``; default SQLite in HOME.
    SEARCHLEDGER_SECRET_KEY    Django secret key; else read from ``HOME/secret_key``.
    SEARCHLEDGER_SIGNING_KEY_FILE  ledger signing key (default ``HOME/ledger-signing.key``).
    SEARCHLEDGER_PROBE_KEY_FILE    master key for probe images (default ``HOME/probe-master.key``).
    SEARCHLEDGER_CHECKPOINT_LOG    every signed checkpoint, outside the database
                                   (default ``HOME/checkpoints.log``).
    SEARCHLEDGER_DEBUG         ``1`` for development.
    SEARCHLEDGER_ALLOWED_HOSTS comma-separated host names.
    SEARCHLEDGER_HTTPS         ``1`` (default, off when DEBUG): secure cookies, redirect plain
                               HTTP to HTTPS, HTTP Strict Transport Security.
    SEARCHLEDGER_HSTS_SECONDS  HSTS max-age (default one year; 0 turns HSTS off).
    SEARCHLEDGER_HSTS_INCLUDE_SUBDOMAINS, SEARCHLEDGER_HSTS_PRELOAD  ``1`` (default) or ``0``.
    SEARCHLEDGER_PROXY_SSL_HEADER  the header a TLS-terminating proxy sets to ``https``
                               (e.g. ``X-Forwarded-Proto``); unset: trust no such header.
    SEARCHLEDGER_REQUIRE_MFA   ``1``: every account must enrol and use a TOTP second factor
                               (default ``0`` for the demo; turn it on in production).
    SEARCHLEDGER_LOCKOUT_BY    ``username`` (default) or ``username_ip``: what a sign-in
                               lock-out is keyed on.
    SEARCHLEDGER_OIDC_*        optional OIDC single sign-on (see ``_oidc`` below and
                               docs/operations.md).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from searchledger.core.sso import SsoMappingError, parse_group_roles

__all__: list[str] = []

BASE_DIR = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("SEARCHLEDGER_HOME", Path.cwd() / "var")).resolve()
HOME.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, got {raw!r}")


DEBUG = _env_bool("SEARCHLEDGER_DEBUG", False)


def _secret_key() -> str:
    from_env = os.environ.get("SEARCHLEDGER_SECRET_KEY")
    if from_env:
        return from_env
    key_file = HOME / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    # Management commands that only inspect code (check, makemigrations) need no secret;
    # anything that signs cookies does, and `searchledger init` writes one.
    return "insecure-placeholder-run-searchledger-init"


SECRET_KEY = _secret_key()
if not DEBUG and SECRET_KEY.startswith("insecure-") and _env_bool("SEARCHLEDGER_PRODUCTION", False):
    raise ImproperlyConfigured(
        "no secret key: run `searchledger init` or set SEARCHLEDGER_SECRET_KEY"
    )

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("SEARCHLEDGER_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "searchledger.apps.accounts",
    "searchledger.apps.ledger",
    "searchledger.apps.training",
    "searchledger.apps.systems",
    "searchledger.apps.grants",
    "searchledger.apps.searches",
    "searchledger.apps.bulk",
    "searchledger.apps.findings",
    "searchledger.apps.reviews",
    "searchledger.apps.accesslogs",
    "searchledger.apps.reconciliation",
    "searchledger.apps.oversight",
    "searchledger.apps.reports",
    "searchledger.apps.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (django-csp), then Permissions-Policy and no-store caching.
    "csp.middleware.CSPMiddleware",
    "searchledger.apps.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "searchledger.apps.web.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified when this session passed the TOTP step.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Sends a session that still owes its second factor to verification (or enrolment).
    "searchledger.apps.accounts.middleware.SecondFactorMiddleware",
    "searchledger.apps.web.middleware.DenyByDefaultMiddleware",
    # Last, as django-axes asks: turns a lock-out into the sign-in page's lock-out message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "searchledger.config.urls"
WSGI_APPLICATION = "searchledger.config.wsgi.application"

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
                "searchledger.apps.web.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{HOME / 'searchledger.sqlite3'}"
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions take the write lock at BEGIN, so two writers never both
        # read the same ledger head; WAL lets readers (proofs, pages) run beside a writer.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        }
        config["CONN_MAX_AGE"] = 0
        # A file, not :memory:, so tests can run several processes against one database.
        config["TEST"] = {"NAME": str(HOME / "test-searchledger.sqlite3")}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Account"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
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

# Sign-in lock-out (django-axes): five failures lock the username for 30 minutes, counted
# from the failure that locked it (failures while locked do not extend it). AxesStandalone
# only watches; ModelBackend checks the password (and refuses deactivated accounts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins go to the log, not a table
AXES_VERBOSE = False  # no start-up banner in the command-line tools' output
AXES_USERNAME_CALLABLE = "searchledger.apps.accounts.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "searchledger.apps.accounts.lockout.lockout_response"
_LOCKOUT_BY = os.environ.get("SEARCHLEDGER_LOCKOUT_BY", "username")
SILENCED_SYSTEM_CHECKS: list[str] = []
if _LOCKOUT_BY == "username":
    AXES_LOCKOUT_PARAMETERS: list[str | list[str]] = ["username"]
    # axes.W006 warns that rotating addresses or user agents bypasses a lock-out that does
    # not include the address. Keyed on the username alone, every failure for that username
    # counts whatever its address or user agent, so rotating them does not help.
    SILENCED_SYSTEM_CHECKS.append("axes.W006")
elif _LOCKOUT_BY == "username_ip":
    AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
else:
    raise ImproperlyConfigured(
        f"SEARCHLEDGER_LOCKOUT_BY must be username or username_ip, got {_LOCKOUT_BY!r}"
    )
# Behind N trusted reverse proxies, the client's address is the N-th X-Forwarded-For entry
# from the right (the one the outermost proxy appended); 0 means REMOTE_ADDR.
SEARCHLEDGER_PROXY_COUNT = int(os.environ.get("SEARCHLEDGER_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "searchledger.apps.accounts.lockout.client_ip"

# TOTP second factor (django-otp). Off by default so the demo accounts work with a
# password alone; production sets SEARCHLEDGER_REQUIRE_MFA=1.
SEARCHLEDGER_REQUIRE_MFA = _env_bool("SEARCHLEDGER_REQUIRE_MFA", False)
OTP_TOTP_ISSUER = os.environ.get("SEARCHLEDGER_MFA_ISSUER", "searchledger")
OTP_TOTP_THROTTLE_FACTOR = 1  # after n wrong codes, wait 2**(n-1) seconds


_OIDC_REQUIRED = (
    "ISSUER",
    "AUTHORIZATION_ENDPOINT",
    "TOKEN_ENDPOINT",
    "USER_ENDPOINT",
    "JWKS_ENDPOINT",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "GROUP_ROLES",
)


def _oidc_env() -> dict[str, str]:
    """The required ``SEARCHLEDGER_OIDC_<NAME>`` variables: all of them, or none (OIDC off)."""
    values = {name: os.environ.get(f"SEARCHLEDGER_OIDC_{name}", "") for name in _OIDC_REQUIRED}
    if not any(values.values()):
        return {}
    missing = [f"SEARCHLEDGER_OIDC_{name}" for name, value in values.items() if not value]
    if missing:
        raise ImproperlyConfigured(f"OIDC is partly configured; also set {', '.join(missing)}")
    return values


# Optional OIDC single sign-on (mozilla-django-oidc), off unless configured. GROUP_ROLES is
# a JSON list of [group, role] pairs tried in the order given: the first group the person
# has decides the role (see searchledger.core.sso and docs/operations.md).
_OIDC = _oidc_env()
SEARCHLEDGER_OIDC_ENABLED = bool(_OIDC)
SEARCHLEDGER_OIDC_ISSUER = _OIDC.get("ISSUER", "")
try:
    SEARCHLEDGER_OIDC_GROUP_ROLES: list[list[str]] = json.loads(_OIDC.get("GROUP_ROLES", "[]"))
except ValueError as _exc:
    raise ImproperlyConfigured(f"SEARCHLEDGER_OIDC_GROUP_ROLES is not JSON: {_exc}") from _exc
SEARCHLEDGER_OIDC_GROUPS_CLAIM = os.environ.get("SEARCHLEDGER_OIDC_GROUPS_CLAIM", "groups")
SEARCHLEDGER_OIDC_USERNAME_CLAIM = os.environ.get(
    "SEARCHLEDGER_OIDC_USERNAME_CLAIM", "preferred_username"
)
# Link an existing, unlinked account whose username equals the username claim on its
# first single sign-on. Off by default: turn it on only while moving existing accounts to
# SSO, and only if people cannot choose their own username claim at the identity provider.
SEARCHLEDGER_OIDC_LINK_EXISTING = _env_bool("SEARCHLEDGER_OIDC_LINK_EXISTING", False)
if SEARCHLEDGER_OIDC_ENABLED:
    try:
        parse_group_roles(SEARCHLEDGER_OIDC_GROUP_ROLES)
    except SsoMappingError as _exc:
        raise ImproperlyConfigured(f"SEARCHLEDGER_OIDC_GROUP_ROLES: {_exc}") from _exc
    AUTHENTICATION_BACKENDS.append("searchledger.apps.accounts.sso.SsoBackend")
    OIDC_OP_AUTHORIZATION_ENDPOINT = _OIDC["AUTHORIZATION_ENDPOINT"]
    OIDC_OP_TOKEN_ENDPOINT = _OIDC["TOKEN_ENDPOINT"]
    OIDC_OP_USER_ENDPOINT = _OIDC["USER_ENDPOINT"]
    OIDC_OP_JWKS_ENDPOINT = _OIDC["JWKS_ENDPOINT"]
    OIDC_RP_CLIENT_ID = _OIDC["CLIENT_ID"]
    OIDC_RP_CLIENT_SECRET = _OIDC["CLIENT_SECRET"]
    OIDC_RP_SIGN_ALGO = os.environ.get("SEARCHLEDGER_OIDC_SIGN_ALGO", "RS256")
    OIDC_RP_SCOPES = os.environ.get("SEARCHLEDGER_OIDC_SCOPES", "openid email profile")
    OIDC_USE_PKCE = True
    OIDC_TIMEOUT = 10
    LOGIN_REDIRECT_URL_FAILURE = "/sign-in/?sso=failed"

SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# HTTPS (`manage.py check --deploy` passes with it on, see apps/web/tests/test_deploy.py):
# secure cookies, plain HTTP redirected to HTTPS (except the health check, which load
# balancers probe over HTTP), and HSTS. Off in DEBUG (the demo on http://127.0.0.1:8000).
SEARCHLEDGER_HTTPS = not DEBUG and _env_bool("SEARCHLEDGER_HTTPS", True)
SESSION_COOKIE_SECURE = SEARCHLEDGER_HTTPS
CSRF_COOKIE_SECURE = SEARCHLEDGER_HTTPS
SECURE_SSL_REDIRECT = SEARCHLEDGER_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# HSTS is sent only on HTTPS responses. One year, subdomains and the preload flag by
# default (the flag alone submits nothing; hstspreload.org lists a domain only on request);
# an agency whose other subdomains still serve plain HTTP sets
# SEARCHLEDGER_HSTS_INCLUDE_SUBDOMAINS=0 and gets check --deploy's warning, as it should.
SECURE_HSTS_SECONDS = (
    int(os.environ.get("SEARCHLEDGER_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    if SEARCHLEDGER_HTTPS
    else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SEARCHLEDGER_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("SEARCHLEDGER_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy, Django sees plain HTTP; the proxy's header says whether the
# client used HTTPS. Trusted only when configured: without a proxy that overwrites it, any
# client could send the header and pass for HTTPS.
_PROXY_SSL_HEADER = os.environ.get("SEARCHLEDGER_PROXY_SSL_HEADER", "").strip()
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"),
        "https",
    )
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files,
# never inline (no 'unsafe-inline', no 'unsafe-eval', no nonces: the templates have no
# inline script, style block or style attribute, and htmx's indicator styles are in
# site.css). data: images for the favicon placeholder and USWDS's inline icons.
# tests/browser/test_csp.py fails on any violation the browser reports.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Features no page uses, refused to every origin (SecurityHeadersMiddleware).
SEARCHLEDGER_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = os.environ.get(
    "SEARCHLEDGER_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)

# The ledger signs checkpoints with this key; `searchledger init` creates it.
SEARCHLEDGER_SIGNING_KEY_FILE = Path(
    os.environ.get("SEARCHLEDGER_SIGNING_KEY_FILE", HOME / "ledger-signing.key")
)
# Probe images are encrypted under data keys wrapped with this master key (32 random bytes,
# base64); `searchledger init` creates it. Losing it makes every stored probe unreadable.
SEARCHLEDGER_PROBE_KEY_FILE = Path(
    os.environ.get("SEARCHLEDGER_PROBE_KEY_FILE", HOME / "probe-master.key")
)
# Every signed checkpoint is also appended here (JSON lines), outside the database, so that a
# restore of an older database is detected (apps/ledger/checkpoint_log.py). Default
# ``HOME/checkpoints.log``; better on another volume, so it survives losing HOME.
SEARCHLEDGER_CHECKPOINT_LOG = os.environ.get("SEARCHLEDGER_CHECKPOINT_LOG", "")
# External access logs (docs/access-logs.md): the web upload limit (larger files go through
# `searchledger import-log`, which streams them from disk) and DuckDB's memory per import.
SEARCHLEDGER_MAX_LOG_UPLOAD_BYTES = int(
    os.environ.get("SEARCHLEDGER_MAX_LOG_UPLOAD_BYTES", str(512 * 1024 * 1024))
)
SEARCHLEDGER_IMPORT_MEMORY_LIMIT = os.environ.get("SEARCHLEDGER_IMPORT_MEMORY_LIMIT", "2GB")
# An import left `running` without progress for this long was interrupted (its process
# stopped) and may be resumed; until then it blocks other imports of its system.
SEARCHLEDGER_IMPORT_STALE_SECONDS = int(os.environ.get("SEARCHLEDGER_IMPORT_STALE_SECONDS", "900"))
# The log's name in checkpoints and in its verifier key (C2SP: a schema-less URL).
SEARCHLEDGER_LOG_ORIGIN = os.environ.get("SEARCHLEDGER_LOG_ORIGIN", "searchledger.localhost/ledger")
# Webhooks on findings (`searchledger deliver-webhooks`): comma-separated URLs, and the
# secret that signs each request (HMAC-SHA256).
SEARCHLEDGER_WEBHOOK_URLS = os.environ.get("SEARCHLEDGER_WEBHOOK_URLS", "")
SEARCHLEDGER_WEBHOOK_SECRET = os.environ.get("SEARCHLEDGER_WEBHOOK_SECRET", "")
# The HOSTNAME of syslog messages sent by `export-audit` (default: the machine's name).
SEARCHLEDGER_SYSLOG_HOSTNAME = os.environ.get("SEARCHLEDGER_SYSLOG_HOSTNAME", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SEARCHLEDGER_LOG_LEVEL", "INFO")},
}
