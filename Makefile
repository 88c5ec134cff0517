# The README's two commands: `make demo` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[examples]"

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

# Install, then tune the scikit-learn digits example end to end through the compiled pipeline
# on kfp.local, as a fresh experiment each time. Records go to ./kfp-tune-runs; see
# `.venv/bin/kfp-tune trials NAME` with the name it prints.
demo: install
	$(BIN)/kfp-tune run images/sklearn-digits/experiment.yaml --mount /opt/digits=images/sklearn-digits --name digits-demo-$$(date +%Y%m%d-%H%M%S)

# Lint and type-check first (a finding fails the run, as a failing test does), then the tests.
test: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Mutation testing of core, the launchers and the stores (slow: hours on two cores; not in CI).
# docs/testing.md says how to read the result. `make mutation PACKAGES=stores` runs one.
mutation: install-test
	VENV=$(VENV) tools/mutation.sh $(PACKAGES)

clean:
	rm -rf $(VENV) build dist *.egg-info kfp-tune-runs
