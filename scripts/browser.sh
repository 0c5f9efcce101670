# Sourced by scripts/test: the browser tests drive Debian's Chromium (Playwright never downloads
# one). Installs it when missing; never skips: fails with one line saying how.
chromium="${KEYGUARD_TEST_CHROMIUM:-/usr/bin/chromium}"

source scripts/_apt.sh

if [ ! -x "$chromium" ] && [ "$chromium" = /usr/bin/chromium ]; then
    echo "scripts/test: installing chromium for the browser tests" >&2
    _apt_install chromium || true
fi
if [ ! -x "$chromium" ]; then
    echo "scripts/test: no Chromium at $chromium for the browser tests; install it (apt-get install -y chromium) or set KEYGUARD_TEST_CHROMIUM to another" >&2
    exit 1
fi
export KEYGUARD_TEST_CHROMIUM="$chromium"
