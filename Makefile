# The README's two commands are `make demo` and `make test`; each sets itself up.
PY := .venv/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup test demo bench lint clean

setup:
	@bash scripts/bootstrap.sh

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	$(PY) -m kiosk demo $(DEMO_ARGS)

bench: setup
	$(PY) -m bench

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf .venv demo-out bench/results.json .pytest_cache .ruff_cache
