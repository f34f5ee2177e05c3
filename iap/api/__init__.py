"""The gateway's HTTP control API (ASGI)."""
