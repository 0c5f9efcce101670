"""The change log's contract, unchanged, through PgBouncer (the `store` fixture of this
directory)."""

from tests.stores.test_change_log import *  # noqa: F403
