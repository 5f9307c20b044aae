"""Helpers for bin/serve-demo and bin/test (run with the Odoo python).

Usage: python3 bin/_sf.py <command> [args...]

Only the standard library, psycopg2 (a dependency of Odoo) and Odoo itself are
used. Every command prints machine-readable output on stdout and explains
problems on stderr in one line.
"""

import argparse
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request

PREFIX = "sales_funnel: "


def _err(message):
    print(PREFIX + message, file=sys.stderr)


# --------------------------------------------------------------------------
# Odoo and Python dependencies
# --------------------------------------------------------------------------


def cmd_addons_path(args):
    """Print the addons path: the repository, Odoo's own addons, site-packages.

    Only directories that hold at least one addon are kept (Odoo refuses
    others), duplicates are removed, the repository comes first so that its
    ``sales_funnel`` is the one loaded.
    """
    import importlib.metadata

    import odoo

    import odoo.addons

    odoo_dir = os.path.dirname(os.path.abspath(odoo.__file__))
    candidates = [args.repo]
    candidates += [
        os.path.join(odoo_dir, "addons"),
        # source checkouts keep most addons in <checkout>/addons
        os.path.join(os.path.dirname(odoo_dir), "addons"),
    ]
    candidates += list(odoo.addons.__path__)
    for dist_name in args.dist:
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            continue
        candidates.append(str(dist.locate_file("odoo/addons")))

    seen, result = set(), []
    for path in candidates:
        real = os.path.realpath(path)
        if real in seen or not os.path.isdir(real):
            continue
        if not any(
            os.path.isfile(os.path.join(real, name, "__manifest__.py"))
            for name in os.listdir(real)
        ):
            continue
        seen.add(real)
        result.append(real)
    print(",".join(result))


def _packaging():
    try:
        from packaging.markers import default_environment
        from packaging.requirements import Requirement
    except ImportError:  # pip always vendors it
        from pip._vendor.packaging.markers import default_environment
        from pip._vendor.packaging.requirements import Requirement
    return Requirement, default_environment


def cmd_missing_reqs(args):
    """Print the lines of requirement files that are not satisfied."""
    import importlib.metadata

    Requirement, default_environment = _packaging()
    environment = default_environment()
    for path in args.files:
        with open(path, encoding="utf-8") as handle:
            for raw in handle:
                line = raw.split("#", 1)[0].strip()
                if not line:
                    continue
                req = Requirement(line)
                if req.marker and not req.marker.evaluate(environment):
                    continue
                try:
                    version = importlib.metadata.version(req.name)
                except importlib.metadata.PackageNotFoundError:
                    print(line)
                    continue
                if req.specifier and not req.specifier.contains(
                    version, prereleases=True
                ):
                    print(line)


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


def _connect(dbname):
    import psycopg2

    return psycopg2.connect(dbname=dbname, connect_timeout=10)


def cmd_pg_status(args):
    """Print ok / norole / nosuper / down (with the reason on stderr)."""
    import psycopg2

    try:
        conn = _connect("postgres")
    except psycopg2.OperationalError as exc:
        text = str(exc).strip()
        if re.search(r'role ".*" does not exist', text):
            print("norole")
        else:
            print("down")
            print(text.splitlines()[0] if text else "no answer", file=sys.stderr)
        return 1
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles"
                " WHERE rolname = current_user"
            )
            can_create = cr.fetchone()[0]
    finally:
        conn.close()
    print("ok" if can_create else "nosuper")
    return 0 if can_create else 1


def cmd_db_state(args):
    """Print ``<state> <lang>`` for a database.

    state: absent | empty (not an Odoo database) | uninstalled (Odoo database
    without the module) | installed | <other module state>;
    lang: active | missing (for --lang).
    """
    import psycopg2

    conn = _connect("postgres")
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db])
            exists = bool(cr.fetchone())
    finally:
        conn.close()
    if not exists:
        print("absent missing")
        return 0
    try:
        conn = _connect(args.db)
    except psycopg2.OperationalError as exc:
        _err(f"cannot connect to database {args.db}: {exc}".strip())
        return 1
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT to_regclass('ir_module_module')")
            if cr.fetchone()[0] is None:
                print("empty missing")
                return 0
            cr.execute(
                "SELECT state FROM ir_module_module WHERE name = %s", [args.module]
            )
            row = cr.fetchone()
            state = row[0] if row and row[0] != "uninstalled" else "uninstalled"
            cr.execute("SELECT 1 FROM res_lang WHERE code = %s AND active", [args.lang])
            lang = "active" if cr.fetchone() else "missing"
    finally:
        conn.close()
    print(state, lang)
    return 0


def cmd_db_drop(args):
    """Drop a database (closing other connections) and its filestore."""
    import shutil

    conn = _connect("postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            from psycopg2 import sql

            query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(args.db)
            )
            cr.execute(query)
    finally:
        conn.close()
    if args.data_dir:
        shutil.rmtree(
            os.path.join(args.data_dir, "filestore", args.db), ignore_errors=True
        )
    return 0


# --------------------------------------------------------------------------
# HTTP ports
# --------------------------------------------------------------------------


def cmd_free_port(args):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1])


def _port_busy(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def cmd_port_busy(args):
    return 0 if _port_busy(args.port) else 1


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cmd_wait_http(args):
    """Wait until http://localhost:<port>/web/login answers (or pid dies)."""
    url = f"http://localhost:{args.port}/web/login"
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if args.pid and not _alive(args.pid):
            return 1
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return 0
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return 0
        except OSError:
            pass
        time.sleep(1)
    return 1


# --------------------------------------------------------------------------
# Odoo test logs
# --------------------------------------------------------------------------

RECORD_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL|\?) (?P<db>\S+) "
    r"(?P<logger>[\w.]+): (?P<message>.*)$"
)
SUMMARY_RE = re.compile(
    r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<tests>\d+) tests"
    r" when loading database"
)
# Odoo logs "skipped <test> : <reason>"; browser tests also warn before they
# skip when websocket-client or the Chrome executable is missing.
SKIP_RE = re.compile(
    r"\bskip|module is not installed|executable not found", re.IGNORECASE
)


def _records(lines):
    """Group log lines into records (continuation lines belong to the last)."""
    record = None
    for line in lines:
        line = line.rstrip("\n")
        match = RECORD_RE.match(line)
        if match:
            if record:
                yield record
            record = {"match": match, "lines": [line]}
        elif record:
            record["lines"].append(line)
        else:
            yield {"match": None, "lines": [line]}
    if record:
        yield record


def _is_test_logger(logger, module):
    return logger.startswith(f"odoo.addons.{module}.tests") or logger.startswith(
        "odoo.tests"
    )


def _interesting(record, module):
    match = record["match"]
    if not match:
        return True  # raw output (python warnings, crashes)
    level, logger = match["level"], match["logger"]
    if level in ("WARNING", "ERROR", "CRITICAL"):
        return True
    if _is_test_logger(logger, module) or logger.startswith(f"odoo.addons.{module}"):
        return True
    message = match["message"]
    return logger == "odoo.modules.loading" and (
        "modules loaded" in message.lower() or "init db" in message
    )


def cmd_filter_log(args):
    """Copy stdin to stdout keeping what matters while the run goes on."""
    for record in _records(sys.stdin):
        if _interesting(record, args.module):
            print("\n".join(record["lines"]), flush=True)


def cmd_check_log(args):
    """Judge an Odoo test log; print the verdict; exit 1 when not clean."""
    with open(args.log, encoding="utf-8", errors="replace") as handle:
        records = list(_records(handle))
    problems, skips, errors, summaries = [], [], [], []
    warnings = 0
    for record in records:
        match = record["match"]
        text = "\n".join(record["lines"])
        if not match:
            if "Traceback (most recent call last)" in text:
                errors.append(text)
            continue
        level, logger, message = match["level"], match["logger"], match["message"]
        summary = SUMMARY_RE.search(message)
        if summary and logger.startswith("odoo.tests"):
            summaries.append(summary)
        if level in ("ERROR", "CRITICAL"):
            errors.append(text)
        elif "Traceback (most recent call last)" in text:
            errors.append(text)
        elif level == "WARNING":
            warnings += 1
        if _is_test_logger(logger, args.module) and SKIP_RE.search(message):
            skips.append(text)
    if not summaries:
        problems.append("Odoo printed no test summary (did it crash or run no tests?)")
    else:
        last = summaries[-1]
        failed, errs, tests = (int(last[k]) for k in ("failed", "errors", "tests"))
        if failed or errs:
            problems.append(f"{failed} failed, {errs} error(s) of {tests} tests")
        if not tests:
            problems.append("0 tests ran")
    if skips:
        problems.append(
            f"{len(skips)} test(s) skipped (browser tours skip without "
            "chromium or websocket-client)"
        )
    if errors:
        problems.append(f"{len(errors)} error/traceback record(s) in the log")
    if args.rc:
        problems.append(f"Odoo exited with status {args.rc}")

    # The records themselves were shown while the run went on: list them.
    for kind, texts in (("skipped", skips), ("error", errors)):
        for text in texts[:20]:
            print(f"{PREFIX}{kind}: {text.splitlines()[0][:300]}")
        if len(texts) > 20:
            print(f"{PREFIX}... and {len(texts) - 20} more {kind} record(s)")
    counts = (
        f"{summaries[-1].group(0).replace(' when loading database', '')}"
        if summaries
        else "no summary"
    )
    if problems:
        print(f"{PREFIX}Odoo test run FAILED ({counts}): " + "; ".join(problems))
        print(f"{PREFIX}full log: {args.log}")
        return 1
    print(
        f"{PREFIX}Odoo test run OK: {counts}, no skips, no errors"
        f" ({warnings} warning(s); full log: {args.log})"
    )
    return 0


# --------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(prog="_sf.py")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("addons-path")
    p.add_argument("repo")
    p.add_argument("--dist", action="append", default=[])
    p.set_defaults(func=cmd_addons_path)

    p = sub.add_parser("missing-reqs")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_missing_reqs)

    p = sub.add_parser("pg-status")
    p.set_defaults(func=cmd_pg_status)

    p = sub.add_parser("db-state")
    p.add_argument("db")
    p.add_argument("--module", default="sales_funnel")
    p.add_argument("--lang", default="zh_CN")
    p.set_defaults(func=cmd_db_state)

    p = sub.add_parser("db-drop")
    p.add_argument("db")
    p.add_argument("--data-dir")
    p.set_defaults(func=cmd_db_drop)

    p = sub.add_parser("free-port")
    p.set_defaults(func=cmd_free_port)

    p = sub.add_parser("port-busy")
    p.add_argument("port", type=int)
    p.set_defaults(func=cmd_port_busy)

    p = sub.add_parser("wait-http")
    p.add_argument("port", type=int)
    p.add_argument("--pid", type=int)
    p.add_argument("--timeout", type=float, default=1800)
    p.set_defaults(func=cmd_wait_http)

    p = sub.add_parser("filter-log")
    p.add_argument("--module", default="sales_funnel")
    p.set_defaults(func=cmd_filter_log)

    p = sub.add_parser("check-log")
    p.add_argument("log")
    p.add_argument("--module", default="sales_funnel")
    p.add_argument("--rc", type=int, default=0)
    p.set_defaults(func=cmd_check_log)

    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
