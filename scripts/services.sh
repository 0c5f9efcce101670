# Sourced by scripts/test: make sure the real PostgreSQL and Redis answer, starting the machine's
# own servers when they are installed but stopped. Never skips: fails with one line saying how.
pg_url="${KEYGUARD_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
redis_url="${KEYGUARD_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

_answers() {  # _answers URL: exit 0 when something accepts TCP at the URL's host and port
    python3 - "$1" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
try:
    socket.create_connection((u.hostname or "127.0.0.1", u.port), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

_wait_for() {  # _wait_for URL: up to ~10 s
    for _ in $(seq 1 50); do _answers "$1" && return 0; sleep 0.2; done
    return 1
}

if ! _answers "$pg_url"; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        echo "scripts/test: starting PostgreSQL" >&2
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    _wait_for "$pg_url" || {
        echo "scripts/test: PostgreSQL does not answer at $pg_url; start it (pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start) or set KEYGUARD_TEST_DATABASE_URL" >&2
        exit 1
    }
fi
if ! _answers "$redis_url"; then
    if command -v redis-server >/dev/null 2>&1; then
        echo "scripts/test: starting Redis" >&2
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
    fi
    _wait_for "$redis_url" || {
        echo "scripts/test: Redis does not answer at $redis_url; start it (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no) or set KEYGUARD_TEST_REDIS_URL" >&2
        exit 1
    }
fi
export KEYGUARD_TEST_DATABASE_URL="$pg_url" KEYGUARD_TEST_REDIS_URL="$redis_url"
