# syntax=docker/dockerfile:1

# ---- build: install the project and its dependencies into a self-contained venv ----
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

WORKDIR /src
# README.md is the package long description (pyproject `readme`); the glob tolerates its absence.
COPY pyproject.toml constraints.txt README.md* ./
COPY backend ./backend
COPY media_store ./media_store
RUN pip install ".[redis]" -c constraints.txt

# ---- runtime ----
FROM python:3.11-slim

# fonts-noto-cjk: CJK glyphs for the Chinese evidence watermarks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 fieldwatch \
    && useradd --system --uid 10001 --gid fieldwatch --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin fieldwatch \
    && mkdir -p /app /data \
    && chown fieldwatch:fieldwatch /data \
    && chmod 0750 /data

COPY --from=build /opt/venv /opt/venv
COPY --chown=root:root pwa /app/pwa

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FIELDWATCH_DATA_DIR=/data \
    FIELDWATCH_PWA_DIR=/app/pwa

WORKDIR /app
USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["fieldwatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
