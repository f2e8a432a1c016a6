# Two stages: the first installs the pinned dependencies into /venv; the second carries only
# that venv, the source the service runs, and the libraries WeasyPrint needs. No build tools,
# no secrets (they come from env files at run time), and a non-root user.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /venv && /venv/bin/pip install 'uv==0.13.9'
COPY pyproject.toml /src/pyproject.toml
# Runtime dependencies only (no dev extra), exactly as pinned in pyproject.toml.
RUN /venv/bin/uv pip install --python /venv/bin/python --no-cache -r /src/pyproject.toml \
    && /venv/bin/pip uninstall -y uv

FROM python:3.11-slim-bookworm
# WeasyPrint needs Pango, and HarfBuzz's subsetter to embed fonts fast (fontTools, its
# fallback, costs about 4x the CPU per PDF); fonts are bundled in plan_templates/fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data && chown app:app /data && chmod 700 /data
COPY --from=build /venv /venv
WORKDIR /app
# Only what the service runs; the code stays owned by root, so the service cannot change it.
COPY pyproject.toml ./
COPY backend ./backend
COPY forms ./forms
COPY plan_templates ./plan_templates
ENV PATH=/venv/bin:$PATH PYTHONPATH=/app/backend:/app PYTHONUNBUFFERED=1 DATA_DIR=/data
USER app
VOLUME /data
EXPOSE 8000
# gthread: a read waiting for a PDF (?wait=) holds one of 8 threads, never a whole process.
CMD ["gunicorn", "config.wsgi", "--chdir", "/app/backend", "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--threads", "8", "--limit-request-line", "8190", \
     "--no-control-socket", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-", \
     "--access-logformat", "%(h)s %(m)s %(U)s %(s)s %(M)sms"]
