#!/usr/bin/env bash
# Installs (or upgrades) the Panggil counter client on Raspberry Pi OS Lite (Bookworm or later) from
# the counter wheel: only the counter client's code goes onto the Pi (no server source), into a
# venv of its own under /opt/panggil-counter, with a `panggil` user, /etc/panggil/counter.yaml and
# the hardened systemd unit that runs the client on the console (tty1) at boot. Run as root:
#   sudo ./install-counter.sh panggil_counter-X.Y.Z-py3-none-any.whl 'panggil:counter?server=...'
# The second argument is the pairing line from the admin's counter page ("Teks pemasangan").
# The wheel: `python3 deploy/build_wheel.py counter` on any machine with a checkout (from a
# checkout on the Pi itself, leave the wheel out: it is built first).
# A second run with a newer wheel is an upgrade: `panggil-counter update`, which rolls back if the
# new version does not start. docs/counter.md explains every step.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WHEEL=
if [[ "${1:-}" == *.whl ]]; then
    WHEEL=$(realpath "$1")
    shift
fi
PAIRING=${1:-}
# The PANGGIL_* overrides are for tests/test_deploy.py, which runs this script in a scratch folder.
ROOT=${PANGGIL_ROOT:-/opt/panggil-counter}
ETC=${PANGGIL_ETC:-/etc/panggil}
CONFIG=$ETC/counter.yaml
UNITS=${PANGGIL_UNITS:-/etc/systemd/system}
BOOT_DIRS=${PANGGIL_BOOT_DIRS:-/boot/firmware /boot}
UNIT=panggil-counter.service

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
if [ -z "$WHEEL" ]; then
    [ -f "$HERE/build_wheel.py" ] || { echo "usage: sudo $0 WHEEL [PAIRING]" >&2; exit 2; }
    BUILD=$(mktemp -d)
    trap 'rm -rf "$BUILD"' EXIT
    WHEEL=$(python3 "$HERE/build_wheel.py" counter -o "$BUILD" | tail -n 1)
fi
[ -f "$WHEEL" ] || { echo "no such wheel: $WHEEL" >&2; exit 2; }

echo "== Debian packages"
apt-get update -qq
# swig and liblgpio's headers only matter where lgpio has no wheel for this Pi (pip builds it).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3-venv python3-dev build-essential util-linux

echo "== user"
id panggil >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/panggil \
    --shell /usr/sbin/nologin panggil
getent group gpio >/dev/null || groupadd --system gpio  # Raspberry Pi OS has it; Debian not
usermod -aG tty,gpio,input panggil
install -d -m 0755 "$ROOT" "$ROOT/venvs" "$ROOT/wheels"

if [ -L "$ROOT/current" ]; then
    echo "== upgrade: $ROOT/current/bin/panggil-counter update"
    exec "$ROOT/current/bin/panggil-counter" update "$WHEEL" --root "$ROOT" --config "$CONFIG"
fi

echo "== Python environment"
VERSION=$(basename "$WHEEL" | cut -d- -f2)
VENV="$ROOT/venvs/$VERSION-$(date +%Y%m%d-%H%M%S)"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check --find-links "$ROOT/wheels" "$WHEEL"
ln -sfn "$VENV" "$ROOT/current"
PACKAGED=$("$ROOT/current/bin/python" -c 'import counter_client, pathlib; print(pathlib.Path(counter_client.__file__).parent / "deploy")')
install -d -m 0755 "$ROOT/docs"
install -m 0644 "$PACKAGED/counter.md" "$ROOT/docs/counter.md"

echo "== settings in $CONFIG"
install -d -m 0755 "$ETC"
if [ ! -e "$CONFIG" ]; then
    [ -n "$PAIRING" ] || { echo "usage: sudo $0 WHEEL 'panggil:counter?...' (a first install needs the pairing line)" >&2; exit 2; }
    # The token is a secret: the file is the service's to read, nobody else's.
    install -m 0640 -o root -g panggil /dev/null "$CONFIG"
    sed -e "s#pairing: .*#pairing: \"$PAIRING\"#" "$PACKAGED/counter.yaml" > "$CONFIG"
fi
# Fail now, with the key named, rather than at every boot.
runuser -u panggil -- "$ROOT/current/bin/panggil-counter" --self-check --config "$CONFIG"

echo "== console: no blanking"
for boot in $BOOT_DIRS; do
    if [ -f "$boot/cmdline.txt" ]; then
        grep -q 'consoleblank=0' "$boot/cmdline.txt" || sed -i '1 s/$/ consoleblank=0/' "$boot/cmdline.txt"
        break
    fi
done

echo "== service"
install -m 0644 "$PACKAGED/$UNIT" "$UNITS/$UNIT"
systemctl daemon-reload
systemctl disable --now getty@tty1.service 2>/dev/null || true
systemctl enable "$UNIT"
systemctl restart "$UNIT"
echo "Installed $("$ROOT/current/bin/panggil-counter" --version)."
echo "Logs: journalctl -u panggil-counter -f   Settings: $CONFIG"
echo "Update later: sudo $ROOT/current/bin/panggil-counter update panggil_counter-NEW.whl"
