# Bayesian multilevel models in Python -- the two commands: `make book` and `make test`.
SHELL := bash
.DEFAULT_GOAL := help

VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
# Where `make html` writes (the site lands in $(BUILD_ROOT)/_build/html).
BUILD_ROOT ?= .
# The strict build: warnings are errors, nitpicky references, report every problem at once.
# The tests build with exactly these flags (tests/book/test_book.py calls `make html`).
JB_FLAGS  := --warningiserror --nitpick --keep-going

# Compile caches, kept with the build outputs so that `make clean` clears them: PyTensor's
# compiled C modules (outside make: ~/.pytensor) and JAX's compiled log densities (outside make:
# none, JAX recompiles in each new process). A base_compiledir in your own PYTENSOR_FLAGS wins.
COMPILE_CACHE := $(CURDIR)/_build/.compile-cache
comma := ,
export PYTENSOR_FLAGS := base_compiledir=$(COMPILE_CACHE)/pytensor$(if $(PYTENSOR_FLAGS),$(comma)$(PYTENSOR_FLAGS))
export JAX_COMPILATION_CACHE_DIR ?= $(COMPILE_CACHE)/jax

# First Python >= 3.12 among these (pyenv reads .python-version = 3.12 for `python3`).
PY_CANDIDATES := python3 python3.13 python3.12 python
PYTHON ?= $(shell for p in $(PY_CANDIDATES); do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
	  && { echo $$p; break; }; done)

# FORCE: a prerequisite that is always out of date
.PHONY: FORCE help install book html html-unlocked cache-check learners learners-unlocked test lint format browser spark check lab author lab-settings bench bench-scale clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP)  ## Create .venv and install the pinned stack (skipped when nothing changed)

# A virtual environment belongs to the folder it was made in: its scripts and the editable
# install of helpers point there. The stamp records that folder; in a copied or moved checkout
# it names another one, and the environment is made again here.
VENV_HOME := $(shell cat $(STAMP) 2>/dev/null)

$(STAMP): requirements.txt pyproject.toml $(if $(filter-out $(CURDIR),$(VENV_HOME)),FORCE)
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: Python 3.12 or newer is needed (Bambi 0.18+ requires it); found:" >&2; \
	  for p in $(PY_CANDIDATES); do command -v $$p >/dev/null 2>&1 && echo "  $$p -> $$($$p --version 2>&1)" >&2; done; \
	  echo "Install Python 3.12+ (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2; \
	  exit 1; fi
	@if [ -n "$(filter-out $(CURDIR),$(VENV_HOME))" ]; then \
	  echo "$(VENV) was made in $(VENV_HOME), not here: making it again for $(CURDIR)"; \
	  rm -rf $(VENV); fi
	@echo "Using $(PYTHON): $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@echo "$(CURDIR)" > $@

FORCE:

book: $(STAMP)  ## Execute every chapter; build the website and the learners' edition
	@$(MAKE) --no-print-directory html
	@$(MAKE) --no-print-directory learners
	@echo "The site is in _build/html/index.html; the learners' edition (no solutions) in"
	@echo "_build/learners/_build/html/index.html; notebooks to hand out: _build/html/_notebooks/learners.zip"

# jupyter-cache keys executed notebooks on their code cells only. Chapters also depend on what
# they import: the helpers package, the data, the pinned stack, and the big-data chapter's
# benchmark record (its cost curves). When any of these change, drop the execution cache (and
# Sphinx's saved environment, so every chapter is re-read and re-executed). Build code (website/,
# tools/, the Makefile, pyproject.toml's tool settings) is not among them: editing it keeps the
# cache. The two pages that read tools' code (workshop, performance) are executed on every build
# instead (their front matter says so).
SCALE_RECORD = $(wildcard tools/benchmarks/results/scale.csv tools/benchmarks/results/scale_machine.json)
CACHE_INPUTS = $(sort $(wildcard helpers/*.py data/*)) requirements.txt $(SCALE_RECORD)
CACHE_KEY    = $(shell cat $(CACHE_INPUTS) | { sha256sum 2>/dev/null || shasum -a 256; } | cut -c1-16)

cache-check:  # drop the execution cache when what the chapters import changed
	@mkdir -p _build
	@if [ "$$(cat _build/.cache-key 2>/dev/null)" != "$(CACHE_KEY)" ]; then \
	  echo "helpers/, data/, the pins or the scale record changed: clearing the execution cache"; \
	  rm -rf _build/.jupyter_cache _build/.doctrees; echo "$(CACHE_KEY)" > _build/.cache-key; fi

# The book's configuration (the tests build once with a copy that sets the repository URL).
CONFIG ?= _config.yml

# One build at a time per folder: builds share the execution cache (_build/.jupyter_cache), and
# two at once break it (FileExistsError, "readonly database"). A second build waits for the first
# and says so (flock, from util-linux; where it is missing, builds are not serialized).
LOCK := _build/.build-lock
with_lock = mkdir -p _build; if command -v flock >/dev/null 2>&1; then exec 9>$(LOCK); \
	  flock -n 9 || { echo "Another build is using this folder's execution cache: waiting for it to finish ($(LOCK))"; flock 9; }; fi;
# Temporary files of the build and its kernels (PyTensor leaves its JAX sources there) stay
# under _build, which `make clean` removes, instead of piling up in the system's temp folder.
BUILD_TMP := $(CURDIR)/_build/tmp
# The kernels find the tools (the workshop page imports tools.workshop) from the repository root.
BUILD_ENV := BOOK_BUILD=1 TMPDIR=$(BUILD_TMP) PYTHONPATH=$(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

html:  # the strict build itself, into $(BUILD_ROOT)/_build/html (needs `make install` first)
	@$(with_lock) $(MAKE) --no-print-directory html-unlocked

html-unlocked: cache-check
	@mkdir -p $(BUILD_TMP)
	$(BUILD_ENV) $(BIN)/jupyter-book build . --config $(CONFIG) --path-output $(BUILD_ROOT) $(JB_FLAGS)

# The learners' edition: the same book with every solution left out (website/site_extension.py),
# built beside the full one. It shares the execution cache.
LEARNERS_CONFIG := _build/learners_config.yml

learners: $(STAMP)  ## Build the learners' edition (no solutions) into _build/learners/_build/html
	@$(with_lock) $(MAKE) --no-print-directory learners-unlocked

learners-unlocked: cache-check
	@mkdir -p $(BUILD_TMP)
	@# Jupyter Book reads local_extensions paths relative to the config file: the copy in _build
	@# names them absolutely.
	@$(BIN)/python -c "import pathlib, yaml; c = yaml.safe_load(open('$(CONFIG)')); \
	  here = pathlib.Path('$(CONFIG)').resolve().parent; ext = c['sphinx'].get('local_extensions') or {}; \
	  c['sphinx']['local_extensions'] = {k: str((here / v).resolve()) for k, v in ext.items()}; \
	  c['sphinx']['config']['learners_edition'] = True; c['title'] += \" (learners' edition)\"; \
	  yaml.safe_dump(c, open('$(LEARNERS_CONFIG)', 'w'), sort_keys=False)"
	$(BUILD_ENV) $(BIN)/jupyter-book build . --config $(LEARNERS_CONFIG) --path-output $(BUILD_ROOT)/_build/learners $(JB_FLAGS)
	@echo "The learners' edition is in $(BUILD_ROOT)/_build/learners/_build/html/index.html"

test: $(STAMP) browser spark lint  ## Lint, then run the whole test suite (chapter execution, strict build, browser, Spark)
	$(BIN)/python -m pytest

# ruff (settings in pyproject.toml) on helpers/, tests/, tools/, website/ and the chapters' code
# cells (tools/lint.py hands those to ruff as notebooks).
lint: $(STAMP)  ## Check the code style with ruff (make test runs this first)
	$(BIN)/python tools/lint.py

format: $(STAMP)  ## Apply ruff's fixes and formatting, chapters' code cells included
	$(BIN)/python tools/lint.py --fix

# The browser tests drive the system's headless Chromium (Debian package `chromium`); install it
# with apt when it is missing and apt is there (CI machines), otherwise say what to do.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium for the browser tests (apt-get install chromium)"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Chromium: install it (e.g. 'apt-get install chromium')." >&2; fi; }

# Apache Spark, for the Spark section of the big-data chapter: PySpark (requirements-spark.txt)
# into .venv, and Java 17 (Debian's openjdk-17-jre-headless) when no `java` is found and apt is
# there. `make test` runs it; `make book` does not need it (the page then says Spark is absent).
SPARK_STAMP := $(VENV)/.spark-installed

spark: $(SPARK_STAMP)  ## Opt in to the big-data chapter's Spark section: PySpark, and Java if missing

$(SPARK_STAMP): requirements-spark.txt $(STAMP)
	@command -v java >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Java for Spark (apt-get install openjdk-17-jre-headless)"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else echo "Spark needs Java 17 or newer: install it (e.g. 'apt-get install openjdk-17-jre-headless')." >&2; fi; }
	$(BIN)/python -m pip install --quiet -r requirements-spark.txt
	@touch $@

check: $(STAMP)  ## Setup check for learners: versions, data, a tiny model; PASS or FAIL with the fix
	@$(BIN)/python -m helpers.check

# Options for `make lab` and `make author` (the tests start them with --no-browser on a free port).
LAB_FLAGS ?=
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

# JupyterLab refuses to run as root unless told; containers and CI machines often run as root.
LAB_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

# `make lab`: the learner's JupyterLab. The chapters as rendered notebooks (numbers in the text,
# no build checks; solutions folded, or left out with EDITION=learners), copied from the build
# into notebooks/ (git ignores it). A notebook the learner edited is never replaced without
# asking (tools/lab.py).
EDITION ?= full
EDITION_DIR = $(if $(filter learners,$(EDITION)),/learners)
BUILT_NOTEBOOKS = $(BUILD_ROOT)/_build/html/_notebooks
# Each edition has its own folder, so neither overwrites the other's notebooks.
LAB_DIR ?= notebooks$(EDITION_DIR)

lab: $(STAMP) lab-settings  ## Start JupyterLab on notebooks/: the chapters as notebooks (EDITION=learners: no solutions)
	@case "$(EDITION)" in full|learners) ;; *) echo "EDITION must be full or learners, not '$(EDITION)'" >&2; exit 2;; esac
	@test -d $(BUILT_NOTEBOOKS)/learners || { echo "No built notebooks yet: building the book first (about 9 minutes the first time)"; $(MAKE) --no-print-directory html; }
	@$(BIN)/python tools/lab.py $(BUILT_NOTEBOOKS)$(EDITION_DIR) $(LAB_DIR)
	$(BIN)/jupyter lab --notebook-dir=$(LAB_DIR) $(LAB_ROOT) $(LAB_FLAGS)

# `make author`: the MyST sources themselves, for authors: chapters open as notebooks (Jupytext)
# and their markdown renders MyST (jupyterlab-myst, requirements-author.txt).
AUTHOR_STAMP := $(VENV)/.author-installed

$(AUTHOR_STAMP): requirements-author.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-author.txt
	@touch $@

# The lab's settings, keeping the user's others: markdown files open as Jupytext notebooks (the
# sources; no .md in notebooks/), no news or update checks (the book runs offline), and every
# cell rendered at once (find-in-page sees the whole chapter).
lab-settings:
	@mkdir -p $(dir $(LAB_SETTINGS))
	@$(BIN)/python -c "import json, pathlib; p = pathlib.Path('$(LAB_SETTINGS)'); \
	  s = json.loads(p.read_text()) if p.is_file() and p.read_text().strip() else {}; \
	  v = s.setdefault('@jupyterlab/docmanager-extension:plugin', {}).setdefault('defaultViewers', {}); \
	  v.update(markdown='Jupytext Notebook', myst='Jupytext Notebook'); \
	  n = s.setdefault('@jupyterlab/apputils-extension:notification', {}); \
	  n.setdefault('fetchNews', 'false'); n.setdefault('checkForUpdates', False); \
	  s.setdefault('@jupyterlab/notebook-extension:tracker', {}).setdefault('windowingMode', 'none'); \
	  p.write_text(json.dumps(s, indent=2) + '\n')"

author: $(AUTHOR_STAMP) lab-settings  ## For authors: JupyterLab on the MyST sources (book/*.md open as notebooks)
	@# The repository root on PYTHONPATH: the workshop page imports tools.workshop.
	PYTHONPATH=$(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH)) $(BIN)/jupyter lab --notebook-dir=. $(LAB_ROOT) $(LAB_FLAGS)

# The benchmark (tools/benchmarks/README.md): every model, every sampler backend, cold and warm, in
# fresh processes with their own temporary caches. About an hour on 2 cores; BENCH_FLAGS narrows
# it, e.g. make bench BENCH_FLAGS="--models season_baseline --backends numpyro --reps 1".
BENCH_FLAGS ?=

bench: $(STAMP)  ## Measure time to posterior for every model and backend -> tools/benchmarks/results/
	$(BIN)/python tools/benchmarks/bench.py $(BENCH_FLAGS)

# The big-data chapter's cost curves (tools/benchmarks/scale.py): about an hour on 2 cores.
bench-scale: $(STAMP)  ## Measure time and memory from Parquet rows to a posterior -> tools/benchmarks/results/scale.csv
	$(BIN)/python tools/benchmarks/scale.py $(BENCH_FLAGS)

clean:  ## Remove the built site, the execution cache and the compile caches (keeps .venv)
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
