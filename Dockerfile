# Two stages: build wheels with the compiler, run from a slim image as a non-root user.
# One image serves web (default), worker and beat:
#   docker run IMAGE                                   -> gunicorn on :8000
#   docker run IMAGE celery -A config worker -l info   -> a worker
#   docker run IMAGE celery -A config beat -l info     -> the scheduler
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config config
COPY mdm mdm
COPY matching matching
COPY connectors connectors
COPY stewardship stewardship
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 MDM_VAR_DIR=/var/lib/mdm
RUN useradd --create-home --uid 1000 mdm && mkdir -p /var/lib/mdm && chown mdm /var/lib/mdm
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
WORKDIR /app
COPY --chown=mdm manage.py ./
USER mdm
RUN python manage.py collectstatic --noinput
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
