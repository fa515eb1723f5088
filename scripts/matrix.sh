#!/usr/bin/env bash
# `make matrix`: the supported ansible-core range, oldest and newest, on this machine's Python (3.11).
#
#   oldest (2.16): its own venv build/matrix/core-2.16 (ansible-core 2.16 + requirements.txt + pytest + the
#                  emulator): unit tests, ansible-test sanity (every test but pylint, which checks style the same
#                  way on every version and runs in `make sanity`), then the demo by FQCN from the built tarball
#                  in a venv holding only ansible-core 2.16 and requirements.txt (tests/packaging/check_build.py).
#   newest (2.19): the development venv runs unit and sanity (`make unit`, `make sanity`) and `make check-build`
#                  the demo by FQCN from the tarball in a venv holding only ansible-core 2.19 and requirements.txt.
#
# MATRIX_OLDEST overrides the oldest requirement string. Needs `make collection` first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
COLLECTIONS="${COLLECTIONS:-$ROOT/build/collections}"
COLL="$COLLECTIONS/ansible_collections/alicloud/ecs_images"
OLDEST="${MATRIX_OLDEST:-ansible-core>=2.16,<2.17}"
NEWEST="ansible-core>=2.19,<2.20 (requirements-dev.txt)"
MVENV="$ROOT/build/matrix/core-oldest"
PYTHON="${PYTHON:-python3}"

log() { printf '[matrix] %s\n' "$*" >&2; }
start=$(date +%s)

# ---- the oldest version's venv (stamped like scripts/venv.sh: rebuilt when the requirements change)
key="$( { echo "$OLDEST"; "$PYTHON" -V; cat "$ROOT/requirements.txt" "$ROOT/tests/emulator/pyproject.toml"; } | sha256sum | cut -c1-16)"
if [ ! -f "$MVENV/.stamp" ] || [ "$(cat "$MVENV/.stamp")" != "$key" ]; then
    log "creating $MVENV ($OLDEST)"
    rm -rf "$MVENV"
    "$PYTHON" -m venv "$MVENV"
    "$MVENV/bin/python" -m pip install -q --disable-pip-version-check "$OLDEST" -r "$ROOT/requirements.txt" \
        pytest pytest-xdist pytest-timeout pyyaml -e "$ROOT/tests/emulator[test]"
    echo "$key" >"$MVENV/.stamp"
fi
core="$("$MVENV/bin/ansible" --version | head -1)"
log "oldest: $core"

# ---- unit tests on the oldest version
log "unit tests on $core"
(cd "$COLL" && PYTHONPATH="$COLLECTIONS" "$MVENV/bin/python" -m pytest -q -n 2 -p no:cacheprovider --timeout 300 \
    tests/unit)

# ---- sanity on the oldest version
log "ansible-test sanity on $core (all tests but pylint)"
"$MVENV/bin/python" "$ROOT/scripts/ansible_test_offline.py"
(cd "$COLL" && "$MVENV/bin/ansible-test" sanity --venv --python 3.11 --color no --skip-test pylint)

# ---- the demo by FQCN from the tarball in a venv of only ansible-core (oldest) + requirements.txt
log "demo from the built tarball on $OLDEST"
"$VENV/bin/python" "$ROOT/tests/packaging/check_build.py" --core "$OLDEST" --work "$ROOT/tests/output/matrix-oldest"

log "passed in $(( $(date +%s) - start ))s ($OLDEST; $NEWEST: make unit, make sanity, make check-build)"
