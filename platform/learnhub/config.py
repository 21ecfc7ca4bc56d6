"""Settings from the environment, one class per mode.

`load_config(instance_path)` picks the class from `LEARNHUB_ENV` (development by default) and
reads the environment; `ProductionConfig.problems()` names every missing or unsafe setting so
that production refuses to start with a message that says which.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import overload
from urllib.parse import urlsplit

from .i18n import uncompiled_catalogs


class ConfigError(RuntimeError):
    """Raised when production starts with missing or unsafe settings."""


@overload
def _env(name: str) -> str | None: ...
@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None) -> str | None: ...


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _development_secret_key(instance_path: Path) -> str:
    """Generate the secret key once and keep it in instance/ so sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` forms and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class BaseConfig:
    ENV_NAME = "base"
    TESTING = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 26 * 1024 * 1024
    #: Minutes a sign-in link stays valid.
    MAGIC_LINK_MINUTES = 15
    #: A sign-in link request answers no sooner than this, account or not (timing-safe).
    SIGN_IN_LINK_MIN_SECONDS = 0.08
    #: Default reminder offsets in minutes before each session (7 days, 24 hours, 1 hour).
    REMINDER_OFFSETS_MINUTES = (7 * 24 * 60, 24 * 60, 60)
    #: Seconds between beat's reminder scans and outbox sweeps.
    BEAT_INTERVAL_SECONDS = 60.0
    #: Seconds between discussion digests (beat); each subscriber gets at most one per run.
    DIGEST_INTERVAL_SECONDS = 3600.0
    #: How new outbox rows reach the worker after commit: "celery", or "none" (tests drain).
    OUTBOX_DISPATCH = "celery"
    #: Seconds a claimed outbox row stays claimed without its worker renewing the claim (it
    #: renews every quarter of this while it sends); then the sweep gives it back.
    OUTBOX_CLAIM_LEASE_SECONDS = 20.0
    #: Seconds a new outbox row is left to its delivery task before the sweep takes it.
    OUTBOX_SWEEP_GRACE_SECONDS = 30.0
    #: First retry delay after a transient failure; it doubles each attempt, capped at 1 hour.
    OUTBOX_BACKOFF_BASE_SECONDS = 30.0
    #: SMTP connections a delivery batch sends over side by side (only one message at a time
    #: is between its final dot and its recorded outcome, see delivery.py).
    OUTBOX_SMTP_CONNECTIONS = 4
    #: Redis out of reach: count rate limits in this process's memory until it answers again
    #: (Flask-Limiter checks it again every few requests), rather than refuse sign-up.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    #: A Redis that hangs must not hold a request for long.
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    #: Where the worker delivers email: "devmailbox" (kept in the database) or "smtp".
    MAIL_BACKEND = "devmailbox"
    MAIL_FROM = "LearnHub <no-reply@learnhub.local>"
    LOG_FORMAT = "text"
    #: The programme page's cache (Flask-Caching, catalogue/page_cache.py): each process's
    #: memory ("SimpleCache"), or Redis ("RedisCache" at CACHE_REDIS_URL; production uses
    #: REDIS_URL). Keys carry the programme's content version, so entries never go stale: the
    #: timeout only clears old versions out of Redis, the threshold bounds each process's copy.
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 24 * 3600
    CACHE_THRESHOLD = 500
    CACHE_KEY_PREFIX = "learnhub:"
    #: Options of the cache's Redis client (socket timeouts), when it is Redis.
    CACHE_OPTIONS: dict[str, float] | None = None
    #: Seconds a signed-out programme page is kept whole (per zone) before it is made again from
    #: the programme's row and cached parts: what it shows is at most that old. 0 keeps none.
    PUBLIC_PAGE_MAX_AGE_SECONDS = 1
    #: Flask-Compress: brotli, else gzip, for text (pages, the stylesheet, scripts, the icon),
    #: whole responses and streamed ones (static files) alike.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_ALGORITHM_STREAMING = ["br", "gzip"]
    #: Brotli 5: the stylesheet in 3.7 KB where level 4 (the default) took 4.1 KB and gzip 4.0,
    #: the programme page in 7.5 KB (7.9); 2.6 ms for that page's 39 KB, no slower than 4.
    COMPRESS_BR_LEVEL = 5
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/plain",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ]
    #: Static files asked for under their content-hashed URL are kept a year (static_assets.py).
    STATIC_MAX_AGE_SECONDS = 365 * 24 * 3600
    SESSION_COOKIE_HTTPONLY = True
    #: A signed-in session ends after two weeks without a visit (each request renews it).
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    def __init__(self, instance_path: Path) -> None:
        self.INSTANCE_PATH = str(instance_path)
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            _env("DATABASE_URL", f"sqlite:///{instance_path / 'learnhub.sqlite'}")
        )
        self.REDIS_URL = _env("REDIS_URL")
        self.CELERY_BROKER_URL = (
            _env("CELERY_BROKER_URL")
            or self.REDIS_URL
            or (f"sqla+sqlite:///{instance_path / 'broker.sqlite'}")
        )
        self.BASE_URL = (_env("BASE_URL", "http://127.0.0.1:5000")).rstrip("/")
        self._storage_from_env(instance_path)
        #: Log lines: "text" (development) or "json" (one JSON object a line; production).
        self.LOG_FORMAT = _env("LOG_FORMAT", self.LOG_FORMAT)
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")
        #: /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>` when it is set.
        self.METRICS_TOKEN = _env("METRICS_TOKEN")
        #: The worker serves /metrics on this port (its main process) when it is set.
        self.WORKER_METRICS_PORT = _non_negative_int("WORKER_METRICS_PORT")
        self.WORKER_METRICS_HOST = _env("WORKER_METRICS_HOST", "127.0.0.1")
        #: Personal data of programmes whose last session ended this many days ago is removed
        #: by `flask retention apply` (statistics stay).
        self.DATA_RETENTION_DAYS = _non_negative_int("DATA_RETENTION_DAYS", "730")
        #: Who holds participants' data, as the privacy notice (/privacy) names it.
        self.OPERATOR_NAME = _env("OPERATOR_NAME", "the organisation that runs this LearnHub site")
        self._delivery_from_env()
        self.BEAT_INTERVAL_SECONDS = float(
            _env("BEAT_INTERVAL_SECONDS", str(self.BEAT_INTERVAL_SECONDS))
        )
        self.DIGEST_INTERVAL_SECONDS = float(
            _env("DIGEST_INTERVAL_SECONDS", str(self.DIGEST_INTERVAL_SECONDS))
        )
        self._cache_in(_env("CACHE_REDIS_URL"))
        self.PUBLIC_PAGE_MAX_AGE_SECONDS = _non_negative_int(
            "PUBLIC_PAGE_MAX_AGE_SECONDS", str(self.PUBLIC_PAGE_MAX_AGE_SECONDS)
        )
        self.SECRET_KEY = _env("SECRET_KEY")
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_ENABLED = _env("RATELIMIT_ENABLED", "1") in ("1", "true", "yes")
        #: Behind a proxy: how many hops of X-Forwarded-For/-Proto/-Host to trust (ProxyFix).
        self.TRUSTED_PROXIES = _non_negative_int("TRUSTED_PROXIES")

    def _storage_from_env(self, instance_path: Path) -> None:
        """Where uploaded files are kept (storage.py)."""
        self.UPLOAD_FOLDER = _env("UPLOAD_FOLDER", str(instance_path / "uploads"))
        #: Where uploaded files live: "local" (UPLOAD_FOLDER) or "s3" (storage.py).
        self.STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")
        self.S3_BUCKET = _env("S3_BUCKET")
        self.S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")
        self.S3_REGION = _env("S3_REGION")
        self.S3_ACCESS_KEY_ID = _env("S3_ACCESS_KEY_ID")
        self.S3_SECRET_ACCESS_KEY = _env("S3_SECRET_ACCESS_KEY")
        self.S3_PREFIX = _env("S3_PREFIX", "")
        self.S3_ADDRESSING_STYLE = _env("S3_ADDRESSING_STYLE", "auto")
        #: Registered-only downloads: "stream" through the app, or "presigned" (a redirect,
        #: after the access check, to a URL valid for S3_PRESIGN_SECONDS).
        self.S3_DOWNLOADS = _env("S3_DOWNLOADS", "stream")
        self.S3_PRESIGN_SECONDS = _non_negative_int("S3_PRESIGN_SECONDS", "60")

    def _delivery_from_env(self) -> None:
        """How the worker sends email (SMTP, the development mailbox) and hands rows over."""
        self.SMTP_URL = _env("SMTP_URL")
        self.SMTP_HOST = _env("SMTP_HOST")
        self.SMTP_PORT = int(_env("SMTP_PORT", "0") or 0)
        self.SMTP_USERNAME = _env("SMTP_USERNAME")
        self.SMTP_PASSWORD = _env("SMTP_PASSWORD")
        self.SMTP_STARTTLS = _env("SMTP_STARTTLS", "0") in ("1", "true", "yes")
        self.MAIL_FROM = _env("MAIL_FROM", self.MAIL_FROM)
        if self.SMTP_URL or self.SMTP_HOST:
            self.MAIL_BACKEND = "smtp"
        self.MAIL_BACKEND = _env("MAIL_BACKEND", self.MAIL_BACKEND)
        self.OUTBOX_DISPATCH = _env("OUTBOX_DISPATCH", self.OUTBOX_DISPATCH)
        for name in (
            "OUTBOX_CLAIM_LEASE_SECONDS",
            "OUTBOX_SWEEP_GRACE_SECONDS",
            "OUTBOX_BACKOFF_BASE_SECONDS",
        ):
            setattr(self, name, float(_env(name, str(getattr(self, name)))))
        self.OUTBOX_SMTP_CONNECTIONS = int(
            _env("OUTBOX_SMTP_CONNECTIONS", str(self.OUTBOX_SMTP_CONNECTIONS))
        )

    def _cache_in(self, redis_url: str | None) -> None:
        """The page cache in Redis at `redis_url` (unless CACHE_TYPE says otherwise)."""
        self.CACHE_REDIS_URL = redis_url
        self.CACHE_TYPE = _env("CACHE_TYPE", "RedisCache" if redis_url else "SimpleCache")
        if self.CACHE_TYPE == "RedisCache":
            # A Redis that hangs must not hold a page for long: it is rendered without it.
            self.CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}

    def problems(self) -> list[str]:
        return []


def _non_negative_int(name: str, default: str = "0") -> int:
    value = _env(name, default) or default
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"{name} must be a whole number of 0 or more, not {value!r}")
    return int(value)


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    #: /dev/mailbox shows what the worker delivered; never registered in production.
    DEV_MAILBOX = True

    def __init__(self, instance_path: Path) -> None:
        super().__init__(instance_path)
        self.SECRET_KEY = self.SECRET_KEY or _development_secret_key(instance_path)


class TestConfig(DevelopmentConfig):
    ENV_NAME = "test"
    TESTING = True
    WTF_CSRF_ENABLED = False
    OUTBOX_DISPATCH = "none"
    SERVER_NAME = None

    def __init__(self, instance_path: Path) -> None:
        super().__init__(instance_path)
        # Tests that are about rate limits or the timing floor turn them on.
        self.RATELIMIT_ENABLED = False
        self.SIGN_IN_LINK_MIN_SECONDS = 0.0
        # Pages made afresh, so a test sees its change on the next request; the tests of the
        # signed-out page's freshness window set it themselves.
        self.PUBLIC_PAGE_MAX_AGE_SECONDS = 0
        # Each test app keeps its own pages (a test's database starts empty: ids come again).
        self.CACHE_TYPE, self.CACHE_REDIS_URL, self.CACHE_OPTIONS = "SimpleCache", None, None
        self.SECRET_KEY = "test-secret-key-not-for-production-use-0123456789"


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    DEV_MAILBOX = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    MAIL_BACKEND = "smtp"
    LOG_FORMAT = "json"

    def __init__(self, instance_path: Path) -> None:
        super().__init__(instance_path)
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        # Every web process shares one copy of each page.
        self._cache_in(self.CACHE_REDIS_URL or self.REDIS_URL)

    def problems(self) -> list[str]:
        found = []
        if not self.SECRET_KEY:
            found.append("SECRET_KEY is not set (use 32+ random characters)")
        elif len(self.SECRET_KEY) < 32 or self.SECRET_KEY in {"dev", "changeme", "secret"}:
            found.append(
                "SECRET_KEY is too short or a known placeholder (use 32+ random characters)"
            )
        if not _env("DATABASE_URL"):
            found.append("DATABASE_URL is not set (production runs on PostgreSQL)")
        elif not self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            found.append("DATABASE_URL must point to PostgreSQL in production")
        if not self.REDIS_URL:
            found.append("REDIS_URL is not set (the Celery broker and rate limits use Redis)")
        if self.MAIL_BACKEND != "smtp" or not (self.SMTP_URL or self.SMTP_HOST):
            found.append("SMTP_URL (or SMTP_HOST) is not set: production sends email over SMTP")
        base = urlsplit(self.BASE_URL)
        if not _env("BASE_URL"):
            found.append("BASE_URL is not set (links in emails need the public address)")
        elif base.scheme != "https":
            found.append("BASE_URL must use https in production")
        found.extend(self._storage_problems())
        if missing := uncompiled_catalogs():
            found.append(
                "the email catalogs are not compiled (`make catalogs`, or `pybabel compile -d "
                f"platform/learnhub/translations`): {', '.join(missing)}"
            )
        return found

    def _storage_problems(self) -> list[str]:
        if self.STORAGE_BACKEND == "local":
            return []  # one machine with a folder it keeps (docs/DEPLOYMENT.md)
        if self.STORAGE_BACKEND != "s3":
            return [f"STORAGE_BACKEND must be local or s3, not {self.STORAGE_BACKEND!r}"]
        found = []
        if not self.S3_BUCKET:
            found.append("S3_BUCKET is not set (STORAGE_BACKEND=s3 keeps files in a bucket)")
        if self.S3_DOWNLOADS not in ("stream", "presigned"):
            found.append("S3_DOWNLOADS must be stream or presigned")
        if self.S3_DOWNLOADS == "presigned" and not 1 <= self.S3_PRESIGN_SECONDS <= 600:
            found.append("S3_PRESIGN_SECONDS must be between 1 and 600 (a short-lived link)")
        return found


MODES = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(instance_path: Path, mode: str | None = None) -> BaseConfig:
    mode = mode or _env("LEARNHUB_ENV", "development")
    if mode not in MODES:
        raise ConfigError(f"LEARNHUB_ENV must be one of {', '.join(MODES)}, not {mode!r}")
    config = MODES[mode](instance_path)
    problems = config.problems()
    if problems:
        raise ConfigError(
            "LearnHub refuses to start in production with these settings:\n  - "
            + "\n  - ".join(problems)
        )
    return config
