"""What a release needs, checked without building one (scripts/wheel-smoke builds and installs
the wheel in CI)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import keyguard

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_version_lives_in_pyproject_only() -> None:
    # An editable install whose metadata predates a version bump fails here: reinstall.
    assert keyguard.__version__ == PYPROJECT["project"]["version"]


def test_no_module_spells_out_the_version() -> None:
    # A second copy would go stale at the next bump.
    spelled = re.compile(rf"""["']{re.escape(PYPROJECT["project"]["version"])}["']""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "keyguard").rglob("*.py")
        if spelled.search(path.read_text())
    ]
    assert offenders == []


def test_the_package_is_marked_typed() -> None:
    assert (ROOT / "keyguard" / "py.typed").is_file()
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["keyguard"]


def test_the_license_is_the_one_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the keyguard authors" in text


def test_the_changelog_has_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog")
    assert f"## {PYPROJECT['project']['version']} — unreleased" in text


def test_the_readme_names_every_extra_users_install() -> None:
    readme = (ROOT / "README.md").read_text()
    install = readme[readme.index("## Install") :]
    install = install[: install.index("\n## ", 1)]
    for extra in ("server", "fastapi", "admin", "github", "tracing"):
        assert f'pip install "keyguard[{extra}]"' in install, extra
        assert extra in PYPROJECT["project"]["optional-dependencies"]


def test_ci_installs_the_wheel() -> None:
    assert "bash scripts/wheel-smoke" in (ROOT / ".ci" / "run").read_text()
    script = (ROOT / "scripts" / "wheel-smoke").read_text().splitlines()
    first_command = next(line for line in script if line and not line.startswith("#"))
    assert first_command == "set -euo pipefail"
