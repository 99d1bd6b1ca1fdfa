# MCP Gateway Performance Kit. `make` lists the targets; settings below can be overridden:
#   make test PROFILE=medium GATEWAY_URL=http://127.0.0.1:4444
PROFILE ?= light
PROFILES ?=
SCENARIOS ?= all
BASELINE ?=
NAME ?=
RUN ?= $(or $(PERF_RESULTS_DIR),results)/latest
RUNS ?=
REASON ?=
ENTRY ?=
BASE ?=
CANDIDATE ?=
BASE_ENV ?=
CANDIDATE_ENV ?=
BASE_SET ?=
CANDIDATE_SET ?=
TRIALS ?=
MODE ?=
JOBS ?=
SLOW_MS ?=
SLOW_SETTING ?=
INCLUDE ?=
ITERATIONS ?=
SEQUENTIAL ?=
MCP_SESSIONS ?=
MCP_PEER ?=
TESTS ?=
SERVERS ?=
URL ?=
METHOD ?= GET
PAYLOAD ?=
GATEWAY_URL ?=
GATEWAY_VERSION ?=
SWEEP ?=
DATABASE ?=
DATASET ?=
SEED ?=
APPEND ?=
RESET ?=
DRY_RUN ?=
CANDIDATES ?=
BLOCKS ?=
PARTS ?=
BUDGET ?=
ENV_EXAMPLE ?=
COMPOSE_FILE ?= .state/docker/docker-compose.yaml

SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := PYTHONPATH=utils .state/venv/bin/python
RUNNER := ./run-configurable.sh --profile $(PROFILE) $(if $(BASELINE),--baseline $(BASELINE)) \
	$(if $(ITERATIONS),--iterations $(ITERATIONS)) $(if $(SEQUENTIAL),--sequential) $(if $(GATEWAY_URL),--url $(GATEWAY_URL)) \
	$(if $(MCP_SESSIONS),--mcp-sessions $(MCP_SESSIONS)) $(if $(MCP_PEER),--mcp-peer $(MCP_PEER)) \
	$(if $(TESTS),--tests '$(TESTS)') $(if $(DATASET),--dataset $(DATASET))
export GATEWAY_VERSION
STACK_ARGS := --profile $(PROFILE) $(if $(SERVERS),--servers $(SERVERS))
SHELL_FILES := run-configurable.sh run-advanced.sh run-all.sh $(wildcard utils/*.sh utils/lib/*.sh scenarios/*.sh tests/*.sh tests/fixtures/*.sh .ci/run)

.PHONY: help setup setup-dev up down status auth check-services test test-all test-tools test-resources \
	test-prompts test-mixed test-gateway-core test-mcp test-database test-advanced test-scalability test-databases \
	test-docker bench-endpoint clean clean-results check lint \
	unit bats integration fixtures fixtures-monitor compare baseline-save baseline-list baseline-show \
	baseline-history baseline-rollback baseline-delete baseline-accept compare-versions tune overhead fixtures-stalls \
	calibrate calibrate-jobs trend report report-compare datasets populate populate-clean growth migration-cost \
	workflows workflows-users workflows-clean coverage rest-sweep

help: ## Show this help
	@printf 'MCP Gateway Performance Kit\n\nusage: make TARGET [PROFILE=light] [GATEWAY_URL=...]\n\n'
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: ## Install what is missing: hey, curl, GNU time (apt, as root) and the Python venv
	@utils/setup.sh

setup-dev: ## setup, plus the test tools (shellcheck, bats, jq, chromium, pytest, ruff, mypy)
	@utils/setup.sh --dev

up: setup ## Start the local stack: gateway (GATEWAY_VERSION) + benchmark MCP server(s) [MCP_SESSIONS=stateful] [MCP_PEER=bench-peer: a federated peer] [DATASET=small: populated]
	@$(if $(MCP_SESSIONS),PERF_MCP_SESSIONS=$(MCP_SESSIONS)) $(if $(MCP_PEER),PERF_MCP_PEER=$(MCP_PEER)) $(if $(DATASET),PERF_DATASET=$(DATASET)) utils/local-stack.sh up $(STACK_ARGS)

down: ## Stop exactly what `make up` started
	@utils/local-stack.sh down

datasets: setup ## List the datasets make populate writes (datasets/*.yaml)
	@$(PY) -m perfkit dataset list

POPULATE := utils/populate.sh $(if $(filter-out light,$(PROFILE)),--profile $(PROFILE)) $(if $(DRY_RUN),--dry-run)
POPULATE_ENV := $(if $(DATABASE),PERF_DB_BACKEND=$(DATABASE))

populate: setup ## Write DATASET (tiny, small - the default -, medium, large, massive) into the local stack's database, then check it [SEED=N APPEND=1 RESET=1 DRY_RUN=1 DATABASE=postgresql]
	@$(POPULATE_ENV) $(POPULATE) --dataset $(or $(DATASET),small) $(if $(SEED),--seed $(SEED)) $(if $(APPEND),--append) $(if $(RESET),--reset)

populate-clean: setup ## Remove what make populate wrote, and only that [DRY_RUN=1]
	@$(POPULATE_ENV) $(POPULATE) --clean

workflows: setup ## Several users at once on Locust: users made, driven, removed [USERS=3 DURATION=30 WARMUP=5 WORKLOAD=mixed|baseline|share|collaborate|token|agent|rest WORKERS=0 TEAMS=2 PREFIX=loadtest SPAWN_RATE= ABORT_ON_SLO=1]
	@utils/workflows.sh run $(if $(USERS),--users $(USERS)) $(if $(DURATION),--duration $(DURATION)) $(if $(WARMUP),--warmup $(WARMUP)) \
		$(if $(WORKLOAD),--workload $(WORKLOAD)) $(if $(TEAMS),--teams $(TEAMS)) $(if $(PREFIX),--prefix $(PREFIX)) --profile $(PROFILE) \
		$(if $(WORKERS),--workers $(WORKERS)) $(if $(SPAWN_RATE),--spawn-rate $(SPAWN_RATE)) $(if $(filter 1,$(ABORT_ON_SLO)),--abort-on-slo)

workflows-users: setup ## Users in teams for multi-user runs, each logged in once (tokens in .state/workflows/, never printed) [USERS=3 TEAMS=2 PREFIX=loadtest]
	@utils/workflows.sh people --users $(or $(USERS),3) $(if $(TEAMS),--teams $(TEAMS)) $(if $(PREFIX),--prefix $(PREFIX))

workflows-clean: setup ## Remove the users and teams make workflows-users made, or earlier runs left by prefix [PREFIX=loadtest DRY_RUN=1]
	@utils/workflows.sh clean $(if $(PREFIX),--prefix $(PREFIX)) $(if $(DRY_RUN),--dry-run)

status: setup ## Show what the local stack runs
	@utils/local-stack.sh status --profile $(PROFILE)

auth: setup ## Log in and cache a JWT (reused until shortly before it expires)
	@utils/setup-auth.sh --profile $(PROFILE) $(if $(GATEWAY_URL),--url $(GATEWAY_URL))

check-services: setup ## Check gateway health/readiness, database, cache, auth and MCP servers
	@utils/check-services.sh --profile $(PROFILE) $(if $(GATEWAY_URL),--url $(GATEWAY_URL)) $(if $(SERVERS),--servers $(SERVERS))

test: setup ## Benchmark every scenario (PROFILE=light; SEQUENTIAL=1 stops settled tests early; TESTS=GLOBS only some tests); brings the local stack up if nothing answers
	@$(RUNNER) --scenarios $(SCENARIOS)

test-all: setup ## Profiles in order, each against its baseline, one master report: PROFILES=smoke,light (default light,medium,heavy)
	@./run-all.sh $(if $(PROFILES),--profiles $(PROFILES)) $(if $(filter-out all,$(SCENARIOS)),--scenarios $(SCENARIOS)) \
		$(if $(BASELINE),--baseline $(BASELINE)) $(if $(ITERATIONS),--iterations $(ITERATIONS)) $(if $(SEQUENTIAL),--sequential) \
		$(if $(GATEWAY_URL),--url $(GATEWAY_URL))

test-tools: setup ## Benchmark the tools scenario
	@$(RUNNER) --scenarios tools

test-resources: setup ## Benchmark the resources scenario
	@$(RUNNER) --scenarios resources

test-prompts: setup ## Benchmark the prompts scenario
	@$(RUNNER) --scenarios prompts

test-gateway-core: setup ## Benchmark health, readiness, version, servers, gateways, RPC ping
	@$(RUNNER) --scenarios gateway-core

test-mcp: setup ## Benchmark the MCP streamable-HTTP path (/servers/<id>/mcp, /mcp) beside /rpc (MCP_SESSIONS=stateful: in sessions; MCP_PEER=NAME: through a federated peer too)
	@$(RUNNER) --scenarios mcp

test-database: setup ## Benchmark the database apart from the API: the gateway's service layer on the local stack's database (DATASET=small: populated; DATABASE=postgresql, or both: side by side)
	@$(if $(filter both,$(DATABASE)),./scenarios/database-benchmark.sh --database both --profile $(PROFILE) \
		$(if $(ITERATIONS),--iterations $(ITERATIONS)) $(if $(TESTS),--tests '$(TESTS)') $(if $(DATASET),--dataset $(DATASET)),$\
		$(if $(DATABASE),PERF_DB_BACKEND=$(DATABASE)) $(RUNNER) --scenarios database)

growth: setup ## How cost grows with data: the same tests on a fresh stack per dataset, p50/p95/req/s against rows, fitted growth: DATASETS=empty,tiny,small (default) [SCENARIOS=tools,database TESTS= DATABASE=postgresql]
	./utils/growth.sh --profile $(PROFILE) $(if $(DATASETS),--datasets $(DATASETS)) $(if $(filter-out all,$(SCENARIOS)),--scenarios $(SCENARIOS)) $(if $(TESTS),--tests '$(TESTS)') $(if $(DATABASE),--database $(DATABASE))

migration-cost: setup ## The schema migration's time from an older release's database, empty and populated: FROM=1.0.6 (default) DATASET=small (default)
	./utils/migration-cost.sh --profile $(PROFILE) $(if $(FROM),--from $(FROM)) $(if $(DATASET),--dataset $(DATASET))

coverage: setup ## REST coverage: the gateway's OpenAPI operations the newest run (or RUN=DIR) exercised, per group, with config.yaml's exclusions [ALL=1 lists every uncovered one]
	@./utils/coverage.sh --profile $(PROFILE) $(if $(RUN),--run $(RUN)) $(if $(GATEWAY_URL),--url $(GATEWAY_URL)) $(if $(ALL),--all)

rest-sweep: setup ## The REST API under load, then its coverage: the workload rest (scenario workflows) beside gateway-core and mcp, then make coverage of that run [PROFILE=light USERS=3]
	@rc=0; PERF_WF_WORKLOAD=rest $(if $(USERS),PERF_WF_USERS=$(USERS)) $(RUNNER) --scenarios $(if $(filter-out all,$(SCENARIOS)),$(SCENARIOS),gateway-core,mcp,workflows) || rc=$$?; \
	./utils/coverage.sh --profile $(PROFILE) $(if $(GATEWAY_URL),--url $(GATEWAY_URL)) || { c=$$?; [ "$$rc" -ne 0 ] || rc=$$c; }; exit "$$rc"

test-mixed: setup ## Benchmark the mixed workload (several hey at once)
	@$(RUNNER) --scenarios mixed

SCALE_COUNTS := 1,2,5,10
ADVANCED := ./run-advanced.sh --profile $(PROFILE) $(if $(ITERATIONS),--iterations $(ITERATIONS)) \
	$(if $(SWEEP),--concurrency-sweep $(SWEEP))

test-advanced: setup ## N MCP servers behind the gateway: make test-advanced SERVERS=10 [DATABASE=postgresql SWEEP=5,10,20]
	@$(ADVANCED) --servers $(or $(SERVERS),10) $(if $(DATABASE),--database $(DATABASE))

test-scalability: setup ## Scalability report over server counts: SERVERS=1,2,5,10 (default) [DATABASE=...]
	@$(ADVANCED) --servers $(or $(SERVERS),$(SCALE_COUNTS)) $(if $(DATABASE),--database $(DATABASE))

test-databases: setup ## The same workload on SQLite and PostgreSQL side by side [SERVERS=1,5]
	@$(ADVANCED) --servers $(or $(SERVERS),1) --database both

test-docker: setup ## run-advanced.sh in Docker mode (needs a Docker engine; exit 3 without one)
	@$(ADVANCED) --mode docker --servers $(or $(SERVERS),10) $(if $(DATABASE),--database $(DATABASE))

.PHONY: compose-generate compose-validate docker-up docker-down
COMPOSE_ARGS = --servers $(or $(SERVERS),10) --database $(or $(DATABASE),sqlite)

compose-generate: setup ## Write COMPOSE_FILE (gateway, MCP servers, PostgreSQL, Redis): SERVERS=10 DATABASE=sqlite|postgresql|both
	@$(PY) -m perfkit compose generate $(COMPOSE_ARGS) --output $(COMPOSE_FILE)

compose-validate: setup ## Check COMPOSE_FILE against the Compose Specification schema (generated first if missing)
	@test -f $(COMPOSE_FILE) || $(PY) -m perfkit compose generate $(COMPOSE_ARGS) --output $(COMPOSE_FILE)
	@$(PY) -m perfkit compose validate $(COMPOSE_FILE)

docker-up: setup ## Build and start COMPOSE_FILE's stack and register its MCP servers (needs a Docker engine)
	@utils/docker-stack.sh up $(COMPOSE_ARGS) --file $(COMPOSE_FILE)

docker-down: ## Remove the Docker stack's containers and volumes (a no-op without one)
	@utils/docker-stack.sh down --file $(COMPOSE_FILE)

bench-endpoint: setup ## Benchmark one URL: make bench-endpoint URL=http://127.0.0.1:4444/tools [METHOD=POST PAYLOAD=f.json]
	@test -n "$(URL)" || { echo "make: bench-endpoint needs URL=http://..." >&2; exit 2; }
	@./run-configurable.sh --profile $(PROFILE) --endpoint "$(URL)" --method $(METHOD) $(if $(PAYLOAD),--payload $(PAYLOAD))

compare: setup ## Judge RUN (default results/latest) against its baseline, or AGAINST=results/<other run>
	@$(PY) -m perfkit compare $(RUN) $(if $(AGAINST),--against $(AGAINST),--baseline "$$($(PY) -m perfkit baseline name $(RUN) --path)")

baseline-save: setup ## Make RUN (default results/latest) the baseline of its profile [NAME=...]
	@$(PY) -m perfkit baseline save $(RUN) $(if $(NAME),--name $(NAME))

baseline-list: setup ## List the stored baselines
	@$(PY) -m perfkit baseline list

baseline-show: setup ## Show a baseline: make baseline-show PROFILE=light (or NAME=adhoc_...)
	@$(PY) -m perfkit baseline show $(or $(NAME),$(PROFILE))

baseline-history: setup ## A baseline's log of saves, promotions, accepts and rollbacks
	@$(PY) -m perfkit baseline history $(or $(NAME),$(PROFILE))

baseline-rollback: setup ## Restore the previous baseline of PROFILE (or ENTRY=history file)
	@$(PY) -m perfkit baseline rollback $(or $(NAME),$(PROFILE)) $(if $(ENTRY),--entry $(ENTRY))

baseline-delete: setup ## Move the baseline of PROFILE into history
	@$(PY) -m perfkit baseline delete $(or $(NAME),$(PROFILE))

baseline-accept: setup ## After an intended slowdown: make RUN the baseline, REASON="..." required
	@test -n "$(REASON)" || { echo "make: baseline-accept needs REASON=\"why the slowdown is intended\"" >&2; exit 2; }
	@$(PY) -m perfkit baseline accept $(RUN) --reason "$(REASON)" $(if $(NAME),--name $(NAME))

compare-versions: setup ## A/B of two builds (a version, .whl, .tar.gz or source folder) or two sets of settings: BASE=1.0.6 CANDIDATE=1.0.7.post20260921 [BASE_ENV=a.env CANDIDATE_ENV=b.env BASE_SET= CANDIDATE_SET="NAME=VALUE ..." SEQUENTIAL=1]
	@utils/compare-versions.sh --base "$(BASE)" $(if $(CANDIDATE),--candidate "$(CANDIDATE)") \
		$(if $(BASE_ENV),--base-env "$(BASE_ENV)") $(if $(CANDIDATE_ENV),--candidate-env "$(CANDIDATE_ENV)") \
		$(foreach s,$(BASE_SET),--base-set '$(s)') $(foreach s,$(CANDIDATE_SET),--candidate-set '$(s)') \
		--profile $(PROFILE) $(if $(filter-out all,$(SCENARIOS)),--scenarios $(SCENARIOS)) $(if $(ITERATIONS),--iterations $(ITERATIONS)) \
		$(if $(SEQUENTIAL),--sequential)

tune: setup ## Tuning advisor: each setting of config.yaml tune.candidates (or CANDIDATES="NAME=VALUE ...") A/B'd against the stack's own, ranked; the better ones recommended and measured together [PROFILE= SCENARIOS= TESTS= ITERATIONS= BUDGET=minutes ENV_EXAMPLE=1]
	@utils/tune.sh $(foreach c,$(CANDIDATES),--candidate '$(c)') \
		$(if $(filter command line environment,$(origin PROFILE)),--profile $(PROFILE)) \
		$(if $(filter-out all,$(SCENARIOS)),--scenarios $(SCENARIOS)) $(if $(TESTS),--tests '$(TESTS)') \
		$(if $(ITERATIONS),--iterations $(ITERATIONS)) $(if $(BUDGET),--budget $(BUDGET)) \
		$(if $(ENV_EXAMPLE),--write-env-example)

overhead: setup ## The kit's own cost: plain hey against the kit on GET /health, interleaved; the kit/plain req/s ratio with its interval [BLOCKS=8 PARTS=1: each part of the kit alone; GATEWAY_URL=]
	@utils/overhead.sh $(if $(BLOCKS),--blocks $(BLOCKS)) $(if $(PARTS),--parts)

calibrate: setup ## The kit's own detection check: A/A and +10/20/30% pairs on a calibrated target [TRIALS=10]
	@utils/calibrate.sh $(if $(TRIALS),--trials $(TRIALS))

calibrate-jobs: setup ## Verdicts across whole jobs on the real gateway: MODE=stored|ab|both JOBS=10 [SLOW_MS=150 SLOW_SETTING="NAME=VALUE ..." SEQUENTIAL=1 INCLUDE=earlier.json]
	@utils/calibrate-jobs.sh $(if $(MODE),--mode $(MODE)) $(if $(JOBS),--jobs $(JOBS)) \
		$(if $(SLOW_MS),--slow-ms $(SLOW_MS)) $(foreach s,$(SLOW_SETTING),--slow-setting "$(s)") $(foreach f,$(INCLUDE),--include $(f)) \
		--profile $(PROFILE) $(if $(filter-out all,$(SCENARIOS)),--scenarios $(SCENARIOS)) $(if $(ITERATIONS),--iterations $(ITERATIONS)) \
		$(if $(SEQUENTIAL),--sequential)

report: setup ## Write RUN's self-contained report.html (default results/latest) and open it when interactive
	@$(PY) -m perfkit report $(RUN) --open

report-compare: setup ## Runs side by side: RUNS="results/a results/b" (default: the newest run of each profile)
	@$(PY) -m perfkit report-compare $(RUNS) --results $(or $(PERF_RESULTS_DIR),results) --open

trend: setup ## Per-test medians over every results/*/summary.json of PROFILE, with change points
	@$(PY) -m perfkit trend --profile $(PROFILE)

fixtures: setup-dev ## Re-record the unit-test fixtures from real hey runs (needs a running gateway)
	@url="$(or $(GATEWAY_URL),http://127.0.0.1:4444)" && \
		token="$$(utils/setup-auth.sh --url "$$url" --bench-token --owner-pid $$$$)" && \
		trap "utils/setup-auth.sh --url $$url --revoke-bench --owner-pid $$$$" EXIT && \
		PERF_TOKEN="$$token" tests/fixtures/record-fixtures.sh "$$url"

lint: setup-dev ## shellcheck, ruff and mypy
	shellcheck -x $(SHELL_FILES)
	.state/venv/bin/ruff check utils tests
	.state/venv/bin/ruff format --check utils tests
	.state/venv/bin/mypy utils/perfkit

fixtures-stalls: setup ## Re-record tests/fixtures/stalls/ (two real runs of GET /health at concurrency 10: the gateway as released, and with its heap frozen; ~3 min)
	@tests/fixtures/record-stalls-fixture.sh

fixtures-monitor: setup ## Re-record tests/fixtures/monitor/ (a real perfkit monitor run, ~8 s, no gateway)
	@tests/fixtures/record-monitor-fixture.sh

unit: setup-dev ## Python unit tests on recorded fixtures
	$(PY) -m pytest -q tests/unit

bats: setup-dev ## bats tests of the shell library and argument parsing
	bats tests/bats

integration: setup-dev ## Integration tests against the real local stack (started once)
	$(PY) -m pytest -q --durations=0 tests/integration

check: lint unit bats integration ## The kit's own tests: lint, unit, bats, integration

clean-results: ## Delete every run folder in results/
	@find results -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +

clean: ## Stop the local stack, drop its database (even a kept one) and delete .state/ (venvs, logs, data, token cache)
	@PERF_DB_STATE=fresh utils/local-stack.sh down
	rm -rf .state
