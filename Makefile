# The README's two commands: `make study` (install, then run the tiny study) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: install install-login study report smoke smoke-branch profiles dry-run test lint test-slurm mutation known-bugs

# A one-line stop before anything is created when $(PY) is too old (LUMI's system python3 is 3.6).
PY_CHECK = $(PY) -c 'import sys; sys.exit(0 if sys.version_info[:2] in ((3, 11), (3, 12)) else "$(PY) is Python %d.%d; the project needs 3.11 or 3.12 (on LUMI: module load cray-python/3.11.7, or make PY=python3.11)" % sys.version_info[:2])'

# The venv both installs start from.
define new-venv
	@$(PY_CHECK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
endef

# The project's bytecode, written ahead: an editable install leaves none, and where
# PYTHONDONTWRITEBYTECODE is set (container images often set it) every job's process would
# compile the package again (0.15-0.4 s a process here). Incremental: unchanged files are skipped.
BYTECODE = $(BIN)/python -m compileall -q src

$(STAMP): pyproject.toml
	$(new-venv)
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BYTECODE)
	touch $@

install: $(STAMP)

# A login node's install (docs/lumi.md): Snakemake, its Slurm plugin and what the Snakefile
# imports to build the DAG (envs/login.txt), the project without its dependencies; no torch.
LOGIN_STAMP := $(VENV)/.installed-login
$(LOGIN_STAMP): envs/login.txt pyproject.toml
	$(new-venv)
	$(BIN)/pip install --quiet -r envs/login.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install-login: $(LOGIN_STAMP)

# Runs the tiny study (config/config.yaml), offline, through the same DAG as the paper.
# Its headline numbers then go into README.md (between the results markers) from the tables.
study: $(STAMP)
	$(BYTECODE)
	PATH="$(abspath $(BIN)):$$PATH" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/snakemake --profile profiles/local --cores $(CORES)
	$(BIN)/python tools/readme_results.py results/tiny

# The tiny study's `snakemake --report`: tables inline with their captions, figures, provenance.
report: $(STAMP)
	$(BIN)/snakemake --profile profiles/local --report results/tiny/report.html

# The paper config's whole DAG at toy size (config/paper-smoke.yaml), offline: a local hub
# cache serves every source in its real format, Mixed3 trains with megatron-core on two
# torchrun ranks. Outputs go to results/paper-smoke/.
SMOKE := --configfile config/paper.yaml config/paper-smoke.yaml
SMOKE_HUB := .fixture-hub/paper-smoke
smoke: $(STAMP)
	$(BIN)/python -m mergelimits.synthetic.hub_cache $(SMOKE) --cache $(SMOKE_HUB) > /dev/null
	PATH="$(abspath $(BIN)):$$PATH" HF_HUB_CACHE="$(abspath $(SMOKE_HUB))" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 \
		$(BIN)/snakemake --profile profiles/local $(SMOKE) --cores $(CORES)

# The same at toy size with the branch ablation (beyond the paper): experts branched from
# Mixed3's megatron-core run at step 4, through the rules LUMI runs (config/paper-branch.yaml).
SMOKE_BRANCH := --configfile config/paper.yaml config/paper-branch.yaml config/paper-smoke.yaml config/paper-smoke-branch.yaml
smoke-branch: $(STAMP)
	$(BIN)/python -m mergelimits.synthetic.hub_cache $(SMOKE_BRANCH) --cache $(SMOKE_HUB) > /dev/null
	PATH="$(abspath $(BIN)):$$PATH" HF_HUB_CACHE="$(abspath $(SMOKE_HUB))" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 \
		$(BIN)/snakemake --profile profiles/local $(SMOKE_BRANCH) --cores $(CORES)

# `snakemake --profile lumi` (or local) by name, from any directory: the repository's
# profiles linked where Snakemake looks names up ($XDG_CONFIG_HOME/snakemake, by default
# ~/.config/snakemake); links, so that they follow the repository.
PROFILE_DIR ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/snakemake
profiles:
	mkdir -p "$(PROFILE_DIR)"
	for p in lumi local; do \
		if [ -e "$(PROFILE_DIR)/$$p" ] && [ ! -L "$(PROFILE_DIR)/$$p" ]; then \
			echo "$(PROFILE_DIR)/$$p exists and is not a link: move it away first" >&2; exit 1; fi; \
		ln -sfn "$(abspath profiles)/$$p" "$(PROFILE_DIR)/$$p"; \
	done
	@echo "profiles lumi and local linked in $(PROFILE_DIR)"

dry-run: $(STAMP)
	$(BIN)/snakemake -n --quiet rules
	$(BIN)/snakemake -n --quiet rules --configfile config/paper.yaml
	# The LUMI profile as submitted there; env-modules stands in for apptainer, absent here.
	$(BIN)/snakemake -n --quiet rules --configfile config/paper.yaml --profile profiles/lumi --sdm env-modules

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules

# The Slurm tests (tests/test_slurm.py) start a one-node Slurm when none answers: as root
# (Debian's slurmctld, slurmd and munge are installed if missing); skipped otherwise.
# (The dry runs of both configs, the LUMI profile's among them, are tests in tests/test_workflow.py.)
# Two pytest workers (tests/conftest.py groups the tests that share a study run, so each run
# is made once): the Slurm session mostly waits on Slurm while the other worker computes.
test: $(STAMP) lint
	tools/ensure-chromium.sh
	$(BYTECODE)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q -n $(CORES) --dist loadgroup --no-loadscope-reorder --durations=15

# The Slurm tests alone.
test-slurm: $(STAMP)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q -m slurm

# Mutation testing of the modules that compute the study's numbers ([tool.mutmut] in
# pyproject.toml): minutes to hours, so not part of `make test`. The survivors, each read
# and either killed by a test or explained, are in perf/mutation.md.
# mutants/ is rebuilt from scratch: mutmut refreshes the copied Python files it mutates but
# not the package data beside them (the config schema), and stale data fails its stats run.
# One run per module keeps each under an hour on two cores: `make mutation MUTATE="merge evaluate"`
# (every module listed in pyproject.toml when MUTATE is empty).
MUTATE ?=
mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/python -m mutmut run --max-children $(CORES) $(foreach m,$(MUTATE),"mergelimits.$(m).*")
	$(BIN)/python tools/mutation_report.py > mutants/report.md
	@echo "report: mutants/report.md (perf/mutation.md holds the reading of the last full run)"

# The plausible bugs that once passed the suite (issue 19), re-applied one at a time: each
# must now fail its tests (about 2 min). `make test` runs each against the one test that
# catches it (tools/hand_mutants.py --fast, tests/test_known_bugs.py: about 40 s).
known-bugs: $(STAMP)
	$(BIN)/python tools/hand_mutants.py
