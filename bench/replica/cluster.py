#!/usr/bin/env python3
"""A streaming read replica and a multi-worker Odoo, on this machine only.

    python3 bench/replica/cluster.py start --source-db bn_100k --db lr_100k \
        --workers 4 --http-port 8285
    python3 bench/replica/cluster.py stop --db lr_100k

``start`` makes, under ``/tmp/sales_funnel_replica_<db>`` (``--base``):

1. a PostgreSQL primary cluster of its own (``initdb`` as the postgres system
   user), listening on 127.0.0.1 only (``--pg-port``, default 55432), trust
   authentication on the loopback address only;
2. the benchmark database copied into it, with its filestore: a physical
   copy of the machine's PostgreSQL (``pg_basebackup`` as the postgres system
   user over its local socket: seconds, where ``pg_dump``/``pg_restore``
   takes minutes at a million opportunities; the other databases of the copy
   are dropped), or ``pg_dump`` | ``pg_restore`` into a new cluster when the
   server refuses a replication connection; then the
   users of the load test (``prepare.py``: a sales manager and a sales
   secretary; ``--leads N`` generates N more opportunities first);
3. a hot-standby streaming replica (``pg_basebackup -R -X stream``) on the
   next port, read-only, replaying the primary's WAL (made while
   ``prepare.py`` writes: it streams those writes);
4. Odoo with ``--workers N`` (``0``: one threaded process, no replica: the
   single-process baseline), ``--db_replica_host/--db_replica_port`` pointing
   at the replica, HTTP on 127.0.0.1 ``--http-port`` only, Odoo's default
   memory and time limits, one cron thread.

``stop`` stops Odoo (the process group it started), both clusters, and removes
the directory (renamed, then its files in the background; ``--keep`` leaves
it). ``status`` prints the state file.
Nothing listens on another address than 127.0.0.1.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
REPO = BENCH.parent
HOST = "127.0.0.1"


def _commands():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sales_funnel_commands", REPO / "tools" / "commands.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pg_bin(name):
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / name).exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise SystemExit(f"{name} not found under /usr/lib/postgresql/*/bin")
    return str(versions[-1] / name)


def log(message):
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd, as_postgres=False, **kwargs):
    cmd = [str(part) for part in cmd]
    if as_postgres and os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    kwargs.setdefault("check", True)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(cmd, **kwargs)


def base_dir(args):
    return Path(args.base or f"/tmp/sales_funnel_replica_{args.db}")


def state_file(base):
    return base / "state.json"


def load_state(base):
    path = state_file(base)
    return json.loads(path.read_text()) if path.exists() else {}


def save_state(base, state):
    state_file(base).write_text(json.dumps(state, indent=2))


def pg_ctl(data, action, port=None, base=None, extra=(), mode="fast"):
    cmd = [pg_bin("pg_ctl"), "-D", data, "-w", "-t", "120"]
    if action == "start":
        options = [
            f"-p {port}",
            f"-k {base}",
            f"-c listen_addresses={HOST}",
            *extra,
        ]
        cmd += ["-l", f"{data}.log", "-o", " ".join(options), "start"]
    else:
        cmd += ["-m", mode, "stop"]
    run(cmd, as_postgres=True)


def psql(port, sql, db="postgres", user="postgres"):
    result = run(
        [pg_bin("psql"), "-h", HOST, "-p", port, "-U", user, "-d", db, "-Atc", sql],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


PRIMARY_HBA = (
    # Only the loopback address may connect, replication included.
    "local all all trust\n"
    f"host all all {HOST}/32 trust\n"
    f"host replication all {HOST}/32 trust\n"
)


def primary_settings(args):
    return [
        "-c wal_level=replica",
        "-c max_wal_senders=4",
        "-c hot_standby=on",
        f"-c shared_buffers={args.shared_buffers}",
        "-c max_connections=200",
    ]


def start_clusters(args, base, state):
    """The primary, holding the load test's database: a physical copy of the
    source server when it allows it, else a new cluster and a logical copy."""
    primary, replica = base / "primary", base / "replica"
    pg_port, replica_port = args.pg_port, args.pg_port + 1
    base.mkdir(parents=True)
    shutil.chown(base, "postgres", "postgres")
    os.chmod(base, 0o755)
    log(f"primary cluster in {primary} on {HOST}:{pg_port}")
    settings = primary_settings(args)
    copied = copy_mode(args) == "physical" and physical_copy(args, primary)
    if not copied:
        run(
            [pg_bin("initdb"), "-D", primary, "-U", "postgres", "--auth=trust"]
            # a throw-away cluster: no fsync of its files
            + ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            as_postgres=True,
            stdout=subprocess.DEVNULL,
        )
    (primary / "pg_hba.conf").write_text(PRIMARY_HBA)
    pg_ctl(primary, "start", pg_port, base, settings)
    state.update(primary=str(primary), pg_port=pg_port)
    save_state(base, state)
    user = os.environ.get("PGUSER") or os.environ.get("USER") or "root"
    if psql(pg_port, f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'") != "1":
        run(
            [pg_bin("createuser"), "-h", HOST, "-p", pg_port, "-U", "postgres"]
            + ["-s", user]
        )
    state["db_user"] = user
    if copied:
        keep_only_database(args, pg_port)
    else:
        copy_database(args, base, state)
    copy_filestore(args, base)
    return primary, replica, replica_port, settings


def source_server():
    """(socket directory, port) of the machine's PostgreSQL, as libpq finds it."""
    host = os.environ.get("PGHOST") or "/var/run/postgresql"
    return host, os.environ.get("PGPORT") or "5432"


def copy_mode(args):
    """``--copy auto``: the physical copy takes every database of the server,
    so it pays when the source database is most of it (or large)."""
    if args.copy != "auto":
        return args.copy
    host, port = source_server()
    sizes = dict(
        line.split("|")
        for line in run(
            [pg_bin("psql"), "-h", host, "-p", port, "-d", "postgres", "-Atc"]
            + ["SELECT datname, pg_database_size(datname) FROM pg_database"],
            capture_output=True,
            text=True,
        ).stdout.split()
    )
    source, total = int(sizes.get(args.source_db, 0)), sum(map(int, sizes.values()))
    return "physical" if source > 2**30 or 2 * source >= total else "logical"


def physical_copy(args, primary):
    """pg_basebackup of the source server into ``primary``; False (and nothing
    left behind) when the server is not a local one that allows it."""
    host, port = source_server()
    if not host.startswith("/"):
        return False
    log(f"copying the PostgreSQL server at {host}:{port} (pg_basebackup)")
    started = time.time()
    try:
        run(
            [pg_bin("pg_basebackup"), "-h", host, "-p", port, "-U", "postgres"]
            + ["-D", primary, "-X", "stream", "-c", "fast", "--no-sync"],
            as_postgres=True,
            stderr=subprocess.PIPE,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        reason = (error.stderr or "").strip().splitlines()[-1:] or [str(error)]
        log(f"no physical copy ({reason[0]}): copying the database instead")
        shutil.rmtree(primary, ignore_errors=True)
        return False
    # Debian keeps the configuration outside the data directory: ours is
    # given on the command line; settings of the source's ALTER SYSTEM go.
    (primary / "postgresql.conf").write_text("")
    (primary / "postgresql.auto.conf").write_text("")
    shutil.chown(primary / "postgresql.conf", "postgres", "postgres")
    log(f"copied in {time.time() - started:.0f} s")
    return True


def keep_only_database(args, port):
    """The copy of the server holds every database: the source one becomes
    the load test's, the others go (so the replica copies only it)."""
    names = psql(
        port, "SELECT datname FROM pg_database WHERE NOT datistemplate"
    ).split()
    if args.source_db not in names:
        raise SystemExit(f"database {args.source_db} not found")
    for name in set(names) - {"postgres", args.source_db}:
        psql(port, f'DROP DATABASE "{name}"')
    if args.source_db != args.db:
        psql(port, f'ALTER DATABASE "{args.source_db}" RENAME TO "{args.db}"')


def copy_database(args, base, state):
    port = state["pg_port"]
    log(f"copying database {args.source_db} into {args.db}")
    started = time.time()
    run([pg_bin("createdb"), "-h", HOST, "-p", port, args.db])
    # Uncompressed (a pipe), restored in one transaction: an Odoo database is
    # thousands of tables, indexes and constraints, and a commit (a WAL flush)
    # each took most of the copy.
    dump = subprocess.Popen(
        [pg_bin("pg_dump"), "-Fc", "-Z0", "-d", args.source_db],
        stdout=subprocess.PIPE,
    )
    run(
        [pg_bin("pg_restore"), "-h", HOST, "-p", port, "-d", args.db, "--no-owner"]
        + ["--single-transaction"],
        stdin=dump.stdout,
    )
    if dump.wait() != 0:
        raise SystemExit(f"pg_dump of {args.source_db} failed")
    log(f"copied in {time.time() - started:.0f} s")


def copy_filestore(args, base):
    source = Path(args.source_data_dir) / "filestore" / args.source_db
    target = base / "odoo" / "filestore" / args.db
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        # Without its filestore the copy answers with tracebacks (menu icons).
        log(f"no filestore at {source}: pass --source-data-dir")


def write_config(args, base, state, replica_port, addons_path):
    lines = [
        "[options]",
        f"addons_path = {addons_path}",
        f"data_dir = {base / 'odoo'}",
        f"db_host = {HOST}",
        f"db_port = {state['pg_port']}",
        f"db_user = {state['db_user']}",
        f"dbfilter = ^{args.db}$",
        "list_db = False",
        f"http_interface = {HOST}",
        f"http_port = {args.http_port}",
        f"gevent_port = {args.gevent_port or args.http_port + 1}",
        f"workers = {args.workers}",
        f"max_cron_threads = {args.cron_threads}",
        f"logfile = {base / 'odoo.log'}",
        "log_level = info",
        "proxy_mode = False",
    ]
    if args.workers:
        lines += [f"db_replica_host = {HOST}", f"db_replica_port = {replica_port}"]
    config = base / "odoo.conf"
    config.write_text("\n".join(lines) + "\n")
    return config


def start(args):
    base = base_dir(args)
    if base.exists():
        raise SystemExit(
            f"{base} exists: stop it first (cluster.py stop --db {args.db})"
        )
    state = {"db": args.db, "base": str(base), "workers": args.workers}
    # The addons path imports Odoo (seconds): while the database is copied.
    looked_up = ThreadPoolExecutor(1)
    addons_path = looked_up.submit(_commands().addons_path, REPO)
    looked_up.shutdown(wait=False)
    try:
        primary, replica, replica_port, settings = start_clusters(args, base, state)
        config = write_config(args, base, state, replica_port, addons_path.result())
        state["config"] = str(config)
        save_state(base, state)
        prepare = [
            sys.executable,
            HERE / "prepare.py",
            "-c",
            config,
            "-d",
            args.db,
            "--leads",
            args.leads,
        ]
        # The replica is made while prepare.py writes: it streams those writes.
        pool = ThreadPoolExecutor(1)
        try:
            replica_made = None
            if args.workers:
                replica_made = pool.submit(
                    make_replica, base, state, replica, replica_port, settings
                )
            log("preparing the load test's users and data")
            run(prepare)
        finally:
            pool.shutdown(wait=True)
            save_state(base, state)
        if replica_made:
            replica_made.result()
        start_odoo(args, base, state, config)
    except BaseException:
        stop_all(base, keep=args.keep)
        raise
    log(f"ready: http://{HOST}:{args.http_port} database {args.db}")


def make_replica(base, state, replica, replica_port, settings):
    log(f"streaming replica in {replica} on {HOST}:{replica_port}")
    run(
        [pg_bin("pg_basebackup"), "-h", HOST, "-p", state["pg_port"]]
        + ["-U", "postgres", "-D", replica, "-R", "-X", "stream", "-c", "fast"]
        + ["--no-sync"],
        as_postgres=True,
    )
    state.update(replica=str(replica), replica_port=replica_port)
    pg_ctl(replica, "start", replica_port, base, settings)
    if psql(replica_port, "SELECT pg_is_in_recovery()") != "t":
        raise SystemExit("the replica is not a hot standby")
    log("replica streaming")


def start_odoo(args, base, state, config):
    commands = _commands()
    cmd = commands.odoo_command("-c", config, "-d", args.db)
    log(f"Odoo with {args.workers} worker(s) on {HOST}:{args.http_port}")
    process = subprocess.Popen(
        [str(part) for part in cmd],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(base / "odoo.stderr", "w"),  # noqa: SIM115
        start_new_session=True,
        cwd="/tmp",
    )
    state["odoo_pid"] = process.pid
    save_state(base, state)
    if not commands.wait_http(args.http_port, pid=process.pid, timeout=300):
        raise SystemExit(f"Odoo did not answer: see {base / 'odoo.log'}")


def stop_odoo(state):
    pid = state.get("odoo_pid")
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGTERM)  # the session Odoo leads: itself, its workers
    except ProcessLookupError:
        return
    # Odoo's graceful stop waits for the workers' requests and the cron's job;
    # a second signal stops it at once; after the load (the checks have read
    # the log) nothing is left to save: killed after 3 s.
    for tick in range(12):
        try:
            os.killpg(pid, signal.SIGTERM if tick == 4 else 0)
        except ProcessLookupError:
            return
        time.sleep(0.25)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_all(base, keep=False):
    state = load_state(base)
    log("stopping Odoo")
    stop_odoo(state)
    log("stopping the clusters")
    for key in ("replica", "primary"):
        data = state.get(key)
        if data and (Path(data) / "postmaster.pid").exists():
            try:
                # a cluster about to be removed needs no shutdown checkpoint
                pg_ctl(data, "stop", mode="fast" if keep else "immediate")
            except subprocess.CalledProcessError as error:
                log(f"stopping {key}: {error}")
    if not keep and base.exists():
        # Two clusters are tens of thousands of files (≈ 10 s to remove):
        # renamed at once, removed in the background.
        trash = base.with_name(f"{base.name}.removed.{os.getpid()}.{time.time_ns()}")
        base.rename(trash)
        subprocess.Popen(
            ["rm", "-rf", str(trash)],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(args):
    base = base_dir(args)
    if not base.exists():
        log(f"nothing at {base}")
        return
    stop_all(base, keep=args.keep)
    log("stopped")


def status(args):
    print(json.dumps(load_state(base_dir(args)), indent=2))


def parser():
    parse = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parse.add_subparsers(dest="action", required=True)
    for name in ("start", "stop", "status"):
        action = sub.add_parser(name)
        action.add_argument("--db", required=True, help="the load-test database")
        action.add_argument("--base", help="directory of the clusters and Odoo")
        action.add_argument("--keep", action="store_true")
        if name == "start":
            action.add_argument("--source-db", required=True)
            action.add_argument(
                "--source-data-dir",
                default=str(Path.home() / ".local/share/Odoo"),
                help="Odoo's data_dir of the source database (its filestore)",
            )
            action.add_argument(
                "--copy",
                choices=["auto", "physical", "logical"],
                default="auto",
                help="how the database is copied: pg_basebackup of the whole"
                " server, or pg_dump | pg_restore (auto: physical when the"
                " database is over 1 GB or half of the server)",
            )
            action.add_argument("--leads", type=int, default=0)
            action.add_argument("--workers", type=int, default=2)
            action.add_argument("--cron-threads", type=int, default=1)
            action.add_argument("--http-port", type=int, default=8285)
            action.add_argument("--gevent-port", type=int)
            action.add_argument("--pg-port", type=int, default=55432)
            action.add_argument("--shared-buffers", default="128MB")
    return parse


def main(argv=None):
    args = parser().parse_args(argv)
    {"start": start, "stop": stop, "status": status}[args.action](args)


if __name__ == "__main__":
    main()
