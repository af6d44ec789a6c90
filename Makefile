# Everyday commands. The README's two commands (go run …, go test …) need
# only Go; these add the linters, the race detector and benchmarks.
GO ?= go

.PHONY: all dist generate check-generated lint lint-go lint-spec test test-race run build bench bench-go bench-scale bench-load bench-tenant ci

all: generate lint test

## generate: regenerate gen/ and internal/genserver/ from openapi.yaml (never edit them by hand)
generate:
	$(GO) generate ./...

## check-generated: fail when gen/ or internal/genserver/ is not what openapi.yaml generates
GENERATED = gen/ internal/genserver/ client/models.gen.go
check-generated: generate
	@git diff --exit-code -- $(GENERATED) || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { git status --porcelain -- $(GENERATED); echo "generated code has untracked changes"; exit 1; }

## lint: Go vet and formatting, the OpenAPI linter on openapi.yaml and admin.openapi.yaml,
## and Spectral's OWASP ruleset on openapi.yaml (.spectral.yaml)
lint: lint-go lint-spec

lint-go:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.gen\.go$$')); test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }

lint-spec:
	npm ci --no-audit --no-fund --loglevel=error
	npx --no-install redocly lint --config .redocly.yaml openapi.yaml admin.openapi.yaml
	npx --no-install spectral lint --ruleset .spectral.yaml --fail-severity error openapi.yaml

## test: every test, with the race detector (needs a C compiler, as cgo does)
test:
	$(GO) test -race -count=1 ./...

## run: the reference server on :8080 with a database in ./axiom.db
run:
	$(GO) run ./cmd/axiom serve

build:
	$(GO) build -o bin/axiom ./cmd/axiom

## dist: static, cgo-free binaries for linux, darwin and windows on amd64
## and arm64 in dist/, with SHA256SUMS, built offline (scripts/dist.sh)
dist:
	GO=$(GO) bash scripts/dist.sh

## bench: the Go benchmarks (-benchmem) of the server, its validation,
## limiter, test server and client, and the store's list, search and create;
## then the load run against axiom serve, side by side with a bare handler
## and a same-work floor (prepared SQL, encoding/json, same database): on
## SQLite, and on PostgreSQL when AXIOM_TEST_POSTGRES_URL (or -postgres in
## BENCHFLAGS) names one, else its table says it was skipped and why.
## Both are bounded: about six minutes in all on two cores. bench-scale
## times GET /properties with filters and GET /analytics/leads for a year
## by day on one account of a million leads and 100,000 listings (p50 and
## p99); its data is generated once, in minutes, and kept in os.TempDir().
BENCHTIME ?= 300ms
bench: bench-go bench-scale bench-load

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) \
		./server/ ./internal/validation/ ./server/servertest/ ./internal/ratelimit/ ./client/
	$(GO) test -run '^$$' -bench '^Benchmark(ListLeads|SearchLeads|CreateLead)$$' -benchmem -benchtime $(BENCHTIME) \
		./internal/store/sqlite/

bench-scale:
	AXIOM_SCALE_BENCH=1 $(GO) test -run '^$$' -bench '^BenchmarkScale(LeadAnalytics|Properties)$$' -benchtime 200x -timeout 60m \
		./internal/store/sqlite/

## bench-tenant: one account's send to 100,000 leads (AXIOM_TENANT_LEADS)
## on a SQLite file: the send's answer time, another account's write p50
## and p99 before and while the audience is queued, and the storage per
## message of a 500 KB template. A few minutes; not part of bench.
bench-tenant:
	AXIOM_TENANT_BENCH=1 $(GO) test -run '^$$' -bench '^BenchmarkTenantIsolation$$' -benchtime 1x -count 1 -timeout 60m ./server/

## bench-load: the load run alone, a table per backend: SQLite, then
## PostgreSQL in a schema of its own, dropped afterwards
## (AXIOM_TEST_POSTGRES_URL, and axiom serve with --redis
## AXIOM_TEST_REDIS_URL, as .ci/services.sh sets them; or
## BENCHFLAGS='-postgres URL -redis URL'). go run ./cmd/axiom-bench -h for
## its flags.
bench-load:
	$(GO) run ./cmd/axiom-bench $(BENCHFLAGS)

ci:
	bash .ci/run
