"""One engine per database protocol: handshake, backend login, relay, statement hand-off."""
