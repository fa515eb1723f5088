#!/usr/bin/env bash
# `make docs`: the collection's docsite, built offline with antsibull-docs and Sphinx, warnings are errors.
#   1. docs/docsite/ (the guides of docs/*.md as extra docs) regenerated in the collection copy (a warning when
#      the tree's copy is stale: run `python scripts/docsite.py --write` and commit before a release);
#   2. antsibull-docs lint-collection-docs --plugin-docs (extra docs, links, plugin and role docs);
#   3. antsibull-docs sphinx-init + its build.sh (antsibull-docs collection, sphinx-build -W --keep-going)
#      into build/docsite; intersphinx uses local inventories (no network). Open build/docsite/build/html/index.html.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
COLLECTIONS="${COLLECTIONS:-$ROOT/build/collections}"
COLL="$COLLECTIONS/ansible_collections/alicloud/ecs_images"
OUT="$ROOT/build/docsite"
export PATH="$VENV/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
start=$(date +%s)

"$VENV/bin/python" "$ROOT/scripts/docsite.py" --check >/dev/null \
    || echo "[docs] WARNING: docs/docsite/ is older than docs/*.md: run 'python scripts/docsite.py --write' and commit"
"$VENV/bin/python" "$COLL/scripts/docsite.py" --write >/dev/null
(cd "$COLL" && antsibull-docs lint-collection-docs --plugin-docs .)
echo "[docs] antsibull-docs lint-collection-docs: clean"

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")" && mkdir -m 700 "$OUT"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$OUT" \
    --title 'alicloud.ecs_images' --project 'alicloud.ecs_images' alicloud.ecs_images >/dev/null
"$VENV/bin/python" "$ROOT/scripts/docsite.py" --inventories "$OUT"
if ! bash "$OUT/build.sh" >"$OUT/build.log" 2>&1; then
    grep -E 'WARNING|ERROR' "$OUT/build.log" | grep -v 'failed to reach any of the inventories' || tail -30 "$OUT/build.log"
    echo "[docs] FAILED: see $OUT/build.log"
    exit 1
fi
echo "[docs] built $OUT/build/html ($(find "$OUT/build/html" -name '*.html' | wc -l) pages) in $(( $(date +%s) - start ))s"
