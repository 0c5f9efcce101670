"""A bare ASGI callable behind keyguard: wrap it, and every request it sees carries a valid key.

Mint a key (its value is printed this once), serve the app, call it:

    keyguard keys create --name "my laptop" --env test --access secret
    uvicorn examples.bare_asgi:app
    curl -H "Authorization: Bearer sk_test_..." http://127.0.0.1:8000/
"""

from starlette.types import Receive, Scope, Send

from keyguard import APIKeyMiddleware, KeyGuard


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":  # answer it, so the middleware starts and stops the guard
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    key = scope["state"]["api_key"]  # the verified key's record, attached by the middleware
    body = f"Hello, {key.name}: you are seeing {key.environment} data.\n".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app = APIKeyMiddleware(hello, guard=KeyGuard.from_env())
