# The Panggil server in a container (docs/install.md, "Container"):
#   docker compose up -d        # or: docker build -t panggil . && docker run -p 5000:5000 -v panggil-data:/var/lib/panggil panggil
# The image holds no secret: the server generates its secret key into the data volume on the first
# start, and the first admin is created with `create-admin` (or the one-time code in the log).

# --- build: the wheel, from this checkout (babel compiles the translations into it) ---------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps -w /dist .

# --- the server ---------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The server extra only (no pygame, no gpiozero); tzdata because a slim image may have no zoneinfo.
COPY --from=build /dist/ /tmp/dist/
RUN python -m venv /opt/panggil/venv \
    && /opt/panggil/venv/bin/pip install "$(ls /tmp/dist/panggil-*.whl)[server]" tzdata \
    && rm -rf /tmp/dist
# A fixed uid, so that a bind-mounted data folder can be given to it (chown 10001).
RUN groupadd --system --gid 10001 panggil \
    && useradd --system --uid 10001 --gid panggil --home-dir /var/lib/panggil --no-create-home \
       --shell /usr/sbin/nologin panggil \
    && install -d -o panggil -g panggil -m 0750 /var/lib/panggil /var/cache/panggil \
    && install -d -m 0755 /etc/panggil
# The template config (server.database in /var/lib/panggil, the voice cache in /var/cache/panggil);
# mount your own over it (compose.yaml shows how). Readable by the server, not writable.
COPY deploy/server.yaml /etc/panggil/config.yaml
RUN chmod 0644 /etc/panggil/config.yaml

# Numeric, so that "runs as non-root" can be checked without reading /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/panggil
# The database, its generated secret key and backups.
VOLUME ["/var/lib/panggil"]
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/opt/panggil/venv/bin/python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:5000/api/health', timeout=4).status != 200)"]
# Python as process 1 ignores SIGTERM; SIGINT stops it at once (compose.yaml also adds an init).
STOPSIGNAL SIGINT
CMD ["/opt/panggil/venv/bin/python", "-m", "server", "--config", "/etc/panggil/config.yaml"]
