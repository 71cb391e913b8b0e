#!/usr/bin/env bash
# Installs (or upgrades) the Panggil TV display on Raspberry Pi OS Lite (Bookworm or later, 64- or
# 32-bit) from the display wheel: only the display's code goes onto the Pi (no server source),
# into a venv of its own under /opt/panggil-display, with a `panggil` user, /etc/panggil/display.yaml
# and the hardened systemd unit that starts the display on the console at boot. Run as root:
#   sudo ./install-display.sh panggil_display-X.Y.Z-py3-none-any.whl http://192.168.1.10:5000 lobby-1
# The wheel: `python3 deploy/build_wheel.py display` on the server or any machine with a checkout
# (from a checkout on the Pi itself, leave the wheel out: it is built first).
# A second run with a newer wheel is an upgrade: `panggil-display update`, which rolls back if the
# new version does not start. docs/display.md explains every step.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WHEEL=
if [[ "${1:-}" == *.whl ]]; then
    WHEEL=$(realpath "$1")
    shift
fi
SERVER_URL=${1:-}
NAME=${2:-$(hostname)}
# The PANGGIL_* overrides are for tests/test_deploy.py, which runs this script in a scratch folder.
ROOT=${PANGGIL_ROOT:-/opt/panggil-display}
ETC=${PANGGIL_ETC:-/etc/panggil}
CONFIG=$ETC/display.yaml
UNITS=${PANGGIL_UNITS:-/etc/systemd/system}
BOOT_DIRS=${PANGGIL_BOOT_DIRS:-/boot/firmware /boot}
UNIT=panggil-display.service

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
if [ -z "$WHEEL" ]; then
    [ -f "$HERE/build_wheel.py" ] || { echo "usage: sudo $0 WHEEL [SERVER_URL [NAME]]" >&2; exit 2; }
    BUILD=$(mktemp -d)
    trap 'rm -rf "$BUILD"' EXIT
    WHEEL=$(python3 "$HERE/build_wheel.py" display -o "$BUILD" | tail -n 1)
fi
[ -f "$WHEEL" ] || { echo "no such wheel: $WHEEL" >&2; exit 2; }

echo "== Debian packages"
apt-get update -qq
# SDL2 from Raspberry Pi OS is built with KMS/DRM; pygame is compiled against it below so that
# it can draw without X (the generic wheels may lack that driver). The fonts and the chime come
# inside the wheel.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3-venv python3-dev build-essential pkg-config alsa-utils util-linux \
    libsdl2-dev libsdl2-image-dev libsdl2-mixer-dev libsdl2-ttf-dev libfreetype-dev \
    libportmidi-dev libjpeg-dev

echo "== user"
id panggil >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/panggil \
    --shell /usr/sbin/nologin panggil
usermod -aG video,render,audio,input,tty panggil
install -d -m 0755 "$ROOT" "$ROOT/venvs" "$ROOT/wheels"

echo "== pygame for this Pi's SDL2 (kept in $ROOT/wheels for every later update)"
if [ "${PANGGIL_PYGAME_WHEEL:-0}" != "1" ] && ! ls "$ROOT"/wheels/pygame-*.whl >/dev/null 2>&1; then
    # A few minutes on a Pi 4: builds pygame against the system SDL2 (KMS/DRM, ALSA).
    python3 -m venv "$ROOT/.build"
    "$ROOT/.build/bin/pip" wheel -q --no-binary pygame -w "$ROOT/wheels" 'pygame>=2.6,<3'
    rm -rf "$ROOT/.build"
fi

if [ -L "$ROOT/current" ]; then
    echo "== upgrade: $ROOT/current/bin/panggil-display update"
    exec "$ROOT/current/bin/panggil-display" update "$WHEEL" --root "$ROOT" --config "$CONFIG"
fi

echo "== Python environment"
VERSION=$(basename "$WHEEL" | cut -d- -f2)
VENV="$ROOT/venvs/$VERSION-$(date +%Y%m%d-%H%M%S)"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --find-links "$ROOT/wheels" "$WHEEL"
ln -sfn "$VENV" "$ROOT/current"
PACKAGED=$("$ROOT/current/bin/python" -c 'import display, pathlib; print(pathlib.Path(display.__file__).parent / "deploy")')
install -d -m 0755 "$ROOT/docs"
install -m 0644 "$PACKAGED/display.md" "$ROOT/docs/display.md"

echo "== settings in $CONFIG"
install -d -m 0755 "$ETC"
if [ ! -e "$CONFIG" ]; then
    [ -n "$SERVER_URL" ] || { echo "usage: sudo $0 WHEEL SERVER_URL [NAME] (a first install needs the server)" >&2; exit 2; }
    sed -e "s#server_url: .*#server_url: $SERVER_URL#" -e "s#name: .*#name: $NAME#" \
        "$PACKAGED/display.yaml" > "$CONFIG"
    chmod 0644 "$CONFIG"
fi
# Fail now, with the key named, rather than at every boot.
"$ROOT/current/bin/panggil-display" --self-check --config "$CONFIG"

echo "== console: KMS, no blanking"
for boot in $BOOT_DIRS; do
    if [ -f "$boot/cmdline.txt" ]; then
        grep -q 'consoleblank=0' "$boot/cmdline.txt" || sed -i '1 s/$/ consoleblank=0/' "$boot/cmdline.txt"
        # The KMS driver SDL draws through (Bookworm's default; older images had the fake one).
        if [ -f "$boot/config.txt" ] && ! grep -q '^dtoverlay=vc4-kms-v3d' "$boot/config.txt"; then
            sed -i 's/^dtoverlay=vc4-fkms-v3d/#&/' "$boot/config.txt"
            echo 'dtoverlay=vc4-kms-v3d' >> "$boot/config.txt"
            echo "   KMS turned on in $boot/config.txt: reboot once"
        fi
        break
    fi
done

echo "== service"
install -m 0644 "$PACKAGED/$UNIT" "$UNITS/$UNIT"
systemctl daemon-reload
systemctl disable --now getty@tty1.service 2>/dev/null || true
systemctl enable "$UNIT"
systemctl restart "$UNIT"
echo "Installed $("$ROOT/current/bin/panggil-display" --version)."
echo "Logs: journalctl -u panggil-display -f   Settings: $CONFIG"
echo "Sound test (the service holds the sound card): sudo systemctl stop $UNIT;"
echo "  sudo -u panggil $ROOT/current/bin/panggil-display --config $CONFIG --test-sound; sudo systemctl start $UNIT"
echo "Update later: sudo $ROOT/current/bin/panggil-display update panggil_display-NEW.whl"
