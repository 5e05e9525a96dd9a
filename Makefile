# RADON: the README's commands. `make serve` and `make test` set everything up on a fresh machine
# (Python 3.11 and pip are all they need): a .venv with the exact pins, the package in editable mode.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.radon-installed
HOST ?= 0.0.0.0
PORT ?= 8000
RADON_MODEL ?= checkpoints/radon-tiny
export RADON_MODEL

.PHONY: help install export check test serve demo-model lab docker clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): requirements.txt settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	$(BIN)/python -m pip check
	@touch $@

install: $(STAMP)  ## create .venv with the pinned stack and radon in editable mode

export: install  ## notebooks -> radon/ (nbdev_export) and nbs/index.ipynb -> README.md
	$(BIN)/nbdev_export
	$(BIN)/python tools/nb2readme.py nbs/index.ipynb README.md

# The library and README must already match the notebooks, and notebooks must be clean (nbdev_clean).
check: install  ## fail if nbdev_export or nbdev_clean would change a tracked file
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  state() { git diff HEAD -- radon README.md nbs | sha1sum; git status --porcelain --untracked-files=all -- radon nbs README.md; }; \
	  before=$$(state); $(MAKE) --no-print-directory export >/dev/null; \
	  if [ "$$before" != "$$(state)" ]; then echo "nbdev_export changed files: the library or README is not in step with the notebooks."; \
	    echo "Run 'make export' and commit radon/ and README.md."; git status --short -- radon README.md; exit 1; fi; \
	  $(BIN)/nbdev_clean; \
	  if [ "$$before" != "$$(state)" ]; then echo "nbdev_clean changed notebooks: run '$(BIN)/nbdev_clean' and commit nbs/."; git status --short -- nbs; exit 1; fi; \
	else echo "not a git checkout: skipping the export/clean checks"; fi

test: check  ## set up, check export and cleanliness, then run every notebook (nbdev_test)
	$(BIN)/nbdev_test --n_workers 2 --timing

# The demo recipe sizes itself to the corpus it finds (max_epochs in the training config), keeps the best
# validation model and stops early; --auto-resume continues an interrupted run (or starts a clean one).
demo-model: install  ## train the tiny demo model into $(RADON_MODEL) if it is missing (~1-4 min on 2 cores)
	@if [ -f "$(RADON_MODEL)/config.json" ]; then echo "demo model present: $(RADON_MODEL)"; else \
	  data="data/sample_corpus.txt"; \
	  for d in /usr/share/games/fortunes /usr/share/games/fortunes/ru; do [ -d $$d ] && data="$$data $$d"; done; \
	  echo "training the demo model on $$data into $(RADON_MODEL)"; \
	  $(BIN)/radon-train --model-config configs/model_config_tiny.json --training-config configs/training_config.json \
	    --data $$data --out $(RADON_MODEL) --auto-resume; fi

serve: demo-model  ## serve $(RADON_MODEL) with uvicorn on $(HOST):$(PORT) (trains the demo model first if needed)
	$(BIN)/uvicorn radon.api:app --host $(HOST) --port $(PORT)

lab: install  ## JupyterLab on the workbook
	$(BIN)/jupyter lab --notebook-dir nbs

docker:  ## build the image (needs a Docker engine)
	docker build -t radon .

clean:  ## remove the venv, caches and build outputs (keeps checkpoints/)
	rm -rf $(VENV) build dist *.egg-info _proc _docs .radon_cache
