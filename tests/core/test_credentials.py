"""Reading the key from request headers: every rule of the contract, and totality on garbage."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from keyguard.core import MAX_CREDENTIAL_LENGTH, CredentialProblem, extract_key, sane_request_id

KEY = "sk_live_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Ab12Cd"
OTHER_HEADERS = [
    (b"host", b"api.example.com"),
    (b"user-agent", b"curl/8.5.0"),
    (b"accept", b"*/*"),
]
Header = tuple[bytes, bytes]


def auth(value: bytes | str) -> list[Header]:
    raw = value.encode("latin-1") if isinstance(value, str) else value
    return [*OTHER_HEADERS, (b"authorization", raw)]


@pytest.mark.parametrize(
    "value",
    [
        f"Bearer {KEY}",
        f"bearer {KEY}",
        f"BEARER {KEY}",
        f"bEaReR {KEY}",
        f"Bearer  {KEY}",  # two spaces
        f"Bearer      {KEY}",
        f"  Bearer {KEY}  ",  # surrounding spaces
        KEY,  # the raw form
        f" {KEY} ",
    ],
)
def test_accepted_forms_give_the_token(value: str) -> None:
    assert extract_key(auth(value)) == KEY


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", CredentialProblem.EMPTY),
        ("   ", CredentialProblem.EMPTY),
        ("Bearer", CredentialProblem.EMPTY),
        ("bearer   ", CredentialProblem.EMPTY),
        ("  BEARER", CredentialProblem.EMPTY),
        (f"Bearer\t{KEY}", CredentialProblem.MALFORMED),
        (f"Bearer \t{KEY}", CredentialProblem.MALFORMED),
        (f"\t{KEY}", CredentialProblem.MALFORMED),
        (f"Bearer {KEY}\r\n", CredentialProblem.MALFORMED),
        (f"Bearer {KEY}\x00", CredentialProblem.MALFORMED),
        (f"Bearer {KEY}\x7f", CredentialProblem.MALFORMED),
        (f"Bearer {KEY[:-1]}\xe9", CredentialProblem.MALFORMED),  # non-ASCII (latin-1 byte)
        (f"Bearer {KEY} extra", CredentialProblem.MALFORMED),  # a space inside the token
        (f"Bearer a  {KEY}", CredentialProblem.MALFORMED),
        ("Basic dXNlcjpwYXNz", CredentialProblem.UNSUPPORTED_SCHEME),
        (f"Token {KEY}", CredentialProblem.UNSUPPORTED_SCHEME),
        (f"Bearer: {KEY}", CredentialProblem.UNSUPPORTED_SCHEME),
        (f"{KEY} {KEY}", CredentialProblem.UNSUPPORTED_SCHEME),
    ],
)
def test_refused_values(value: str, problem: CredentialProblem) -> None:
    assert extract_key(auth(value)) is problem


def test_utf8_is_refused() -> None:
    assert extract_key(auth(f"Bearer {KEY}é".encode())) is CredentialProblem.MALFORMED
    assert extract_key(auth("Bearer ключ".encode())) is CredentialProblem.MALFORMED


def test_bearer_scheme_then_bearer_as_the_token() -> None:
    # "Bearer Bearer" is a scheme and a token that is not a key: the verifier rejects it later.
    assert extract_key(auth("Bearer Bearer")) == "Bearer"


def test_length_limit_is_in_bytes_and_inclusive() -> None:
    prefix = b"Bearer "
    at_limit = prefix + b"k" * (MAX_CREDENTIAL_LENGTH - len(prefix))
    assert MAX_CREDENTIAL_LENGTH == 512
    assert extract_key(auth(at_limit)) == "k" * (MAX_CREDENTIAL_LENGTH - len(prefix))
    assert extract_key(auth(at_limit + b"k")) is CredentialProblem.TOO_LONG
    assert extract_key(auth(b"k" * 513)) is CredentialProblem.TOO_LONG


def test_length_is_checked_before_content() -> None:
    # An over-long value is refused as such even when it is also malformed or empty-ish.
    assert extract_key(auth(b"\x00" * 513)) is CredentialProblem.TOO_LONG
    assert extract_key(auth(b" " * 513)) is CredentialProblem.TOO_LONG


def test_missing() -> None:
    assert extract_key([]) is CredentialProblem.MISSING
    assert extract_key(OTHER_HEADERS) is CredentialProblem.MISSING
    # Only the lowercased name counts: ASGI servers lowercase header names.
    assert extract_key([(b"Authorization", KEY.encode())]) is CredentialProblem.MISSING
    assert extract_key([(b"authorizations", KEY.encode())]) is CredentialProblem.MISSING


def test_two_authorization_headers_are_refused_even_if_identical() -> None:
    value = f"Bearer {KEY}".encode()
    headers = [(b"authorization", value), *OTHER_HEADERS, (b"authorization", value)]
    assert extract_key(headers) is CredentialProblem.DUPLICATE
    # ...and even when one of them is garbage: no picking the good one.
    headers = [(b"authorization", b""), (b"authorization", value)]
    assert extract_key(headers) is CredentialProblem.DUPLICATE


def test_x_api_key_is_ignored_unless_enabled() -> None:
    headers = [*OTHER_HEADERS, (b"x-api-key", KEY.encode())]
    assert extract_key(headers) is CredentialProblem.MISSING
    assert extract_key(headers, accept_x_api_key=True) == KEY
    both = [*headers, (b"authorization", f"Bearer {KEY}".encode())]
    assert extract_key(both) == KEY  # x-api-key is just another header when disabled


@pytest.mark.parametrize(
    "headers",
    [
        [(b"x-api-key", KEY.encode()), (b"x-api-key", KEY.encode())],
        [(b"x-api-key", KEY.encode()), (b"authorization", f"Bearer {KEY}".encode())],
        [(b"authorization", KEY.encode()), (b"x-api-key", KEY.encode())],
    ],
)
def test_x_api_key_duplicates(headers: list[Header]) -> None:
    assert extract_key(headers, accept_x_api_key=True) is CredentialProblem.DUPLICATE


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (KEY, KEY),
        (f"  {KEY}  ", KEY),
        ("", CredentialProblem.EMPTY),
        ("  ", CredentialProblem.EMPTY),
        (f"Bearer {KEY}", CredentialProblem.MALFORMED),  # x-api-key takes no scheme
        (f"{KEY}\t", CredentialProblem.MALFORMED),
        ("Bearer", "Bearer"),  # a raw token; not a key, so the verifier refuses it
        ("x" * 513, CredentialProblem.TOO_LONG),
    ],
)
def test_x_api_key_values(value: str, expected: str | CredentialProblem) -> None:
    result = extract_key([(b"x-api-key", value.encode())], accept_x_api_key=True)
    assert result == expected


def test_accepts_any_iterable_of_pairs() -> None:
    pairs = iter([(b"accept", b"*/*"), (b"authorization", f"Bearer {KEY}".encode())])
    assert extract_key(pairs) == KEY
    # ASGI allows [name, value] lists as well as tuples.
    assert extract_key([[b"authorization", KEY.encode()]]) == KEY  # type: ignore[list-item]


# Header names biased towards the two that matter, values towards the shapes that parse.
names = st.sampled_from([b"authorization", b"x-api-key", b"host", b"Authorization"]) | st.binary(
    max_size=20
)
values = (
    st.binary(max_size=600)
    | st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=80).map(
        str.encode
    )
    | st.builds(
        lambda scheme, spaces, token: scheme + spaces + token,
        st.sampled_from([b"Bearer", b"bearer", b"BEARER", b"Basic", b""]),
        st.binary(max_size=3).map(lambda b: b" " * len(b)) | st.sampled_from([b"\t", b" \t"]),
        st.binary(max_size=60),
    )
)
header_lists = st.lists(st.tuples(names, values), max_size=10)


def _is_clean_token(token: str) -> bool:
    return bool(token) and all("\x21" <= ch <= "\x7e" for ch in token)


@given(header_lists, st.booleans())
@example([(b"authorization", b"Bearer \x80")], False)
@example([(b"authorization", b"Bearer  x ")], False)
@example([(b"x-api-key", b" x ")], True)
def test_never_raises_and_only_returns_clean_tokens(headers: list[Header], x_api_key: bool) -> None:
    result = extract_key(headers, accept_x_api_key=x_api_key)
    assert isinstance(result, str | CredentialProblem)
    if isinstance(result, str):
        assert _is_clean_token(result), result
        # The token is always a piece of exactly one credential header's value.
        wanted = {b"authorization", b"x-api-key"} if x_api_key else {b"authorization"}
        sources = [value for name, value in headers if name in wanted]
        assert len(sources) == 1
        assert result.encode("ascii") in sources[0]
        assert len(sources[0]) <= MAX_CREDENTIAL_LENGTH


@given(st.binary(max_size=MAX_CREDENTIAL_LENGTH + 100))
def test_any_single_value(value: bytes) -> None:
    result = extract_key([(b"authorization", value)])
    if len(value) > MAX_CREDENTIAL_LENGTH:
        assert result is CredentialProblem.TOO_LONG
    elif any(not 0x20 <= byte <= 0x7E for byte in value):
        assert result is CredentialProblem.MALFORMED
    elif not value.strip(b" "):
        assert result is CredentialProblem.EMPTY
    else:
        assert isinstance(result, str | CredentialProblem)
        if isinstance(result, str):
            assert _is_clean_token(result)


token_chars = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


@given(
    st.text(token_chars, min_size=1, max_size=100),
    st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"]),
    st.integers(1, 5),
    st.integers(0, 3),
)
def test_any_bearer_token_round_trips(token: str, scheme: str, gap: int, pad: int) -> None:
    value = " " * pad + scheme + " " * gap + token + " " * pad
    assert extract_key(auth(value)) == token


@given(st.text(token_chars, min_size=1, max_size=100))
def test_any_raw_token_round_trips(token: str) -> None:
    expected = CredentialProblem.EMPTY if token.lower() == "bearer" else token
    assert extract_key(auth(token)) == expected
    assert extract_key([(b"x-api-key", token.encode())], accept_x_api_key=True) == token


@pytest.mark.parametrize(
    "value",
    [b"abc", b"req_01J9ZV2Y4M8W6T3Q5R7P9N1K0H", b"a.b_c:d-e", b"0", b"A" * 128],
)
def test_sane_request_ids_are_echoed(value: bytes) -> None:
    assert sane_request_id(value) == value.decode()


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"A" * 129,
        b"abc def",
        b"abc\n",
        b"abc\r\nSet-Cookie: x=1",
        b"abc/def",
        b"<script>",
        "caf\u00e9".encode(),
        b"\xff",
        b"abc\x00",
    ],
)
def test_other_request_ids_are_dropped(value: bytes | None) -> None:
    assert sane_request_id(value) is None


@given(st.binary(max_size=200))
def test_request_id_is_safe_or_none(value: bytes) -> None:
    result = sane_request_id(value)
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")
    if result is not None:
        assert 1 <= len(result) <= 128
        assert set(result) <= allowed
        assert result.encode() == value
    else:
        assert not (1 <= len(value) <= 128 and set(value.decode("latin-1")) <= allowed)
