"""Wire protocols, sans-IO: bytes in, typed messages out. No sockets, no trio, no policy."""
