"""Everything one benchmark run stands up, and takes down again however the run ends.

Owns: the servers' set-up before any proxy starts (bench.prepare), then the paths that were
asked for: PgBouncer, the gateway with its direct listener, the agent logged in with
`iap connect` running, a second gateway with classification off and a third with two
workers; for the MySQL scenarios (sysbench), a second `iap connect` of the same agent to the
gateway's MariaDB connection. Each path is probed with a SELECT 1; a path that cannot be set
up is recorded as unavailable with the reason and the others go on. Every process started is
stopped on exit (also on Ctrl-C or a failure).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Set
from pathlib import Path
from types import TracebackType

from bench import gateway, pgbouncer, prepare
from bench.paths import Endpoint, probe
from bench.procs import Background, CommandError, progress

GATEWAY_PATHS = ("listener", "agent", "noclassify", "workers2", "durable")


class Rig:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.endpoints: dict[str, Endpoint] = {}
        self.unavailable: dict[str, str] = {}
        self.notes: list[str] = []
        self.versions: dict[str, str] = {}
        self.login_seconds: float | None = None
        self.agent: gateway.Agent | None = None
        # The MySQL scenarios' paths (only `agent` is started here): endpoint or why not
        self.mysql: dict[str, Endpoint | str] = {}
        self.session_room = 0  # how many extra sessions PostgreSQL takes (idle scenario)
        self._agent_user: gateway.Agent | None = None  # logged in once, for both agent paths
        self._explain: dict[int, Background] = {}  # `iap connect` processes by pid
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Rig:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def _keep(self, process: Background) -> Background:
        def stop() -> None:
            progress(f"stopping {process.name}")
            process.stop()

        self._stack.callback(stop)
        return process

    # -- servers -----------------------------------------------------------------------------

    def prepare_servers(self, *, postgres: bool, idle_sessions: int, mysql: bool = False) -> None:
        """Database `bench` and, when idle sessions are wanted, room for them in PostgreSQL;
        sysbench's schema on MariaDB (the gateway's `bench-my` logs in to it, so before the
        agent's probe). Runs before any proxy starts (raising max_connections restarts
        PostgreSQL)."""
        if postgres:
            prepare.ensure_pgbench()
        if mysql and shutil.which("sysbench"):
            try:
                prepare.ensure_sysbench()
            except Exception as e:  # the sysbench scenario's own prepare reports it again
                progress(f"sysbench schema not ready: {(str(e).splitlines() or [repr(e)])[0]}")
        self.versions.update(prepare.server_versions())
        if postgres and idle_sessions:
            self.session_room, note = prepare.ensure_max_connections(idle_sessions)
            if note:
                self.notes.append(note)
                progress(note)
            self.versions["postgres"] = prepare.server_versions()["postgres"]

    # -- paths -------------------------------------------------------------------------------

    def start(self, paths: Set[str], mysql_paths: Set[str] = frozenset()) -> None:
        """The PostgreSQL `paths`, and of `mysql_paths` the agent (MariaDB direct needs nothing
        started, and MySQL connections have no direct listener)."""
        if "direct" in paths:
            self._add(
                Endpoint("direct", prepare.PG_HOST, prepare.PG_PORT, "postgres", prepare.DATABASE)
            )
        if "pgbouncer" in paths:
            self._start_pgbouncer()
        mysql_agent = "agent" in mysql_paths
        if paths & set(GATEWAY_PATHS) or mysql_agent:
            try:
                self._start_gateways(paths, mysql_agent=mysql_agent)
            except (CommandError, OSError) as e:
                for path in GATEWAY_PATHS:
                    if path in paths and path not in self.endpoints:
                        self.unavailable.setdefault(path, f"gateway set-up failed: {e}")
                if mysql_agent:
                    self.mysql.setdefault("agent", f"gateway set-up failed: {e}")
        for path, reason in self.unavailable.items():
            progress(f"path {path} unavailable: {reason}")
        for path, found in self.mysql.items():
            if isinstance(found, str):
                progress(f"MySQL path {path} unavailable: {found}")

    def _add(self, endpoint: Endpoint) -> None:
        reason = probe(endpoint)
        if reason is not None:
            self._unavailable(endpoint.path, reason, mysql=endpoint.kind == "mysql")
        elif endpoint.kind == "mysql":
            self.mysql[endpoint.path] = endpoint
            progress(f"MySQL path {endpoint.path} ready on {endpoint.host}:{endpoint.port}")
        else:
            self.endpoints[endpoint.path] = endpoint
            progress(f"path {endpoint.path} ready on {endpoint.host}:{endpoint.port}")

    def _unavailable(self, path: str, reason: str, *, mysql: bool = False) -> None:
        if mysql:
            self.mysql[path] = reason
        else:
            self.unavailable[path] = reason

    def _start_pgbouncer(self) -> None:
        binary = pgbouncer.find_pgbouncer()
        if binary is None:
            self.unavailable["pgbouncer"] = (
                "pgbouncer is not installed (make bench installs it with apt-get)"
            )
            return
        self.versions["pgbouncer"] = pgbouncer.version(binary)
        progress("starting PgBouncer")
        try:
            process, port = pgbouncer.start_pgbouncer(
                binary, self.state / "pgbouncer", prepare.PG_PORT, prepare.DATABASE
            )
        except (CommandError, OSError) as e:
            self.unavailable["pgbouncer"] = str(e)
            return
        self._keep(process)
        self._add(
            Endpoint(
                "pgbouncer", "127.0.0.1", port, "postgres", prepare.DATABASE, server_pid=process.pid
            )
        )

    def _start_gateways(self, paths: Set[str], *, mysql_agent: bool) -> None:
        folder = self.state / "gateway"
        folder.mkdir()
        data_dir = folder / "data"
        config = gateway.write_config(folder, "gateway", data_dir, prepare.PG_PORT)
        secrets = {u: gateway.add_user(config, u) for u in (gateway.USER, gateway.AGENT_USER)}
        progress("starting the gateway")
        main = self._keep(gateway.start_gateway(config, folder / "gateway.log"))
        self.agent = cli = gateway.Agent(self.state / "home", gateway.USER)
        self.login_seconds = cli.login(config, secrets[gateway.USER])
        progress(f"iap login took {self.login_seconds:.2f} s")
        db = prepare.DATABASE
        if "listener" in paths:
            self._add(
                Endpoint(
                    "listener",
                    "127.0.0.1",
                    config.listen_port,
                    cli.user,
                    db,
                    "require",
                    password=cli.token,
                    server_pid=main.pid,
                )
            )
        if "agent" in paths:
            self._start_agent(folder, config, secrets[gateway.AGENT_USER], main.pid)
        if mysql_agent:
            self._start_agent(folder, config, secrets[gateway.AGENT_USER], main.pid, mysql=True)
        for path, classify, workers, durable in (
            ("noclassify", False, 1, False),
            ("workers2", True, 2, False),
            ("durable", True, 1, True),
        ):
            if path in paths:
                self._start_second_gateway(
                    path,
                    folder,
                    data_dir,
                    config.api_port,
                    cli,
                    classify=classify,
                    workers=workers,
                    durable=durable,
                )

    def _logged_in_agent(self, config: gateway.GatewayConfigFile, secret: str) -> gateway.Agent:
        """The agent user in its own IAP_HOME (see gateway.AGENT_USER), logged in once."""
        if self._agent_user is None:
            agent = gateway.Agent(self.state / "home-agent", gateway.AGENT_USER)
            agent.login(config, secret)
            self._agent_user = agent
        return self._agent_user

    def _start_agent(
        self,
        folder: Path,
        config: gateway.GatewayConfigFile,
        secret: str,
        gateway_pid: int,
        *,
        mysql: bool = False,
    ) -> None:
        """`iap connect bench-pg` (path agent), or `iap connect bench-my` (path agent of the
        MySQL scenarios), both from the agent user's one logged-in IAP_HOME."""
        if mysql:
            connection, dbname, log = gateway.MY_CONNECTION, prepare.SYSBENCH_DB, "agent-my.log"
        else:
            connection, dbname, log = gateway.CONNECTION, prepare.DATABASE, "agent.log"
        try:
            agent = self._logged_in_agent(config, secret)
            process, port = agent.connect(folder / log, connection)
        except (CommandError, OSError) as e:
            self._unavailable("agent", f"iap connect failed: {e}", mysql=mysql)
            return
        self._keep(process)
        self._explain[process.pid] = process
        self._add(
            Endpoint(
                "agent",
                "127.0.0.1",
                port,
                agent.user,
                dbname,
                kind="mysql" if mysql else "postgres",
                server_pid=gateway_pid,
                agent_pid=process.pid,
            )
        )

    def explain(self, endpoint: Endpoint) -> str | None:
        """What the `iap connect` behind an endpoint said last (it prints why a tunnel
        failed); None for an endpoint without one."""
        process = None if endpoint.agent_pid is None else self._explain.get(endpoint.agent_pid)
        if process is None:
            return None
        lines = [line for line in process.log_text().splitlines() if line.strip()]
        return lines[-1].strip()[:300] if lines else None

    def _start_second_gateway(
        self,
        path: str,
        folder: Path,
        data_dir: Path,
        public_port: int,
        agent: gateway.Agent,
        *,
        classify: bool = True,
        workers: int = 1,
        durable: bool = False,
    ) -> None:
        """Another gateway process on the same data dir (same user, keys and tokens),
        measured through its direct listener: classification off (noclassify),
        `--workers 2` (workers2), or writes waiting for a durable audit row (durable)."""
        config = gateway.write_config(
            folder,
            f"gateway-{path}",
            data_dir,
            prepare.PG_PORT,
            public_api_port=public_port,
            durable=durable,
        )
        progress(f"starting another gateway for {path}")
        try:
            process = self._keep(
                gateway.start_gateway(
                    config, folder / f"gateway-{path}.log", classify=classify, workers=workers
                )
            )
        except (CommandError, OSError) as e:
            self.unavailable[path] = f"gateway did not start: {e}"
            return
        if not classify and gateway.NO_CLASSIFY not in process.log_text():
            self.unavailable[path] = (
                f"the gateway did not confirm {gateway.NO_CLASSIFY}=1 (no warning in its log):"
                " it would still classify"
            )
            return
        self._add(
            Endpoint(
                path,
                "127.0.0.1",
                config.listen_port,
                gateway.USER,
                prepare.DATABASE,
                "require",
                password=agent.token,
                server_pid=process.pid,
            )
        )
