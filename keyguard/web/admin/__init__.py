"""The admin page: Settings → API keys in a browser, for the people who manage keys
(`pip install 'keyguard[admin]'`, which brings Jinja2 and python-multipart).

Mount `AdminPage` in a Starlette or FastAPI app; it asks the host app who is signed in
(`identify`), or signs in with a one-time token printed on the terminal (`TokenSignIn`), as
`keyguard demo` and `keyguard admin` do. Public: pinned by tests/test_public_api.py.
"""

from importlib.util import find_spec as _find_spec

# Jinja2 renders the page; python-multipart is what Starlette reads forms with.
if _find_spec("jinja2") is None or _find_spec("python_multipart") is None:
    raise ImportError("the admin page needs its extra: pip install 'keyguard[admin]'")

from .identity import AdminIdentity, Identify
from .page import AdminPage
from .sign_in import TokenSignIn

__all__ = ["AdminIdentity", "AdminPage", "Identify", "TokenSignIn"]
