"""iap: an identity-aware access proxy for PostgreSQL and MySQL (the gateway side)."""

__version__ = "0.1.0"
