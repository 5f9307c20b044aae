# Shared set-up for bin/serve-demo and bin/test (sourced, not executed).
#
# Odoo 18.0 is a prerequisite: nothing here installs Odoo. What the project
# sets up itself (idempotent, quick when already done): its Python
# dependencies, a reachable PostgreSQL with a role for the current user and,
# for the tests, Debian's chromium.
#
# Environment:
#   SALES_FUNNEL_PYTHON  python interpreter that imports odoo (default python3)
#   PG* variables        honoured for the PostgreSQL connection (libpq)

SF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SF_PY="${SALES_FUNNEL_PYTHON:-python3}"
SF_HELPER="$SF_ROOT/bin/_sf.py"
SF_VAR="$SF_ROOT/var"
SF_DATA_DIR="$SF_VAR/data"
SF_MODULE=sales_funnel

sf_say() { printf 'sales_funnel: %s\n' "$*"; }
sf_die() {
    printf 'sales_funnel: %s\n' "$*" >&2
    exit 1
}
sf_helper() { "$SF_PY" "$SF_HELPER" "$@"; }

# Exactly one line and a non-zero exit code when Odoo 18.0 is not importable.
sf_check_odoo() {
    local version
    if ! command -v "$SF_PY" >/dev/null 2>&1; then
        sf_die "$SF_PY not found — install Python 3 and Odoo 18.0 Community first (see README)"
    fi
    if ! "$SF_PY" -c "import odoo; odoo.SUPERUSER_ID" >/dev/null 2>&1; then
        sf_die "Odoo 18.0 is not importable by $SF_PY — install Odoo 18.0 Community first (see README)"
    fi
    version="$("$SF_PY" -c "import odoo.release as r; print(r.version_info[0])" 2>/dev/null)" || version="?"
    if [ "$version" != 18 ]; then
        sf_die "Odoo ${version} is importable by $SF_PY but sales_funnel needs Odoo 18.0 — install Odoo 18.0 Community first (see README)"
    fi
}

# Run a command as root (directly, or through non-interactive sudo).
sf_as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        sf_die "root rights are needed to run: $* (run as root or allow sudo)"
    fi
}

# apt-get install, refreshing the package lists only when the first try fails.
sf_apt_install() {
    command -v apt-get >/dev/null 2>&1 ||
        sf_die "cannot install $* automatically (no apt-get); install it and retry"
    sf_say "installing Debian package(s): $*"
    export DEBIAN_FRONTEND=noninteractive
    if ! sf_as_root apt-get install -y -q "$@" </dev/null; then
        sf_as_root apt-get update -q </dev/null ||
            sf_die "apt-get update failed while installing $*"
        sf_as_root apt-get install -y -q "$@" </dev/null ||
            sf_die "apt-get install $* failed"
    fi
}

# Install what the requirement files ask for and is not there yet.
# odoo-addon-* wheels require odoo==18.0.* which pip cannot see (Odoo is not
# pip-installed), so they go in with --no-deps; everything else normally, and
# the version ranges are chosen so that Odoo's own pins already satisfy them.
sf_install_python_deps() {
    local missing plain=() addons=() line pip_args
    missing="$(sf_helper missing-reqs "$@")" ||
        sf_die "could not read the requirement files: $*"
    [ -n "$missing" ] || return 0
    while IFS= read -r line; do
        case "$line" in
        odoo-addon-*) addons+=("$line") ;;
        *) plain+=("$line") ;;
        esac
    done <<<"$missing"
    "$SF_PY" -m pip --version >/dev/null 2>&1 ||
        sf_die "pip is not available for $SF_PY; install python3-pip and retry"
    pip_args=(install --disable-pip-version-check --no-input -q)
    if [ -f "$("$SF_PY" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED" ] &&
        [ "$("$SF_PY" -c 'import sys; print(sys.prefix == sys.base_prefix)')" = True ]; then
        # Odoo was installed into this system interpreter; so do its addons.
        pip_args+=(--break-system-packages)
    fi
    if [ ${#plain[@]} -gt 0 ]; then
        sf_say "installing Python packages: ${plain[*]}"
        "$SF_PY" -m pip "${pip_args[@]}" "${plain[@]}" ||
            sf_die "pip install ${plain[*]} failed"
    fi
    if [ ${#addons[@]} -gt 0 ]; then
        sf_say "installing Odoo addon wheels (--no-deps): ${addons[*]}"
        "$SF_PY" -m pip "${pip_args[@]}" --no-deps "${addons[@]}" ||
            sf_die "pip install --no-deps ${addons[*]} failed"
    fi
    missing="$(sf_helper missing-reqs "$@")"
    [ -z "$missing" ] || sf_die "still missing after pip install: ${missing//$'\n'/, }"
}

sf_pg_ready() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -t 5
    else
        [ "$(sf_helper pg-status 2>/dev/null)" != down ]
    fi
}

# Start Debian's PostgreSQL (installing it first when absent).
sf_start_local_postgres() {
    local started=0 ver name port status rest versions
    if ! dpkg -s postgresql >/dev/null 2>&1 && ! command -v pg_ctlcluster >/dev/null 2>&1; then
        sf_apt_install postgresql
    fi
    if command -v pg_lsclusters >/dev/null 2>&1; then
        if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
            versions="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)"
            [ -n "$versions" ] || sf_die "PostgreSQL server binaries not found"
            sf_say "creating PostgreSQL cluster $versions/main"
            sf_as_root pg_createcluster "$versions" main >/dev/null
        fi
        while read -r ver name port status rest; do
            if [ "$status" != online ]; then
                sf_say "starting PostgreSQL cluster $ver/$name (port $port)"
                sf_as_root pg_ctlcluster "$ver" "$name" start </dev/null && started=1
            fi
        done < <(pg_lsclusters -h)
    fi
    if [ "$started" = 0 ] && command -v service >/dev/null 2>&1; then
        sf_say "starting PostgreSQL (service postgresql start)"
        sf_as_root service postgresql start >/dev/null || true
    fi
}

# Make sure the current user has a PostgreSQL role that can create databases.
sf_ensure_pg_role() {
    local role status
    role="${PGUSER:-$(id -un)}"
    # pg-status exits non-zero for norole/nosuper/down: read its answer
    # without letting `set -e` end the script silently.
    status="$(sf_helper pg-status 2>/dev/null)" || true
    case "$status" in
    ok) return 0 ;;
    norole)
        [ "$role" != postgres ] || sf_die "Odoo refuses to connect as the postgres role; run as another user"
        sf_say "creating PostgreSQL superuser role $role"
        if [ "$(id -u)" = 0 ]; then
            su postgres -s /bin/sh -c "createuser -s '$role'" ||
                sf_die "could not create the PostgreSQL role $role (su postgres -c \"createuser -s $role\")"
        else
            sudo -n -u postgres createuser -s "$role" ||
                sf_die "PostgreSQL role $role is missing; run: sudo -u postgres createuser -s $role"
        fi
        ;;
    nosuper)
        sf_say "granting CREATEDB to PostgreSQL role $role"
        if [ "$(id -u)" = 0 ]; then
            su postgres -s /bin/sh -c "psql -q -c 'ALTER ROLE \"$role\" CREATEDB'" ||
                sf_die "could not grant CREATEDB to the PostgreSQL role $role"
        else
            sf_die "PostgreSQL role $role cannot create databases; run: sudo -u postgres createuser -s $role"
        fi
        ;;
    *) sf_die "cannot connect to PostgreSQL as $role: $(sf_helper pg-status 2>&1 >/dev/null)" ;;
    esac
    [ "$(sf_helper pg-status 2>/dev/null)" = ok ] ||
        sf_die "cannot connect to PostgreSQL as $role: $(sf_helper pg-status 2>&1 >/dev/null)"
}

sf_ensure_postgres() {
    local i
    if ! sf_pg_ready; then
        if [ -n "${PGHOST:-}" ] && [ "${PGHOST#/}" = "$PGHOST" ]; then
            sf_die "PostgreSQL at PGHOST=$PGHOST is not reachable"
        fi
        sf_say "no PostgreSQL server reachable; starting a local one"
        sf_start_local_postgres
        for i in $(seq 60); do
            sf_pg_ready && break
            sleep 1
        done
        sf_pg_ready || sf_die "PostgreSQL did not start (check /var/log/postgresql/)"
    fi
    sf_ensure_pg_role
}

# Odoo's browser tests silently skip without a Chrome/Chromium executable.
sf_ensure_chromium() {
    local bin
    for bin in google-chrome chromium chromium-browser google-chrome-stable; do
        command -v "$bin" >/dev/null 2>&1 && return 0
    done
    sf_apt_install chromium
    command -v chromium >/dev/null 2>&1 || sf_die "chromium is still not on PATH after apt-get install"
}

# Comma-separated addons path: this repository, Odoo's addons, and the
# site-packages odoo/addons directory where addon wheels (contract) land.
sf_addons_path() {
    sf_helper addons-path "$SF_ROOT" --dist odoo-addon-contract
}

# Write var/<name>.conf so that no ~/.odoorc of the user leaks into our runs.
sf_write_config() {
    local conf="$SF_VAR/$1.conf" addons
    addons="$(sf_addons_path)" || sf_die "could not compute the addons path"
    mkdir -p "$SF_VAR" "$SF_DATA_DIR"
    cat >"$conf" <<EOF
# Generated by bin/$1 — overwritten on every run.
[options]
addons_path = $addons
data_dir = $SF_DATA_DIR
EOF
    printf '%s\n' "$conf"
}

# The common part of both commands.
sf_setup() {
    sf_check_odoo
    sf_install_python_deps "$@"
    sf_ensure_postgres
}

# Run Odoo with the interpreter that imports it, from a neutral directory
# (python -m puts the working directory first on sys.path).
sf_odoo() {
    (cd "$SF_VAR" && exec "$SF_PY" -m odoo "$@")
}
