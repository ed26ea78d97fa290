"""Subscriber: receives caseflow's notifications (docs/protocol.md, section 4;
docs/notifications.md).

A SUB socket on the broker's notification endpoint, subscribed to topic
prefixes ("case.", "alert.overdue.", "" for all). It keeps the last seq per
(publisher, topic) and says on each notification how many were missed before
it on that pair (a slow subscriber whose queue overflowed at the broker; a
new publisher is a restarted broker, whose sequences start again). It drops
a notification whose outbox id it delivered lately (a restarted broker
publishes its last batch again; with several brokers, two may publish one
entry) or that is at or before the cursors of a SNAPSHOT it took: snapshot()
plus what follows misses nothing and repeats nothing.

With several brokers, endpoint lists every one's notification endpoint,
comma-separated: the socket is connected to each (each publishes a part of
the notifications), and the repeats are dropped by id with a memory of the
last RECENT_IDS ids, as caseflow-watch does (docs/notifications.md, "Several
brokers"); an id at or before the newest one forgotten of its stream counts
as seen.
"""
import collections
import re
import time

import msgpack
import zmq

from . import curve as _curve
from ._owner import SocketOwner, endpoints as _endpoints

SETTLE = 0.3                # seconds for a subscription to reach the broker
RCVHWM = 100000             # notifications queued here before the broker drops
MAX_PAIRS = 100000          # (publisher, topic) pairs checked for gaps, as in C
RECENT_IDS = 65536          # outbox ids remembered, as in C (CF_RECENT_IDS)
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
    """A subscriber of the broker's notification endpoint (tcp://HOST:PORT;
    with several brokers, every one's, comma-separated) to prefixes (all
    topics when none). intake: the broker's producers' endpoint (or the
    brokers', comma-separated: the first that answers), for snapshot(). curve: curve_keys(...) for CURVE, None for
    plain. Iterating yields notifications as they come. Not thread-safe."""

    def __init__(self, endpoint, prefixes=(), *, intake=None, curve=None, context=None):
        self.endpoint, self.intake, self.curve = endpoint, intake, curve
        self.missed = 0             # the sum of the notifications' missed counts
        self.repeats = 0            # dropped as seen already or in the snapshot
        self.received = 0
        self._last_seq = {}         # (publisher, topic) -> last seq
        self._recent = collections.OrderedDict()   # (stream, (ms, n)) delivered lately
        self._floor = {}            # stream -> (ms, n): at or before it counts as seen
        self._own(context)
        self._sock = _curve.apply(self._ctx.socket(zmq.SUB), curve)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.RCVHWM, RCVHWM)
        for prefix in prefixes or ("",):
            self._sock.setsockopt(zmq.SUBSCRIBE,
                                  prefix.encode() if isinstance(prefix, str) else prefix)
        for one in _endpoints(endpoint):
            self._sock.connect(one)

    def snapshot(self, timeout=10.0):
        """The current state of the notifications (a dict: cursors, figures,
        returns, open_alerts, last_milestones; docs/notifications.md, "Late
        joiners"), asked of the intake endpoint; every later notification
        it holds already is dropped. RuntimeError when the broker answers
        ERROR, TimeoutError when it does not answer in time."""
        if not self.intake:
            raise ValueError("snapshot: no intake endpoint given")
        time.sleep(SETTLE)          # subscribed first: what follows is not lost
        intakes = _endpoints(self.intake)   # any broker's will do: they share one Redis
        for n, intake in enumerate(intakes):
            try:
                frames = self._ask_snapshot(intake, timeout / len(intakes))
                break
            except TimeoutError:
                if n == len(intakes) - 1:
                    raise
        if len(frames) == 4 and frames[1] == b"ERROR":
            raise RuntimeError("snapshot: " + frames[3].decode("utf-8", "replace"))
        state = msgpack.unpackb(frames[3], raw=False) if len(frames) == 4 \
            and frames[1] == b"SNAPSHOT" else None
        if not isinstance(state, dict) or not isinstance(state.get("cursors"), dict):
            raise RuntimeError(f"snapshot: malformed answer from {self.intake}")
        for field, cursor in state["cursors"].items():
            parsed = _stream(f"p-{cursor}" if field == "pub" else f"{field}-{cursor}") \
                if isinstance(cursor, str) else None
            if parsed is not None:
                self._raise_floor(*parsed)
        return state

    def _ask_snapshot(self, intake, timeout):
        """The answer's frames from the broker at intake; TimeoutError."""
        dealer = _curve.apply(self._ctx.socket(zmq.DEALER), self.curve)
        dealer.setsockopt(zmq.LINGER, 0)
        try:
            dealer.connect(intake)
            dealer.send_multipart([_curve.SIGNATURE, b"SNAPSHOT", b"snapshot-1"])
            if not dealer.poll(int(timeout * 1000), zmq.POLLIN):
                raise TimeoutError(f"no snapshot from {intake} within {timeout:g} s")
            return dealer.recv_multipart()
        finally:
            dealer.close()

    def _raise_floor(self, stream, position):
        if position > self._floor.get(stream, (-1, -1)):
            self._floor[stream] = position

    def _repeat(self, note_id):
        """True when note_id was delivered lately (among the last RECENT_IDS)
        or is at or before its stream's floor (a snapshot's cursor, or the
        newest id of the stream forgotten); else records it. An id that
        does not parse is never a repeat."""
        parsed = _stream(note_id)
        if parsed is None:
            return False
        stream, position = parsed
        if parsed in self._recent or position <= self._floor.get(stream, (-1, -1)):
            return True
        self._recent[parsed] = True
        if len(self._recent) > RECENT_IDS:
            self._raise_floor(*self._recent.popitem(last=False)[0])
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
