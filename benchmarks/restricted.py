"""The restricted keys of issue 13 as the benchmark mints and calls them: what each may do, where
it may be used from, and the route table the middleware checks, shaped for the worst case the
issue's target names. Every list is ten entries long and the request matches only the last, so
each check runs to the end of its list; a matcher that stopped early would look cheaper than it
is for a real key.

Kept apart so that the environment (which mints the keys) and the cases (which send the
requests) read the same lists.
"""

from __future__ import annotations

__all__ = [
    "ELSEWHERE",
    "FOREIGN_ORIGIN",
    "NETWORKS",
    "ORIGIN",
    "ORIGINS",
    "PUBLISHABLE_PERMISSIONS",
    "PUBLISHABLE_ROUTES",
    "ROUTE_PERMISSIONS",
    "SECRET_PERMISSIONS",
]

PUBLISHABLE_ROUTES = ["GET /v1/ping"]
# Ten rules, eight distinct needs (the table is grouped by need, one match per group); the
# benchmarked route needs `ping:read`.
ROUTE_PERMISSIONS = {
    "GET /v1/orders": "orders:read",
    "GET /v1/orders/{id}": "orders:read",
    "POST /v1/orders": "orders:write",
    "GET /v1/products": "products:read",
    "PUT /v1/products/{id}": "products:write",
    "GET /v1/customers/{id}": "customers:read",
    "DELETE /v1/customers/{id}": "customers:write",
    "GET /v1/reports/*": "reports:read",
    "POST /v1/refunds": "refunds:write",
    "GET /v1/ping": "ping:read",
}
# Permissions are a set: no order to be last in, so the need is one of several, plus a
# `resource:*` grant that a miss of the exact set would fall back to.
SECRET_PERMISSIONS = ["orders:read", "orders:write", "products:*", "customers:read", "ping:read"]
PUBLISHABLE_PERMISSIONS = ["products:read", "catalog:*", "search:read", "ping:read"]
# The benchmark's client is 127.0.0.1 (`inprocess.http_scope`): only the last range holds it,
# IPv6 ranges among them as a dual-stack deployment would list.
NETWORKS = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "2001:db8::/32",
    "fd00::/8",
    "192.0.2.0/24",
    "127.0.0.0/8",
]
ELSEWHERE = ("198.18.0.1", 50000)  # a client outside every range: the key must be refused
# The request's Origin matches only the last entry, a wildcard: the exact set misses, and
# every wildcard before it is tried.
ORIGIN = "https://app.example.com"
ORIGINS = [
    "https://shop.example.org",
    "https://*.example.net",
    "http://localhost:3000",
    "https://checkout.example.org",
    "https://*.cdn.example.org",
    "https://example.com",
    "https://*.staging.example.com",
    "https://admin.example.io:8443",
    "https://*.example.io",
    "https://*.example.com",
]
FOREIGN_ORIGIN = "https://evil.example.org"  # in no entry: the key must be refused
