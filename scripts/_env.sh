# Sourced by scripts/test and scripts/check: one virtualenv per checkout, installed from pyproject.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${KEYGUARD_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# Re-install only when pyproject.toml changed since the last install: a no-op run stays fast.
stamp="$VENV/.keyguard-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
    touch "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
