#!/usr/bin/env bash
# Debian's headless-capable Chromium for the dashboard's browser tests, installed where absent.
#
#   deploy/chromium.sh install   # install Debian's `chromium` (as root, with apt) unless present
#   deploy/chromium.sh path      # print the browser's path; exit 1 if it is not installed
#
# The tests drive it with the `playwright` Python package pointed at this binary
# (`executable_path`): no browser is ever downloaded by Playwright itself. Environment:
# HUB_CHROMIUM, the browser's path (default /usr/bin/chromium).
set -euo pipefail

browser="${HUB_CHROMIUM:-/usr/bin/chromium}"
say() { printf 'chromium.sh: %s\n' "$*" >&2; }

install() {
  if [ -x "$browser" ]; then say "already installed: $browser"; echo "$browser"; return 0; fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "no browser at $browser: as root, apt-get update && apt-get install -y chromium"; exit 2
  fi
  say "installing Debian's chromium (once) ..."
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >&2
  [ -x "$browser" ] || { say "chromium installed but $browser is missing"; exit 1; }
  echo "$browser"
}

path() {
  [ -x "$browser" ] || { say "not installed: $browser"; return 1; }
  echo "$browser"
}

case "${1:-}" in
  install) install ;;
  path) path ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
