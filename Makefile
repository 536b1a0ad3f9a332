# Developer tasks. Each target is one command a developer (or CI) runs; see README "Developing".
# Run from an activated venv (`make setup` makes .venv), or set PYTHON to another interpreter.
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: setup lint fast test integration bench-smoke lock

# The README's set-up command: a venv with the package and its dev tools.
setup:
	python3 -m venv .venv
	.venv/bin/python -m pip install -q --upgrade pip
	.venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

# After every change: pure functions on tiny arrays, no training, no subprocess, no SQLite.
fast:
	$(PYTHON) -m pytest -m "not slow and not integration" -q

# The README's test command, as CI runs it: every test, the 15 slowest named at the end.
test:
	$(PYTHON) -m pytest -n auto --durations=15

integration:
	$(PYTHON) -m pytest -m integration --durations=15

# The quickest benchmark runs: that the benchmarks still start and time something.
bench-smoke:
	$(PYTHON) bench/train_speed.py --epochs 3 --models lstm --skip-load
	$(PYTHON) bench/trial_cost.py --max-reviews 1000 --epochs 2

# Re-pins every dependency of every extra (constraints.txt) and remakes python_env.yaml and
# conda.yaml from the same pins; `make lock LOCK_ARGS=--upgrade` moves the pins forward.
lock:
	$(PYTHON) -m pip install -q uv
	PATH="$(dir $(PYTHON)):$$PATH" $(PYTHON) tools/lock.py $(LOCK_ARGS)
