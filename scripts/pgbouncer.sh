# Sourced by scripts/test after services.sh: the PgBouncer tests start PgBouncers of their own
# (Debian's package) in front of the machine's PostgreSQL. Installs it when missing; never
# skips: fails with one line saying how.
source scripts/_apt.sh

_find_pgbouncer() {
    if [ -n "${KEYGUARD_TEST_PGBOUNCER:-}" ]; then
        echo "$KEYGUARD_TEST_PGBOUNCER"
    elif command -v pgbouncer >/dev/null 2>&1; then
        command -v pgbouncer
    else
        echo /usr/sbin/pgbouncer
    fi
}

pgbouncer="$(_find_pgbouncer)"
if [ ! -x "$pgbouncer" ] && [ -z "${KEYGUARD_TEST_PGBOUNCER:-}" ]; then
    echo "scripts/test: installing pgbouncer for the PgBouncer tests" >&2
    if _apt_install pgbouncer; then
        # The package may start a system PgBouncer on 6432 (where a service manager lets it):
        # the tests never use it, so it is stopped rather than left running for nothing.
        { systemctl disable --now pgbouncer || service pgbouncer stop; } >/dev/null 2>&1 || true
    fi
    pgbouncer="$(_find_pgbouncer)"
fi
if [ ! -x "$pgbouncer" ]; then
    echo "scripts/test: no PgBouncer at $pgbouncer for the PgBouncer tests; install it (apt-get install -y pgbouncer) or set KEYGUARD_TEST_PGBOUNCER to another" >&2
    exit 1
fi
export KEYGUARD_TEST_PGBOUNCER="$pgbouncer"
