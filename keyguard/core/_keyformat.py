"""The public key format: `{access}_{environment}_{random}{checksum}`.

Pure: no I/O. The checksum lets anything (the middleware, a secret scanner) reject typos and
random strings offline. Errors say what is wrong and never carry the value itself.
"""

from __future__ import annotations

import enum
import secrets
import zlib
from collections.abc import Iterable
from typing import NamedTuple

from ._errors import ErrorCode, KeyguardError

__all__ = [
    "BASE62_ALPHABET",
    "CHECKSUM_LENGTH",
    "DEFAULT_ENVIRONMENTS",
    "RANDOM_LENGTH",
    "Access",
    "KeyFormat",
    "KeyFormatError",
    "KeyProblem",
    "ParsedKey",
    "checksum",
]

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 32  # 32 * log2(62) ~ 190 bits from `secrets`
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so every CRC32 fits
DEFAULT_ENVIRONMENTS = ("test", "live")
_TAIL_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH
_BASE62_SET = frozenset(BASE62_ALPHABET)


class Access(enum.StrEnum):
    """What a key may do: `secret` keys read and write; `publishable` ones read the catalogue."""

    SECRET = "secret"  # noqa: S105 - an access level, not a password
    PUBLISHABLE = "publishable"

    @property
    def code(self) -> str:
        return "sk" if self is Access.SECRET else "pk"

    @classmethod
    def from_code(cls, code: str) -> Access | None:
        return _ACCESS_BY_CODE.get(code)


_ACCESS_BY_CODE = {a.code: a for a in Access}


class KeyProblem(enum.StrEnum):
    MALFORMED = "not of the form {access}_{environment}_{random}{checksum}"
    UNKNOWN_ACCESS = "the access prefix is not sk or pk"
    UNKNOWN_ENVIRONMENT = "the environment is not one this server accepts"
    BAD_LENGTH = f"the part after the environment is not {_TAIL_LENGTH} characters"
    BAD_CHARACTER = "the key has a character outside 0-9, A-Z, a-z"
    BAD_CHECKSUM = "the checksum does not match: the key was mistyped or is not a real key"


class KeyFormatError(KeyguardError, ValueError):
    """A string that is not a well-formed key. The message names the problem, never the value."""

    code = ErrorCode.INVALID_API_KEY

    def __init__(self, problem: KeyProblem) -> None:
        super().__init__(f"invalid API key: {problem.value}")
        self.problem = problem


class ParsedKey(NamedTuple):
    access: Access
    environment: str
    prefix: str  # e.g. "sk_live_"
    last4: str


_PAIRS = [a + b for a in BASE62_ALPHABET for b in BASE62_ALPHABET]  # two digits per lookup


def checksum(text: str) -> str:
    """CRC32 of the ASCII bytes of `text`, as exactly six base62 digits, most significant first."""
    high, rest = divmod(zlib.crc32(text.encode("ascii")), 62**4)  # high < 291: one pair
    middle, low = divmod(rest, 62**2)
    return _PAIRS[high] + _PAIRS[middle] + _PAIRS[low]


def _check_environment_name(name: str) -> str:
    if not (name.isascii() and name.isalpha() and name.islower()):
        raise ValueError(f"environment names are lowercase ASCII letters only, got {name!r}")
    return name


class KeyFormat:
    """Generates and parses keys for one set of environments (default `test` and `live`)."""

    __slots__ = ("_prefixes", "environments")

    def __init__(self, environments: Iterable[str] = DEFAULT_ENVIRONMENTS) -> None:
        envs = tuple(dict.fromkeys(_check_environment_name(e) for e in environments))
        if not envs:
            raise ValueError("at least one environment is needed")
        self.environments: tuple[str, ...] = envs
        self._prefixes = frozenset(f"{a.code}_{e}_" for a in Access for e in envs)

    def __repr__(self) -> str:
        return f"KeyFormat(environments={self.environments!r})"

    def generate(self, access: Access, environment: str) -> str:
        random_part = "".join(secrets.choice(BASE62_ALPHABET) for _ in range(RANDOM_LENGTH))
        return self.compose(access, environment, random_part)

    def compose(self, access: Access, environment: str, random_part: str) -> str:
        """The key with this random part: `generate` with the randomness supplied."""
        if environment not in self.environments:
            raise ValueError(f"unknown environment {environment!r}")
        if len(random_part) != RANDOM_LENGTH or not _BASE62_SET.issuperset(random_part):
            raise ValueError(f"the random part must be {RANDOM_LENGTH} base62 characters")
        head = f"{access.code}_{environment}_{random_part}"
        return head + checksum(head)

    def is_well_formed(self, value: str) -> bool:
        """What `parse` checks, as a bare yes or no: the hot path's one check, no I/O."""
        cut = value.rfind("_") + 1
        if value[:cut] not in self._prefixes or len(value) - cut != _TAIL_LENGTH:
            return False
        tail = value[cut:]
        if not (tail.isascii() and tail.isalnum()):
            return False
        return checksum(value[:-CHECKSUM_LENGTH]) == value[-CHECKSUM_LENGTH:]

    def parse(self, value: str) -> ParsedKey:
        """Return the key's parts, or raise `KeyFormatError` saying what is wrong."""
        parts = value.split("_")
        if len(parts) != 3:
            raise KeyFormatError(KeyProblem.MALFORMED)
        code, environment, tail = parts
        access = Access.from_code(code)
        if access is None:
            raise KeyFormatError(KeyProblem.UNKNOWN_ACCESS)
        if environment not in self.environments:
            raise KeyFormatError(KeyProblem.UNKNOWN_ENVIRONMENT)
        if len(tail) != _TAIL_LENGTH:
            raise KeyFormatError(KeyProblem.BAD_LENGTH)
        if not _BASE62_SET.issuperset(tail):
            raise KeyFormatError(KeyProblem.BAD_CHARACTER)
        cut = len(value) - CHECKSUM_LENGTH
        if checksum(value[:cut]) != value[cut:]:
            raise KeyFormatError(KeyProblem.BAD_CHECKSUM)
        return ParsedKey(access, environment, f"{code}_{environment}_", value[-4:])
