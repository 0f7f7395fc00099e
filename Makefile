# hzeval — `make help` lists the targets.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
DB      ?= hzeval.duckdb
YEAR    ?= 2025
AS_OF   ?= 2026-01-05
PREV_YEAR  ?= 2024
PREV_AS_OF ?= 2025-01-06
export HZEVAL_DB := $(DB)

.DEFAULT_GOAL := help
.PHONY: help demo test test-lowest test-offline venv dev sysdeps lock wheelhouse samples docs bench clean screenshots lab \
	lab-screenshots

help: ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/hzeval: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (hzeval)" >/dev/null
	@touch $@

$(VENV)/.dev: $(BIN)/hzeval
	$(BIN)/pip install -q -e '.[dev,spark]'
	@touch $@

venv: $(BIN)/hzeval ## create .venv with the runtime dependencies

dev: $(VENV)/.dev ## create .venv with the dev extras

demo: venv ## load data_samples/ into hzeval.duckdb, assess 2024 and 2025, print ranking, 督办 list and gates, render reports/
	rm -f $(DB) $(DB).wal
	$(BIN)/hzeval load data_samples/
	@echo "assessing $(PREV_YEAR) first (reports compare with the previous year)"
	$(BIN)/hzeval assess --year $(PREV_YEAR) --as-of $(PREV_AS_OF) > /dev/null
	$(BIN)/hzeval assess --year $(YEAR) --as-of $(AS_OF)
	@echo "making both runs official (leaders read official runs; a new run is 试算; 较上年 compares official runs only)"
	$(BIN)/hzeval runs official $$(basename $$(cat $(dir $(DB))published/LATEST-$(PREV_YEAR)) .duckdb) --reason "演示：样例数据包审定"
	$(BIN)/hzeval runs official $$(basename $$(cat $(dir $(DB))published/LATEST-$(YEAR)) .duckdb) --reason "演示：样例数据包审定"
	$(BIN)/hzeval runs list --year $(YEAR)
	$(BIN)/hzeval supervise --as-of $(AS_OF) --limit 15
	$(BIN)/hzeval gate --as-of $(AS_OF)
	$(BIN)/hzeval notify --as-of $(AS_OF) --dry-run --summary
	$(BIN)/hzeval report --year $(YEAR) --format html,xlsx,dashboard
	@echo "reports: $(CURDIR)/reports/$(YEAR)/index.html"

lab: venv ## start JupyterLab on notebooks/ (127.0.0.1, token printed) with the hzeval kernel; PORT=8888
	$(BIN)/hzeval lab --port $(or $(PORT),8888)

lab-screenshots: dev ## the staff notebooks in JupyterLab (headless Chromium) → docs/screenshots/
	$(BIN)/python docs/screenshots/take.py

#: Debian packages the suite needs: the browser tests (Chromium, CJK fonts), PDF checks (pdftotext) and the
#: Spark engine (Java). Installed with apt when root; otherwise the exact command is printed and make stops.
SYSDEPS_CHECK := command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' \
	&& command -v pdftotext >/dev/null && command -v java >/dev/null
SYSDEPS_APT   := chromium fonts-noto-cjk poppler-utils default-jre-headless

sysdeps: ## install the system packages the tests need (apt, when root), or print the command
	@if $(SYSDEPS_CHECK); then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $(SYSDEPS_APT)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSDEPS_APT); \
	else \
		echo "缺少系统软件包 | missing system packages; run: sudo apt-get install -y $(SYSDEPS_APT)" >&2; exit 1; \
	fi

test: dev sysdeps ## run the whole test suite (installs the system packages it needs)
	$(BIN)/python -m pytest -q

#: the lowest-versions job (issue 28): every runtime dependency at its pyproject floor (.ci/lowest.py), in a fresh venv
LOWEST_VENV  ?= .lowvenv
LOWEST_TESTS ?= tests/test_metrics.py tests/test_reports.py
test-lowest: ## the metric and report tests with the lowest versions pyproject allows (fresh venv .lowvenv/)
	rm -rf $(LOWEST_VENV) && $(PY) -m venv $(LOWEST_VENV)
	$(PY) .ci/lowest.py > $(LOWEST_VENV)/lowest.txt
	$(LOWEST_VENV)/bin/pip install -q -c $(LOWEST_VENV)/lowest.txt -e . pytest openpyxl nbval
	$(LOWEST_VENV)/bin/pip check
	$(LOWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not system" $(LOWEST_TESTS)

#: the offline install (README, 离线安装), with the index switched off, in a folder outside the checkout
OFFLINE ?= $(or $(TMPDIR),/tmp)/hzeval-offline
OFFLINE_PIP := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1
test-offline: wheelhouse ## make wheelhouse, then install it with no index in a fresh venv and run a small job there
	rm -rf $(OFFLINE) && mkdir -p $(OFFLINE)/work && $(PY) -m venv $(OFFLINE)/venv
	$(OFFLINE_PIP) $(OFFLINE)/venv/bin/pip install -q --no-index --find-links $(CURDIR)/wheelhouse hzeval
	cd $(OFFLINE)/work && ../venv/bin/hzeval --version
	cd $(OFFLINE)/work && ../venv/bin/hzeval --db h.duckdb load $(CURDIR)/data_samples --quiet
	cd $(OFFLINE)/work && ../venv/bin/hzeval --db h.duckdb assess --year 2025 --as-of 2026-01-05 > assess.txt
	cd $(OFFLINE)/work && ../venv/bin/hzeval --db h.duckdb report --year 2025 --agency HZ009 --format html --out out
	grep -q 一票否决 $(OFFLINE)/work/out/2025/agencies/HZ009.html
	@echo "offline install: $(OFFLINE)/work/out/2025/agencies/HZ009.html"

samples: venv ## regenerate the committed sample drop (deterministic)
	$(BIN)/python -m hzeval.samples --out data_samples --scale 1 --committed

docs: venv ## regenerate docs/contract.md and docs/metrics.md's metric table from the declarations
	$(BIN)/python -m hzeval.contract > docs/contract.md
	$(BIN)/python -m hzeval.metrics docs/metrics.md

BENCH_SIZES ?= S,M,L
bench: venv ## run the benchmarks (S, M, L drops; BENCH_SIZES=S,M to skip L) and write benchmarks/RESULTS.md
	BENCH_SIZES=$(BENCH_SIZES) $(BIN)/python benchmarks/run_all.py

screenshots: dev ## dashboard pages (1440 and 390 px) and three reports → docs/screenshots/, with page timings
	$(BIN)/python benchmarks/screenshots.py

lock: ## regenerate requirements.lock: the runtime dependencies pinned, resolved in a fresh venv
	rm -rf .lockvenv && $(PY) -m venv .lockvenv && .lockvenv/bin/pip install -q --upgrade pip
	.lockvenv/bin/pip install -q . && .lockvenv/bin/pip freeze --exclude hzeval > requirements.lock
	rm -rf .lockvenv

wheelhouse: ## hzeval's wheel and every locked dependency's wheel in wheelhouse/ (offline install: README)
	rm -rf wheelhouse && $(PY) -m pip wheel -q -w wheelhouse -c requirements.lock .

clean: ## remove the venv, warehouses and rendered reports
	rm -rf $(VENV) *.duckdb *.duckdb.wal reports/*/ .pytest_cache
