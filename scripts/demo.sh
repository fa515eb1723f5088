#!/usr/bin/env bash
# `make demo`: start the ECS emulator, run playbooks/demo.yml against it, stop the emulator.
# Runs from the collection copy build/collections/ansible_collections/alicloud/ecs_images
# (make collection) with the venv .venv (make venv).
#
# Environment knobs: DEMO_TIME_SCALE (default 0.02: a simulated minute takes 1.2 s),
# DEMO_RETIRE (default true: the demo ends by retiring what it made - the whole life of an image;
# DEMO_RETIRE=false keeps everything so that a second run changes nothing),
# DEMO_ARGS (extra ansible-playbook arguments, e.g. "-v").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
COLLECTIONS="${COLLECTIONS:-$ROOT/build/collections}"
COLL="$COLLECTIONS/ansible_collections/alicloud/ecs_images"
TIME_SCALE="${DEMO_TIME_SCALE:-0.02}"
WORK="$ROOT/tests/output/demo"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export PATH="$VENV/bin:$PATH"

[ -f "$COLL/playbooks/demo.yml" ] || { echo "demo: $COLL/playbooks/demo.yml not found (run 'make collection')" >&2; exit 1; }
mkdir -p "$WORK"
rm -f "$WORK/emulator.out"

# realism behaviours the modules do not survive yet (tests/integration/realism_off.txt, one name a line)
REALISM_OFF="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$ROOT/tests/integration/realism_off.txt" 2>/dev/null \
    | grep -v '^$' | paste -sd, - || true)"
echo "demo: starting ecs-emulator --time-scale $TIME_SCALE --realism-off '$REALISM_OFF' (log: $WORK/emulator.log)"
ecs-emulator --time-scale "$TIME_SCALE" --realism-off "$REALISM_OFF" >"$WORK/emulator.out" 2>"$WORK/emulator.log" </dev/null &
emu_pid=$!
cleanup() {
    if kill -0 "$emu_pid" 2>/dev/null; then
        kill "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
        echo "demo: emulator stopped"
    fi
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 300); do
    grep -q '^export ECS_EMULATOR_ADMIN=' "$WORK/emulator.out" 2>/dev/null && break
    kill -0 "$emu_pid" 2>/dev/null || { echo "demo: emulator exited:" >&2; cat "$WORK/emulator.log" >&2; exit 1; }
    sleep 0.1
done
grep -q '^export ECS_EMULATOR_ADMIN=' "$WORK/emulator.out" || { echo "demo: emulator not ready after 30s" >&2; exit 1; }
eval "$(grep '^export ' "$WORK/emulator.out")"
echo "demo: emulator ready: ECS $ALIBABA_CLOUD_ECS_ENDPOINT, OSS $ALIBABA_CLOUD_OSS_ENDPOINT, region $ALIBABA_CLOUD_REGION_ID"

python -m ecs_emulator.testvars --admin "$ECS_EMULATOR_ADMIN" >"$WORK/vars.json"
chmod 600 "$WORK/vars.json"

cd "$COLL"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export ANSIBLE_RETRY_FILES_ENABLED=false
start=$(date +%s)
# shellcheck disable=SC2086  # DEMO_ARGS is a list of words on purpose
ansible-playbook -i "localhost," -c local -e "ansible_python_interpreter=$VENV/bin/python" \
    -e "@$WORK/vars.json" -e "demo_retire=${DEMO_RETIRE:-true}" playbooks/demo.yml ${DEMO_ARGS:-} </dev/null
echo "demo: playbooks/demo.yml finished in $(( $(date +%s) - start ))s against the emulator"
