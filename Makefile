# Two commands for a new machine: `make demo` (set up, then run the pipeline on a real walking
# clip) and `make test` (the whole test suite). Both set up what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
GAIT := $(VENV)/bin/gait
# checkov (the chart's security scan, tests/k8s/test_scan.py) in a venv of its own: its
# dependencies clash with Prefect's. Pinned: a new release brings new checks, adopted on purpose.
SCAN_VENV := .venv-scan
CHECKOV := checkov==3.3.30

.PHONY: setup scan-venv scan demo test stack bench bench-peer bench-profile bench-batch bench-rotate clean-output images images-registry

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all,test]'
	touch $@

setup: $(VENV)/.installed
	$(GAIT) setup

$(SCAN_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet '$(CHECKOV)'
	touch $@

scan-venv: $(SCAN_VENV)/.installed

# the chart: helm lint/template, Kubernetes schemas, checkov (k8s/README.md "What was validated")
scan: setup scan-venv
	$(PY) -m pytest -q tests/k8s/test_scan.py tests/k8s/test_chart.py

demo: setup
	$(GAIT) run data/demo/demo.mp4 --out output/demo

test: setup scan-venv
	$(PY) -m pytest -q

stack: setup
	$(GAIT) stack

# the five images from docker/Dockerfile (docs/images.md). `images`: offline, no image registry (a
# base made from Debian's packages, Python packages from a wheelhouse downloaded first);
# `images-registry`: on the pinned python slim / CUDA bases of Docker Hub
images: setup
	$(PY) docker/build.py --offline

images-registry: setup
	$(PY) docker/build.py

clean-output:
	rm -rf output

bench: setup
	$(PY) benchmarks/run.py

# a cold `gait run` against myogait 0.9.2 + mediapipe 0.10.21 (.venv-peer, made on first use)
bench-peer: setup
	$(PY) benchmarks/peer.py

# one cold and one cached `gait run`, phase by phase (--server temporary: the first command after an idle stop)
bench-profile: setup
	$(PY) benchmarks/profile.py

# `gait batch` on 4 demo variants at concurrency 2: videos per CPU-hour
bench-batch: setup
	$(PY) benchmarks/batch.py

# rotate on an upright H.264 clip: the stream copy against the re-encoding
bench-rotate: setup
	$(PY) benchmarks/rotate_copy.py
