# Generative Models for Medical Imaging — the two commands are `make lab` and `make test`.
# Everything installs into .venv from nothing but Python 3.11 or newer and make.

# The interpreter .venv is built from: the first of python3, python3.13, python3.12, python3.11
# that is Python 3.11 or newer; `make PYTHON=python3.13 ...` chooses one explicitly.
SUITABLE_PYTHON = $(firstword $(foreach p,python3 python3.13 python3.12 python3.11,$(shell \
    $(p) -c 'import sys; print("$(p)" if sys.version_info >= (3, 11) else "")' 2>/dev/null)))
PYTHON ?= $(SUITABLE_PYTHON)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SANITIZE := tests/nbval_sanitize.cfg
BENCH_OUT ?= bench-out
# Where `make checkpoints` trains: cpu reproduces the shipped files bit for bit; cuda or mps is faster.
DEVICE ?= cpu
BROWSER_OUT ?= browser-out

.PHONY: lab test test-lib test-notebooks test-portable test-browser test-grading site test-site fuzz notebooks exercises bench checkpoints clean-venv

# The interpreter is checked before anything is downloaded. PyTorch goes in first and pinned:
# 2.13.0 is the version the course is tested with, and scripts/install_torch.py takes the CPU
# build on Linux where PyTorch's CPU index answers (TORCH_INDEX_URL=... picks another build).
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.11 or newer found (tried python3, python3.13," \
	    "python3.12, python3.11). Install one, or name it: make PYTHON=/path/to/python3.13 $(MAKECMDGOALS)"; exit 1; }
	$(PYTHON) scripts/check_python.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) scripts/install_torch.py
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# Students work on copies in my-work/ (git-ignored; scripts/workspace.py says what it copies and
# never overwrites their changes), so running and saving notebooks leaves the checkout clean.
WORK_DIR ?= my-work

lab: $(STAMP)
	$(PY) scripts/workspace.py --into "$(WORK_DIR)"
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(abspath $(WORK_DIR))" $(ALLOW_ROOT) $(LAB_ARGS)

test: test-lib test-notebooks

test-lib: $(STAMP)
	$(PY) -m pytest tests -q

NBVAL := -m pytest -q --nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) lectures solutions

test-notebooks: $(STAMP)
	$(PY) $(NBVAL)

# The same checks under perturbed numerics: one thread and PyTorch's generic (non-SIMD) kernels
# change every summation order a CPU can. What nbval compares must not move (it is exact on any
# machine); training-derived figures are asserted with tolerances measured over seeds and this
# perturbation (benchmarks/notebook_spread.md). CI runs it beside `make test`.
PORTABLE_ENV := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default

test-portable: $(STAMP)
	$(PORTABLE_ENV) $(PY) -m pytest tests -q
	$(PORTABLE_ENV) $(PY) $(NBVAL)

# The course as students use it: JupyterLab in a real headless Chromium (scripts/browser_check.py).
# Not part of `test`, which must run on a laptop without apt: this target installs its own tools
# when missing — Debian's Chromium with apt-get, and the [browser] extra (playwright) into .venv.
# Playwright drives /usr/bin/chromium; it never downloads a browser of its own.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
BROWSER_STAMP := $(VENV)/.browser-stamp

/usr/bin/chromium:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

$(BROWSER_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -e '.[dev,browser]'
	touch $(BROWSER_STAMP)

test-browser: $(BROWSER_STAMP) /usr/bin/chromium
	$(PY) scripts/browser_check.py --out $(BROWSER_OUT)
	$(PY) scripts/browser_cleanup_check.py

# For teachers (TEACHING.md): grading with nbgrader and the course as a website. Their tools are
# extras ([teach], [site]) that a student never installs; CI runs both checks after test-browser.
TEACH_STAMP := $(VENV)/.teach-stamp
SITE_STAMP := $(VENV)/.site-stamp
SITE_DIR ?= site
SITE_OUT ?= site-out

$(TEACH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -e '.[dev,teach]'
	touch $(TEACH_STAMP)

$(SITE_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -e '.[dev,site]'
	touch $(SITE_STAMP)

# The whole nbgrader path on every lecture, in a temporary course directory: generate_assignment,
# autograde of a complete, an empty and a half-filled submission, generate_feedback.
test-grading: $(TEACH_STAMP)
	$(PY) scripts/grading_check.py

# The executed lectures and solutions as a static site in $(SITE_DIR)/, built offline
# (SITE_SOLUTIONS=0 leaves the solutions out, for a class that is graded on them).
site: $(SITE_STAMP)
	$(PY) scripts/build_site.py --out $(SITE_DIR) $(if $(filter 0,$(SITE_SOLUTIONS)),--no-solutions,)

# The built site in headless Chromium with every host but 127.0.0.1 unreachable: equations
# typeset, figures loaded, every lecture linked; screenshots in $(SITE_OUT)/.
test-site: site $(BROWSER_STAMP) /usr/bin/chromium
	$(PY) scripts/site_check.py --site $(SITE_DIR) --out $(SITE_OUT)

# Every public callable of course_lib called with one argument mutated (wrong shape, dtype,
# values, type, device, counts, choices), each case in a forked child under a time and memory
# limit (tests/api_fuzz). It exits 1 while any case ends in an unreadable error, a silent result,
# NaN, a hang or running out of memory; tests/api_fuzz/BEFORE.md is where the library started and
# AFTER.md where the validation layer took it. CI runs it (about 2 min).
FUZZ_OUT ?= fuzz-out
fuzz: $(STAMP)
	mkdir -p $(FUZZ_OUT)
	$(PY) -m tests.api_fuzz --jobs 2 --json $(FUZZ_OUT)/fuzz.json --markdown $(FUZZ_OUT)/fuzz.md

notebooks: $(STAMP)
	$(PY) scripts/build_notebooks.py $(NB)
	$(PY) -m course_lib.authoring

exercises: $(STAMP)
	$(PY) -m course_lib.authoring

bench: $(STAMP)
	$(PY) -m benchmarks all --json --out $(BENCH_OUT)

checkpoints: $(STAMP)
	$(PY) -m course_lib.zoo --train all --device $(DEVICE)

clean-venv:
	rm -rf $(VENV)
