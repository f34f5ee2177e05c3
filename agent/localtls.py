"""TLS on the agent's local ports (`iap connect --tls`).

Made once under `$IAP_HOME/tls/`: a CA (`ca.pem`, the file clients trust) and a certificate
for localhost and 127.0.0.1 signed by it, by the same code that makes the gateway's own
(iap/tls.py: reused, re-issued when it nears its end). Imported only under --tls.
"""

from __future__ import annotations

import ssl

from agent.state import home

NAMES = ["localhost", "127.0.0.1"]


def local_tls() -> tuple[ssl.SSLContext, str]:
    """The server context for local clients, and the path of the CA they verify with."""
    from iap.tls import ensure_generated, server_context

    files = ensure_generated(home() / "tls", NAMES)
    assert files.ca is not None
    return server_context(files), str(files.ca)
