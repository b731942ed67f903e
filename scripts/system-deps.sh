#!/usr/bin/env bash
# System packages HybridMCP needs beyond Python and pip (Debian/Ubuntu names).
#   scripts/system-deps.sh test   packages the test suite needs (installed when root on Debian)
#   scripts/system-deps.sh run    packages the desktop app needs (only reported)
# As root on Debian (as CI runs) missing packages are installed with apt-get. Elsewhere the
# script names what is missing and how to get it; for `test` it then fails, since tests would.
set -euo pipefail

# Qt's offscreen and xcb platforms, fonts, and the X server used to look at the real window.
QT_RUNTIME=(libegl1 libgl1 libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core)
# A real Secret Service for the keychain tests: a private D-Bus session with GNOME Keyring.
KEYCHAIN=(dbus-daemon gnome-keyring)
TEST_TOOLS=(xvfb xauth)
# The docstore tests start a throwaway PostgreSQL cluster (initdb, pg_ctl).
TEST_TOOLS+=(postgresql)
# npm's reference MCP server (@modelcontextprotocol/server-everything) runs on Node.js.
command -v npm >/dev/null 2>&1 || TEST_TOOLS+=(nodejs npm)

mode="${1:-test}"
case "$mode" in
  test) wanted=("${QT_RUNTIME[@]}" "${KEYCHAIN[@]}" "${TEST_TOOLS[@]}") ;;
  run) wanted=("${QT_RUNTIME[@]}") ;;
  *) echo "usage: $0 [test|run]" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "system-deps: not a Debian-based system; make sure Qt 6's runtime libraries$( \
    [ "$mode" = test ] && echo ', a D-Bus session daemon, GNOME Keyring and Xvfb') are installed."
  exit 0
fi

missing=()
for package in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && [ "$mode" = test ]; then
  echo "system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "system-deps: missing Debian packages: ${missing[*]}" >&2
echo "system-deps: install them with: sudo apt-get install ${missing[*]}" >&2
[ "$mode" = test ] && exit 1
exit 0
