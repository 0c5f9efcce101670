"""Which keys may call which method and path, and which paths need no key at all.

A rule is `METHOD PATH`. METHOD is one HTTP method in capitals, or `*` for any; `GET` also
allows `HEAD`. PATH is `/` followed by segments: a literal, a parameter (`{id}` or `:id`, exactly
one non-empty segment), and optionally a final `*` (one or more further segments below the
prefix). `GET /v1/products/{id}` matches `/v1/products/42` and nothing else; `GET /v1/public/*`
matches `/v1/public/a` and `.../public/a/b`, but not `.../public` itself.

There are no publishable routes unless the app names them: a `pk_*` key is refused everywhere
until then.

Rules are compiled once; at request time a match is a dict lookup, a `startswith` or one regex.

A path that is not in normal form never matches any rule, so it is treated as not public and
not allowed for publishable keys: one with a `.` or `..` segment, an empty segment (`//`), a
trailing slash (`/v1/storefront/products/` is not `/v1/storefront/products`), a `%` (ASGI paths
are already percent-decoded, so one left over means double encoding), a backslash, or a control
character. A router that cleans such paths up later must not widen what a publishable key reaches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ._keyformat import Access

__all__ = [
    "AccessPolicy",
    "CompiledRoutes",
    "RoutePattern",
    "compile_routes",
]

_ANY_METHOD = "*"
_METHOD = re.compile(r"[A-Z][A-Z0-9_-]*")
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|:[A-Za-z_][A-Za-z0-9_]*")
_LITERAL = re.compile(r"[A-Za-z0-9._~!$&'()+,;=@:-]+")  # RFC 3986 pchar, without % and *
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|\Z)")


def _is_normalized(path: str) -> bool:
    if path[:1] != "/" or "//" in path or "%" in path or "\\" in path:
        return False
    if path[-1] == "/" and path != "/":
        return False
    if "/." in path and _DOT_SEGMENT.search(path):
        return False
    return path.isprintable()


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """One parsed rule. `segments` holds literals, and None for a parameter."""

    rule: str
    method: str
    segments: tuple[str | None, ...]
    subtree: bool

    @classmethod
    def parse(cls, rule: str, *, bare_path_any_method: bool = False) -> RoutePattern:
        """Parse `METHOD PATH` (or a bare `PATH`, meaning any method, when allowed).

        Raises ValueError saying what is wrong with the rule.
        """
        if not isinstance(rule, str):
            raise TypeError(f"a route rule is a string, not {type(rule).__name__}")
        parts = rule.split()
        if len(parts) == 1 and bare_path_any_method and parts[0].startswith("/"):
            parts.insert(0, _ANY_METHOD)
        if len(parts) != 2:
            raise _invalid(rule, "expected 'METHOD /path', e.g. 'GET /v1/products/{id}'")
        method, path = parts
        if method != _ANY_METHOD and not _METHOD.fullmatch(method):
            raise _invalid(rule, f"{method!r} is not an HTTP method in capitals, or *")
        segments, subtree = _parse_path(rule, path)
        return cls(rule, method, segments, subtree)

    @property
    def methods(self) -> frozenset[str]:
        """The methods this rule allows; `{"*"}` for any."""
        return frozenset({"GET", "HEAD"}) if self.method == "GET" else frozenset({self.method})

    def allows_method(self, method: str) -> bool:
        return self.method == _ANY_METHOD or method in self.methods

    def matches(self, method: str, path: str) -> bool:
        """This rule alone, segment by segment. `CompiledRoutes.matches` is the fast equivalent."""
        if not self.allows_method(method) or not _is_normalized(path):
            return False
        parts = path[1:].split("/") if path != "/" else []
        count = len(self.segments)
        if len(parts) < count or (len(parts) > count) != self.subtree:
            return False
        # strict=False: under a `/*` the path has more parts than the rule has segments.
        pairs = zip(self.segments, parts, strict=False)
        return all(want is None or want == got for want, got in pairs)


def _parse_path(rule: str, path: str) -> tuple[tuple[str | None, ...], bool]:
    if not path.startswith("/"):
        raise _invalid(rule, "the path must start with /")
    raw = path[1:].split("/") if path != "/" else []
    subtree = bool(raw) and raw[-1] == "*"
    if subtree:
        raw.pop()
    return tuple(_parse_segment(rule, segment) for segment in raw), subtree


def _parse_segment(rule: str, segment: str) -> str | None:
    if _PARAM.fullmatch(segment):
        return None
    if not segment:
        raise _invalid(rule, "empty segment (a // or a trailing /)")
    if segment[0] in ":{":
        raise _invalid(rule, f"{segment!r} is not {{name}} or :name (ASCII letters, digits, _)")
    if "*" in segment:
        raise _invalid(rule, "* is only allowed as the whole last segment, as in /prefix/*")
    if segment in (".", "..") or not _LITERAL.fullmatch(segment):
        raise _invalid(rule, f"segment {segment!r} is not a plain path segment or a {{param}}")
    return segment


def _invalid(rule: str, reason: str) -> ValueError:
    return ValueError(f"invalid route rule {rule!r}: {reason}")


@dataclass(frozen=True, slots=True)
class _MethodTable:
    """What one method may reach: exact paths, plain prefixes, and one regex for the rest."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    pattern: re.Pattern[str] | None

    @classmethod
    def build(cls, patterns: Iterable[RoutePattern]) -> _MethodTable:
        exact: set[str] = set()
        prefixes: set[str] = set()
        regexes: set[str] = set()
        for p in patterns:
            path = _literal_path(p.segments)
            if path is None or (path == "/" and p.subtree):
                regexes.add(_regex(p))  # `/*` needs a segment, so is more than the prefix "/"
            elif p.subtree:
                prefixes.add(path + "/")
            else:
                exact.add(path)
        pattern = re.compile("|".join(sorted(regexes))) if regexes else None
        return cls(frozenset(exact), tuple(sorted(prefixes)), pattern)


def _literal_path(segments: tuple[str | None, ...]) -> str | None:
    literals = [s for s in segments if s is not None]
    return "/" + "/".join(literals) if len(literals) == len(segments) else None


def _regex(pattern: RoutePattern) -> str:
    # A regex match counts only for a normalized path (see `matches`), so there `[^/]+` is one
    # clean segment and `/.+` one or more of them.
    body = "".join("/" + ("[^/]+" if s is None else re.escape(s)) for s in pattern.segments)
    return f"(?:{body}/.+)" if pattern.subtree else f"(?:{body})"


class CompiledRoutes:
    """A set of rules, compiled for matching on every request."""

    __slots__ = ("_any_method", "_tables", "rules")

    def __init__(self, patterns: Iterable[RoutePattern]) -> None:
        self.rules = tuple(patterns)
        methods = {m for p in self.rules for m in p.methods if m != _ANY_METHOD}
        self._tables = {
            m: _MethodTable.build(p for p in self.rules if p.allows_method(m)) for m in methods
        }
        self._any_method = _MethodTable.build(p for p in self.rules if p.method == _ANY_METHOD)

    def matches(self, method: str, path: str) -> bool:
        table = self._tables.get(method, self._any_method)
        if path in table.exact:
            return True  # exact paths were validated at compile time: no normal-form check
        if path.startswith(table.prefixes) or (
            table.pattern is not None and table.pattern.fullmatch(path) is not None
        ):
            # Checked only now so that misses, the common case, skip the cost.
            return _is_normalized(path)
        return False

    def __repr__(self) -> str:
        return f"compile_routes({[p.rule for p in self.rules]!r})"


def compile_routes(rules: Iterable[str], *, bare_path_any_method: bool = False) -> CompiledRoutes:
    """Parse and compile `rules`; raises ValueError on the first invalid one."""
    if isinstance(rules, str):
        raise TypeError("compile_routes takes a list of rules, not one string")
    return CompiledRoutes(
        RoutePattern.parse(r, bare_path_any_method=bare_path_any_method) for r in rules
    )


class AccessPolicy:
    """Which paths are public, and what a publishable key may call (a secret key may call anything).

    `public_paths` use the rule syntax, and a bare path (`/health`) there means any method.
    """

    __slots__ = ("_public", "_publishable")

    def __init__(
        self,
        *,
        publishable_routes: Iterable[str] = (),
        public_paths: Iterable[str] = (),
    ) -> None:
        self._publishable = compile_routes(publishable_routes)
        self._public = compile_routes(public_paths, bare_path_any_method=True)

    @property
    def publishable_routes(self) -> tuple[str, ...]:
        return tuple(p.rule for p in self._publishable.rules)

    @property
    def public_paths(self) -> tuple[str, ...]:
        return tuple(p.rule for p in self._public.rules)

    def is_public(self, method: str, path: str) -> bool:
        return self._public.matches(method, path)

    def allows(self, access: Access, method: str, path: str) -> bool:
        # `is`, not ==: anything that is not exactly Access.SECRET gets the narrow rules.
        if access is Access.SECRET:
            return True
        return self._publishable.matches(method, path)

    def __repr__(self) -> str:
        return (
            f"AccessPolicy(publishable_routes={self.publishable_routes!r},"
            f" public_paths={self.public_paths!r})"
        )
