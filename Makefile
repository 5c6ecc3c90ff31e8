# Two commands for a newcomer: `make run` (the whole pipeline on the local target) and `make test`.
SHELL := bash
.DEFAULT_GOAL := help
# The first interpreter that really runs (a pyenv shim may exist for a version that is not active).
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do $$p -c 'import sys' >/dev/null 2>&1 && command -v $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
DWH := bin/dwh
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)/tools:$(CURDIR)/include/glue
export DWH_HOME ?= $(CURDIR)/.dwh

# Options of `make run`: SCALE, DS (logical date), DATA (folder of your own Olist CSVs).
SCALE ?= 1
DS ?= 2024-01-01
DATA ?=
# Scales of the benchmarks (1 = the size of the real Olist data).
SCALES ?= 1,10

.PHONY: help venv browser run test test-fast lint checkov check-generated compile validate graph \
        bench bench-parse bench-glue bench-marts bench-pipeline ui clean rehearse

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-local.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q uv==0.13.9
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed ## create .venv and install Airflow, providers, engines and test tools

run: venv ## run the whole pipeline on the local target (SCALE=, DS=, DATA=folder of Olist CSVs)
	$(DWH) run --scale $(SCALE) --ds $(DS) $(if $(DATA),--data $(DATA))

ui: venv ## the Airflow UI on the local target (PORT=8080): trigger, watch and retry DAGs in a browser
	$(PY) -m dwh_tools.ui --port $(or $(PORT),8080)

# Never fails: where it cannot install (not root, no apt-get) it says in one line what to install,
# and the browser tests skip with that line.
browser: venv ## install the headless Chromium the dashboard tests use, when missing (root, apt)
	@$(PY) -m dwh_tools.dashboards.browser

test: venv browser ## run the whole test suite (unit, moto, end to end on the local target)
	$(PY) -m pytest --ignore=tests/rehearsal
	@# The rehearsal's stand-ins patch moto and the provider process-wide: their own process.
	$(PY) -m pytest tests/rehearsal

test-fast: venv browser ## the tests without the end-to-end pipeline runs
	$(PY) -m pytest -m "not e2e"

lint: venv ## ruff (with AIR rules), ruff format --check, sqlfluff (redshift), terraform fmt -check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint include/sql tests/fixtures/include/sql/fixture --dialect redshift
	@if command -v terraform >/dev/null; then terraform fmt -check -recursive infra; \
	  else echo "terraform not installed: skipping terraform fmt -check"; fi

.venv-checkov/.installed: requirements-checkov.txt
	@test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install -q -r requirements-checkov.txt
	@touch $@

checkov: .venv-checkov/.installed ## checkov on infra/, offline (own virtualenv: its pins clash with pytest's)
	BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
	  .venv-checkov/bin/checkov --config-file infra/.checkov.yaml --quiet --compact

check-generated: venv ## fail when a state machine or the JSON Schema drifted from its pipeline
	$(DWH) validate
	$(DWH) compile --check

compile: venv ## regenerate infra/stepfunctions/*.asl.json and the pipeline JSON Schema
	$(DWH) compile

validate: venv ## validate every pipeline file and every SQL file
	$(DWH) validate

graph: venv ## print the Mermaid diagram of a pipeline (PIPELINE=ecommerce_dwh)
	$(DWH) graph $(or $(PIPELINE),ecommerce_dwh)

bench-parse: venv ## DAG parse time per file and target, beside static reference DAGs
	$(PY) bench/parse_bench.py

bench-glue: venv ## Glue jobs on local Spark at scale 1 and 10, beside a DuckDB read (SCALES=)
	$(PY) bench/glue_bench.py --scales $(SCALES)

bench-marts: venv ## each dashboard mart's query time on DuckDB at scale 1 and 10 (goal < 1 s)
	$(PY) bench/mart_bench.py --scales $(SCALES)

bench-pipeline: venv ## the whole pipeline at scale 1 and 10: wall, stages, overhead, peak memory
	$(PY) bench/pipeline_bench.py --scales $(SCALES)

rehearse: venv ## the aws DAG and the state machine against moto, warehouses compared with the local run (SCALE=0.01)
	$(PY) -m dwh_tools.rehearsal --scale $(if $(filter command line,$(origin SCALE)),$(SCALE),0.01) --ds $(DS)

bench: venv bench-parse bench-glue bench-marts bench-pipeline ## every benchmark

# $$DWH_HOME may point anywhere: dwh_tools.clean removes it only when dwh created it (.dwh-home).
clean: ## remove the local target's state ($$DWH_HOME, when dwh created it) and caches
	rm -rf .pytest_cache .ruff_cache
	$(or $(wildcard $(PY)),$(PYTHON)) -m dwh_tools.clean
