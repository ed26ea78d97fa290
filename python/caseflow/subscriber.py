"""Subscriber: receives caseflow's notifications (docs/protocol.md, section 4;
docs/notifications.md).

A SUB socket on the broker's notification endpoint, subscribed to topic
prefixes ("case.", "alert.overdue.", "" for all). It keeps the last seq per
(publisher, topic) and says on each notification how many were missed before
it on that pair (a slow subscriber whose queue overflowed at the broker; a
new publisher is a restarted broker, whose sequences start again). It drops
a notification whose outbox id is at or before the last one seen of its
stream (a restarted broker publishes its last batch again) or before the
cursors of a SNAPSHOT it took: snapshot() plus what follows misses nothing
and repeats nothing.
"""
import re
import time

import msgpack
import zmq

from . import curve as _curve
from ._owner import SocketOwner

SETTLE = 0.3                # seconds for a subscription to reach the broker
RCVHWM = 100000             # notifications queued here before the broker drops
MAX_PAIRS = 100000          # (publisher, topic) pairs checked for gaps, as in C
_ID = re.compile(r"(?:s(\d+)|p)-(\d+)-(\d+)\Z")


class Notification:
    """One notification: topic, body (the map, envelope keys included),
    publisher, seq, id (None when not from an outbox), time (Unix ms),
    missed (notifications missed on its (publisher, topic) just before it)
    and last (the pair's previous seq, 0 when new)."""
    __slots__ = ("topic", "body", "publisher", "seq", "id", "time", "missed", "last")

    def __init__(self, topic, body, missed=0, last=0):
        self.topic, self.body, self.missed, self.last = topic, body, missed, last
        self.publisher = body.get("publisher")
        self.seq = body.get("seq")
        self.id = body.get("id")
        self.time = body.get("time")

    def __repr__(self):
        return f"Notification({self.topic!r}, seq={self.seq}, missed={self.missed})"


def _stream(note_id):
    """(stream, (ms, n)) of an outbox id "s<shard>-<ms>-<n>" or "p-<ms>-<n>";
    None when it does not parse. Ids compare as pairs of numbers."""
    m = _ID.match(note_id) if isinstance(note_id, str) else None
    if not m:
        return None
    return (f"s{m.group(1)}" if m.group(1) is not None else "p",
            (int(m.group(2)), int(m.group(3))))


class Subscriber(SocketOwner):
    """A subscriber of the broker's notification endpoint (tcp://HOST:PORT)
    to prefixes (all topics when none). intake: the broker's producers'
    endpoint, for snapshot(). curve: curve_keys(...) for CURVE, None for
    plain. Iterating yields notifications as they come. Not thread-safe."""

    def __init__(self, endpoint, prefixes=(), *, intake=None, curve=None, context=None):
        self.endpoint, self.intake, self.curve = endpoint, intake, curve
        self.missed = 0             # the sum of the notifications' missed counts
        self.repeats = 0            # dropped as seen already or in the snapshot
        self.received = 0
        self._last_seq = {}         # (publisher, topic) -> last seq
        self._last_id = {}          # outbox stream -> (ms, n) of the last id
        self._own(context)
        self._sock = _curve.apply(self._ctx.socket(zmq.SUB), curve)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.RCVHWM, RCVHWM)
        for prefix in prefixes or ("",):
            self._sock.setsockopt(zmq.SUBSCRIBE,
                                  prefix.encode() if isinstance(prefix, str) else prefix)
        self._sock.connect(endpoint)

    def snapshot(self, timeout=10.0):
        """The current state of the notifications (a dict: cursors, figures,
        returns, open_alerts, last_milestones; docs/notifications.md, "Late
        joiners"), asked of the intake endpoint; every later notification
        it holds already is dropped. RuntimeError when the broker answers
        ERROR, TimeoutError when it does not answer in time."""
        if not self.intake:
            raise ValueError("snapshot: no intake endpoint given")
        time.sleep(SETTLE)          # subscribed first: what follows is not lost
        dealer = _curve.apply(self._ctx.socket(zmq.DEALER), self.curve)
        dealer.setsockopt(zmq.LINGER, 0)
        try:
            dealer.connect(self.intake)
            dealer.send_multipart([_curve.SIGNATURE, b"SNAPSHOT", b"snapshot-1"])
            if not dealer.poll(int(timeout * 1000), zmq.POLLIN):
                raise TimeoutError(f"no snapshot from {self.intake} within {timeout:g} s")
            frames = dealer.recv_multipart()
        finally:
            dealer.close()
        if len(frames) == 4 and frames[1] == b"ERROR":
            raise RuntimeError("snapshot: " + frames[3].decode("utf-8", "replace"))
        state = msgpack.unpackb(frames[3], raw=False) if len(frames) == 4 \
            and frames[1] == b"SNAPSHOT" else None
        if not isinstance(state, dict) or not isinstance(state.get("cursors"), dict):
            raise RuntimeError(f"snapshot: malformed answer from {self.intake}")
        for field, cursor in state["cursors"].items():
            if isinstance(cursor, str):
                self._repeat(f"p-{cursor}" if field == "pub" else f"{field}-{cursor}")
        return state

    def _repeat(self, note_id):
        """True when note_id is at or before the last id of its stream;
        else records it. An id that does not parse is never a repeat."""
        parsed = _stream(note_id)
        if parsed is None:
            return False
        stream, position = parsed
        last = self._last_id.get(stream)
        if last is not None and position <= last:
            return True
        self._last_id[stream] = position
        return False

    def _see(self, publisher, topic, seq):
        """(missed, last) for seq on (publisher, topic), recording it."""
        key = (publisher, topic)
        if key not in self._last_seq and len(self._last_seq) >= MAX_PAIRS:
            return 0, 0
        last = self._last_seq.get(key, 0)
        self._last_seq[key] = seq
        return (seq - last - 1 if last and seq > last + 1 else 0), last

    def recv(self, timeout=None):
        """The next notification that is not a repeat, waiting up to timeout
        seconds (None: as long as it takes); None when none came in time. A
        body that is not a msgpack map comes as {"topic", "error"}."""
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = None if until is None else max(0, int((until - time.monotonic()) * 1000))
            if not self._sock.poll(wait, zmq.POLLIN):
                return None
            frames = self._sock.recv_multipart()
            topic = frames[0].decode("utf-8", "replace")
            try:
                body = msgpack.unpackb(frames[1], raw=False) if len(frames) >= 2 else None
            except Exception:   # noqa: BLE001 - any undecodable body is reported as such
                body = None
            if not isinstance(body, dict):
                self.received += 1
                return Notification(topic, {"topic": topic, "error": "body is not a msgpack map"})
            missed = last = 0
            seq, publisher = body.get("seq"), body.get("publisher")
            if isinstance(publisher, str) and isinstance(seq, int) and seq > 0:
                missed, last = self._see(publisher, topic, seq)
                self.missed += missed
            if self._repeat(body.get("id")):
                self.repeats += 1
                continue
            self.received += 1
            return Notification(topic, body, missed, last)

    def __iter__(self):
        while True:
            note = self.recv()
            if note is not None:
                yield note
