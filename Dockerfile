# Production image: Daphne serving HTTP and WebSockets, WhiteNoise serving the static files.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRM_MEDIA_ROOT=/data/media \
    CRM_BACKUP_DIR=/data/backups

# postgresql-client: pg_dump/pg_restore for `manage.py dbbackup` / `dbrestore` (15, matching the server).
# Pango/HarfBuzz: the libraries WeasyPrint needs to render PDF exports (Arabic shaping included).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        postgresql-client \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /home/app --uid 10001 app \
    && mkdir -p /data/media /data/backups \
    && chown -R app:app /data

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Build-time only values so settings load; the real ones come from the environment at run time.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-real-key-0123456789abcdef \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput -v 0

USER app
VOLUME ["/data"]
EXPOSE 8000

CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
