#!/usr/bin/env bash
# Installs (or upgrades) the Panggil server on Debian 12 / Raspberry Pi OS (Bookworm or later):
# a `panggil` system user, a venv in /opt/panggil/venv with the server wheel, the config template
# in /etc/panggil/config.yaml (kept if it exists), the systemd unit and a nightly backup timer.
# Run as root from a checkout, optionally with a wheel built elsewhere:
#   sudo deploy/install-server.sh [dist/panggil-X.Y.Z-py3-none-any.whl]
# Needs the internet (or a PyPI mirror in PIP_INDEX_URL) for the Python dependencies.
# docs/install.md explains every step and what to do next.
set -euo pipefail

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
WHEEL=${1:-}
PREFIX=/opt/panggil
VENV=$PREFIX/venv
CONFIG=/etc/panggil/config.yaml
UNITS=/etc/systemd/system

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }

echo "== Debian packages"
apt-get update -qq
# build-essential and the -dev packages only matter where a dependency has no wheel for this
# machine (some 32-bit Raspberry Pi OS combinations); sqlite3 is for looking at backups by hand.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-venv python3-dev build-essential libffi-dev sqlite3 ca-certificates

echo "== user"
id panggil >/dev/null 2>&1 || useradd --system --home-dir /var/lib/panggil --no-create-home \
    --shell /usr/sbin/nologin panggil

echo "== Python environment in $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
if [ -z "$WHEEL" ]; then
    DIST=$(mktemp -d)
    trap 'rm -rf "$DIST"' EXIT
    # Builds in an isolated environment: setuptools and babel (compiles the translations) from PyPI.
    "$VENV/bin/pip" wheel -q --no-deps -w "$DIST" "$SOURCE"
    WHEEL=$(ls "$DIST"/panggil-*.whl)
fi
"$VENV/bin/pip" install -q "$WHEEL[server,workers]"  # workers: the Redis client (docs/install.md "A big hall")
# An upgrade to a wheel with the same version number: pip would keep the old files otherwise.
"$VENV/bin/pip" install -q --force-reinstall --no-deps "$WHEEL"
# The code stays root's: the service only reads it.
chown -R root:root "$PREFIX"
install -d -m 0755 "$PREFIX/docs"
install -m 0644 "$SOURCE/docs/install.md" "$PREFIX/docs/install.md"

echo "== settings in $CONFIG"
install -d -m 0750 -o root -g panggil /etc/panggil
if [ ! -e "$CONFIG" ]; then
    install -m 0640 -o root -g panggil "$SOURCE/deploy/server.yaml" "$CONFIG"
    echo "   new $CONFIG from deploy/server.yaml: set the hall's name, services and counters"
fi
CONFIG_OK=1
# As the service will read it: the panggil user, from a folder without a `server` package in it.
(cd / && runuser -u panggil -- "$VENV/bin/python" -c \
    "import sys; from server.config import load_config; load_config(sys.argv[1])" "$CONFIG") \
    || CONFIG_OK=0

echo "== services"
install -m 0644 "$SOURCE/deploy/panggil-server.service" "$UNITS/panggil-server.service"
install -m 0644 "$SOURCE/deploy/panggil-backup.service" "$UNITS/panggil-backup.service"
# Fan-out workers for a big hall: installed, enabled by hand (docs/install.md "A big hall").
install -m 0644 "$SOURCE/deploy/panggil-worker@.service" "$UNITS/panggil-worker@.service"
install -m 0644 "$SOURCE/deploy/panggil-backup.timer" "$UNITS/panggil-backup.timer"
systemctl daemon-reload
systemctl enable --now panggil-backup.timer
systemctl enable panggil-server.service
if [ "$CONFIG_OK" -eq 1 ]; then
    # restart, not start: an upgrade replaces the code of a running server (migrations run on start).
    systemctl restart panggil-server.service
    echo "Running. Logs: journalctl -u panggil-server -f   Settings: $CONFIG"
    echo "First admin: sudo -u panggil $VENV/bin/python -m server create-admin --config $CONFIG"
else
    echo "NOT started: fix $CONFIG (the error above names the key), then" >&2
    echo "  sudo systemctl start panggil-server" >&2
    exit 1
fi
