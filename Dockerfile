# syntax=docker/dockerfile:1
# koastops production image: web (gunicorn), worker and beat all run from it; see
# docker-compose.yml. Runtime dependencies only, pinned by constraints.txt.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # /app first on the path: settings find templates/ and static/ next to the code there.
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=koastops.settings \
    KOASTOPS_VAR_DIR=/var/lib/koastops \
    STATIC_ROOT=/var/lib/koastops/static

RUN groupadd --system --gid 10001 koastops \
    && useradd --system --uid 10001 --gid koastops --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin koastops \
    && install -d -o koastops -g koastops -m 0750 /var/lib/koastops \
        /var/lib/koastops/activity-checkpoints /var/lib/koastops/media

WORKDIR /app

# Dependencies (and the package itself) first, so a template change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
COPY koastops ./koastops
RUN pip install -c constraints.txt . \
    && rm -rf build ./*.egg-info

COPY manage.py ./
COPY templates ./templates
COPY static ./static

# The code stays root-owned and read-only; the app writes only under /var/lib/koastops.
USER koastops
EXPOSE 8000
CMD ["gunicorn", "koastops.wsgi", "-b", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
