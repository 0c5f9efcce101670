"""URLs as they may appear in logs, reprs and error lines: without their passwords, whether in
the user-info (`postgresql://u:pw@h/db`) or in the query (`?password=...`, `?sslpassword=...`),
as libpq and redis-py both read them there."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["mask_url"]

MASK = "***"
# Query parameters that carry a secret: libpq's and redis-py's names, and the obvious others.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "sslkey")


def mask_url(url: str) -> str:
    """The URL with every password replaced by `***`, for logs and reprs. A URL that does not
    parse is masked whole: it cannot be shown safely."""
    try:
        parts = urlsplit(url)
        netloc = _masked_netloc(parts.netloc)
        query = _masked_query(parts.query)
    except ValueError:
        return MASK
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _masked_netloc(netloc: str) -> str:
    userinfo, at, host = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return netloc
    user = userinfo.split(":", 1)[0]
    return f"{user}:{MASK}@{host}"


def _masked_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(k, MASK if any(w in k.lower() for w in _SECRET_WORDS) else v) for k, v in pairs]
    return urlencode(masked, safe="*")
