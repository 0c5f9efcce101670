"""The store contract, unchanged, through PgBouncer (the `store` fixture of this directory)."""

from tests.stores.test_store_contract import *  # noqa: F403
