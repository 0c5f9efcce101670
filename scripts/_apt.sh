# Sourced by the scripts that install what a test needs from Debian (browser.sh, pgbouncer.sh).

_apt_get() {  # _apt_get ARGS: as root, or through sudo when there is one
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
    else
        return 1
    fi
}

_apt_install() {  # _apt_install PACKAGE: from the lists as they are, else after an update
    _apt_get install -y "$1" >&2 || { _apt_get update >&2 && _apt_get install -y "$1" >&2; }
}
