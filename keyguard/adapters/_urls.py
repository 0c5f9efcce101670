"""URLs as they may appear in logs, reprs and error lines: without their passwords, whether in
the user-info (`postgresql://u:pw@h/db`) or in the query (`?password=...`, `?sslpassword=...`),
as libpq and redis-py both read them there."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

__all__ = ["mask_url"]

MASK = "***"
# Query parameters that carry a secret: libpq's and redis-py's names, and the obvious others.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "sslkey")


def mask_url(url: str) -> str:
    """The URL with every password replaced by `***`, for logs and reprs. The user-info ends
    at the last `@`, not where a URL parser would end it: a password holding `/`, `?` or `#`
    (unencoded, as people write them) would otherwise spill into the path. A query that does
    not parse is masked whole: it cannot be shown safely."""
    head, sep, rest = url.partition("://")
    # A query naming a secret starts at the first `?`: its `@`s are not the user-info's end.
    before, question, query = rest.partition("?")
    if question and _names_a_secret(query):
        if "@" in query and "@" not in before:
            return MASK  # whose is that `@`: a password's in the user-info, or the query's?
        rest, tail = before, question + query
    else:
        tail = ""
    if sep and "@" in rest:
        userinfo, _, after = rest.rpartition("@")
        if ":" in userinfo:
            rest = f"{userinfo.split(':', 1)[0]}:{MASK}@{after}"
        elif head.startswith("redis"):  # redis, rediss, redis+sentinel
            # `redis://secret@host`: what people write for a password-only Redis.
            rest = f"{MASK}@{after}"
    masked = head + sep + rest + tail
    base, question, query = masked.partition("?")
    if not question:
        return masked
    # Never the fragment: an unencoded `#` in a password would put the rest of it there.
    query, hash_mark, _ = query.partition("#")
    try:
        return f"{base}?{_masked_query(query)}{hash_mark and '#' + MASK}"
    except ValueError:
        return MASK


def _names_a_secret(query: str) -> bool:
    return any(word in key.lower() for key in _keys(query) for word in _SECRET_WORDS)


def _keys(query: str) -> list[str]:
    return [pair.partition("=")[0] for pair in query.replace(";", "&").split("&")]


def _masked_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(k, MASK if any(w in k.lower() for w in _SECRET_WORDS) else v) for k, v in pairs]
    return urlencode(masked, safe="*")
