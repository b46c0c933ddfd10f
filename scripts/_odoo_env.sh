# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are read by the scripts that source this file)
# Shared by scripts/test and scripts/run (sourced, not executed).
#
# Finds the Odoo 18 to use and the PostgreSQL to talk to. The project never
# installs Odoo itself: it uses the one it is pointed at, by
#   1. the environment variables ODOO_SRC (source tree holding odoo-bin) and
#      ODOO_PYTHON (a python with Odoo's requirements), else
#   2. the file ${VIP_ODOO_ENV:-$HOME/.config/vip-suite/odoo.env}, sourced
#      (KEY=VALUE lines setting ODOO_SRC and ODOO_PYTHON).
# PostgreSQL is reached through the standard PGHOST/PGPORT/PGUSER/PGPASSWORD.

VIP_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VIP_ODOO_REASON=""

# vip_find_odoo: sets ODOO_SRC, ODOO_PYTHON, ODOO_VERSION; on failure returns 1
# with the reason in VIP_ODOO_REASON.
vip_find_odoo() {
    local env_file="${VIP_ODOO_ENV:-$HOME/.config/vip-suite/odoo.env}"
    local hint="set ODOO_SRC and ODOO_PYTHON or create $env_file"
    if [[ -z "${ODOO_SRC:-}" || -z "${ODOO_PYTHON:-}" ]] && [[ -f "$env_file" ]]; then
        # Values already in the environment win over the file.
        local keep_src="${ODOO_SRC:-}" keep_python="${ODOO_PYTHON:-}"
        # shellcheck disable=SC1090
        source "$env_file"
        [[ -n "$keep_src" ]] && ODOO_SRC="$keep_src"
        [[ -n "$keep_python" ]] && ODOO_PYTHON="$keep_python"
    fi
    if [[ -z "${ODOO_SRC:-}" || -z "${ODOO_PYTHON:-}" ]]; then
        VIP_ODOO_REASON="no Odoo 18 found ($hint)"
        return 1
    fi
    if [[ ! -f "$ODOO_SRC/odoo-bin" ]]; then
        VIP_ODOO_REASON="no odoo-bin in ODOO_SRC=$ODOO_SRC ($hint)"
        return 1
    fi
    if [[ ! -x "$ODOO_PYTHON" ]] && ! command -v "$ODOO_PYTHON" >/dev/null 2>&1; then
        VIP_ODOO_REASON="ODOO_PYTHON=$ODOO_PYTHON is not an executable ($hint)"
        return 1
    fi
    ODOO_VERSION="$(cd "$ODOO_SRC" && "$ODOO_PYTHON" -c \
        'import odoo.release as r; print(".".join(map(str, r.version_info[:2])))' 2>/dev/null)" || true
    if [[ -z "$ODOO_VERSION" ]]; then
        VIP_ODOO_REASON="cannot import odoo.release with $ODOO_PYTHON in $ODOO_SRC"
        return 1
    fi
    if [[ "${ODOO_VERSION%%.*}" != 18 ]]; then
        VIP_ODOO_REASON="Odoo at $ODOO_SRC is $ODOO_VERSION, not 18"
        return 1
    fi
    export ODOO_SRC ODOO_PYTHON ODOO_VERSION
    return 0
}

_vip_pg_ok() {
    psql -X -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

# vip_ensure_pg: returns 0 when PostgreSQL answers, starting a local Debian
# cluster if one is installed but stopped; else VIP_ODOO_REASON and 1.
vip_ensure_pg() {
    if ! command -v psql >/dev/null 2>&1; then
        VIP_ODOO_REASON="PostgreSQL client psql not found"
        return 1
    fi
    _vip_pg_ok && return 0
    local host="${PGHOST:-}"
    if command -v pg_ctlcluster >/dev/null 2>&1 &&
        [[ -z "$host" || "$host" == /* || "$host" == localhost || "$host" == 127.0.0.1 || "$host" == ::1 ]]; then
        local ver name started=""
        # Every cluster that is down (normally just "15 main").
        while read -r ver name _; do
            [[ -n "$ver" ]] || continue
            pg_ctlcluster "$ver" "$name" start >/dev/null 2>&1 && started=1
        done < <(pg_lsclusters --no-header 2>/dev/null | awk '$4 == "down" {print $1, $2}')
        [[ -n "$started" ]] || pg_ctlcluster 15 main start >/dev/null 2>&1 || true
        local _
        for _ in $(seq 1 20); do
            _vip_pg_ok && return 0
            sleep 0.5
        done
    fi
    VIP_ODOO_REASON="PostgreSQL unreachable (psql -d postgres failed; check PGHOST/PGPORT/PGUSER/PGPASSWORD)"
    return 1
}

# vip_addons: installable vip_* add-ons of the repository, in dependency order.
vip_addons() {
    python3 "$VIP_REPO/scripts/_vip.py" addons "$VIP_REPO"
}

# vip_data_dir: Odoo's data_dir (filestore, sessions), Odoo's own default unless VIP_DATA_DIR.
vip_data_dir() {
    echo "${VIP_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/Odoo}"
}

# vip_write_odoo_conf FILE DB: an Odoo config file with the addons path, the
# PostgreSQL settings taken from PG* variables, and loopback-only HTTP.
vip_write_odoo_conf() {
    local file="$1" db="$2"
    {
        echo "[options]"
        echo "addons_path = $ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$VIP_REPO"
        echo "data_dir = $(vip_data_dir)"
        echo "db_name = $db"
        echo "dbfilter = ^${db}\$"
        echo "list_db = False"
        echo "http_interface = 127.0.0.1"
        echo "http_port = ${VIP_PORT:-8069}"
        echo "admin_passwd = ${VIP_ADMIN_PASSWD:-admin}"
        echo "max_cron_threads = 0"
        [[ -n "${PGHOST:-}" ]] && echo "db_host = $PGHOST"
        [[ -n "${PGPORT:-}" ]] && echo "db_port = $PGPORT"
        [[ -n "${PGUSER:-}" ]] && echo "db_user = $PGUSER"
        [[ -n "${PGPASSWORD:-}" ]] && echo "db_password = $PGPASSWORD"
        true
    } >"$file"
}

# vip_db_exists DB
vip_db_exists() {
    [[ "$(psql -X -d postgres -Atqc "select 1 from pg_database where datname = '$1'" 2>/dev/null)" == 1 ]]
}

# vip_db_initialized DB: the database holds an Odoo with the base module installed.
vip_db_initialized() {
    [[ "$(psql -X -d "$1" -Atqc "select state from ir_module_module where name = 'base'" 2>/dev/null)" == installed ]]
}

# vip_createdb DB [TEMPLATE]: an empty database the way Odoo creates one.
vip_createdb() {
    local db="$1" template="${2:-}"
    if [[ -n "$template" ]]; then
        createdb -T "$template" "$db" || return 1
        # Odoo keeps attachments (asset bundles, ...) in the filestore, per database.
        local fs
        fs="$(vip_data_dir)/filestore"
        if [[ -d "$fs/$template" ]]; then
            mkdir -p "$fs"
            cp -a "$fs/$template" "$fs/$db"
        fi
    else
        createdb -E UTF8 -T template0 --lc-collate=C "$db"
    fi
}

# vip_dropdb DB: drop the database and its filestore.
vip_dropdb() {
    local db="$1"
    # --force ends connections left by an interrupted odoo-bin (PostgreSQL 13+)
    dropdb --if-exists --force "$db" >/dev/null 2>&1 || dropdb --if-exists "$db" >/dev/null 2>&1 ||
        return 1
    rm -rf "$(vip_data_dir)/filestore/$db"
}

# vip_odoo_bin ARGS...: run odoo-bin with Odoo's python.
vip_odoo_bin() {
    "$ODOO_PYTHON" "$ODOO_SRC/odoo-bin" "$@"
}

# vip_log_errors LOGFILE: the ERROR/CRITICAL lines of an Odoo log (exit 1 if none).
vip_log_errors() {
    grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$1"
}

# vip_ensure_requirements: the add-ons' own Python requirements (requirements.txt) in
# ODOO_PYTHON. Satisfied requirements install nothing (Odoo's pins are never touched);
# a missing or out-of-range one is installed with pip. Returns 1 with VIP_ODOO_REASON.
vip_ensure_requirements() {
    local req="$VIP_REPO/requirements.txt" missing
    [[ -f "$req" ]] || return 0
    missing="$("$ODOO_PYTHON" - "$req" <<'PY' 2>&1
import sys
from importlib.metadata import PackageNotFoundError, version

from packaging.requirements import Requirement

for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    if req.marker and not req.marker.evaluate():
        continue
    try:
        if not req.specifier.contains(version(req.name), prereleases=True):
            print(line)
    except PackageNotFoundError:
        print(line)
PY
)" || { VIP_ODOO_REASON="cannot check requirements.txt with $ODOO_PYTHON: $missing"; return 1; }
    [[ -z "$missing" ]] && return 0
    echo "==> installing into $ODOO_PYTHON what requirements.txt asks and it lacks: $(echo "$missing" | tr '\n' ' ')"
    if ! "$ODOO_PYTHON" -m pip install --disable-pip-version-check -q -r "$req" >&2; then
        VIP_ODOO_REASON="pip could not install requirements.txt into $ODOO_PYTHON"
        return 1
    fi
}
