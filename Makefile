# One command for the tests (`make test`) and one for the main job (`make demo`); each creates or
# updates the repo-local virtualenv from settings.ini + requirements.lock first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.idcf-installed
# Smoke runs made by the test-suite go here, so `make test` leaves `git status` clean.
TEST_OUT ?= $(CURDIR)/.test-out
NO_DEPS := $(shell sed -n 's/^no_deps_requirements *= *//p' settings.ini)

.PHONY: venv test test-nbs test-py check-sync lab lock clean-test

venv: $(STAMP)

$(STAMP): settings.ini setup.py requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	@# facenet-pytorch pins torch<2.3 in its metadata but runs on current torch: install it without deps.
	$(BIN)/python -m pip install --quiet --no-deps -c requirements.lock $(NO_DEPS)
	@touch $(STAMP)

test: venv
	@rm -rf $(TEST_OUT) && mkdir -p $(TEST_OUT)
	$(BIN)/python -m pytest -q tests/test_repo.py::test_export_and_clean_in_sync
	IDCF_RESULTS=$(TEST_OUT)/results $(BIN)/nbdev_test --n_workers 2 --timing
	IDCF_RESULTS=$(TEST_OUT)/results $(BIN)/python -m pytest -q tests
	@git diff --quiet -- nbs idcf || { echo "make test changed tracked files in nbs/ or idcf/:"; git status --short -- nbs idcf; exit 1; }

lab: venv
	$(BIN)/jupyter lab --notebook-dir=nbs

# Refresh the transitive pins after changing `requirements` in settings.ini.
lock: venv
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^(jupytext|idcf)[= ]' > requirements.lock

clean-test:
	rm -rf $(TEST_OUT)
