"""A local PostgreSQL server for BI tools: cluster lifecycle, roles and passwords.

The cluster lives under `data/postgres/` (`OBSERVATOIRE_PG_DIR`): `cluster/` (PGDATA, with
`server.log`), `run/` (unix socket), and one password file per role (mode 0600). It listens on
127.0.0.1 only, port 54320 by default (`OBSERVATOIRE_PG_PORT`); every connection, socket or
TCP, authenticates with a scram-sha-256 password (no `trust`, no `peer`).

Roles:
- `observatoire_admin`: the cluster's superuser, used only here to create the others;
- `observatoire_owner`: owns the database `observatoire` and loads the releases;
- `bi_reader`: what BI tools use. CONNECT on the database, USAGE and SELECT on the served
  schema only (granted at each load), its search path set to it, nothing else: no CREATE on
  the database or any schema (PUBLIC's rights are revoked), no temporary tables, and none of
  the `pg_*_server_*` roles, so no `COPY ... TO PROGRAM` and no server files. Its password is
  `OBSERVATOIRE_BI_PASSWORD` when set at the first start, else generated.

`initdb` refuses to run as root, rightly: as root, the server's programs run as a system user
(`observatoire-pg`, `OBSERVATOIRE_PG_OS_USER`; created with `useradd --system` when missing)
through `runuser`, and the cluster folder belongs to it. As another user they run as that user.

When `OBSERVATOIRE_PG_DSN` is set, no server is started: the loader connects with that DSN
(a role that may create schemas in its database) and grants the served schema to `bi_reader`
if that role exists there.
"""

from __future__ import annotations

import logging
import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from observatoire.spec import PROJECT_ROOT

log = logging.getLogger(__name__)

ENV_DSN = "OBSERVATOIRE_PG_DSN"
ENV_PORT = "OBSERVATOIRE_PG_PORT"
ENV_DIR = "OBSERVATOIRE_PG_DIR"
ENV_OS_USER = "OBSERVATOIRE_PG_OS_USER"
ENV_BI_PASSWORD = "OBSERVATOIRE_BI_PASSWORD"

HOST = "127.0.0.1"
DEFAULT_PORT = 54320
DATABASE = "observatoire"
SUPERUSER = "observatoire_admin"
OWNER = "observatoire_owner"
READER = "bi_reader"
SERVED_SCHEMA = "published"
DEFAULT_OS_USER = "observatoire-pg"

PG_HBA = """\
# Written by observatoire.serving. Passwords (scram-sha-256) for every role, on the local
# socket and on 127.0.0.1 only; nothing else may connect.
local   all  all                 scram-sha-256
host    all  all  127.0.0.1/32   scram-sha-256
"""


class ServingError(RuntimeError):
    """The PostgreSQL endpoint could not be set up, started or reached."""


def bindir() -> Path:
    """Folder of the server programs (initdb, pg_ctl): `pg_config --bindir`, else the newest
    `/usr/lib/postgresql/*/bin` (Debian installs them off the PATH)."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             check=False).stdout.strip()
        candidates.append(Path(out))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                         key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                         reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise ServingError("PostgreSQL server programs not found (initdb, pg_ctl): "
                       "apt-get install postgresql")


def write_secret(path: Path, value: str) -> None:
    """Write a secret readable by its owner only (created 0600, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    path.chmod(0o600)


@dataclass(frozen=True)
class Endpoint:
    """Where the served database is and how to reach it (see the module docstring)."""

    root: Path
    port: int = DEFAULT_PORT
    dsn: str | None = None
    os_user: str | None = None  # the server's system user when running as root

    @classmethod
    def from_env(cls, default_root: Path | None = None, **overrides) -> Endpoint:
        """Settings from OBSERVATOIRE_PG_* environment variables, then `overrides`; the
        cluster folder defaults to `default_root`, else data/postgres."""
        values: dict[str, Any] = {
            "root": Path(os.environ.get(ENV_DIR) or default_root
                         or PROJECT_ROOT / "data" / "postgres"),
            "port": int(os.environ.get(ENV_PORT) or DEFAULT_PORT),
            "dsn": os.environ.get(ENV_DSN) or None,
            "os_user": (os.environ.get(ENV_OS_USER) or DEFAULT_OS_USER)
            if os.geteuid() == 0 else None,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def cluster(self) -> Path:
        return self.root / "cluster"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.cluster / "server.log"  # written by the server's user

    def password_file(self, role: str) -> Path:
        return self.root / f"{role}.password"

    def password(self, role: str) -> str:
        path = self.password_file(role)
        if not path.exists():
            raise ServingError(f"no password file {path}: run `make serve` first")
        return path.read_text(encoding="utf-8").strip()

    def conninfo(self, role: str = OWNER, dbname: str = DATABASE) -> str:
        """libpq connection string of `role` on the local server, or the user's DSN (loader)."""
        if self.dsn and role == OWNER:
            return self.dsn
        return make_conninfo(host=HOST, port=self.running_port(), dbname=dbname, user=role,
                             password=self.password(role), connect_timeout=10)

    # ------------------------------------------------------------------ server programs
    def _server_cmd(self, *args: str) -> list[str]:
        if self.os_user:
            return ["runuser", "-u", self.os_user, "--", *args]
        return list(args)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(self._server_cmd(*args), capture_output=True, text=True,
                                check=False)
        if check and result.returncode != 0:
            raise ServingError(f"{Path(args[0]).name} failed (exit {result.returncode}): "
                               f"{(result.stderr or result.stdout).strip()[-2000:]}")
        return result

    def _ensure_os_user(self) -> None:
        if not self.os_user:
            return
        try:
            pwd.getpwnam(self.os_user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir",
                            "/nonexistent", "--shell", "/usr/sbin/nologin", self.os_user],
                           check=True, capture_output=True)
            log.info("created the system user %s for the PostgreSQL server", self.os_user)

    def _give_to_server(self, path: Path, mode: int) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.os_user:
            user = pwd.getpwnam(self.os_user)
            os.chown(path, user.pw_uid, user.pw_gid)
        path.chmod(mode)

    def running_port(self) -> int:
        """The port the server listens on (postmaster.pid, line 4), else the configured one:
        a server started with another OBSERVATOIRE_PG_PORT is still found."""
        try:
            return int((self.cluster / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, IndexError, ValueError):
            return self.port

    def is_initialised(self) -> bool:
        return (self.cluster / "PG_VERSION").exists()

    def is_running(self) -> bool:
        """A server runs on this cluster (`pg_ctl status`); False when a DSN is used."""
        if self.dsn or not self.is_initialised():
            return False
        return self._run(str(bindir() / "pg_ctl"), "status", "-D", str(self.cluster),
                         check=False).returncode == 0

    def is_configured(self) -> bool:
        """A served database is there to load into: a DSN, or the local server running."""
        return bool(self.dsn) or self.is_running()

    def initialise(self) -> bool:
        """Create the cluster and the password files on first use; False if it existed."""
        if self.is_initialised():
            return False
        self._ensure_os_user()
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o711)  # the server user traverses it; it lists nothing
        for role, preset in ((SUPERUSER, None), (OWNER, None),
                             (READER, os.environ.get(ENV_BI_PASSWORD))):
            if not self.password_file(role).exists():
                write_secret(self.password_file(role), preset or secrets.token_urlsafe(24))
        self._give_to_server(self.cluster, 0o700)
        self._give_to_server(self.socket_dir, 0o755)
        if self.os_user and self._run("test", "-w", str(self.cluster), check=False).returncode:
            raise ServingError(f"{self.os_user} cannot reach {self.cluster}: make its parent "
                               "folders traversable (chmod o+x)")
        pwfile = self.socket_dir / ".initdb-password"  # the server user reads it; removed
        write_secret(pwfile, self.password(SUPERUSER))
        if self.os_user:
            user = pwd.getpwnam(self.os_user)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        try:
            self._run(str(bindir() / "initdb"), "-D", str(self.cluster), "-U", SUPERUSER,
                      f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8",
                      "--no-locale", "--no-instructions")
        finally:
            pwfile.unlink(missing_ok=True)
        (self.cluster / "pg_hba.conf").write_text(PG_HBA, encoding="utf-8")
        with open(self.cluster / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\n# observatoire.serving (the port is given at each start)\n"
                f"listen_addresses = '{HOST}'\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "password_encryption = 'scram-sha-256'\n")
        log.info("initialised a PostgreSQL cluster in %s", self.cluster)
        return True

    def start(self) -> None:
        """Initialise on first use, start the server (waits until it accepts connections),
        then create or check the database and roles."""
        if self.dsn:
            raise ServingError(f"{ENV_DSN} is set: the server at that DSN is used, none is started")
        self.initialise()
        if not self.is_running():
            try:
                self._run(str(bindir() / "pg_ctl"), "start", "-D", str(self.cluster), "-w",
                          "-t", "60", "-l", str(self.log_file), "-o", f"-p {int(self.port)}")
            except ServingError as error:  # say why (port taken, ...): the log's last lines
                tail = self.log_file.read_text(errors="replace").splitlines()[-5:] \
                    if self.log_file.exists() else []
                raise ServingError(f"{error}\n{self.log_file}:\n" + "\n".join(tail)) from None
        self.ensure_roles()

    def stop(self) -> bool:
        """Stop the server (fast shutdown: running queries are cancelled); False if it was not
        running."""
        if not self.is_running():
            return False
        self._run(str(bindir() / "pg_ctl"), "stop", "-D", str(self.cluster), "-m", "fast", "-w")
        return True

    # ------------------------------------------------------------------ roles
    def ensure_roles(self) -> None:
        """Create the owner, `bi_reader` and the database if missing; (re)apply the rights."""
        with psycopg.connect(self.conninfo(SUPERUSER, "postgres"), autocommit=True) as con:
            for role in (OWNER, READER):
                exists = con.execute("select 1 from pg_roles where rolname = %s",
                                     [role]).fetchone()
                verb = "alter" if exists else "create"
                con.execute(sql.SQL(
                    "{} role {} login nosuperuser nocreatedb nocreaterole noinherit "
                    "password {}").format(sql.SQL(verb), sql.Identifier(role),
                                          sql.Literal(self.password(role))))
            if not con.execute("select 1 from pg_database where datname = %s",
                               [DATABASE]).fetchone():
                con.execute(sql.SQL("create database {} owner {}").format(
                    sql.Identifier(DATABASE), sql.Identifier(OWNER)))
            # bi_reader's sessions are read-only unless a tool asks otherwise (its privileges
            # refuse writes anyway), and a tool left idle inside a transaction is disconnected
            # after 10 minutes: its locks would hold back the next release's swap.
            for setting in ("default_transaction_read_only = on",
                            "idle_in_transaction_session_timeout = '10min'"):
                con.execute(sql.SQL("alter role {} set " + setting).format(
                    sql.Identifier(READER)))
        with psycopg.connect(self.conninfo(SUPERUSER, DATABASE), autocommit=True) as con:
            self._apply_rights(con)

    @staticmethod
    def _apply_rights(con: psycopg.Connection) -> None:
        ident = sql.Identifier
        statements: list[sql.SQL | sql.Composed] = [
            # PUBLIC gets CONNECT and TEMPORARY on a new database: take both back.
            sql.SQL("revoke all on database {} from public").format(ident(DATABASE)),
            sql.SQL("grant connect on database {} to {}").format(ident(DATABASE), ident(READER)),
            sql.SQL("revoke all on schema public from public"),
            sql.SQL("alter role {} in database {} set search_path = {}").format(
                ident(READER), ident(DATABASE), ident(SERVED_SCHEMA)),
        ]
        for statement in statements:
            con.execute(statement)
