"""Test settings: the real PostgreSQL and Redis of the machine, as production will use them.

The test command never falls back to SQLite: if PostgreSQL or Redis is unreachable the
session fails at start with a clear message (tests/conftest.py checks both).
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kjzx")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Fixed test keys for the encrypted ID and mobile numbers (kjzx.crypto); never used anywhere else.
os.environ.setdefault("KJZX_DATA_KEYS", "t1:dGVzdC1zbTQta2V5LTAwMQ==")
os.environ.setdefault("KJZX_HASH_KEY", "dGVzdC1obWFjLXNtMy1rZXktMDAwMDAwMDAwMDAwMDAwMA==")

from kjzx.settings import *  # noqa: F403
from kjzx.settings import VAR_DIR

# Two test runs on one machine (a developer and CI, or two helpers) must not wipe each other's database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("KJZX_TEST_DB", "test_kjzx")}  # noqa: F405

# Fast hashing: the production hasher is PBKDF2 at Django's default; tests only need a hash.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
# Sessions as production keeps them (cached_db), their cache in this process: other test runs on the machine
# flush the shared Redis database before each of their tests, which would send a session read to the table
# in the middle of a test that counts queries.
CACHES = {**CACHES, "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",  # noqa: F405
                                 "LOCATION": "kjzx-test-sessions"}}
SESSION_CACHE_ALIAS = "sessions"
CSRF_COOKIE_SECURE = False
# Uploads of a test run go to a fresh temporary directory, removed when the run ends.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="kjzx-test-media-"))
atexit.register(shutil.rmtree, MEDIA_ROOT, True)
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
SMS_BACKEND = "kjzx.sms.MemoryBackend"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"},
           "loggers": QUIET_LOGGERS}  # noqa: F405
