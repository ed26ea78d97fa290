"""What Producer and Subscriber share: a socket on a ZeroMQ context that they
own unless the caller gave one, both closed by close() or at the end of a
with block."""
import zmq


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
