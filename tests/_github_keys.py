"""GitHub's side of secret scanning, played by the tests: P-256 signing keys of their own, and
a real HTTP server on 127.0.0.1 that publishes them as GitHub's public-key document does."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

DOCUMENT_PATH = "/meta/public_keys/secret_scanning"


class SigningKey:
    """A key pair as GitHub holds one: its id is the SHA-256 of the public key, in hex."""

    def __init__(self, curve: ec.EllipticCurve | None = None) -> None:
        self.private = ec.generate_private_key(curve or ec.SECP256R1())
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.identifier = hashlib.sha256(der).hexdigest()

    @property
    def pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, body: bytes) -> str:
        return base64.b64encode(self.private.sign(body, ec.ECDSA(hashes.SHA256()))).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "github-public-key-identifier": self.identifier,
            "github-public-key-signature": self.sign(body),
        }

    def entry(self, *, current: bool = True) -> dict[str, Any]:
        return {"key_identifier": self.identifier, "key": self.pem, "is_current": current}


def document(*keys: SigningKey) -> bytes:
    return json.dumps({"public_keys": [key.entry() for key in keys]}).encode()


def report(*tokens: str, url: str = "https://github.com/octo/repo/blob/1/app.py") -> bytes:
    items = [
        {"token": t, "type": "keyguard_api_key", "url": url, "source": "content"} for t in tokens
    ]
    return json.dumps(items).encode()


class KeyDocumentServer:
    """Serves `body` with `status` at DOCUMENT_PATH; counts the requests it answered."""

    def __init__(self, *keys: SigningKey) -> None:
        self.body = document(*keys)
        self.status = 200
        self.requests = 0
        self.not_modified = 0
        self.authorizations: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                owner.authorizations.append(self.headers.get("authorization"))
                etag = '"' + hashlib.sha256(owner.body).hexdigest() + '"'
                if owner.status == 200 and self.headers.get("if-none-match") == etag:
                    owner.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                found = self.path == DOCUMENT_PATH
                self.send_response(owner.status if found else 404)
                self.send_header("etag", etag)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the tests' output is for what they assert

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{DOCUMENT_PATH}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def publish(self, *keys: SigningKey) -> None:
        self.body = document(*keys)

    def __enter__(self) -> KeyDocumentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
