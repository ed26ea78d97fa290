"""Producer: sends events to caseflow's intake endpoint (docs/protocol.md,
section 2, "What a producer does") and answers with one Ack per event.

Events go out in PUSH requests of up to `batch` events, one msgpack map per
frame, with up to `window` requests in flight. Each ACK is matched to its
request by id and its acks to the events by position. A request without an
ACK after `timeout` seconds is resent under a new request id (the timeout
doubling up to 30 s), at most `retries` times per event; events acked busy
are sent again after a pause (0.1 s doubling to 5 s) with half as many
requests in flight, growing back by one per request answered without busy.
Resending is safe: the event_id is the idempotency key. When no event
became final for `deadline` seconds, what is left ends unacked.

With several brokers, endpoint lists their intake endpoints, comma-separated
("tcp://b1:5570,tcp://b2:5570"): the producer sends to the first, and when
the broker in use answers nothing for `timeout` seconds while requests wait
for it, moves to the next (after the last, the first again) and resends at
once every request not acknowledged. The brokers share one Redis, which
applies an event_id once, so a failover loses nothing and counts nothing
twice. `endpoint` is the one in use, `failovers` how many moves there were,
and on_failover(old, new), when given, is called at each.
"""
import collections
import os
import time

import msgpack
import zmq

from . import curve as _curve
from ._owner import SocketOwner, endpoints as _endpoints

MAX_EVENTS = 1000           # events in one PUSH (protocol section 5)
MAX_TIMEOUT = 30.0          # the resend timeout doubles up to this
FINAL = ("accepted", "duplicate", "rejected", "unacked")


class Ack:
    """How one event ended: status is accepted, duplicate (applied before:
    a success too), rejected (reason: the broker's, e.g. "persons[1].sex:
    ...") or unacked (reason: why this producer gave up)."""
    __slots__ = ("index", "event_id", "status", "reason")

    def __init__(self, index, event_id, status, reason=None):
        self.index, self.event_id, self.status, self.reason = index, event_id, status, reason

    @property
    def ok(self):
        return self.status in ("accepted", "duplicate")

    def __repr__(self):
        return (f"Ack({self.index}, {self.event_id!r}, {self.status!r}"
                + (f", {self.reason!r})" if self.reason else ")"))


class _Item:
    __slots__ = ("index", "event_id", "frame", "tries", "not_before")

    def __init__(self, index, event_id, frame):
        self.index, self.event_id, self.frame = index, event_id, frame
        self.tries = 0
        self.not_before = 0.0


def _frame(event):
    """(msgpack bytes, event_id) of an event: a dict, or bytes already packed."""
    if isinstance(event, (bytes, bytearray, memoryview)):
        return bytes(event), None
    event_id = event.get("event_id") if isinstance(event, dict) else None
    return msgpack.packb(event, use_bin_type=True), event_id


class Producer(SocketOwner):
    """A producer of the broker at endpoint (its intake, tcp://HOST:PORT; with
    several brokers, theirs, comma-separated). curve: curve_keys(...) for
    CURVE, None for plain. Not thread-safe."""

    def __init__(self, endpoint, *, batch=100, window=8, timeout=5.0, retries=5, deadline=60.0,
                 curve=None, context=None, on_failover=None):
        if not 1 <= batch <= MAX_EVENTS:
            raise ValueError(f"batch: must be 1..{MAX_EVENTS}")
        if window < 1 or timeout <= 0 or retries < 0 or deadline <= 0:
            raise ValueError("window, timeout and deadline must be positive, retries at least 0")
        self.endpoints = _endpoints(endpoint)
        self.endpoint = self.endpoints[0]   # the one in use
        self.failovers = 0                  # moves to the next endpoint
        self.on_failover = on_failover
        self.batch, self.window, self.timeout = batch, window, timeout
        self.retries, self.deadline = retries, deadline
        self.curve = curve
        self.requests = 0           # PUSH messages sent, resends included
        self.resent = 0             # event frames sent more than once
        self.busy = 0               # busy acks received
        self._own(context)
        self._counter = 0
        self._connect()

    def _connect(self, failover=False):
        """A new DEALER: after a silence, so that requests queued for a
        broker that is gone do not pile up (their replies are not needed);
        with failover and several endpoints, on the next one."""
        if self._sock is not None:
            self._sock.close()
        if failover and len(self.endpoints) > 1:
            old = self.endpoint
            self.endpoint = self.endpoints[(self.endpoints.index(old) + 1) % len(self.endpoints)]
            self.failovers += 1
            if self.on_failover:
                self.on_failover(old, self.endpoint)
        self._sock = _curve.apply(self._ctx.socket(zmq.DEALER), self.curve)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.connect(self.endpoint)

    def send(self, events, on_ack=None):
        """Sends the events (dicts, or msgpack bytes) until each is final
        and returns their Acks in the order given. on_ack(ack), when given,
        is called as each becomes final."""
        items = []
        for index, event in enumerate(events):
            frame, event_id = _frame(event)
            items.append(_Item(index, event_id, frame))
        return _Run(self, items, on_ack).run()

    def _send(self, items):
        """One PUSH of items; its request id, or None when the socket could
        not queue it (then nothing changed)."""
        self._counter += 1
        rid = f"py{os.getpid()}-{self._counter}".encode()
        try:
            self._sock.send_multipart([_curve.SIGNATURE, b"PUSH", rid]
                                      + [item.frame for item in items], zmq.NOBLOCK)
        except zmq.Again:
            return None
        for item in items:
            self.resent += item.tries > 0
            item.tries += 1
        self.requests += 1
        return rid


class _Run:
    """One Producer.send: the queue, the requests in flight, the acks."""

    def __init__(self, producer, items, on_ack):
        self.p = producer
        self.acks = [None] * len(items)
        self.left = len(items)
        self.on_ack = on_ack
        self.ready = collections.deque(items)   # to send now, in order
        self.later = []                         # to send after their not_before
        self.inflight = {}                      # request id -> (items, due)
        self.allowed = producer.window          # requests in flight allowed now
        self.busy_pause = 0.1
        self.last_reply = self.last_final = time.monotonic()

    def finish(self, item, status, reason=None, event_id=None):
        ack = Ack(item.index, event_id or item.event_id, status, reason)
        self.acks[item.index] = ack
        self.left -= 1
        self.last_final = time.monotonic()
        if self.on_ack:
            self.on_ack(ack)

    def retry(self, item, reason):
        """Back to the front of the queue, or unacked after its retries."""
        if item.tries > self.p.retries:
            self.finish(item, "unacked", reason)
        else:
            self.ready.appendleft(item)

    def run(self):
        p = self.p
        while self.left:
            now = time.monotonic()
            if now - self.last_final >= p.deadline:
                self.give_up(f"no event became final for {p.deadline:g} s")
                break
            due = [i for i in self.later if i.not_before <= now]
            if due:
                self.later = [i for i in self.later if i.not_before > now]
                self.ready.extend(due)
            self.fill(now)
            self.wait()
            self.expire()
        return self.acks

    def fill(self, now):
        p = self.p
        while self.ready and len(self.inflight) < self.allowed:
            batch = [self.ready.popleft() for _ in range(min(p.batch, len(self.ready)))]
            rid = p._send(batch)
            if rid is None:
                # the socket cannot queue it (no broker for a while): counts as a try
                for item in batch:
                    item.tries += 1
                    if item.tries > p.retries:
                        self.finish(item, "unacked", "could not be sent")
                    else:
                        item.not_before = now + p.timeout
                        self.later.append(item)
                return
            tries = max(item.tries for item in batch)
            timeout = p.timeout * 2 ** (tries - 1)
            self.inflight[rid] = (batch, now + max(min(timeout, MAX_TIMEOUT), p.timeout))

    def wait(self):
        """Waits for one reply, at most until the next deadline or pause."""
        wake = [due for _, due in self.inflight.values()]
        if self.later:
            wake.append(min(i.not_before for i in self.later))
        wait = max(0.0, min(wake) - time.monotonic()) if wake else 0.1
        if self.p._sock.poll(int(min(wait, 0.5) * 1000) + 1, zmq.POLLIN):
            self.last_reply = time.monotonic()
            self.reply(self.p._sock.recv_multipart())

    def reply(self, frames):
        """One ACK or ERROR: final acks, busy events queued for later."""
        if len(frames) < 3 or frames[0] != _curve.SIGNATURE or frames[2] not in self.inflight:
            return                  # not ours, or a late reply to a request resent since
        items, due = self.inflight.pop(frames[2])
        if frames[1] == b"ERROR":
            reason = frames[3].decode("utf-8", "replace") if len(frames) > 3 else "ERROR"
            for item in items:
                self.finish(item, "unacked", f"ERROR: {reason}")
            return
        acks = None
        if frames[1] == b"ACK" and len(frames) == 4:
            try:
                acks = msgpack.unpackb(frames[3], raw=False)
            except Exception:   # noqa: BLE001 - any undecodable ACK is no ACK
                acks = None
        if not isinstance(acks, list) or len(acks) != len(items):
            self.inflight[frames[2]] = (items, 0.0)     # unanswered: expires now
            return
        busy = 0
        for item, ack in zip(items, acks):
            status = ack.get("status") if isinstance(ack, dict) else None
            reason = ack.get("reason") if isinstance(ack, dict) else None
            if status in ("accepted", "duplicate", "rejected"):
                self.finish(item, status, reason if status == "rejected" else None,
                            ack.get("event_id") if isinstance(ack.get("event_id"), str) else None)
            elif status == "busy":
                busy += 1
                item.not_before = time.monotonic() + self.busy_pause
                self.later.append(item)
            else:
                self.finish(item, "unacked", f"ack {status!r}" + (f": {reason}" if reason else ""))
        self.p.busy += busy
        if busy:
            self.busy_pause = min(self.busy_pause * 2, 5.0)
            self.allowed = max(1, self.allowed // 2)
        else:
            self.busy_pause = 0.1
            self.allowed = min(self.p.window, self.allowed + 1)

    def expire(self):
        """Requests without a reply in time: their events again, or unacked."""
        now = time.monotonic()
        expired = [rid for rid, (_, due) in self.inflight.items() if due <= now]
        if expired and now - self.last_reply >= self.p.timeout:
            self.p._connect(failover=True)
            self.last_reply = now
            if len(self.p.endpoints) > 1:
                expired = list(self.inflight)   # another broker: everything goes again now
        for rid in expired:
            items, _ = self.inflight.pop(rid)
            for item in reversed(items):
                self.retry(item, f"no ACK after {item.tries} tries")

    def give_up(self, reason):
        pending = [i for i in self.ready] + self.later
        pending += [i for items, _ in self.inflight.values() for i in items]
        for item in pending:
            if self.acks[item.index] is None:
                self.finish(item, "unacked", reason)
