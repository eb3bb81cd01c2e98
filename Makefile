# parcours — see README.md. `make run` and `make test` set up everything
# they need on a fresh machine (Debian packages included).

GO        ?= go
TAGS      ?= duckdb_arrow
BIN       := bin/parcours
DATA      ?= data
WAREHOUSE ?= warehouse
# The sample `make run` generates when $(DATA) holds no dated folder.
SAMPLE    ?= --customers 5000 --days 240 --seed 7

.PHONY: build run test bench bench-shards bench-large fmt generate vet deps testdeps clean

build: deps
	$(GO) build -tags '$(TAGS)' -o $(BIN) ./cmd/parcours

# What the build needs from the system: Go, a C compiler (DuckDB is
# compiled in through cgo) and XGBoost's C library (Debian's
# libxgboost-dev 1.7) for the gradient-boosted churn learner, installed
# here once, idempotently. Without root and without the library, build with
# TAGS='duckdb_arrow noxgboost' (that learner then says it is unavailable).
deps:
	@command -v $(GO) >/dev/null || { echo "make: Go 1.26+ is required (https://go.dev/dl/)"; exit 2; }
	@command -v $${CC:-cc} >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential; \
		else echo "make: a C compiler is required (apt-get install build-essential)"; exit 2; fi; }
	@case "$(TAGS)" in *noxgboost*) exit 0;; esac; \
	test -f /usr/include/xgboost/c_api.h || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxgboost-dev; \
		else echo "make: libxgboost-dev is required (apt-get install libxgboost-dev), or build with TAGS='duckdb_arrow noxgboost'"; exit 2; fi; }

run: build
	@if ! ls -d $(DATA)/????-??-?? >/dev/null 2>&1; then \
		echo "no extracts in $(DATA)/: generating a sample ($(SAMPLE))"; \
		$(BIN) fixtures generate $(SAMPLE) --out $(DATA); \
	fi
	@last=$$(ls -d $(DATA)/????-??-?? | sort | tail -1 | xargs basename); \
	echo "running the nightly DAG for $$last"; \
	$(BIN) run nightly --date $$last --input $(DATA) --warehouse $(WAREHOUSE)

# What the tests use from the system, installed here once when missing
# (Debian packages): chromium renders the HTML report, python3 compiles
# and reads the generated Airflow DAGs, graphviz parses the DAG drawing,
# systemd-analyze verifies the systemd units. PARCOURS_SKIP_BROWSER=1 opts
# out of chromium; without root the others' tests check what they can.
testdeps:
	@missing=""; \
	command -v $${PARCOURS_CHROMIUM:-chromium} >/dev/null || [ -n "$$PARCOURS_SKIP_BROWSER" ] || missing="$$missing chromium"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	optional=""; command -v systemd-analyze >/dev/null || optional="systemd"; \
	[ -z "$$missing$$optional" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq; \
		[ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing || exit 2; \
		[ -z "$$optional" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$optional \
			|| echo "make: could not install $$optional: the systemd units are checked by the parser only"; \
	else case "$$missing" in *chromium*) echo "make: chromium is required by the report test (apt-get install chromium), or set PARCOURS_SKIP_BROWSER=1"; exit 2;; esac; \
		echo "make: missing$$missing: the tests that use them check less"; fi

test: build vet testdeps
	$(GO) test -tags '$(TAGS)' -timeout 25m ./...

# The bench is built into its folder, not run from go run's temp folder:
# it re-executes itself for the reads, and an hour-long run must not
# depend on a temp file a cleaner may remove.
#
# Reproducible benchmark: 100,000 customers over 365 days (seed 7), cached
# in .bench/. Prints per-job time, rows/s, peak RSS and the bare-read ratio,
# for the catch-up night and the two steady nights after it.
# It also trains churn with every learner on 200,000 customer-cutoffs of
# features and compares with scikit-learn (python3-sklearn, installed here
# when missing and possible) on the same file.
bench: build
	@/usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn python3-pandas; \
		else echo "make: python3-sklearn and python3-pandas missing: the scikit-learn comparison is skipped"; fi; }
	mkdir -p .bench && $(GO) build -tags '$(TAGS)' -o .bench/parcours-bench ./cmd/parcours-bench
	.bench/parcours-bench --bin $(BIN) --customers 100000 --days 365 --dir .bench

# The scale bench: 1,000,000 customers over 365 days (seed 7), cached in
# .bench-large/ (about 16 GB of extracts), the whole nightly DAG timed job
# by job with rows/s and peak RSS, then the same night as 4 customer shards
# run one after another and their two merges (orchestration/README.md, "Scale-out").
bench-large: build
	mkdir -p .bench-large && $(GO) build -tags '$(TAGS)' -o .bench-large/parcours-bench ./cmd/parcours-bench
	.bench-large/parcours-bench --bin $(BIN) --customers 1000000 --days 365 --dir .bench-large --model-rows 0 --shards 4

# The 100,000-customer night as a single node, then as 4 shards and merges.
bench-shards: build
	mkdir -p .bench && $(GO) build -tags '$(TAGS)' -o .bench/parcours-bench ./cmd/parcours-bench
	.bench/parcours-bench --bin $(BIN) --customers 100000 --days 365 --dir .bench --model-rows 0 --shards 4

fmt:
	gofmt -w $$(git ls-files '*.go')

# Rewrite each job package's sql_refs.go (the SQL sections its jobs
# declare) after changing which sections the code runs; a test fails until.
generate:
	$(GO) run ./internal/sqlrefs/gen

vet: deps
	$(GO) vet -tags '$(TAGS)' ./...

clean:
	rm -rf bin $(WAREHOUSE)
