"""An existing Starlette app behind keyguard: one middleware line.

Mint a key (its value is printed this once), serve the app, call it:

    keyguard keys create --name "my laptop" --env test --access secret
    uvicorn examples.starlette_app:app
    curl -H "Authorization: Bearer sk_test_..." http://127.0.0.1:8000/orders

The guard reads KEYGUARD_DATABASE_URL (default sqlite:///keyguard.db, as the CLI does),
KEYGUARD_PEPPER and KEYGUARD_REDIS_URL from the environment.
"""

from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from keyguard import APIKeyMiddleware, KeyGuard
from keyguard.web import install_error_handlers

guard = KeyGuard.from_env()
orders: dict[str, list[dict[str, str]]] = {"test": [], "live": []}


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def list_orders(request: Request) -> JSONResponse:
    key = request.state.api_key  # the verified key: id, name, account, environment, access...
    return JSONResponse({"orders": orders.get(key.environment, [])})  # test keys see test data


async def create_order(request: Request) -> JSONResponse:
    key = request.state.api_key
    try:
        order = {"item": str((await request.json())["item"]), "placedBy": key.name}
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": 'send JSON such as {"item": "mug"}'}, status_code=400)
    orders.setdefault(key.environment, []).append(order)
    return JSONResponse(order, status_code=201)


@requires("authenticated")  # Starlette's own auth helpers work on what keyguard attaches
async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"key": request.user.display_name, "scopes": request.auth.scopes})


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/orders", list_orders, methods=["GET"]),
        Route("/orders", create_order, methods=["POST"]),
        Route("/whoami", whoami),
    ],
    # The one line. It also starts the guard with the app and stops it (flushing) after.
    middleware=[Middleware(APIKeyMiddleware, guard=guard, public_paths=["/health"])],
)
install_error_handlers(app)  # 404, 405, @requires' 403, 500: the same envelope as refusals
