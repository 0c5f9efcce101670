"""Layer 2, the ports: the protocols the services depend on and the adapters implement."""

from ._store import KeyStore, KeyTransaction, StoredKey

__all__ = ["KeyStore", "KeyTransaction", "StoredKey"]
