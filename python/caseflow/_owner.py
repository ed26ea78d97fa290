"""What Producer and Subscriber share: a socket on a ZeroMQ context that they
own unless the caller gave one, both closed by close() or at the end of a
with block; and the list of endpoints they take with several brokers."""
import zmq

MAX_ENDPOINTS = 16          # brokers one client may name, as in C (cf_endpoints)


def endpoints(text):
    """The endpoints of "tcp://b1:5570,tcp://b2:5570" (or of one endpoint,
    or of a list or tuple of them), blanks around each dropped. ValueError
    when the list is empty, has an empty element or a repeated one, or
    more than MAX_ENDPOINTS."""
    items = list(text) if isinstance(text, (list, tuple)) else str(text).split(",")
    items = [item.strip() for item in items]
    if not items or any(not item for item in items):
        raise ValueError(f"endpoints {text!r}: an empty endpoint in the list")
    if len(set(items)) != len(items):
        raise ValueError(f"endpoints {text!r}: an endpoint listed twice")
    if len(items) > MAX_ENDPOINTS:
        raise ValueError(f"endpoints {text!r}: more than {MAX_ENDPOINTS}")
    return items


class SocketOwner:
    def _own(self, context):
        self._own_ctx = context is None
        self._ctx = context or zmq.Context()
        self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Closes the socket, and the context when it is this object's."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._own_ctx:
            self._ctx.term()
            self._own_ctx = False
