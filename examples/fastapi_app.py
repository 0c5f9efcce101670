"""The same shop in FastAPI: the middleware authenticates, dependencies hand routes the key, and
/docs gets an "Authorize" button for it.

    keyguard keys create --name "my laptop" --env test --access secret
    keyguard keys create --name "web shop" --env test --access publishable
    uvicorn examples.fastapi_app:app        # then open http://127.0.0.1:8000/docs
    curl -H "Authorization: Bearer pk_test_..." http://127.0.0.1:8000/products

Needs `pip install 'keyguard[fastapi,server]'`; settings come from KEYGUARD_* variables.
"""

from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel

from keyguard import APIKeyMiddleware, KeyGuard, KeyRecord
from keyguard.fastapi import api_key, install_error_handlers, require

guard = KeyGuard.from_env()
app = FastAPI(title="Shop")
app.add_middleware(
    APIKeyMiddleware,
    guard=guard,
    public_paths=["/health", "/docs", "/openapi.json"],
    publishable_routes=["GET /products"],  # all a pk_* key may call; sk_* keys may call anything
)
install_error_handlers(app)  # every error (404, 422 as 400, 403, 500) in keyguard's envelope

Key = Annotated[KeyRecord, Depends(api_key)]
SecretKey = Annotated[KeyRecord, Depends(require(access="secret"))]
LiveSecretKey = Annotated[KeyRecord, Depends(require(access="secret", environment="live"))]

products: dict[str, list[dict[str, object]]] = {
    "test": [{"name": "Test Mug", "price": 1.0}],
    "live": [{"name": "Ceramic Mug", "price": 14.0}],
}


class NewProduct(BaseModel):
    name: str
    price: float


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/products")
async def list_products(key: Key) -> list[dict[str, object]]:
    return products.get(key.environment, [])  # test keys see test data


@app.post("/products", status_code=201)
async def create_product(product: NewProduct, key: SecretKey) -> dict[str, object]:
    item = product.model_dump()
    products.setdefault(key.environment, []).append(item)
    return item


@app.post("/payouts", status_code=202)
async def create_payout(key: LiveSecretKey) -> dict[str, str]:
    return {"status": "scheduled", "account": key.account}  # a test key gets 403 here
