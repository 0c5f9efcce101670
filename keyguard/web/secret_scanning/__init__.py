"""GitHub's secret scanning partner program: leaked keys, reported by GitHub, revoked in
seconds. Needs the `github` extra (`pip install 'keyguard[github]'`): `cryptography` for the
ECDSA signatures, `httpx` to fetch GitHub's public keys."""

from keyguard.services import LeakAction

from .endpoint import DEFAULT_MAX_BODY_SIZE, SecretScanningEndpoint
from .public_keys import DEFAULT_PUBLIC_KEYS_URL, GitHubPublicKeys, SignatureCheck

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_PUBLIC_KEYS_URL",
    "GitHubPublicKeys",
    "LeakAction",
    "SecretScanningEndpoint",
    "SignatureCheck",
]
