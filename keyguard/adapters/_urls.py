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
    if sep and "@" in rest:
        userinfo, _, after = rest.rpartition("@")
        if ":" in userinfo:
            rest = f"{userinfo.split(':', 1)[0]}:{MASK}@{after}"
        elif head.startswith("redis"):  # redis, rediss, redis+sentinel
            # `redis://secret@host`: what people write for a password-only Redis.
            rest = f"{MASK}@{after}"
    masked = head + sep + rest
    base, question, query = masked.partition("?")
    if not question:
        return masked
    query, hash_mark, fragment = query.partition("#")
    try:
        return f"{base}?{_masked_query(query)}{hash_mark}{fragment}"
    except ValueError:
        return MASK


def _masked_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(k, MASK if any(w in k.lower() for w in _SECRET_WORDS) else v) for k, v in pairs]
    return urlencode(masked, safe="*")
