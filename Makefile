# MCP Gateway Performance Kit. `make` lists the targets; settings below can be overridden:
#   make test PROFILE=medium GATEWAY_URL=http://127.0.0.1:4444
PROFILE ?= light
SCENARIOS ?= all
BASELINE ?= skip
ITERATIONS ?=
SERVERS ?=
URL ?=
METHOD ?= GET
PAYLOAD ?=
GATEWAY_URL ?=
GATEWAY_VERSION ?=

SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := PYTHONPATH=utils .state/venv/bin/python
RUN := ./run-configurable.sh --profile $(PROFILE) --baseline $(BASELINE) \
	$(if $(ITERATIONS),--iterations $(ITERATIONS)) $(if $(GATEWAY_URL),--url $(GATEWAY_URL))
export GATEWAY_VERSION
STACK_ARGS := --profile $(PROFILE) $(if $(SERVERS),--servers $(SERVERS))
SHELL_FILES := run-configurable.sh $(wildcard utils/*.sh scenarios/*.sh tests/*.sh tests/fixtures/*.sh .ci/run)

.PHONY: help setup setup-dev up down status auth check-services test test-tools test-resources \
	test-prompts test-mixed test-gateway-core bench-endpoint clean clean-results check lint \
	unit bats integration fixtures

help: ## Show this help
	@printf 'MCP Gateway Performance Kit\n\nusage: make TARGET [PROFILE=light] [GATEWAY_URL=...]\n\n'
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: ## Install what is missing: hey, curl, GNU time (apt, as root) and the Python venv
	@utils/setup.sh

setup-dev: ## setup, plus the test tools (shellcheck, bats, jq, pytest, ruff, mypy)
	@utils/setup.sh --dev

up: setup ## Start the local stack: gateway (GATEWAY_VERSION) + benchmark MCP server(s)
	@utils/local-stack.sh up $(STACK_ARGS)

down: ## Stop exactly what `make up` started
	@utils/local-stack.sh down

status: setup ## Show what the local stack runs
	@utils/local-stack.sh status --profile $(PROFILE)

auth: setup ## Log in and cache a JWT (reused until shortly before it expires)
	@utils/setup-auth.sh --profile $(PROFILE) $(if $(GATEWAY_URL),--url $(GATEWAY_URL))

check-services: setup ## Check gateway health/readiness, database, cache, auth and MCP servers
	@utils/check-services.sh --profile $(PROFILE) $(if $(GATEWAY_URL),--url $(GATEWAY_URL)) $(if $(SERVERS),--servers $(SERVERS))

test: setup ## Benchmark every scenario (PROFILE=light); brings the local stack up if nothing answers
	@$(RUN) --scenarios $(SCENARIOS)

test-tools: setup ## Benchmark the tools scenario
	@$(RUN) --scenarios tools

test-resources: setup ## Benchmark the resources scenario
	@$(RUN) --scenarios resources

test-prompts: setup ## Benchmark the prompts scenario
	@$(RUN) --scenarios prompts

test-gateway-core: setup ## Benchmark health, readiness, version, servers, gateways, RPC ping
	@$(RUN) --scenarios gateway-core

test-mixed: setup ## Benchmark the mixed workload (several hey at once)
	@$(RUN) --scenarios mixed

bench-endpoint: setup ## Benchmark one URL: make bench-endpoint URL=http://127.0.0.1:4444/tools [METHOD=POST PAYLOAD=f.json]
	@test -n "$(URL)" || { echo "make: bench-endpoint needs URL=http://..." >&2; exit 2; }
	@./run-configurable.sh --profile $(PROFILE) --endpoint "$(URL)" --method $(METHOD) $(if $(PAYLOAD),--payload $(PAYLOAD))

fixtures: setup-dev ## Re-record the unit-test fixtures from real hey runs (needs a running gateway)
	@token="$$(utils/setup-auth.sh --print --url $(or $(GATEWAY_URL),http://127.0.0.1:4444))" && \
		PERF_TOKEN="$$token" tests/fixtures/record-fixtures.sh $(or $(GATEWAY_URL),http://127.0.0.1:4444)

lint: setup-dev ## shellcheck, ruff and mypy
	shellcheck -x $(SHELL_FILES)
	.state/venv/bin/ruff check utils tests
	.state/venv/bin/ruff format --check utils tests
	.state/venv/bin/mypy utils/perfkit

unit: setup-dev ## Python unit tests on recorded fixtures
	$(PY) -m pytest -q tests/unit

bats: setup-dev ## bats tests of the shell library and argument parsing
	bats tests/bats

integration: setup-dev ## Integration tests against the real local stack (started once)
	$(PY) -m pytest -q tests/integration

check: lint unit bats integration ## The kit's own tests: lint, unit, bats, integration

clean-results: ## Delete every run folder in results/
	@find results -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +

clean: down ## Stop the local stack and delete .state/ (venvs, logs, data, token cache)
	rm -rf .state
