"""CURVE settings from key files, by the same rules as the C clients
(docs/security.md): both files or neither, the secret key file mode 0600 or
stricter, each file one line of 40 Z85 characters."""
import os

import zmq

SIGNATURE = b"CF01"         # frame 0 of every intake message (docs/protocol.md)


def read_key(path):
    """The one Z85 line of a key file, as bytes."""
    with open(path, "rb") as f:
        key = f.read().strip()
    if len(key) != 40:
        raise ValueError(f"{path}: not a key file (one line of 40 Z85 characters)")
    return key


def curve_keys(secret_file=None, server_file=None):
    """(secret, public, server key) for a CURVE client, or None for plain
    when neither file is given. ValueError or OSError when they are wrong."""
    if not secret_file and not server_file:
        return None
    if not secret_file or not server_file:
        raise ValueError("a CURVE client needs both its secret key file and the server's key")
    mode = os.stat(secret_file).st_mode & 0o777
    if mode & 0o077:
        raise ValueError(f"{secret_file}: mode {mode:04o} is too open for a secret key: it must "
                         f"be 0600 or stricter")
    secret = read_key(secret_file)
    return secret, zmq.curve_public(secret), read_key(server_file)


def apply(sock, keys):
    """Makes sock (before connect) a CURVE client with keys; None: plain."""
    if keys:
        sock.curve_secretkey, sock.curve_publickey, sock.curve_serverkey = keys
    return sock
