"""The demo's in-memory catalogue: one set of products per environment.

Test and live data are kept apart the way a real service would keep them: the environment comes
from the verified key, so a test key can neither read nor change live products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keyguard.core import FieldIssue, ValidationError, validate_name

__all__ = ["MAX_PRICE", "Catalogue", "Product", "parse_new_product"]

MAX_PRICE = 1_000_000
_SEED = {
    "test": [("Test Mug", 1.0), ("Test T-shirt", 2.0)],
    "live": [("Ceramic Mug", 14.0), ("Organic T-shirt", 24.0), ("Canvas Tote", 18.5)],
}


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    name: str
    price: float
    environment: str
    currency: str = "USD"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "currency": self.currency,
            "environment": self.environment,
        }


class Catalogue:
    def __init__(self) -> None:
        self._products: dict[str, dict[str, Product]] = {}
        for environment, items in _SEED.items():
            for name, price in items:
                self.add(environment, name, price)

    def list(self, environment: str) -> list[Product]:
        return list(self._products.get(environment, {}).values())

    def get(self, environment: str, product_id: str) -> Product | None:
        return self._products.get(environment, {}).get(product_id)

    def add(self, environment: str, name: str, price: float) -> Product:
        products = self._products.setdefault(environment, {})
        product = Product(f"prod_{len(products) + 1}", name, price, environment)
        products[product.id] = product
        return product


def parse_new_product(body: object) -> tuple[str, float]:
    """`{"name": str, "price": number}` as (name, price); every problem in one ValidationError."""
    if not isinstance(body, dict):
        raise ValidationError.single("body", "must be a JSON object")
    issues: list[FieldIssue] = []
    name = ""
    try:
        name = validate_name(body.get("name"))
    except ValidationError as exc:
        issues.extend(exc.issues)
    price = _price(body.get("price"))
    if price is None:
        issues.append(FieldIssue("price", f"must be a number from 0 to {MAX_PRICE}"))
    if issues or price is None:
        raise ValidationError(issues)
    return name, price


def _price(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # True is an int to Python, but not a price
    if not 0 <= value <= MAX_PRICE:  # also refuses NaN and infinities, which JSON can carry
        return None
    return round(float(value), 2)
