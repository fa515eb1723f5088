#!/usr/bin/env bash
# Create/refresh the development venv (.venv) used by every make target.
#
# Idempotent: a stamp file inside the venv records a hash of the requirement files;
# when it matches, nothing is installed again. Needs only python3 and PyPI.
# When python3 cannot create a venv (Debian without python3-venv) and we are root,
# python3-venv is installed with apt-get first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

log() { printf '[venv] %s\n' "$*" >&2; }

requirement_files() {
    local f
    for f in requirements.txt requirements-dev.txt tests/emulator/pyproject.toml tests/emulator/setup.cfg tests/emulator/setup.py; do
        [ -f "$f" ] && printf '%s\n' "$f"
    done
    return 0
}

stamp_key() {
    # Hash of the requirement files (names + contents) and of the interpreter version.
    {
        "$PYTHON" -c 'import sys; print(sys.version)'
        requirement_files | while read -r f; do printf '== %s\n' "$f"; cat "$f"; done
    } | sha256sum | cut -c1-16
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    log "error: $PYTHON not found; install python3 (Debian: apt-get install python3 python3-venv)"
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PYTHON"
    if ! "$PYTHON" -m venv "$VENV" 2>/tmp/venv-err.$$; then
        cat /tmp/venv-err.$$ >&2
        rm -rf "$VENV"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
            log "python venv support missing: installing python3-venv with apt-get"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv "python${pyver}-venv" \
                || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            "$PYTHON" -m venv "$VENV"
        else
            log "error: '$PYTHON -m venv' failed; install python3-venv (needs root) and retry"
            rm -f /tmp/venv-err.$$
            exit 1
        fi
    fi
    rm -f /tmp/venv-err.$$
fi

key="$(stamp_key)"
stamp="$VENV/.ecs-images-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
    log "$VENV is up to date (stamp $key)"
    exit 0
fi

log "installing requirements into $VENV (stamp $key)"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
args=(-r requirements-dev.txt)
if [ -f tests/emulator/pyproject.toml ] || [ -f tests/emulator/setup.py ]; then
    args+=(-e tests/emulator)
fi
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "${args[@]}"
printf '%s\n' "$key" >"$stamp"
log "done"
