# RADON inference server: `docker build -t radon .` then `docker run -p 8000:8000 radon`.
# Build with `--build-arg TRAIN_DEMO=1` to train the tiny demo model into the image (about 3 minutes),
# or mount a checkpoint folder and point RADON_MODEL at it.
FROM python:3.11-slim

# TRAIN_DEMO=1 trains checkpoints/radon-tiny into the image (and installs Debian's fortunes text for it).
ARG TRAIN_DEMO=0
# Where the CPU build of torch comes from (PyPI's default torch wheel is the multi-GB CUDA build).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/home/radon/.cache/huggingface \
    RADON_HOME=/app/checkpoints \
    RADON_MODEL=/app/demo/radon-tiny

# gcc builds RADON's C kernels (radon.fast) for this machine's CPU on first use: without a compiler the CPU
# decoders fall back to torch's products, which run much slower at small batches. fortunes/fortunes-ru are extra
# ru/en demo text, only needed to train the demo model.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && if [ "$TRAIN_DEMO" = "1" ]; then apt-get install -y --no-install-recommends fortunes fortunes-ru; fi \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 radon

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes, not on a code change.
COPY requirements.txt ./
RUN pip install --extra-index-url "$TORCH_INDEX" -r requirements.txt

# The package itself (generated from the notebooks), then the configs, data and workbook.
COPY settings.ini setup.py README.md ./
COPY radon ./radon
RUN pip install --no-deps .
COPY configs ./configs
COPY data ./data
COPY nbs ./nbs

RUN if [ "$TRAIN_DEMO" = "1" ]; then \
      radon-train --model-config configs/model_config_tiny.json --training-config configs/training_config.json \
        --data data/sample_corpus.txt /usr/share/games/fortunes /usr/share/games/fortunes/ru \
        --out /app/demo/radon-tiny; \
    fi \
 && mkdir -p /app/checkpoints /app/demo && chown -R radon:radon /app/checkpoints /app/nbs

USER 1000:1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
CMD ["uvicorn", "radon.api:app", "--host", "0.0.0.0", "--port", "8000"]
