# Image of the 会计之星 portal: one image for web (gunicorn), worker and beat (Celery).
# See docs/deployment.md. Build: docker compose build   (or: docker build -t kjzx .)
#
# Not built on the development machines (they cannot run Docker); keep it in step with
# scripts/setup.sh, which installs the same Debian libraries there.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=kjzx.settings \
    KJZX_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/media \
    STATIC_ROOT=/app/staticfiles

# WeasyPrint (PDF credit certificates) needs Pango and HarfBuzz's subsetter; the certificates are
# Chinese, so the Noto CJK fonts too. ffmpeg's ffprobe measures the lesson videos institutions upload.
# Only what the portal runs: setup.sh's test and bench tools (chromium, poppler-utils, wrk) stay out, as
# do tests/ and bench/.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
# ([tool.setuptools] packages = [] : installing "." installs the pinned dependencies only.)
COPY pyproject.toml ./
RUN pip install . && rm -rf build kjzx.egg-info

# The code, named one by one so that .venv/, var/, .env and .git never enter the image.
# A new app (or a locale/ folder) needs its line here.
# tests/test_deployment_files.py checks that every app of INSTALLED_APPS and every folder the
# settings read has its line.
COPY manage.py gunicorn.conf.py ./
COPY kjzx ./kjzx
COPY accounts ./accounts
COPY records ./records
COPY transfers ./transfers
COPY cpe ./cpe
COPY employers ./employers
COPY workbench ./workbench
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# Static files are collected into the image (outside the var volume, which would hide them) and
# served by WhiteNoise. The key only lets settings load during the build; it is never used.
RUN SECRET_KEY=build-only-collectstatic-not-a-secret python manage.py collectstatic --noinput --verbosity 0

# Unprivileged user; var/ and media/ are volumes, created here so that new volumes take this owner.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin kjzx \
    && mkdir -p /app/var/celery /app/var/log /app/media \
    && chown -R kjzx:kjzx /app/var /app/media
USER kjzx

EXPOSE 8000
CMD ["gunicorn", "kjzx.wsgi", "-b", "0.0.0.0:8000", "-w", "3"]
