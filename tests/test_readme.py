"""The README documents the key format for secret scanners: its snippet must agree with us."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from keyguard import Access, KeyFormat

README = Path(__file__).resolve().parent.parent / "README.md"


def _scanner() -> Any:
    text = README.read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def looks_like" in b)
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["looks_like_a_keyguard_key"]


SCANNER = _scanner()
FORMAT = KeyFormat()


def test_the_readme_starts_with_the_two_setup_commands() -> None:
    lines = README.read_text().splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert len(block) == 2
    assert "keyguard demo" in block[0]
    assert block[1] == "bash scripts/test"
    assert "scripts/test" in (README.parent / ".ci" / "run").read_text()


@given(
    st.sampled_from(list(Access)),
    st.sampled_from(["test", "live"]),
    st.text(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=32, max_size=32
    ),
)
def test_the_readme_scanner_accepts_every_key(access: Access, env: str, random: str) -> None:
    assert SCANNER(FORMAT.compose(access, env, random))


@given(st.data())
def test_the_readme_scanner_rejects_what_we_reject(data: st.DataObject) -> None:
    key = FORMAT.generate(Access.SECRET, "live")
    i = data.draw(st.integers(8, len(key) - 1))
    ch = data.draw(
        st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    )
    corrupted = key[:i] + ch + key[i + 1 :]
    assert SCANNER(corrupted) == FORMAT.is_well_formed(corrupted)
