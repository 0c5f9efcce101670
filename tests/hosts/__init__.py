"""The revocation bound across hosts: three Linux network namespaces, each with a server of
its own, on the real PostgreSQL and Redis of the root namespace (needs root, as CI runs)."""
