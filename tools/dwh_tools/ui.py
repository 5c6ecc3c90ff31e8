"""The Airflow UI on the local target, without Docker: trigger, watch and retry DAGs in a browser.

``python -m dwh_tools.ui [--port 8080]`` lands sample input for the first logical date (as ``dwh run``
does), then runs Airflow's api-server, scheduler, dag-processor and triggerer as child processes
with the environment of :func:`dwh_tools.runner.airflow_env` (SQLite metadata under $DWH_HOME/airflow,
this repository's DAGs, ``DWH_TARGET=local``), prints the URL and the login, and stops them all on
Ctrl-C. :class:`LocalAirflow` is the same as a context manager, for tests and scripts.

Choices made for one laptop:

- LocalExecutor, with SQLite: Airflow 3 has no SequentialExecutor, and its LocalExecutor runs on
  SQLite (tasks reach the metadata only through the api-server's execution API). Parallelism is 1,
  as in ``dwh run``: the DuckDB warehouse has a single writer and each Glue job starts a Spark JVM.
- Cron schedules are off (``[scheduler] use_job_schedule``): only the first logical date has
  input, so the scheduler would otherwise start today's run on nothing. Triggered runs run; the
  landed date's run is triggered by the arrival gate (:mod:`dwh_tools.local_gate`), as are the
  dates a later `dwh land` completes.
- Simple auth manager, user ``admin`` (role admin), with the password Airflow generates into
  $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated (owner-only, 0600); ``--no-login``
  makes everyone admin, so it is refused unless the api-server listens on loopback only.
- The api-server listens on 127.0.0.1 only, unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import ipaddress
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from dwh import config
from dwh_tools import cli, runner
from dwh_tools.clean import mark
from dwh_tools.errors import UserError

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
USER = "admin"
# The same sample data as `dwh run` by default.
SCALE, SEED, DEFECT_RATE = 0.05, 42, 0.01


def first_logical_date(env: dict[str, str]) -> str:
    """Earliest start_date of the pipelines that have a DAG file in the DAG folder."""
    from dwh.graph import load_all, pipeline_files

    include = Path(env["DWH_INCLUDE_DIR"]).resolve() if env.get("DWH_INCLUDE_DIR") else None
    include = include or config.INCLUDE_DIR
    pipelines = load_all(pipeline_files(include / "pipelines"), include).pipelines
    dag_files = {p.stem for p in Path(env["AIRFLOW__CORE__DAGS_FOLDER"]).glob("*.py")}
    dates = [p.start_date for name, p in pipelines.items() if name in dag_files]
    dates = dates or [p.start_date for p in pipelines.values()]
    return min(dates).isoformat() if dates else dt.date.today().isoformat()


class ComponentDied(RuntimeError):
    """An Airflow process ended while it should be serving."""


class LocalAirflow:
    """Airflow's components as child processes, each in its own process group.

    ``with LocalAirflow(port=8080) as airflow:`` starts them and returns once the api-server's
    health endpoint reports the metadata database, scheduler and dag-processor healthy; leaving
    the block stops them. Each component writes to $DWH_HOME/logs/ui/<component>.log.
    """

    def __init__(
        self,
        port: int = 8080,
        host: str = "127.0.0.1",
        *,
        schedule: bool = False,
        login: bool = True,
        parallelism: int = 1,
        startup_timeout: float = 180.0,
    ):
        self.port = port
        self.host = host
        self.startup_timeout = startup_timeout
        self.env = runner.airflow_env()
        # Tests set these for themselves; the UI needs its own Airflow home and a real run mode.
        self.env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
        url_host = "localhost" if host in ("0.0.0.0", "::") else host
        self.url = f"http://{url_host}:{port}"
        # One random secret per start, shared by every component: the scheduler signs the tokens
        # tasks use on the execution API, and the api-server checks them.
        jwt_secret = secrets.token_urlsafe(32)
        self.env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(parallelism),
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": str(not login),
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(schedule),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__HOST": host,
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            }
        )
        self.airflow_home = Path(self.env["AIRFLOW_HOME"])
        self.log_dir = config.dwh_home() / "logs" / "ui"
        self.procs: dict[str, subprocess.Popen] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalAirflow:
        runner.ensure_metadata_db(self.env)
        prepare_password_file(self.password_file)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in COMPONENTS:
            log = self.log_path(name).open("w")
            try:
                self.procs[name] = subprocess.Popen(
                    [runner.airflow_bin(), name],
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own process group: Ctrl-C reaches us, not them
                )
            finally:
                log.close()
        return self

    def wait_until_ready(self, timeout: float | None = None) -> dict:
        """Wait for the health endpoint to report every started component healthy."""
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        health: dict = {}
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as r:
                    health = json.load(r)
            except (OSError, ValueError):
                health = {}
            wanted = ("metadatabase", "scheduler", "dag_processor", "triggerer")
            if health and all((health.get(k) or {}).get("status") == "healthy" for k in wanted):
                return health
            time.sleep(1)
        raise TimeoutError(
            f"Airflow at {self.url} not healthy after {timeout or self.startup_timeout:.0f}s "
            f"(last health: {health or 'no answer'}); logs in {self.log_dir}"
        )

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise ComponentDied(
                    f"airflow {name} exited with code {proc.returncode}; "
                    f"last lines of {self.log_path(name)}:\n{self.log_tail(name)}"
                )

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every component's process group (and the task processes it spawned in their
        own groups), then SIGKILL whatever is left after ``timeout`` seconds."""
        # A second Ctrl-C must not leave half the components running.
        previous = _ignore_signals()
        try:
            self._stop(timeout)
        finally:
            _restore_signals(previous)

    def _stop(self, timeout: float) -> None:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.state_file.read_text()).get("pid") == os.getpid():
                self.state_file.unlink()
        procs, self.procs = self.procs, {}
        family: list[psutil.Process] = []
        for proc in procs.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                family += psutil.Process(proc.pid).children(recursive=True)
        for proc in procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        for child in family:  # task processes run in process groups of their own
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        for proc in procs.values():
            _signal_group(proc.pid, signal.SIGKILL)  # stragglers of a group whose leader ended

    @property
    def state_file(self) -> Path:
        return state_file()

    def publish(self) -> None:
        """Say where the running UI is ($DWH_HOME/ui.json), for `dwh land`'s arrival gate: its
        URL, this process, the login's password file (the password stays in that file) and the
        DAGs folder (the gate triggers only the pipelines that have a DAG there)."""
        creds_file = None if self.login() is None else str(self.password_file)
        self.state_file.write_text(
            json.dumps(
                {
                    "url": self.url,
                    "pid": os.getpid(),
                    "password_file": creds_file,
                    "dags_folder": self.env["AIRFLOW__CORE__DAGS_FOLDER"],
                }
            )
        )

    def __enter__(self) -> LocalAirflow:
        try:
            self.start()
            self.wait_until_ready()
            self.publish()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what a user or a test needs ------------------------------------------------------------

    @property
    def password_file(self) -> Path:
        configured = self.env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
        return (
            Path(configured)
            if configured
            else self.airflow_home / "simple_auth_manager_passwords.json.generated"
        )

    def login(self, timeout: float = 30.0) -> tuple[str, str] | None:
        """(user, password) of the UI, or None when everyone is admin without a login."""
        if self.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "True":
            return None
        deadline = time.monotonic() + timeout
        while True:  # the api-server writes the file while it starts
            try:
                return USER, json.loads(self.password_file.read_text())[USER]
            except (OSError, ValueError, KeyError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def token(self) -> str:
        """A JWT for the REST API (/api/v2), as the UI's login would get."""
        creds = self.login()
        if creds is None:
            req = urllib.request.Request(f"{self.url}/auth/token")
        else:
            body = json.dumps({"username": creds[0], "password": creds[1]}).encode()
            req = urllib.request.Request(
                f"{self.url}/auth/token", data=body, headers={"Content-Type": "application/json"}
            )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)["access_token"]

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_path(name)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def state_file() -> Path:
    """Where a running `dwh ui` says it runs (see :meth:`LocalAirflow.publish`)."""
    return config.dwh_home() / "ui.json"


def running_ui() -> dict | None:
    """The running UI's url and password file, None when no `dwh ui` runs."""
    try:
        state = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not psutil.pid_exists(int(state.get("pid", 0))):
        return None  # left behind by a UI that was killed
    return state


def api_token(state: dict) -> str | None:
    """A JWT for the running UI's REST API (None: everyone is admin without a login)."""
    password_file = state.get("password_file")
    if password_file is None:
        return None
    body = json.dumps(
        {"username": USER, "password": json.loads(Path(password_file).read_text())[USER]}
    ).encode()
    req = urllib.request.Request(
        f"{state['url']}/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["access_token"]


def prepare_password_file(path: Path) -> None:
    """Create the login's password file owner-only (0600) before Airflow writes into it.

    Airflow appends to the file it finds and otherwise creates it with the umask's mode,
    readable by every local user.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)  # one an earlier start left readable by others


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any address
        return False


def _ignore_signals() -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def land(ds: str, scale: float, data: Path | None) -> dict:
    source = f"your files in {data}" if data else f"generated sample data (scale {scale})"
    print(f"landing {source} for logical date {ds}", flush=True)
    landed = runner.land_input(ds, scale, data, SEED, DEFECT_RATE)
    print("  " + ", ".join(f"{k}={v}" for k, v in sorted(landed.items())), flush=True)
    return landed


def banner(airflow: LocalAirflow, ds: str | None) -> str:
    creds = airflow.login()
    login = (
        "none (everyone is admin: --no-login)"
        if creds is None
        else f"{creds[0]} / {creds[1]}   (from {airflow.password_file})"
    )
    dags = sorted(p.stem for p in Path(airflow.env["AIRFLOW__CORE__DAGS_FOLDER"]).glob("*.py"))
    example = dags[0] if dags else "<dag>"
    lines = [
        "",
        f"Airflow is up on the local target: {airflow.url}",
        f"  login:        {login}",
        f"  DAGs:         {', '.join(dags) or '(none yet)'} (from {airflow.env['AIRFLOW__CORE__DAGS_FOLDER']})",
    ]
    if ds:
        lines.append(
            f"  input landed for {ds}: the arrival gate triggers its DAG run (arrival__{ds}) "
            "once every file is in; `dwh land <folder> --ds <date>` lands and triggers another date"
        )
    lines += [
        f"  rehearse a retry: bin/dwh fault {example} <task_id>   (the next try of that task fails)",
        f"  alerts:       {config.outbox_path()}",
        f"  logs:         {airflow.log_dir}/<component>.log, task logs under {airflow.airflow_home / 'logs'}",
        "Ctrl-C stops Airflow.",
        "",
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = cli._Parser(prog="dwh ui", description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=8080, help="api-server port (default 8080)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--ds",
        type=cli.logical_date,
        help="logical date YYYY-MM-DD to land input for (default: the first one)",
    )
    p.add_argument("--scale", type=float, default=SCALE, help="sample data scale (1 = Olist size)")
    p.add_argument("--data", help="folder of your own Olist-shaped CSVs instead of sample data")
    p.add_argument("--no-land", action="store_true", help="do not land any input")
    p.add_argument("--schedule", action="store_true", help="let the scheduler start cron runs")
    p.add_argument("--no-login", action="store_true", help="no login: everyone is admin")
    return p


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.no_login and not is_loopback(args.host):
        # Without a login anyone who reaches the address is admin and can run any DAG.
        raise UserError(
            f"--no-login needs a loopback --host (127.0.0.1, ::1, localhost), not {args.host}"
        )
    # Ctrl-C even when started with SIGINT ignored (a background job); SIGTERM (a supervisor,
    # `kill`) stops the components the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    airflow = LocalAirflow(args.port, args.host, schedule=args.schedule, login=not args.no_login)
    mark(config.dwh_home())  # `make clean` removes only a $DWH_HOME so marked
    ds, landed = None, {}
    if not args.no_land:
        ds = args.ds or first_logical_date(airflow.env)
        landed = land(ds, args.scale, Path(args.data) if args.data else None)
    print(
        f"starting Airflow (api-server, scheduler, dag-processor, triggerer; "
        f"AIRFLOW_HOME={airflow.airflow_home}) ...",
        flush=True,
    )
    t0 = time.monotonic()
    code = 0
    try:
        airflow.start()
        airflow.wait_until_ready()
        airflow.publish()
        print(f"ready in {time.monotonic() - t0:.0f}s", flush=True)
        print(banner(airflow, ds), flush=True)
        if landed:
            # The arrival gate, as after `dwh land`: the complete date is triggered once.
            from dwh_tools.local_gate import after_landing

            for line in after_landing(ds, landed):
                print(line, flush=True)
        while True:
            airflow.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        print()
    except (ComponentDied, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    finally:
        print("stopping Airflow ...", flush=True)
        airflow.stop()
        print("Airflow stopped", flush=True)
    return code


if __name__ == "__main__":
    # Through `dwh`, so a mistake in the options or the input is one line, as for `dwh ui`.
    raise SystemExit(cli.main(["ui", *sys.argv[1:]]))
