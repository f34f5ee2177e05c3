"""The user-side agent: login, connect (local port -> TLS tunnel), approvals, token storage.

It never imports the gateway's heavy modules (parsers, store) so `iap login` starts fast.
"""
