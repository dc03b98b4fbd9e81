.PHONY: run test demo bench lint
run:
	./scripts/run.sh
test:
	./scripts/test.sh
demo:
	.venv/bin/python -m etl demo --if-empty
bench:
	.venv/bin/python bench/run.py
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
