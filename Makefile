# The README's two commands: `make demo` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test chromium mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[examples]"

# torch for the NAS example trials' tests (the nas-examples extra), from pip's configured index
# (this machine's find-links serve the CPU wheel). PyPI's own torch is the multi-GB CUDA build: on
# a machine that reaches PyTorch's CPU index, `make test TORCH_INDEX=https://download.pytorch.org/whl/cpu`.
# Not the default: where that index cannot be reached pip retries every package for ~85 s
# (measured here) before it falls back to the configured indexes.
TORCH ?= torch==2.13.0
TORCH_INDEX ?=

# tests/test_report_browser.py opens the HTML report in Debian's headless chromium (it fails
# without it): installed here when missing, so `make test` works on a fresh machine.
chromium:
	@command -v chromium >/dev/null 2>&1 || { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
		$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

install-test: $(BIN)/python chromium
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)") "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test,nas-examples]"

# Install, then tune the scikit-learn digits example end to end through the compiled pipeline
# on kfp.local, as a fresh experiment each time. Records go to ./kfp-tune-runs; it ends with the
# commands that look at them, the experiment's name in them.
demo: install
	@name=digits-demo-$$(date +%Y%m%d-%H%M%S); \
	echo "$(BIN)/kfp-tune run images/sklearn-digits/experiment.yaml --mount /opt/digits=images/sklearn-digits --name $$name"; \
	$(BIN)/kfp-tune run images/sklearn-digits/experiment.yaml --mount /opt/digits=images/sklearn-digits --name $$name || exit $$?; \
	printf '\nNext (source .venv/bin/activate first, or prefix each with .venv/bin/):\n  kfp-tune trials %s --sort-by objective --limit 5\n  kfp-tune report %s -o report    # report/%s.md and .html\n' $$name $$name $$name

# Lint and type-check first (a finding fails the run, as a failing test does), then the tests on
# one worker per core and one more, at most 4 (pytest-xdist; the tests wait on servers, trials'
# child processes and kfp.local's steps, so one worker per core left a fifth of two cores idle:
# 839 s of pytest on three workers against 965 s on two, back to back on this 2-core machine,
# docs/testing.md); the 15 slowest are listed at the end, so a run on a slow machine says where
# its time went. `PYTEST_ARGS="-n 0"` runs them in one process.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c "import os; cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1; print(min(4, cores + 1))")
test: install-test
	$(BIN)/ruff check .
	$(BIN)/python tools/typecheck.py
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --durations=15 $(PYTEST_ARGS)

# Mutation testing of core, the launchers and the stores (slow: hours on two cores; not in CI).
# docs/testing.md says how to read the result. `make mutation PACKAGES=stores` runs one.
mutation: install-test
	VENV=$(VENV) tools/mutation.sh $(PACKAGES)

clean:
	rm -rf $(VENV) build dist *.egg-info kfp-tune-runs
