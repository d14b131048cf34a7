"""Django settings, configured from the environment (twelve-factor).

Environment variables:
    SEARCHLEDGER_HOME          directory for local state (default ``./var``): SQLite database,
                               secret key file, ledger signing key file.
    DATABASE_URL               e.g. ``postgresql://user@host:5432/db``; default SQLite in HOME.
    SEARCHLEDGER_SECRET_KEY    Django secret key; else read from ``HOME/secret_key``.
    SEARCHLEDGER_SIGNING_KEY_FILE  ledger signing key (default ``HOME/ledger-signing.key``).
    SEARCHLEDGER_DEBUG         ``1`` for development.
    SEARCHLEDGER_ALLOWED_HOSTS comma-separated host names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
    "searchledger.apps.accounts",
    "searchledger.apps.ledger",
    "searchledger.apps.training",
    "searchledger.apps.systems",
    "searchledger.apps.grants",
    "searchledger.apps.bulk",
    "searchledger.apps.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "searchledger.apps.web.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "searchledger.apps.web.middleware.DenyByDefaultMiddleware",
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

SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG and _env_bool("SEARCHLEDGER_HTTPS", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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
# The log's name in checkpoints and in its verifier key (C2SP: a schema-less URL).
SEARCHLEDGER_LOG_ORIGIN = os.environ.get("SEARCHLEDGER_LOG_ORIGIN", "searchledger.localhost/ledger")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SEARCHLEDGER_LOG_LEVEL", "INFO")},
}
