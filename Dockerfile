FROM python:3.11-slim-bookworm
# WeasyPrint needs Pango; fonts are bundled in plan_templates/fonts.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . && useradd --system --home /app app && mkdir -p /data && chown app /data
USER app
ENV PYTHONPATH=/app/backend:/app PYTHONUNBUFFERED=1
EXPOSE 8000
