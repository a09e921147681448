# One image for every role: api, worker, migrate and sandbox differ only by command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY ledgerline ledgerline
COPY core core
COPY connectors connectors
COPY mappings mappings
COPY sync sync
COPY webhooks webhooks
COPY api api
COPY dashboard dashboard
COPY sandbox sandbox
COPY migrations migrations
RUN pip install . && useradd --system --uid 10001 ledgerline
USER ledgerline

EXPOSE 8000
CMD ["ledgerline", "serve", "--host", "0.0.0.0"]
