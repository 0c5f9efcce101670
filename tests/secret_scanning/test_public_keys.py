"""GitHub's public keys: fetched from a real server on 127.0.0.1, cached, fetched again only
when due, and a signature checked against the key it names and nothing else."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.core import UnavailableError
from keyguard.web.secret_scanning import GitHubPublicKeys, SignatureCheck
from keyguard.web.secret_scanning.public_keys import parse_public_keys

from .._github_keys import KeyDocumentServer, SigningKey, document

BODY = b'[{"token":"x","type":"t"}]'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def github_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def server(github_key: SigningKey) -> Iterator[KeyDocumentServer]:
    with KeyDocumentServer(github_key) as served:
        yield served


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(server: KeyDocumentServer, clock: Clock) -> GitHubPublicKeys:
    return GitHubPublicKeys(server.url, clock=clock)


async def test_a_signature_by_the_named_key_is_valid(
    keys: GitHubPublicKeys, github_key: SigningKey
) -> None:
    assert await keys.check(github_key.identifier, github_key.sign(BODY), BODY) is (
        SignatureCheck.VALID
    )


async def test_a_signature_over_other_bytes_is_invalid(
    keys: GitHubPublicKeys, github_key: SigningKey
) -> None:
    signature = github_key.sign(BODY)
    assert await keys.check(github_key.identifier, signature, BODY + b" ") is (
        SignatureCheck.INVALID
    )


async def test_a_signature_by_another_key_under_the_published_id_is_invalid(
    keys: GitHubPublicKeys, github_key: SigningKey
) -> None:
    forger = SigningKey()
    assert await keys.check(github_key.identifier, forger.sign(BODY), BODY) is (
        SignatureCheck.INVALID
    )


@pytest.mark.parametrize(
    "signature",
    ["", "not base64!", "AAAA", base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()],
)
async def test_a_malformed_signature_is_invalid_and_fetches_nothing(
    keys: GitHubPublicKeys, server: KeyDocumentServer, github_key: SigningKey, signature: str
) -> None:
    verdict = await keys.check(github_key.identifier, signature, BODY)
    assert verdict is SignatureCheck.INVALID
    assert server.requests <= 1  # "AAAA" decodes: the key is fetched to try it, once


async def test_a_malformed_identifier_fetches_nothing(
    keys: GitHubPublicKeys, server: KeyDocumentServer, github_key: SigningKey
) -> None:
    assert await keys.check("../etc", github_key.sign(BODY), BODY) is SignatureCheck.INVALID
    assert server.requests == 0


async def test_unknown_key_ids_refetch_at_most_every_five_minutes(
    keys: GitHubPublicKeys, server: KeyDocumentServer, clock: Clock
) -> None:
    stranger = SigningKey()
    for _ in range(5):
        verdict = await keys.check(stranger.identifier, stranger.sign(BODY), BODY)
        assert verdict is SignatureCheck.UNKNOWN_KEY
    assert server.requests == 1
    clock.now += 299
    await keys.check(stranger.identifier, stranger.sign(BODY), BODY)
    assert server.requests == 1
    clock.now += 1
    await keys.check(stranger.identifier, stranger.sign(BODY), BODY)
    assert server.requests == 2
    assert server.not_modified == 1  # the same document: GitHub's rate limit is not spent


async def test_with_github_unreachable_it_is_asked_once_a_minute_however_many_requests(
    clock: Clock, github_key: SigningKey
) -> None:
    with KeyDocumentServer(github_key) as server:
        server.status = 503
        keys = GitHubPublicKeys(server.url, clock=clock)
        checks = [
            keys.check(SigningKey().identifier, github_key.sign(BODY), BODY) for _ in range(20)
        ]
        outcomes = await asyncio.gather(*checks, return_exceptions=True)
        assert all(isinstance(o, UnavailableError) for o in outcomes)
        assert server.requests == 1
        clock.now += 60
        server.status = 200
        verdict = await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
        assert verdict is SignatureCheck.VALID
        assert server.requests == 2


@pytest.mark.parametrize(
    "url", ["http://api.github.com/meta", "ftp://127.0.0.1/keys", "http://10.0.0.1/keys"]
)
def test_keys_come_over_https_or_from_this_machine(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        GitHubPublicKeys(url)
    GitHubPublicKeys("https://github.example/keys")
    GitHubPublicKeys("http://127.0.0.1:9/keys")


async def test_a_rotated_key_is_picked_up_when_a_report_names_it(
    keys: GitHubPublicKeys, server: KeyDocumentServer, clock: Clock, github_key: SigningKey
) -> None:
    assert await keys.check(github_key.identifier, github_key.sign(BODY), BODY) is (
        SignatureCheck.VALID
    )
    successor = SigningKey()
    server.publish(github_key, successor)
    clock.now += 300
    assert await keys.check(successor.identifier, successor.sign(BODY), BODY) is (
        SignatureCheck.VALID
    )
    assert server.requests == 2


async def test_known_keys_are_refreshed_hourly_not_per_report(
    keys: GitHubPublicKeys, server: KeyDocumentServer, clock: Clock, github_key: SigningKey
) -> None:
    for _ in range(13):  # a report every five minutes for an hour
        await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
        clock.now += 300
    assert server.requests == 2  # at the start, and at the hour


async def test_a_withdrawn_key_stops_checking_after_the_refresh(
    keys: GitHubPublicKeys, server: KeyDocumentServer, clock: Clock, github_key: SigningKey
) -> None:
    await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
    server.publish(SigningKey())
    clock.now += 3601
    verdict = await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
    assert verdict is SignatureCheck.UNKNOWN_KEY


async def test_no_document_at_all_is_unavailable_not_valid(
    server: KeyDocumentServer, clock: Clock, github_key: SigningKey
) -> None:
    server.status = 500
    keys = GitHubPublicKeys(server.url, clock=clock)
    with pytest.raises(UnavailableError):
        await keys.check(github_key.identifier, github_key.sign(BODY), BODY)


async def test_an_unreachable_server_is_unavailable(github_key: SigningKey) -> None:
    with KeyDocumentServer(github_key) as gone:
        url = gone.url
    keys = GitHubPublicKeys(url, timeout=2.0)
    with pytest.raises(UnavailableError):
        await keys.check(github_key.identifier, github_key.sign(BODY), BODY)


async def test_a_failed_refresh_keeps_the_keys_already_held(
    keys: GitHubPublicKeys, server: KeyDocumentServer, clock: Clock, github_key: SigningKey
) -> None:
    await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
    server.status = 503
    clock.now += 3601
    verdict = await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
    assert verdict is SignatureCheck.VALID
    await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
    assert server.requests == 2  # the next try waits a minute, not one per report
    clock.now += 61
    server.status = 200
    await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
    assert server.requests == 3


async def test_an_oversized_document_is_refused(
    server: KeyDocumentServer, clock: Clock, github_key: SigningKey
) -> None:
    server.body = b" " * (1 << 20) + document(github_key)
    keys = GitHubPublicKeys(server.url, clock=clock)
    with pytest.raises(UnavailableError):
        await keys.check(github_key.identifier, github_key.sign(BODY), BODY)


async def test_the_token_is_sent_to_github_and_masked_in_the_repr(
    server: KeyDocumentServer, github_key: SigningKey
) -> None:
    keys = GitHubPublicKeys(server.url, token="ghp_not_really_a_token")
    await keys.check(github_key.identifier, github_key.sign(BODY), BODY)
    assert server.authorizations == ["Bearer ghp_not_really_a_token"]
    assert "ghp_not_really_a_token" not in repr(keys)
    assert "***" in repr(keys)


def test_keys_other_than_p256_are_ignored() -> None:
    p384 = SigningKey(ec.SECP384R1())
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    p256 = SigningKey()
    entries = [
        p384.entry(),
        {"key_identifier": "ab" * 32, "key": rsa_pem},
        {"key_identifier": "cd" * 32, "key": "not a pem"},
        {"key_identifier": 7, "key": p256.pem},
        "not an object",
        p256.entry(),
    ]
    parsed = parse_public_keys(json.dumps({"public_keys": entries}).encode())
    assert list(parsed) == [p256.identifier]


@pytest.mark.parametrize(
    "body", [b"", b"[]", b'{"public_keys": {}}', b'{"public_keys": []}', b"\xff"]
)
def test_a_document_without_a_usable_key_is_an_error(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - what the fetch turns into "unavailable"
        parse_public_keys(body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_document_parses_or_is_a_value_error(body: bytes) -> None:
    try:
        parsed = parse_public_keys(body)
    except ValueError:
        return
    assert parsed  # whatever parses holds a key to check with


@settings(max_examples=200, deadline=None)
@given(identifier=st.text(max_size=200), signature=st.text(max_size=300))
async def test_any_header_values_are_a_verdict_never_a_crash(
    github_key: SigningKey, identifier: str, signature: str
) -> None:
    keys = GitHubPublicKeys("http://127.0.0.1:9/unused")
    keys._keys = {github_key.identifier: github_key.private.public_key()}
    keys._fetched_at = keys._clock()  # held: no fetch for a known id
    verdict = await keys.check(identifier, signature, BODY)
    assert verdict in {SignatureCheck.INVALID, SignatureCheck.UNKNOWN_KEY}
