"""What a generated docker-compose.yaml holds: options, their checks, and the plan of services.

`perfkit compose generate` (perfkit.compose.render) turns a ComposePlan into YAML; this module
decides what is in it and refuses what cannot work, each error naming the value and the fix
(exit 2). Layout, by --database:

- sqlite: one gateway service `gateway` (SQLite file on a named volume);
- postgresql: `gateway` (or `gateway-1` ... `gateway-K` with --gateway-instances K, sharing one
  PostgreSQL database and Redis as the cache) and a `postgres` service;
- both: `gateway-sqlite` and `gateway-postgresql` side by side, every MCP server registered with
  both, so the same workload can hit each.

The benchmark MCP servers (`bench-server-<i>`, registered as `bench-time-<i>` like the local
stack's) keep no data: "backed by SQLite or PostgreSQL" means the gateway(s) they are registered
with. Gateways publish on 127.0.0.1:gateway_port + n, server i on 127.0.0.1:server_base_port + i
(inside its container too, so its URL is the same port everywhere). PostgreSQL and Redis are not
published: the machine's own may hold 5432 and 6379.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from perfkit.config_checks import NAME, positive_float, usage

DATABASES = ("sqlite", "postgresql", "both")
MAX_SERVERS = 100
MAX_WORKERS = 16
MAX_INSTANCES = 8
GATEWAY_CONTAINER_PORT = 4444
# PostgreSQL's max_connections (set explicitly on the postgres service) minus headroom for the
# superuser reserve, pg_isready and a psql session: what every gateway process shares.
PG_MAX_CONNECTIONS = 100
PG_CONNECTION_BUDGET = 90
# the local stack's pool per gateway process (service.db_pool_size, service.db_max_overflow)
POOL_SIZE, MAX_OVERFLOW = 20, 10
# integer options and their ranges (a server's port is checked with the others' in check_ports)
RANGES = {
    "servers": (1, MAX_SERVERS),
    "gateway_workers": (1, MAX_WORKERS),
    "gateway_instances": (1, MAX_INSTANCES),
    "gateway_port": (1, 65535),
    "server_base_port": (1, 65535),
}
MEMORY = re.compile(r"[0-9]+(\.[0-9]+)?([bkmg]b?)?", re.IGNORECASE)

# Benchmark settings every gateway gets (the same as utils/local-stack.sh's stack_write_env;
# README, "What runs where", says why each one). Secrets and the admin login come from the env file.
BENCHMARK_ENV = {
    "AUTH_REQUIRED": "true",
    "MCPGATEWAY_UI_ENABLED": "false",
    "MCPGATEWAY_ADMIN_API_ENABLED": "true",
    "LOG_LEVEL": "ERROR",
    "DISABLE_ACCESS_LOG": "true",
    "RATE_LIMITING_ENABLED": "false",
    "RATE_LIMITING_REDIS_ENABLED": "false",
    "TOOL_RATE_LIMIT": "1000000",
    "SSRF_ALLOW_LOCALHOST": "true",
    "SSRF_ALLOW_PRIVATE_NETWORKS": "true",
    "OBSERVABILITY_ENABLED": "false",
    "HTTPX_MAX_CONNECTIONS": "200",
    "TOKEN_EXPIRY": "120",
    "REDIS_URL": "redis://redis:6379/0",
}


@dataclass(frozen=True)
class ComposeOptions:
    """The command line of `perfkit compose generate`, checked by build_plan."""

    servers: int
    output: Path
    gateway_version: str
    database: str = "sqlite"
    gateway_workers: int = 1
    gateway_instances: int = 1
    gateway_port: int = 4444
    server_base_port: int = 9100
    gateway_cpus: str = "2"
    gateway_memory: str = "2G"
    server_cpus: str = "0.5"
    server_memory: str = "256M"
    cache: str = "memory"  # CACHE_TYPE with one instance (service.cache); more -> redis


@dataclass(frozen=True)
class Limits:
    cpus: str
    memory: str


@dataclass(frozen=True)
class Gateway:
    name: str
    database: str  # sqlite | postgresql
    host_port: int
    environment: dict[str, str]  # besides BENCHMARK_ENV and the env file
    depends_on: tuple[str, ...]  # each waited for until healthy
    builds_image: bool  # the one service per image that carries `build:`

    @property
    def url(self) -> str:
        return f"http://{self.name}:{GATEWAY_CONTAINER_PORT}"


@dataclass(frozen=True)
class Server:
    index: int
    port: int
    builds_image: bool

    @property
    def name(self) -> str:
        return f"bench-server-{self.index}"

    @property
    def registered_name(self) -> str:
        return f"bench-time-{self.index}"

    @property
    def url(self) -> str:
        return f"http://{self.name}:{self.port}/mcp"


@dataclass(frozen=True)
class ComposePlan:
    options: ComposeOptions
    gateways: tuple[Gateway, ...]
    servers: tuple[Server, ...]
    postgres: bool
    cache_type: str
    pool_size: int
    max_overflow: int
    gateway_limits: Limits
    server_limits: Limits

    @property
    def host_ports(self) -> dict[str, int]:
        ports = {g.name: g.host_port for g in self.gateways}
        return ports | {s.name: s.port for s in self.servers}


def whole_number(flag: str, value: object, low: int, high: int) -> int:
    """An integer flag in low..high, or a usage error naming flag, value and range."""
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise usage(f"{flag} {text!r} is not a whole number: use {low}-{high}")
    number = int(text)
    if not low <= number <= high:
        raise usage(f"{flag} {number} is out of range: use {low}-{high}")
    return number


def cpus(flag: str, text: str) -> str:
    try:
        return f"{positive_float(text):g}"
    except ValueError:
        raise usage(
            f"{flag} {text!r} is not a positive number of CPUs: use e.g. 0.5 or 2"
        ) from None


def memory(flag: str, text: str) -> str:
    if MEMORY.fullmatch(text.strip()) and float(re.sub(r"[^0-9.]", "", text)) > 0:
        return text.strip()
    raise usage(f"{flag} {text!r} is not a memory size: use e.g. 256M or 2G")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_options(options: ComposeOptions) -> None:
    for name, (low, high) in RANGES.items():
        whole_number(flag(name), getattr(options, name), low, high)
    if options.database not in DATABASES:
        raise usage(
            f"--database {options.database!r} is not one of: {', '.join(DATABASES)}"
        )
    if options.gateway_instances > 1 and options.database != "postgresql":
        raise usage(
            f"--gateway-instances {options.gateway_instances} with --database {options.database}:"
            " SQLite is one file per gateway process; use --database postgresql for several"
            " instances, or --gateway-instances 1"
        )
    if not NAME.fullmatch(options.gateway_version):
        raise usage(
            f"--gateway-version {options.gateway_version!r} is not a release name: use e.g."
            " 1.0.7.post20260921"
        )
    if options.output.suffix not in {".yaml", ".yml"}:
        raise usage(
            f"--output {options.output} must end in .yaml or .yml (a Compose file)"
        )


def postgres_pool(processes: int) -> tuple[int, int]:
    """DB_POOL_SIZE and DB_MAX_OVERFLOW per gateway process so that all of them together stay
    within PG_CONNECTION_BUDGET: the local stack's 20 + 10 when they fit, else scaled down."""
    share = PG_CONNECTION_BUDGET // processes
    if share >= POOL_SIZE + MAX_OVERFLOW:
        return POOL_SIZE, MAX_OVERFLOW
    if share < 2:
        raise usage(
            f"{processes} PostgreSQL gateway processes (instances x workers) would share"
            f" {PG_CONNECTION_BUDGET} connections (max_connections {PG_MAX_CONNECTIONS}), fewer"
            f" than 2 each; use fewer --gateway-workers or --gateway-instances (at most"
            f" {PG_CONNECTION_BUDGET // 2} processes)"
        )
    return share - share // 3, share // 3


def plan_gateways(options: ComposeOptions, cache_type: str) -> tuple[Gateway, ...]:
    if options.database == "both":
        names = [("gateway-sqlite", "sqlite"), ("gateway-postgresql", "postgresql")]
    elif options.gateway_instances == 1:
        names = [("gateway", options.database)]
    else:
        names = [
            (f"gateway-{k}", "postgresql")
            for k in range(1, options.gateway_instances + 1)
        ]
    gateways = []
    for n, (name, database) in enumerate(names):
        needs = ["postgres"] if database == "postgresql" else []
        if cache_type == "redis":
            needs.append("redis")
        if database == "postgresql" and n > 0 and options.database == "postgresql":
            needs.append(names[0][0])  # the first instance runs the migrations alone
        env = {"CACHE_TYPE": cache_type}
        if database == "sqlite":  # overrides the env file's PostgreSQL DATABASE_URL
            env["DATABASE_URL"] = "sqlite:////data/mcp.db"
        gateways.append(
            Gateway(name, database, options.gateway_port + n, env, tuple(needs), n == 0)
        )
    return tuple(gateways)


def check_ports(plan_ports: dict[str, int]) -> None:
    owner: dict[int, str] = {}
    for service, port in plan_ports.items():
        if not 1 <= port <= 65535:
            raise usage(
                f"{service} would publish host port {port}, outside 1-65535; move the ports"
            )
        if port in owner:
            raise usage(
                f"host port {port} is used by both {owner[port]} and {service}; choose a"
                " --gateway-port outside the servers' ports (--server-base-port + 1 ... + N)"
                " or another --server-base-port"
            )
        owner[port] = service


def build_plan(options: ComposeOptions) -> ComposePlan:
    """Check the options and decide every service; raises KitError (exit 2) naming the fix."""
    check_options(options)
    cache_type = "redis" if options.gateway_instances > 1 else options.cache
    gateways = plan_gateways(options, cache_type)
    pg_processes = options.gateway_workers * sum(
        g.database == "postgresql" for g in gateways
    )
    pool, overflow = (
        postgres_pool(pg_processes) if pg_processes else (POOL_SIZE, MAX_OVERFLOW)
    )
    servers = tuple(
        Server(i, options.server_base_port + i, i == 1)
        for i in range(1, options.servers + 1)
    )
    plan = ComposePlan(
        options=options,
        gateways=gateways,
        servers=servers,
        postgres=pg_processes > 0,
        cache_type=cache_type,
        pool_size=pool,
        max_overflow=overflow,
        gateway_limits=Limits(
            cpus("--gateway-cpus", options.gateway_cpus),
            memory("--gateway-memory", options.gateway_memory),
        ),
        server_limits=Limits(
            cpus("--server-cpus", options.server_cpus),
            memory("--server-memory", options.server_memory),
        ),
    )
    check_ports(plan.host_ports)
    return plan
