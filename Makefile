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

.PHONY: help install export check test test-learner test-browser docs serve demo-model chat-model lab docker clean

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

# NB='00_core 05_data' runs only those; NB_ARGS='--write' saves them executed (outputs tamed by tools/nb_outputs.py,
# cleaned: a second --write changes little); NB_ARGS=--check-outputs fails unless the committed notebooks carry
# outputs for at least half the cells with a result and every chart (CI). No trained model is needed.
NB ?=
NB_ARGS ?=
test-learner: install  ## run every notebook as a learner does: Run All in a fresh Jupyter kernel, IN_TEST unset
	RADON_MODEL="$(abspath $(RADON_MODEL))" $(BIN)/python tools/run_notebooks.py $(NB_ARGS) $(NB)

test-browser: install  ## JupyterLab's playground and the server's page in Chromium (needs: apt-get install chromium)
	RADON_MODEL="$(abspath $(RADON_MODEL))" $(BIN)/python tools/browser_test.py

docs: install  ## render the executed notebooks to a static HTML site in _docs/ (nbconvert; open _docs/index.html)
	$(BIN)/python tools/build_docs.py --out _docs

# The demo recipe sizes itself to the corpus it finds (max_epochs in the training config), keeps the best
# validation model and stops early; --auto-resume continues an interrupted run (or starts a clean one).
demo-model: install  ## train the tiny demo model into $(RADON_MODEL) if it is missing (~1-4 min on 2 cores)
	@if [ -f "$(RADON_MODEL)/config.json" ]; then echo "demo model present: $(RADON_MODEL)"; else \
	  data="data/sample_corpus.txt"; \
	  for d in /usr/share/games/fortunes /usr/share/games/fortunes/ru; do [ -d $$d ] && data="$$data $$d"; done; \
	  echo "training the demo model on $$data into $(RADON_MODEL)"; \
	  $(BIN)/radon-train --model-config configs/model_config_tiny.json --training-config configs/training_config.json \
	    --data $$data --out $(RADON_MODEL) --auto-resume; fi

CHAT_MODEL ?= checkpoints/radon-tiny-chat

chat-model: demo-model  ## fine-tune the demo model on data/chat_dialogs.jsonl into $(CHAT_MODEL) if it is missing
	@if [ -f "$(CHAT_MODEL)/config.json" ]; then echo "chat model present: $(CHAT_MODEL)"; else \
	  echo "chat fine-tuning $(RADON_MODEL) on data/chat_dialogs.jsonl into $(CHAT_MODEL)"; \
	  $(BIN)/radon-train --task chat --init-from $(RADON_MODEL) --data data/chat_dialogs.jsonl \
	    --training-config configs/chat_training_config.json --out $(CHAT_MODEL); fi

serve: demo-model  ## serve $(RADON_MODEL) with uvicorn on $(HOST):$(PORT) (trains the demo model first if needed)
	$(BIN)/uvicorn radon.api:app --host $(HOST) --port $(PORT)

# tools/jupyter_server_config.py cleans every notebook JupyterLab saves as nbdev_clean does (outputs kept) and lets
# root start it (containers run as root). The kernels run in nbs/, so RADON_MODEL goes to them as an absolute path.
# LAB_ARGS passes more, e.g. make lab LAB_ARGS='--port 8889 --no-browser'.
LAB_ARGS ?=
lab: install  ## JupyterLab on the workbook (saved notebooks stay clean for make test; root allowed)
	RADON_MODEL="$(abspath $(RADON_MODEL))" $(BIN)/jupyter lab --notebook-dir nbs --config tools/jupyter_server_config.py $(LAB_ARGS)

docker:  ## build the image (needs a Docker engine)
	docker build -t radon .

clean:  ## remove the venv, caches and build outputs (keeps checkpoints/)
	rm -rf $(VENV) build dist *.egg-info _proc _docs .radon_cache
