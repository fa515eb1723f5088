# alicloud.ecs_images - build, test and demo entry points.
#
#   make demo        venv + collection copy + emulator + playbooks/demo.yml
#   make test        everything CI runs (what .ci/run calls)
#
# Individual steps: venv, collection, unit, integration, sanity, lint, molecule,
# changelog-lint, bench, clean. `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT        := $(CURDIR)
PYTHON      ?= python3
VENV        := $(ROOT)/.venv
BIN         := $(VENV)/bin
VPY         := $(BIN)/python
COLLECTIONS := $(ROOT)/build/collections
COLL        := $(COLLECTIONS)/ansible_collections/alicloud/ecs_images
TARGETS     ?=
JOBS        ?= 2
# integration targets mostly wait on the emulator's clock (about 0.9 of 2 cores busy with 3 at a time)
INTEGRATION_JOBS ?= 3
SANITY_ARGS ?=
PYTEST_ARGS ?=

# The proxies are kept in make variables (pip and apt may need them in `make venv`)
# but removed from the environment of every other recipe: both Alibaba Cloud SDKs send
# 127.0.0.1 traffic through HTTP(S)_PROXY even when NO_PROXY lists it.
PROXY_VARS  := http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
PROXY_ENV   := $(foreach v,$(PROXY_VARS),$(if $($(v)),$(v)='$($(v))'))
unexport $(PROXY_VARS)

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
ifneq ($(CI),)
export NO_COLOR := 1
export ANSIBLE_NOCOLOR := 1
export PY_COLORS := 0
endif
export PIP_DISABLE_PIP_VERSION_CHECK := 1

ROLE_SCENARIOS = $(sort $(wildcard roles/*/molecule/*/molecule.yml))

.PHONY: help venv system-deps collection unit integration sanity lint yamllint ansible-lint \
        molecule changelog-lint test demo bench clean ee-check check-build demo-rerun awx-job matrix docs resilience

help:
	@echo "make demo            run playbooks/demo.yml against the local ECS emulator"
	@echo "make test            venv, collection, unit, integration, sanity, lint, molecule, changelog-lint"
	@echo "make venv            create .venv and install requirements-dev.txt + tests/emulator (idempotent)"
	@echo "make collection      copy the tree to build/collections/ansible_collections/alicloud/ecs_images"
	@echo "make unit            pytest tests/unit and tests/emulator/tests"
	@echo "make integration     tests/integration/run.py (TARGETS='a b' to choose, INTEGRATION_JOBS=$(INTEGRATION_JOBS))"
	@echo "make resilience      tests/resilience: kill-and-rerun, concurrent runs, bad inputs (JOBS=$(JOBS))"
	@echo "make sanity          ansible-test sanity --venv --python 3.11 (offline get-pip stand-in)"
	@echo "make lint            yamllint + ansible-lint (production profile) on roles/ and playbooks/"
	@echo "make molecule        molecule test for every roles/*/molecule/<scenario>"
	@echo "make changelog-lint  antsibull-changelog lint"
	@echo "make ee-check        ansible-builder create on docs/awx/execution-environment.yml, check the context (no container)"
	@echo "make check-build     ansible-galaxy collection build; install the tarball in a venv of ansible-core + requirements.txt; demo by FQCN"
	@echo "make demo-rerun      the demo twice against one emulator: the rerun makes no write call, reports no change"
	@echo "make awx-job         a job run like AWX (ansible-runner, credential type env) against the emulator: events, progress, no secret"
	@echo "make matrix          oldest supported ansible-core (2.16): unit, sanity, demo from the tarball (newest: the other steps)"
	@echo "make docs            antsibull-docs Sphinx docsite with the guides (build/docsite), warnings are errors"
	@echo "make bench           run every tests/benchmarks/*.py"

# ---------------------------------------------------------------- environment
system-deps:
	@$(if $(PROXY_ENV),env $(PROXY_ENV)) bash scripts/system_deps.sh

venv: system-deps
	@$(if $(PROXY_ENV),env $(PROXY_ENV)) PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/venv.sh

collection: venv
	@$(VPY) scripts/build_collection.py --dest $(COLL)

# ---------------------------------------------------------------- tests
# Two pytest runs: the unit tests and the emulator's tests share module basenames (test_oss.py).
unit: collection
	@cd $(COLL) && ran=0; for d in tests/unit tests/emulator/tests; do \
	    [ -d $$d ] || continue; ran=1; echo "== unit: pytest $$d (in $(COLL))"; \
	    PYTHONPATH=$(COLLECTIONS)$${PYTHONPATH:+:$$PYTHONPATH} $(VPY) -m pytest -q -n auto -p no:cacheprovider \
	        --timeout 300 $(PYTEST_ARGS) $$d || exit 1; \
	done; [ $$ran = 1 ] || echo "no unit tests yet"

integration: collection
	@echo "== integration (from $(COLL))"
	@cd $(COLL) && $(VPY) tests/integration/run.py --jobs $(INTEGRATION_JOBS) \
	    --collections-path $(COLLECTIONS) $(TARGETS)

# Kill-and-rerun, concurrent-run and bad-input tests: real ansible-playbook runs against the emulator.
resilience: collection
	@echo "== resilience: pytest tests/resilience (in $(COLL))"
	@cd $(COLL) && $(VPY) -m pytest -q -n $(JOBS) -p no:cacheprovider --timeout 900 $(PYTEST_ARGS) tests/resilience

sanity: collection
	@echo "== sanity: ansible-test sanity --venv --python 3.11 (in $(COLL))"
	@$(VPY) scripts/ansible_test_offline.py
	@cd $(COLL) && $(BIN)/ansible-test sanity --venv --python 3.11 --color no $(SANITY_ARGS)

yamllint: collection
	@echo "== yamllint (in $(COLL))"
	@cd $(COLL) && $(VPY) -m yamllint -c .yamllint --strict .

ansible-lint: collection
	@cd $(COLL) && paths=""; for d in roles playbooks; do [ -d $$d ] && paths="$$paths $$d"; done; \
	echo "== ansible-lint (production profile):$${paths:- nothing to lint yet}"; \
	if [ -n "$$paths" ]; then $(BIN)/ansible-lint --offline --profile production $(if $(CI),--nocolor) $$paths; fi

lint: yamllint ansible-lint

molecule: collection
	@echo "== molecule: $(or $(ROLE_SCENARIOS),no scenarios yet)"
	@failed=""; for m in $(ROLE_SCENARIOS); do \
	    role=$${m%%/molecule/*}; scen=$$(basename $$(dirname $$m)); \
	    echo "-- molecule test -s $$scen in $$role"; \
	    ( cd $(COLL)/$$role && $(BIN)/molecule test -s $$scen ) || failed="$$failed $$role:$$scen"; \
	done; \
	if [ -n "$$failed" ]; then echo "molecule FAILED:$$failed"; exit 1; fi; \
	echo "molecule: $(words $(ROLE_SCENARIOS)) scenario(s) passed"

changelog-lint: venv
	@echo "== antsibull-changelog lint"
	@$(BIN)/antsibull-changelog lint

# ---------------------------------------------------------------- packaging, AWX, version matrix, docs
ee-check: venv
	@echo "== ee-check: ansible-builder create + introspection of the generated context"
	@$(VPY) tests/packaging/check_ee.py

check-build: venv
	@echo "== check-build: tarball -> venv with only ansible-core + requirements.txt -> ansible-playbook alicloud.ecs_images.demo"
	@$(VPY) tests/packaging/check_build.py

# playbooks/demo.yml twice against one emulator: the rerun must make no write call and report no change
# (tests/benchmarks/demo_rerun.py exits 1 otherwise; it also prints the API calls per task).
demo-rerun: collection
	@echo "== demo-rerun: playbooks/demo.yml twice, the rerun idempotent (in $(COLL))"
	@cd $(COLL) && $(VPY) tests/benchmarks/demo_rerun.py

awx-job: collection
	@echo "== awx-job: ansible-runner job with the credential type's environment (in $(COLL))"
	@cd $(COLL) && PYTHONPATH=$(COLLECTIONS)$${PYTHONPATH:+:$$PYTHONPATH} $(VPY) -m pytest -q -p no:cacheprovider \
	    --timeout 600 $(PYTEST_ARGS) tests/awx

matrix: collection
	@echo "== matrix: oldest supported ansible-core"
	@PYTHON=$(PYTHON) VENV=$(VENV) COLLECTIONS=$(COLLECTIONS) bash scripts/matrix.sh

docs: collection
	@echo "== docs: antsibull-docs Sphinx site (build/docsite)"
	@COLLECTIONS=$(COLLECTIONS) VENV=$(VENV) bash scripts/docsite.sh

TEST_STEPS := unit integration resilience sanity lint molecule changelog-lint ee-check check-build demo-rerun awx-job \
              matrix docs

test: collection
	@for step in $(TEST_STEPS); do \
	    start=$$(date +%s); \
	    if ! $(MAKE) --no-print-directory $$step; then \
	        echo "make test: step '$$step' FAILED after $$(( $$(date +%s) - start ))s (steps: $(TEST_STEPS))"; \
	        exit 1; \
	    fi; \
	    echo "make test: step '$$step' passed in $$(( $$(date +%s) - start ))s"; \
	done; \
	echo "make test: all steps passed ($(TEST_STEPS))"

# ---------------------------------------------------------------- demo & benchmarks
demo: collection
	@bash scripts/demo.sh

bench: collection
	@set -e; for b in tests/benchmarks/*.py; do \
	    [ -e "$$b" ] || { echo "no benchmarks"; break; }; \
	    [ "$$(basename $$b)" != benchlib.py ] || continue; \
	    echo "== $$b"; $(VPY) $$b; \
	done

clean:
	rm -rf build tests/output
