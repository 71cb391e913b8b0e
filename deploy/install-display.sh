#!/usr/bin/env bash
# Installs the Panggil TV display on Raspberry Pi OS Lite (Bookworm or later, 64- or 32-bit)
# from this checkout: a venv in /opt/panggil, a `panggil` user, /etc/panggil/display.yaml and a
# systemd unit that starts the display on the console at boot. Run as root:
#   sudo deploy/install-display.sh http://192.168.1.10:5000 lobby-1
set -euo pipefail

SERVER_URL=${1:?usage: sudo deploy/install-display.sh SERVER_URL [DISPLAY_NAME]}
NAME=${2:-$(hostname)}
PREFIX=/opt/panggil
CONFIG=/etc/panggil/display.yaml
CACHE=/var/cache/panggil-display
SOURCE=$(cd "$(dirname "$0")/.." && pwd)

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }

echo "== Debian packages"
apt-get update -qq
# SDL2 from Raspberry Pi OS is built with KMS/DRM; pygame is compiled against it below so that
# it can draw without X (the generic wheels may lack that driver).
apt-get install -y -qq --no-install-recommends \
    python3-venv python3-dev build-essential pkg-config fonts-dejavu-core alsa-utils \
    libsdl2-dev libsdl2-image-dev libsdl2-mixer-dev libsdl2-ttf-dev libfreetype-dev \
    libportmidi-dev libjpeg-dev util-linux rsync

echo "== user and files"
id panggil >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/panggil \
    --shell /usr/sbin/nologin panggil
usermod -aG video,render,audio,input,tty panggil
mkdir -p "$PREFIX" /etc/panggil "$CACHE"
# /venv is the server's (deploy/install-server.sh) when both run on one machine.
rsync -a --delete --exclude .git --exclude .venv --exclude /venv --exclude var --exclude '__pycache__' \
    "$SOURCE"/ "$PREFIX"/
chown -R panggil:panggil "$CACHE"

echo "== Python environment"
[ -x "$PREFIX/.venv/bin/python" ] || python3 -m venv "$PREFIX/.venv"
"$PREFIX/.venv/bin/pip" install -q --upgrade pip
if [ "${PANGGIL_PYGAME_WHEEL:-0}" != "1" ]; then
    # A few minutes on a Pi 4: builds pygame against the system SDL2 (KMS/DRM, ALSA).
    "$PREFIX/.venv/bin/pip" install -q --no-binary pygame 'pygame>=2.6,<3'
fi
"$PREFIX/.venv/bin/pip" install -q "$PREFIX[display]"

echo "== settings"
if [ ! -e "$CONFIG" ]; then
    sed -e "s#server_url: .*#server_url: $SERVER_URL#" -e "s#name: .*#name: $NAME#" \
        "$PREFIX/deploy/display.yaml" > "$CONFIG"
fi
# Fail now, with the key named, rather than at every boot.
"$PREFIX/.venv/bin/python" -c "from display.config import load_config; load_config('$CONFIG')"

echo "== console: no blanking"
for cmdline in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
    if [ -f "$cmdline" ]; then
        grep -q 'consoleblank=0' "$cmdline" || sed -i '1 s/$/ consoleblank=0/' "$cmdline"
        break
    fi
done

echo "== service"
install -m 0644 "$PREFIX/deploy/panggil-display.service" /etc/systemd/system/panggil-display.service
systemctl daemon-reload
systemctl disable --now getty@tty1.service 2>/dev/null || true
systemctl enable --now panggil-display.service
echo "Installed. Logs: journalctl -u panggil-display -f   Settings: $CONFIG"
