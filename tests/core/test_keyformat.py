"""The key format: generation, parsing, the checksum, and every one-character corruption."""

from __future__ import annotations

import contextlib
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyguard.core import (
    BASE62_ALPHABET,
    Access,
    KeyFormat,
    KeyFormatError,
    KeyProblem,
    checksum,
)

FORMAT = KeyFormat()
keys = st.builds(
    FORMAT.compose,
    st.sampled_from(list(Access)),
    st.sampled_from(["test", "live"]),
    st.text(BASE62_ALPHABET, min_size=32, max_size=32),
)


def _base62_decode(text: str) -> int:
    n = 0
    for ch in text:
        n = n * 62 + BASE62_ALPHABET.index(ch)
    return n


@given(keys)
def test_every_generated_key_parses_back_to_its_parts(key: str) -> None:
    parsed = FORMAT.parse(key)
    assert key == f"{parsed.prefix}{key[len(parsed.prefix) :]}"
    assert parsed.prefix == f"{parsed.access.code}_{parsed.environment}_"
    assert parsed.last4 == key[-4:]
    assert len(key) == len(parsed.prefix) + 38


@given(keys)
def test_checksum_is_crc32_in_six_base62_digits(key: str) -> None:
    head, tail = key[:-6], key[-6:]
    assert _base62_decode(tail) == zlib.crc32(head.encode("ascii"))


def test_checksum_pads_small_values_with_zeros() -> None:
    # crc32(b"") == 0, so the checksum of the empty string is all padding.
    assert checksum("") == "000000"
    assert checksum("a") == checksum("a").rjust(6, "0")


@given(keys, st.data())
def test_every_single_character_substitution_is_rejected(key: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(key) - 1))
    replacement = data.draw(st.sampled_from(BASE62_ALPHABET + "_-.").filter(lambda c: c != key[i]))
    with pytest.raises(KeyFormatError):
        FORMAT.parse(key[:i] + replacement + key[i + 1 :])


@given(keys, st.data())
def test_every_deletion_insertion_and_truncation_is_rejected(key: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(key) - 1))
    extra = data.draw(st.sampled_from(BASE62_ALPHABET))
    for corrupted in (key[:i] + key[i + 1 :], key[:i] + extra + key[i:], key[:i]):
        with pytest.raises(KeyFormatError):
            FORMAT.parse(corrupted)


@given(keys, st.data())
def test_every_case_flip_is_rejected(key: str, data: st.DataObject) -> None:
    flippable = [i for i, ch in enumerate(key) if ch.isalpha()]
    i = data.draw(st.sampled_from(flippable))
    with pytest.raises(KeyFormatError):
        FORMAT.parse(key[:i] + key[i].swapcase() + key[i + 1 :])


@given(keys, st.text(max_size=60))
def test_is_well_formed_agrees_with_parse(key: str, noise: str) -> None:
    assert FORMAT.is_well_formed(key)
    for candidate in (noise, key[:-1] + noise[:1], key[:8] + noise, noise + key):
        try:
            FORMAT.parse(candidate)
            parsed = True
        except KeyFormatError:
            parsed = False
        assert FORMAT.is_well_formed(candidate) is parsed


@given(st.text(max_size=80))
def test_arbitrary_text_never_raises_anything_but_key_format_error(text: str) -> None:
    # Anything else (UnicodeEncodeError, IndexError ...) fails the test.
    with contextlib.suppress(KeyFormatError):
        FORMAT.parse(text)


def test_errors_name_the_problem_and_never_the_value() -> None:
    key = FORMAT.generate(Access.SECRET, "live")
    cases = {
        "nounderscores": KeyProblem.MALFORMED,
        "xk_live_" + key[8:]: KeyProblem.UNKNOWN_ACCESS,
        "sk_prod_" + key[8:]: KeyProblem.UNKNOWN_ENVIRONMENT,
        key[:-1]: KeyProblem.BAD_LENGTH,
        key[:-7] + "!" + key[-6:]: KeyProblem.BAD_CHARACTER,
        key[:-1] + ("A" if key[-1] != "A" else "B"): KeyProblem.BAD_CHECKSUM,
    }
    for value, problem in cases.items():
        with pytest.raises(KeyFormatError) as caught:
            FORMAT.parse(value)
        assert caught.value.problem is problem
        assert value not in str(caught.value)
        assert key[8:20] not in repr(caught.value)


def test_non_ascii_digits_are_not_base62() -> None:
    key = FORMAT.generate(Access.PUBLISHABLE, "test")
    with pytest.raises(KeyFormatError):
        FORMAT.parse(key[:10] + "\u0663" + key[11:])  # ARABIC-INDIC DIGIT THREE isdigit()


def test_environment_set_is_configurable_and_checked() -> None:
    staging = KeyFormat(["staging", "live"])
    key = staging.generate(Access.SECRET, "staging")
    assert staging.parse(key).environment == "staging"
    with pytest.raises(KeyFormatError):
        FORMAT.parse(key)
    for bad in (["Live"], ["li-ve"], ["live2"], [], ["é"]):
        with pytest.raises(ValueError, match="environment"):
            KeyFormat(bad)


def test_compose_checks_its_random_part() -> None:
    for bad in ("a" * 31, "a" * 33, "_" * 32):
        with pytest.raises(ValueError, match="random part"):
            FORMAT.compose(Access.SECRET, "live", bad)


def test_random_part_is_drawn_from_the_whole_alphabet() -> None:
    seen: set[str] = set()
    for _ in range(200):
        seen.update(FORMAT.generate(Access.SECRET, "live")[8:-6])
    assert seen == set(BASE62_ALPHABET)
