# Veille. `make demo` and `make test` set up what is missing, then run.
SHELL := /bin/bash
GO ?= go
SHARED ?= $(abspath ../shared)
CHDB_LIB := $(CURDIR)/.cache/chdb/26.5.3/libchdb.so
export CHDB_LIB_PATH ?= $(CHDB_LIB)

.PHONY: all setup setup-test test-deps build demo test vet unit eval bench cluster clean

all: build

## setup: install libchdb.so into .cache/ (idempotent; downloads once)
setup: $(CHDB_LIB)
$(CHDB_LIB):
	@./scripts/setup-chdb.sh >/dev/null

## setup-test: also install what the tests use (Debian's clickhouse-server, chromium); needs root
setup-test: setup
	@./scripts/setup-test-deps.sh

build: setup
	$(GO) build -o bin/veille ./cmd/veille

## demo: run the whole pipeline on the demo data, serve it on http://127.0.0.1:8080
demo: build
	./bin/veille demo

## test: vet, unit and integration tests with the race detector, then the classifier's quality gate
test: setup test-deps vet unit eval

# Best effort outside CI (needs root); .ci/run installs them first.
test-deps:
	-@./scripts/setup-test-deps.sh

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n "$$unformatted" ]]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -timeout 15m ./... ./testdata/demo/

## eval: fail when the classifier drops below its targets on the dev corpus
eval: build
	./bin/veille eval --check \
		--data $(SHARED)/corpus/dev-en.jsonl --data $(SHARED)/corpus/dev-fr.jsonl \
		--data $(SHARED)/corpus/dev-multi.jsonl --transcripts $(SHARED)/corpus/transcripts

bench: build
	./bin/veille bench classify
	./bin/veille bench store
	./bin/veille bench pipeline

cluster: build
	./deploy/local-cluster.sh start

clean:
	rm -rf bin data
