"""`SecretScanningEndpoint`: the URL GitHub's secret scanning partner program posts leaked
keyguard keys to. Mount it in the app, outside the keys the middleware asks for:

    leaks = SecretScanningEndpoint(guard)
    app = Starlette(
        routes=[..., Route("/github/secret-scanning", leaks)],
        middleware=[Middleware(APIKeyMiddleware, guard=guard,
                               public_paths=["/github/secret-scanning"])],
    )

Nothing is read past the signature check until it holds: a request that GitHub did not sign,
one too large, or one already handled is refused without a lookup, and touches no key.
"""

from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from keyguard._guard import KeyGuard
from keyguard.core import ErrorCode, KeyguardError, KeyHasher, UnavailableError
from keyguard.services import LeakAction, LeakReports

from .._errors import STATUS_FOR_CODE, keyguard_error_response
from .._json import error_response, request_id
from .public_keys import DEFAULT_PUBLIC_KEYS_URL, GitHubPublicKeys, SignatureCheck
from .replays import ReplayMemory
from .report import MAX_TOKENS, ReportedToken, answer_body, parse_report

__all__ = ["DEFAULT_MAX_BODY_SIZE", "SecretScanningEndpoint"]

logger = logging.getLogger(__name__)
DEFAULT_MAX_BODY_SIZE = 256 * 1024
_IDENTIFIER_HEADER = b"github-public-key-identifier"
_SIGNATURE_HEADER = b"github-public-key-signature"
_SIGNATURE_MESSAGES = {
    SignatureCheck.INVALID: "The report's signature does not check out.",
    SignatureCheck.UNKNOWN_KEY: "The report is signed with a key GitHub does not publish.",
}


class Refused(KeyguardError):
    """A request refused before any key was looked at."""

    def __init__(
        self, code: ErrorCode, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.headers = headers


class SecretScanningEndpoint:
    def __init__(
        self,
        guard: KeyGuard,
        *,
        public_keys_url: str = DEFAULT_PUBLIC_KEYS_URL,
        github_token: str | None = None,
        action: LeakAction | str = LeakAction.REVOKE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_tokens: int = MAX_TOKENS,
        public_keys: GitHubPublicKeys | None = None,
    ) -> None:
        self.guard = guard
        self.public_keys = public_keys or GitHubPublicKeys(public_keys_url, token=github_token)
        previous = [KeyHasher(p) for p in guard.settings.previous_peppers]
        self.leaks = LeakReports(guard.manager, previous_hashers=previous, action=action)
        self.replays = ReplayMemory()
        self.max_body_size = max_body_size
        self.max_tokens = max_tokens

    def __repr__(self) -> str:
        return f"SecretScanningEndpoint({self.public_keys!r}, action={self.leaks.action.value!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a mounted app sees no lifespan; no websockets here
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        rid = request_id(scope)
        try:
            response = await self._answer(scope, receive, rid)
        except Refused as exc:
            status, headers = STATUS_FOR_CODE[exc.code], exc.headers
            response = error_response(exc.code, exc.message, rid, status=status, headers=headers)
        except KeyguardError as exc:
            response = keyguard_error_response(exc, rid)
        except Exception:
            # Whatever failed, no key was let through: 503, and GitHub sends the report again.
            logger.exception("a secret-scanning report could not be handled")
            response = keyguard_error_response(UnavailableError("report not handled"), rid)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, rid: str) -> Response:
        headers = _check_request(scope, self.max_body_size)
        body = await _read_body(receive, self.max_body_size)
        await self._check_signature(headers, body)
        claim = self.replays.claim(body)
        if claim is None:
            raise Refused(ErrorCode.CONFLICT, "This report was received already.")
        try:
            answers = await self._act(parse_report(body, max_tokens=self.max_tokens), rid)
        except BaseException:
            self.replays.release(claim)
            raise
        return Response(answer_body(answers), 200, {"x-request-id": rid}, "application/json")

    async def _check_signature(self, headers: dict[bytes, bytes], body: bytes) -> None:
        identifier = headers.get(_IDENTIFIER_HEADER, b"").decode("latin-1")
        signature = headers.get(_SIGNATURE_HEADER, b"").decode("latin-1")
        if not identifier or not signature:
            raise Refused(
                ErrorCode.INVALID_SIGNATURE,
                "Send the report with GitHub's Github-Public-Key-Identifier and"
                " Github-Public-Key-Signature headers.",
            )
        verdict = await self.public_keys.check(identifier, signature, body)
        if verdict is not SignatureCheck.VALID:
            raise Refused(ErrorCode.INVALID_SIGNATURE, _SIGNATURE_MESSAGES[verdict])

    async def _act(
        self, reported: list[ReportedToken], rid: str
    ) -> list[tuple[ReportedToken, bool]]:
        await self.guard.start(wait=False)  # a no-op once the app's lifespan (or middleware) did
        ours: dict[str, bool] = {}
        for item in reported:
            if item.token not in ours:  # a token reported twice is acted on once
                finding = await self.leaks.report(
                    item.token, where=item.url, source=item.source, request_id=rid
                )
                ours[item.token] = finding.ours
        return [(item, ours[item.token]) for item in reported]


def _check_request(scope: Scope, max_body_size: int) -> dict[bytes, bytes]:
    if scope["method"] != "POST":
        raise Refused(
            ErrorCode.METHOD_NOT_ALLOWED, "Send reports with POST.", headers={"allow": "POST"}
        )
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name, value)  # the first of each, as everywhere in keyguard
    media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    if media_type != b"application/json":
        raise Refused(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the report as application/json.")
    length = headers.get(b"content-length", b"0")
    if not length.isdigit() or int(length) > max_body_size:
        raise _too_large(max_body_size)
    return headers


async def _read_body(receive: Receive, max_body_size: int) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(ErrorCode.VALIDATION_ERROR, "The report was cut short.")
        body += message.get("body", b"")
        if len(body) > max_body_size:  # a chunked body, or a Content-Length that lied
            raise _too_large(max_body_size)
        if not message.get("more_body", False):
            return bytes(body)


def _too_large(max_body_size: int) -> Refused:
    return Refused(ErrorCode.PAYLOAD_TOO_LARGE, f"A report must be at most {max_body_size} bytes.")
