"""pgdrill's psycopg driver agent.

Runs one probe (select1 or writes) through psycopg 3's own connection logic and defaults (sync API,
a keyword/value conninfo, autocommit off: each operation is committed as an application commits it),
and reports every operation as History events on stdout, in the in-cluster probe runner's line
protocol (docs/drivers-pgjdbc-psycopg.md has the contract).

psycopg's sync API waits on the socket with no deadline of its own once connected, so every
operation runs on a worker thread that the loop waits for only until the contract's deadline; past
it the connection's socket is shut down from another thread (the worker then fails and closes it)
and the operation is recorded `timedOut`.
"""

import json
import math
import os
import platform
import re
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import conninfo as libpq_conninfo

T0 = time.monotonic_ns()
SERVER_SQL = "coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket')"
PASSWORD = os.environ.get("PGPASSWORD") or ""
OUT = threading.RLock()
_seq = 0
_exiting = False


def ms(ns):
    """ms with µs precision."""
    return round(ns / 1000) / 1000


def now_t():
    return ms(time.monotonic_ns() - T0)


def emit(body):
    """One line: the protocol's tag and seq first, then the body; flushed at once."""
    global _seq
    with OUT:
        if _exiting:
            return
        _seq += 1
        line = {"pgdrill-runner": 1, "seq": _seq, **body}
        try:
            sys.stdout.write(json.dumps(line, ensure_ascii=True, separators=(",", ":")) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, OSError):
            os._exit(3)  # nobody reads us any more


def state(name, reason=None):
    emit({"type": "state", "t": now_t(), "state": name, **({"reason": reason} if reason else {})})


def error(message):
    emit({"type": "error", "t": now_t(), "message": shorten(message)})


def exit_now(code, reason):
    """The last line, once, whatever called it; os._exit: no hung worker can hold the exit."""
    global _exiting
    with OUT:
        if _exiting:
            return
        state("exiting", reason)
        _exiting = True
    os._exit(code)


def shorten(text):
    """Short, one line, never the password."""
    text = str(text)
    if PASSWORD:
        text = text.replace(PASSWORD, "********")
    return text if len(text) <= 200 else text[:197] + "..."


def first_line(text):
    return str(text).strip().split("\n", 1)[0].strip()


def daemon(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


class Config:
    """The probe and the target from PGDRILL_AGENT_CONFIG, and the conninfo they make."""

    def __init__(self, text):
        if not text:
            raise ValueError("PGDRILL_AGENT_CONFIG is not set: it holds the config JSON")
        config = json.loads(text)
        if not isinstance(config, dict) or config.get("protocol") != 1:
            raise ValueError("config.protocol must be 1")
        probe, target = config.get("probe"), config.get("target")
        if not isinstance(probe, dict) or not isinstance(target, dict):
            raise ValueError("config.probe and config.target must be JSON objects")
        self.name = need(probe, "name", str)
        self.type = need(probe, "type", str)
        if self.type not in ("select1", "write"):
            raise ValueError("config.probe.type must be select1 or write")
        self.connection = need(probe, "connection", str)
        if self.connection not in ("fresh", "held"):
            raise ValueError("config.probe.connection must be fresh or held")
        self.every_ms = max(1, need(probe, "everyMs", (int, float)))
        self.timeout_ms = need(probe, "timeoutMs", (int, float))
        self.connect_timeout_ms = need(probe, "connectTimeoutMs", (int, float))
        self.lifetime_ms = need(config, "lifetimeMs", (int, float))
        self.table = need(probe, "table", str) if self.type == "write" else None
        hosts = target.get("hosts")
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, dict) for h in hosts):
            raise ValueError("config.target.hosts must be a non-empty list of {host, port}")
        # With several hosts, each operation says which one answered and why libpq passed the others over.
        self.multi_host = len(hosts) > 1
        # The password is not in it: libpq reads PGPASSWORD itself.
        params = {
            "host": ",".join(need(h, "host", str) for h in hosts),
            "port": ",".join(str(need(h, "port", int)) for h in hosts),
            "dbname": need(target, "database", str),
            "user": need(target, "user", str),
            "application_name": f"pgdrill-{self.name}",
            # Whole seconds, rounded up, at least 2 as libpq requires.
            "connect_timeout": str(max(2, math.ceil(self.connect_timeout_ms / 1000))),
        }
        mapped = (("targetSessionAttrs", "target_session_attrs"), ("loadBalanceHosts", "load_balance_hosts"), ("sslmode", "sslmode"))
        for key, keyword in mapped:
            if target.get(key) is not None:
                params[keyword] = need(target, key, str)
        # Reads get a server-side statement_timeout; writes do not (a cancelled synchronous-replication wait still commits).
        if self.type == "select1":
            params["options"] = f"-c statement_timeout={int(self.timeout_ms)}"
        settings = config.get("settings") or {}
        if not isinstance(settings, dict):
            raise ValueError("config.settings must be a JSON object")
        self.settings = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in settings.items()}
        for key, value in self.settings.items():
            params[key] = f"{params['options']} {value}" if key == "options" and "options" in params else value
        self.params = params
        self.connect_deadline_ms = connect_deadline_ms(params, self.connect_timeout_ms)


def connect_deadline_ms(params, connect_timeout_ms):
    """The agent's own deadline for one connect: psycopg gives each host its whole connect_timeout (libpq raises
    1 to 2 s; 0, no limit of its own, gets connectTimeoutMs), and moves on to the next; then 1 s."""
    try:
        seconds = int(params.get("connect_timeout", "0"))
    except ValueError:
        seconds = 0  # libpq refuses it when connecting
    per_host = max(2, seconds) * 1000 if seconds > 0 else connect_timeout_ms
    return len(params["host"].split(",")) * per_host + 1000


def need(mapping, key, kinds):
    value = mapping.get(key)
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise ValueError(f'"{key}" is missing or not a {getattr(kinds, "__name__", "number")}')
    return value


def refused_setting(config):
    """A setting libpq does not take, by libpq's own parser (it names the keyword); None when all pass."""
    for key in config.settings:
        if key in ("user", "password", "passfile"):
            return f'setting "{key}" refused: the user is config.target.user and the password comes from PGPASSWORD'
    try:
        config.conninfo = libpq_conninfo.make_conninfo(**config.params)
    except psycopg.Error as e:
        return f"setting refused by psycopg {psycopg.__version__}: {first_line(e)}"
    return None


class Attempt:
    """What one operation's worker reports, under its condition."""

    def __init__(self):
        self.cond = threading.Condition()
        self.start_ns = time.monotonic_ns()
        self.sent_ns = 0
        self.done = self.abandoned = False
        self.conn = None
        self.outcome = self.server = self.error = self.sqlstate = None
        self.dialed = None
        self.skipped = []


class Loop:
    def __init__(self, config):
        self.config = config
        self.held = None
        self.stop = threading.Event()
        self.refused = None

    def run(self, duration_ms):
        """The operations, one at a time every everyMs; one that overruns delays the next (no catch-up burst)."""
        state("running")
        every_ns = int(self.config.every_ms * 1e6)
        start = time.monotonic_ns()
        until, next_ns = start + int(duration_ms * 1e6), start
        max_ops = math.ceil(duration_ms / self.config.every_ms) + 1
        op = 0
        while op < max_ops and next_ns < until:
            wait = next_ns - time.monotonic_ns()
            if self.stop.wait(wait / 1e9 if wait > 0 else 0):
                break
            self.operation(op)
            op += 1
            next_ns = max(next_ns + every_ns, time.monotonic_ns())
        if self.held is not None:
            abandon(self.held)
        state("probes-done")

    def operation(self, op):
        c = self.config
        write = c.type == "write"
        identity = {"probe": c.name, "type": c.type, "worker": 0, "op": op}
        value = {"value": op + 1} if write else {}
        emit({"type": "event", "event": {"kind": "invoke", "t": now_t(), **identity, **value}})
        a = Attempt()
        daemon(self.work, a, self.held, op + 1 if write else None)
        timed_out = False
        with a.cond:
            while not a.done:
                deadline = a.start_ns + int(c.connect_deadline_ms * 1e6) if not a.sent_ns else a.sent_ns + int(c.timeout_ms * 1e6)
                wait = deadline - time.monotonic_ns()
                if wait <= 0:
                    timed_out = a.abandoned = True
                    sent = bool(a.sent_ns)
                    a.outcome = "info" if write and sent else "fail"
                    a.error = (
                        f"no answer within {c.timeout_ms} ms: connection abandoned"
                        if sent
                        else f"not connected within {c.connect_deadline_ms} ms: connection abandoned"
                    )
                    a.server = a.sqlstate = None
                    if a.conn is not None:
                        abandon(a.conn)
                    break
                a.cond.wait(wait / 1e9)
            # Read under the lock: an abandoned worker may still finish later, and must change nothing.
            outcome, server, err, sqlstate, conn = a.outcome, a.server, a.error, a.sqlstate, a.conn
            dialed, skipped = a.dialed, list(a.skipped)
        end = time.monotonic_ns()
        # held: keep the connection after an ok, drop it after anything else.
        self.held = conn if c.connection == "held" and outcome == "ok" and err is None else None
        if c.connection == "held" and self.held is None and conn is not None and not timed_out:
            abandon(conn)
        event = {"kind": "complete", "t": ms(end - T0), **identity, "outcome": outcome, "latencyMs": ms(end - a.start_ns), **value}
        for key, field in (("server", server), ("error", err), ("sqlstate", sqlstate)):
            if field is not None:
                event[key] = field
        if timed_out:
            event["timedOut"] = True
        if dialed is not None:
            event["dialed"] = dialed
        if skipped:
            event["skipped"] = skipped
        emit({"type": "event", "event": event})
        if self.refused:  # after the operation's complete, so its invoke is not left unpaired
            error(self.refused)
            exit_now(2, "its configuration was refused")

    def work(self, a, conn, write_id):
        """The operation itself, on its worker thread: connect (unless held), the statement, the commit."""
        c = self.config
        notices = []
        if conn is None:
            try:
                conn = psycopg.Connection.connect(c.conninfo)
            except BaseException as e:  # never reached the server: not written
                if refused_value(e):
                    self.refused = f"setting refused by libpq: {refused_value(e)}"
                if c.multi_host:
                    with a.cond:
                        a.skipped = passed_over(e)
                finish(a, "fail", None, e)
                return
            if c.multi_host:
                with a.cond:
                    a.dialed = f"{conn.info.host}:{conn.info.port}"
        conn.add_notice_handler(notices.append)
        with a.cond:
            a.conn = conn
            if a.abandoned:
                abandon(conn)
                return
            a.sent_ns = time.monotonic_ns()
            a.cond.notify_all()  # the loop now waits for timeoutMs from here
        try:
            with conn.cursor() as cursor:
                if write_id is None:
                    cursor.execute(f"SELECT 1 AS one, {SERVER_SQL} AS server")
                else:
                    insert = f"INSERT INTO {c.table} (probe, id) VALUES (%s, %s) RETURNING {SERVER_SQL} AS server"
                    cursor.execute(insert, (c.name, write_id))
                row = cursor.fetchone()
            conn.commit()
            server = row[-1] if row else None
            warning = next((n for n in notices if "synchronous replication" in (n.message_primary or "").lower()), None)
        except BaseException as e:
            finish(a, "fail" if write_id is None else write_outcome(e), conn, e)
            return
        with a.cond:
            if a.abandoned:
                abandon(conn)
                return
            a.server = None if server == "local socket" else server
            # A cancelled synchronous-replication wait: the application saw its commit succeed, so it is acknowledged (ok), the
            # warning kept beside it, as pgdrill's own writes probe records it: a later loss is a lost acknowledged write.
            a.outcome = "ok"
            a.error = None if warning is None else shorten(f"WARNING {first_line(warning.message_primary)}")
            a.done = True
            a.cond.notify_all()
        if c.connection == "fresh":
            close(conn)


def passed_over(e):
    """libpq's own account of each host it tried, one line per host: 'connection to server at "h" (ip), port p failed: why'."""
    found = re.findall(r'connection to server at "([^"]+)"(?: \([^)]*\))?, port (\d+) failed: ([^\n]+)', str(e))
    return [shorten(f"{host}:{port}: {why.strip()}") for host, port, why in found][:10]


def refused_value(e):
    """libpq's refusal of an option's value (it checks them only when connecting), keyword first; None for any other error."""
    found = re.search(r'(invalid integer value "[^"]*" for connection option "[^"]+"|invalid [a-z_]+ value: "[^"]*")', str(e))
    return found.group(1) if isinstance(e, psycopg.Error) and found else None


def write_outcome(e):
    """A server ERROR rolled the write back: fail. A FATAL mid-statement (57P01…) or a lost connection: unknown, info."""
    if isinstance(e, psycopg.Error) and e.sqlstate:
        if e.sqlstate.startswith(("08", "57P")):
            return "info"
        severity = e.diag.severity_nonlocalized or e.diag.severity
        return "fail" if severity == "ERROR" else "info"
    return "info"


def finish(a, outcome, conn, e):
    with a.cond:
        if not a.abandoned:
            a.outcome = outcome
            a.sqlstate = getattr(e, "sqlstate", None) or None
            text = first_line(e) or type(e).__name__
            a.error = shorten(f"{a.sqlstate} {text}" if a.sqlstate else text)
            a.done = True
            a.cond.notify_all()
    if conn is not None:
        abandon(conn)


def abandon(conn):
    """Shuts the connection's socket down from another thread, so a worker blocked on it wakes and fails; then closes it."""

    def shut():
        try:
            fd = os.dup(conn.pgconn.socket)
            with socket.socket(fileno=fd) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass  # already closed: nothing left to free

    daemon(shut)


def close(conn):
    try:
        conn.close()
    except Exception:
        pass  # closing a broken connection: nothing left to free


def version():
    libpq = psycopg.pq.version()
    return f"psycopg {psycopg.__version__} (libpq {libpq // 10000}.{libpq % 10000}, {psycopg.pq.__impl__})"


def main():
    problem, config = None, None
    try:
        config = Config(os.environ.get("PGDRILL_AGENT_CONFIG"))
    except (ValueError, TypeError) as e:
        problem = str(e)
    elapsed = time.monotonic_ns() - T0
    wall_clock_at_t0 = datetime.now(timezone.utc) - timedelta(microseconds=elapsed / 1000)
    emit(
        {
            "type": "hello",
            "t": ms(elapsed),
            "wallClock": wall_clock_at_t0.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "monotonicNs": str(T0),
            "version": version(),
            "probes": [config.name] if config else [],
            "controlPort": 0,
            "runtime": {"node": f"python {platform.python_version()}", "uid": os.getuid()},
            **({"connectDeadlineMs": config.connect_deadline_ms} if config else {}),
        }
    )
    problem = problem or refused_setting(config)
    if problem:
        error(problem)
        exit_now(2, "its configuration was refused")
    lifetime = threading.Timer(config.lifetime_ms / 1000, exit_now, (0, f"its lifetime of {config.lifetime_ms} ms is over"))
    lifetime.daemon = True
    lifetime.start()
    loop, ran = Loop(config), False
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        try:
            command = json.loads(raw)
            what = command.get("command") if isinstance(command, dict) else None
            if what == "stop":
                loop.stop.set()
            elif what == "run":
                duration = command.get("durationMs")
                if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration <= 0:
                    raise ValueError("durationMs must be a positive number of ms")
                if ran:
                    raise ValueError("already ran: an agent runs its probe once")
                ran = True
                daemon(lambda: (loop.run(duration), exit_now(0, "probes done")))
            else:
                raise ValueError(f"unknown command {json.dumps(what)}: run or stop")
        except ValueError as e:
            error(f"control line refused: {e}")
    exit_now(0, "stdin closed")


if __name__ == "__main__":
    main()
