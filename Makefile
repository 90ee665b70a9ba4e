# gostash: `make run` builds and runs the quickstart pipeline; `make test`
# runs every test, against real Kafka, Elasticsearch and OpenSearch.

GO       ?= go
BIN      := bin/gostash
PIPELINE ?= pipelines/quickstart.hcl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test test-unit bench lint fmt proto clean

all: build

build:
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/gostash

run: build
	$(BIN) -f $(PIPELINE)

# Every test. The servers come up first (a no-op when they run already),
# and GOSTASH_REQUIRE_TESTENV turns a missing server into a failure
# instead of a skip.
test: testenv-up build
	GOSTASH_REQUIRE_TESTENV=1 $(GO) test -count=1 -timeout 30m ./...

# Tests that need no server (integration tests skip themselves).
test-unit:
	$(GO) test -count=1 ./...

# Go benchmarks of the hot paths, then whole-pipeline runs of the real
# binary (3 runs each; docs/benchmarks.md quotes the medians).
# `BENTHOS=/path/to/benthos make bench` adds Benthos's rows to BenchmarkGrokPipeline.
# The last line is the Kafka benchmarks (docs/benchmarks.md; skipped without
# `make testenv-up`): 3 interleaved rounds inside one run, about 3 minutes.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./sdk/... ./plugins/... ./core/...
	$(GO) test -run '^$$' -bench 'Pipeline|ConfigTest|FirstEvent' -benchtime 1x -count 3 ./cmd/gostash
	$(GO) test -run '^$$' -bench 'Kafka' -benchtime 1x -count 1 ./cmd/gostash

# The frozen copies under testdata/compat are pinned by checksum as they
# were written: a later gofmt must not rewrite them.
GOFILES = $$(git ls-files '*.go' ':!:*/testdata/compat/*')

lint:
	@test -z "$$(gofmt -l $(GOFILES))" || (gofmt -l $(GOFILES); echo "run: make fmt"; exit 1)
	$(GO) vet ./...

fmt:
	gofmt -w $(GOFILES)

# Regenerates the protocol's Go code (needs protoc, protoc-gen-go and
# protoc-gen-go-grpc); the generated files are committed.
proto:
	cd sdk/proto/v1 && protoc --go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative plugin.proto

clean:
	rm -rf bin

-include sdk/sdktest/testenv/testenv.mk
