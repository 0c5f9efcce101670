"""The demo's first run: two test keys when the database has none, and what to paste to try them."""

from __future__ import annotations

from collections.abc import Sequence

from keyguard._guard import KeyGuard
from keyguard._report import describe_store
from keyguard.core import Access, CreatedKey, KeyQuery, KeyStatus

__all__ = ["DEMO_ACCOUNT", "demo_banner", "ensure_demo_keys", "store_location"]

DEMO_ACCOUNT = "demo"
_NEW_PRODUCT = """'{"name": "Demo Mug", "price": 9.5}'"""


async def ensure_demo_keys(guard: KeyGuard) -> list[CreatedKey]:
    """A secret and a publishable test key for account "demo" when the database has no active
    key, else nothing: a value is shown only when minted, so existing keys have none to show.

    Starts the guard if it is not started (the server's lifespan stops it).
    """
    await guard.start()
    if (await guard.manager.list(KeyQuery(status=KeyStatus.ACTIVE, limit=1))).items:
        return []
    environments = guard.key_format.environments
    environment = "test" if "test" in environments else environments[0]
    return [
        await guard.manager.create(
            account=DEMO_ACCOUNT,
            name=f"Demo {access.value} key",
            environment=environment,
            access=access,
            actor="demo",
        )
        for access in (Access.SECRET, Access.PUBLISHABLE)
    ]


_SQLITE_FILE = "sqlite:///"


def store_location(guard: KeyGuard) -> str:
    """Where the guard keeps its keys, for people: as the start-up line says it (a SQLite
    file by its absolute path, else the URL masked), with how to start over from a file."""
    where = describe_store(guard.settings.database_url)
    if where.startswith(_SQLITE_FILE):
        return f"{where.removeprefix(_SQLITE_FILE)} (delete the file to start over)"
    return where


def demo_banner(
    keys: Sequence[CreatedKey],
    base_url: str,
    *,
    admin_sign_in: str | None = None,
    store: str | None = None,
) -> str:
    """What `keyguard demo` prints: where its keys are stored (`store_location`), the new keys'
    values, if any, curl lines to paste, and the admin page's one-time sign-in link (or how to
    get the page) next to them."""
    base = base_url.rstrip("/")
    secret = _value(keys, Access.SECRET)
    publishable = _value(keys, Access.PUBLISHABLE)
    lines = [
        f"keyguard demo: a storefront API at {base}",
        *([] if store is None else [f"Key store: {store}"]),
        "",
        *_about_keys(keys, secret, publishable),
    ]
    lines += ["", "Try it:", *_curl_lines(base, secret, publishable), "", *_admin(admin_sign_in)]
    return "\n".join(lines) + "\n"


def _value(keys: Sequence[CreatedKey], access: Access) -> str:
    for key in keys:
        if key.record.access is access:
            return key.value
    return f"{access.code}_test_..."


def _about_keys(keys: Sequence[CreatedKey], secret: str, publishable: str) -> list[str]:
    if not keys:
        create = "  keyguard keys create --account demo --env test"
        return [
            "The database already has active keys, so none were minted: a key's value is shown",
            "only once, when it is made. Mint two, and use them for sk_test_... and pk_test_...:",
            f"{create} --name 'Demo secret key' --access secret",
            f"{create} --name 'Demo publishable key' --access publishable",
        ]
    return [
        f'Minted two keys for account "{DEMO_ACCOUNT}". Copy them now: they are never shown again.',
        f"  secret       {secret}",
        f"  publishable  {publishable}",
    ]


def _curl_lines(base: str, secret: str, publishable: str) -> list[str]:
    json_type = '-H "Content-Type: application/json"'
    return [
        "  # no key needed: what to try, and whether the service is up",
        f"  curl {base}/",
        f"  curl {base}/health",
        "  # the key you are using (metadata only, never the value)",
        f'  curl -H "Authorization: Bearer {secret}" {base}/v1/me',
        "  # a publishable key reads the catalogue; test keys see test data",
        f'  curl -H "Authorization: Bearer {publishable}" {base}/v1/storefront/products',
        "  # a secret key can add a product: 201",
        f'  curl -X POST -H "Authorization: Bearer {secret}" {json_type} \\',
        f"       -d {_NEW_PRODUCT} {base}/v1/storefront/products",
        "  # a publishable key cannot: 403 FORBIDDEN",
        f'  curl -X POST -H "Authorization: Bearer {publishable}" {json_type} \\',
        f"       -d {_NEW_PRODUCT} {base}/v1/storefront/products",
        "  # no key, or a wrong one: 401 INVALID_API_KEY",
        f"  curl {base}/v1/storefront/products",
    ]


def _admin(sign_in: str | None) -> list[str]:
    if sign_in is None:
        return ["The admin page needs its extra: pip install 'keyguard[admin]'"]
    return [
        "Manage keys in a browser (Settings -> API keys); this link signs you in once:",
        f"  {sign_in}",
    ]
