"""The MySQL/MariaDB client/server protocol, sans-IO: packets, messages, answers, auth.

`packets` frames bytes, `messages` reads and writes the handshake, OK/ERR/EOF and commands,
`responses` follows the server's answers without decoding rows, `auth` answers a server's
authentication requests. Nothing here does I/O or imports from ``iap``.
"""
