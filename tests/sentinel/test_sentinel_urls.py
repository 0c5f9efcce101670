"""`redis+sentinel://` URLs: what they name, and a clear ValueError (the URL masked) for every
malformed one, whatever it holds."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from keyguard import Settings
from keyguard.adapters import mask_url
from keyguard.adapters._redis import redis_client
from keyguard.adapters._redis_sentinel import SentinelTarget, parse_sentinel_url

SECRET = "s3cr3t-Pw"
texts = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20)
hosts = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z0-9]{1,5}){0,2}", fullmatch=True),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)
ports = st.integers(1, 65535)
secrets = texts.map(lambda text: f"Zq9{text}")  # told apart from the URL's other parts


def test_the_documented_shape() -> None:
    url = (
        f"redis+sentinel://app:{SECRET}@s1:26379,s2:26380,[::1]:26381/mymaster/2"
        f"?sentinel_password={SECRET}x&sentinel_username=sent"
    )
    assert parse_sentinel_url(url) == SentinelTarget(
        sentinels=(("s1", 26379), ("s2", 26380), ("::1", 26381)),
        service_name="mymaster",
        db=2,
        username="app",
        password=SECRET,
        sentinel_username="sent",
        sentinel_password=SECRET + "x",
    )
    assert SECRET not in repr(parse_sentinel_url(url))
    assert mask_url(url) == (
        "redis+sentinel://app:***@s1:26379,s2:26380,[::1]:26381/mymaster/2"
        "?sentinel_password=***&sentinel_username=sent"
    )


def test_defaults_and_tls() -> None:
    target = parse_sentinel_url("rediss+sentinel://:pw@cache/svc?ssl_ca_certs=/etc/ca.pem")
    assert target.sentinels == (("cache", 26379),)
    assert (target.db, target.username, target.password) == (0, None, "pw")
    assert target.ssl and target.ssl_ca_certs == "/etc/ca.pem"
    assert parse_sentinel_url("redis+sentinel://user@h:1/svc").username == "user"  # as redis-py


@given(
    sentinels=st.lists(st.tuples(hosts, ports), min_size=1, max_size=4),
    service=texts,
    db=st.integers(0, 15),
    user=st.none() | texts,
    password=st.none() | secrets,
    sentinel_password=st.none() | secrets,
)
def test_what_a_url_names_round_trips(
    sentinels: list[tuple[str, int]],
    service: str,
    db: int,
    user: str | None,
    password: str | None,
    sentinel_password: str | None,
) -> None:
    userinfo = ""
    if user is not None or password is not None:
        userinfo = quote(user or "", safe="")
        userinfo += f":{quote(password, safe='')}" if password is not None else ""
        userinfo += "@"
    query = "" if sentinel_password is None else f"?sentinel_password={quote(sentinel_password)}"
    addresses = ",".join(f"{h}:{p}" for h, p in sentinels)
    url = f"redis+sentinel://{userinfo}{addresses}/{quote(service, safe='')}/{db}{query}"
    target = parse_sentinel_url(url)
    assert target.sentinels == tuple((h.strip("[]"), p) for h, p in sentinels)
    assert (target.service_name, target.db) == (service, db)
    assert target.username == (user or None)
    assert (target.password, target.sentinel_password) == (password, sentinel_password)
    for secret in (password, sentinel_password):
        if secret is not None:
            assert quote(secret, safe="") not in mask_url(url)


MALFORMED = {
    "redis+sentinel://h:26379": "names no service",
    "redis+sentinel://h:26379/": "names no service",
    "redis+sentinel:///svc": "names no sentinel",
    "redis+sentinel://h:0/svc": "not a number from 1 to 65535",
    "redis+sentinel://h:65536/svc": "not a number from 1 to 65535",
    "redis+sentinel://h:port/svc": "not a number from 1 to 65535",
    "redis+sentinel://h:1,/svc": "not host:port",
    "redis+sentinel://h:1/svc/db": "database that is not a number",
    "redis+sentinel://h:1/svc/0/extra": "database that is not a number",
    "redis+sentinel://h:1/svc?unknown=1": "query option other than",
    "redis+sentinel://h:1/svc?sentinel_password=a&sentinel_password=b": "option twice",
    "redis+sentinel://h:1/svc?ssl_ca_certs=/ca.pem": "without TLS",
    f"redis+sentinel://:{SECRET}/x@h:1/svc": "percent-encode",
    f"redis+sentinel://:{SECRET}?x@h:1/svc": "percent-encode",
    f"redis+sentinel://:{SECRET}#x@h:1/svc": "percent-encoded",
}


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_a_value_error_saying_what_is_wrong(url: str) -> None:
    with pytest.raises(ValueError, match=MALFORMED[url]) as caught:
        redis_client(url, timeout=0.1, max_connections=1)
    assert mask_url(url) in str(caught.value)
    assert SECRET not in str(caught.value)


@given(password=secrets, tail=st.text(max_size=30))
def test_any_url_gives_a_target_or_a_value_error_never_the_password(
    password: str, tail: str
) -> None:
    """Unencoded, the password may land in any part: no part is ever quoted back."""
    assume(password not in tail)
    url = f"redis+sentinel://u:{password}@{tail}"
    try:
        shown = repr(parse_sentinel_url(url))
    except ValueError as exc:
        shown = str(exc)
    assert shown.startswith(("SentinelTarget(", "the Redis Sentinel URL "))
    assert password not in shown


def test_settings_show_it_masked() -> None:
    url = f"redis+sentinel://:{SECRET}@h:1/svc?sentinel_password={SECRET}"
    assert SECRET not in repr(Settings(redis_url=url))
