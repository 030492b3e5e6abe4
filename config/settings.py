"""Settings for every environment, read from environment variables.

With nothing set the hub runs embedded: SQLite in `var/`, Celery tasks run in-process, a local-memory
cache. `DATABASE_URL` switches to PostgreSQL and `REDIS_URL` to a Redis broker, cache and lock store
with real workers.
"""

from pathlib import Path

import dj_database_url

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MDM_VAR_DIR", str(BASE_DIR / "var")))

# The embedded default key is for a laptop demo only; production sets SECRET_KEY (or SECRET_KEY_FILE).
SECRET_KEY = env_str("SECRET_KEY", "embedded-insecure-key-set-SECRET_KEY-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "django_celery_beat",
    "mdm",
    "matching",
    "connectors",
    "stewardship",
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
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mdm.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the statement, so psycopg prepares a statement the connection runs
    # often: the xref look-up spent more time in PostgreSQL's planner than executing.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the API read while an import writes; the timeout waits out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
# Without a broker the embedded hub runs each task in-process, at the moment it is enqueued.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A worker process that dies mid-task (killed, out of memory) hands its task back to the queue for
# another process; without this the task was acknowledged as failed and a batch run waited forever.
# Every task is idempotent (a part already done is not done again).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process that grew past this many MiB in a task (a batch run's shard of pairs or its settling)
# is replaced by a fresh one once the task is done: Python keeps what it freed, and a worker whose
# other process still held a finished shard's memory while one settled a million records needed 8 GiB.
# A task one record at a time stays far below it.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("MDM_WORKER_MAX_MEMORY_MB", 2048) * 1024  # KiB
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LOGIN_URL = "stewardship:login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mdm.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["mdm.api.permissions.HasScope"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "mdm.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MDM hub API",
    "DESCRIPTION": "Golden records, cross-reference look-ups, ingest and identity resolution.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # several models have a "status" of their own: the golden record's gets a readable component name
    "ENUM_NAME_OVERRIDES": {"GoldenStatusEnum": "mdm.choices.GoldenStatus"},
}

# Resolution: how many records one batch task takes; ingest hands records to matching in chunks of this.
MDM_MATCH_CHUNK = env_int("MDM_MATCH_CHUNK", 500)
# Batch resolution: how many records without features one task normalises (about a minute of work).
MDM_BATCH_FEATURE_CHUNK = env_int("MDM_BATCH_FEATURE_CHUNK", 50_000)
# Incremental resolution refits a domain's model as the domain grows; the decisions made under the
# older model then follow the new one by a batch run of the domain, enqueued with the refit (or, when
# one is under way, as that one ends). Off, they follow it only where later records re-cluster them.
MDM_REMATCH_ON_REFIT = env_bool("MDM_REMATCH_ON_REFIT", True)
# Batch resolution: how many candidate pairs one scoring task takes (about four seconds of work;
# smaller shards spread better over many workers but load more of the same records' features: at
# 300,000 records a shard of 200,000 pairs loads 26,000 to 43,000 records, one of 1,000,000 pairs
# 127,000).
MDM_BATCH_SHARD_PAIRS = env_int("MDM_BATCH_SHARD_PAIRS", 500_000)
# Batch resolution: how long the worker that found a run's candidate pairs waits for the run's model,
# fitted on another worker, before it fails the run (that worker was lost: the run is started again).
MDM_BATCH_FIT_WAIT = env_int("MDM_BATCH_FIT_WAIT", 1800)
# Batch resolution: how many new golden records one task writes (about a second of work).
MDM_BATCH_GOLDEN_CHUNK = env_int("MDM_BATCH_GOLDEN_CHUNK", 2000)
# Batch resolution: of how many records the same tasks rewrite the blocking keys (a few seconds).
MDM_BATCH_KEYS_CHUNK = env_int("MDM_BATCH_KEYS_CHUNK", 20_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
