"""The `iap` command line: agent commands and the gateway/operator commands."""
