"""caseflow: a producer and a subscriber of caseflow's broker, written from
docs/protocol.md, on pyzmq and msgpack.

    from caseflow import Producer, Subscriber
    with Producer("tcp://127.0.0.1:5555") as producer:
        acks = producer.send([{"event_id": "...", "event_type": "case.registered", ...}])
    with Subscriber("tcp://127.0.0.1:5556", ["case."]) as subscriber:
        for note in subscriber: print(note.topic, note.body)

Producer sends events in windowed PUSH requests, resends what got no ACK
and what was acked busy, and gives one Ack per event. Subscriber filters by
topic prefix, counts the notifications missed per (publisher, topic), drops
repeats and takes a SNAPSHOT for a late start. CURVE with key files:
curve_keys(secret_key_file, server_key_file).
"""
from .curve import curve_keys
from .producer import Ack, Producer
from .subscriber import Notification, Subscriber

__all__ = ["Ack", "Notification", "Producer", "Subscriber", "curve_keys"]
__version__ = "0.1.0"
