# Jejak service image: migrations, then uvicorn. Use with PostgreSQL (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    JEJAK_KEYS_DIR=/var/lib/jejak/keys \
    DATABASE_URL=sqlite:////var/lib/jejak/jejak.db

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /var/lib/jejak --create-home jejak

# Dependencies first, so code changes don't reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir api models ledger scripts && pip install . && pip uninstall -y jejak

COPY alembic.ini ./
COPY alembic ./alembic
COPY api ./api
COPY models ./models
COPY ledger ./ledger
COPY scripts ./scripts
RUN pip install --no-deps -e . && install -d -o jejak -g jejak -m 0700 /var/lib/jejak/keys

USER jejak
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["sh", "-c", "jejak migrate && exec jejak serve --host 0.0.0.0 --port 8000 --workers ${JEJAK_WORKERS:-2}"]
