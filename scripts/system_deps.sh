#!/usr/bin/env bash
# Install the Debian packages listed in bindep.txt (entries without a platform
# selector or with platform:dpkg) when they are missing. Needs root for apt-get;
# without root it only reports what is missing. `apt-get update` runs at most once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BINDEP="${1:-$ROOT/bindep.txt}"

log() { printf '[system-deps] %s\n' "$*" >&2; }

[ -f "$BINDEP" ] || { log "no $BINDEP, nothing to do"; exit 0; }
if ! command -v dpkg-query >/dev/null 2>&1; then
    log "not a dpkg-based system; install these by hand if missing: $(grep -v '^\s*#' "$BINDEP" | awk 'NF{print $1}' | xargs)"
    exit 0
fi

missing=()
while read -r line; do
    line="${line%%#*}"
    [ -n "${line// /}" ] || continue
    pkg="${line%% *}"
    selectors=""
    [[ "$line" == *"["*"]"* ]] && selectors="${line#*[}" && selectors="${selectors%]*}"
    if [ -n "$selectors" ] && [[ " $selectors " != *"platform:dpkg"* ]] && [[ " $selectors " == *"platform:"* ]]; then
        continue
    fi
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done <"$BINDEP"

if [ "${#missing[@]}" -eq 0 ]; then
    log "all Debian packages from $(basename "$BINDEP") are installed"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    log "warning: missing Debian packages (need root to install): ${missing[*]}"
    log "run: sudo apt-get install -y ${missing[*]}"
    exit 0
fi

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
