"""faultlib: what the fault tests share. Each one pushes a generated event set
(>= 100 000 events, 200 000 with CASEFLOW_FAULT_LONG=1) through a real
stack while it injects its fault, then judges the outcome the same way:

- sent: events in the file; acked: events acked accepted or duplicate;
- lost: events acked but not counted, measured two ways and the larger
  taken: acked event_ids with no dedupe marker in Redis (the marker is set
  in the same atomic script call that counts the event), and the per-event
  counters (services, reintegration services, monitoring surveys, funding
  transactions, flow counts) falling short of the independent model;
- duplicated: events counted twice: the same per-event counters above it;
- and every report variant equal to the model of tests/integration/expect.py.

Lost and duplicated must be 0. Not a test itself (no test_ prefix).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import expect  # noqa: E402,F401  (re-exported for the tests)

LONG = os.environ.get("CASEFLOW_FAULT_LONG") == "1"
CASES = 30000 if LONG else 15000        # about 6.8 events per case
MIN_EVENTS = 200000 if LONG else 100000

# (report, --by, column): counters that every applied event of its kind adds to once
PER_EVENT = (("services", None, "events"), ("reintegration", "service", "services"),
             ("reintegration", "origin", "surveys"), ("funding", "donor", "transactions"),
             ("flows", "route", "count"))


def tolerate_libzmq_exit_leak():
    """For a test that stops busy daemons with SIGTERM: its processes' leak
    check passes over blocks libzmq allocated (libzmq-exit-leak.supp says
    why). Call it before expect.Stack, which copies the environment; every
    other test keeps the whole leak check."""
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libzmq-exit-leak.supp")
    options = os.environ.get("LSAN_OPTIONS")
    os.environ["LSAN_OPTIONS"] = (options + ":" if options else "") + "suppressions=" + supp


def generate(tmp, seed):
    """(path, events, model) of a deterministic event set for this seed."""
    path = os.path.join(tmp, "events.jsonl")
    gen = os.path.join(expect.source_dir(), "scripts", "gen-events")
    subprocess.run([sys.executable, gen, "--cases", str(CASES), "--seed", str(seed),
                    "--out-of-order", "0.1", "-o", path], check=True)
    events = expect.load_events([path])
    return path, events, expect.Model(events)


class Push:
    """caseflow-push --json --quiet in the background."""

    def __init__(self, stack, path, deadline=300, *extra):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(["caseflow-push", "--json", "--quiet", "--deadline",
                                      str(deadline), *extra, path], env=stack.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def running(self):
        return self.proc.poll() is None

    def wait_applied(self, stack, events=10000, limit=120.0):
        """Returns once Redis holds `events` dedupe markers (part of the
        events are in) or the push has ended. A fault is injected after
        this, not after a fixed delay: on a slow machine the producer is
        still reading its file seconds after it started, and the fault
        would hit an idle system."""
        deadline = time.monotonic() + limit
        while self.running() and time.monotonic() < deadline \
                and stack.marker_count() < events:
            time.sleep(0.1)
        return self.running()

    def wait(self, timeout=600):
        """(exit status, summary map or {}, stderr)."""
        out, err = self.proc.communicate(timeout=timeout)
        self.seconds = time.monotonic() - self.started
        try:
            summary = json.loads(out)
        except ValueError:
            summary = {}
        return self.proc.returncode, summary, err


def marked_event_ids(stack, events):
    """The event_ids of events (maps, as sent) that have a dedupe marker in Redis."""
    return stack.marked_event_ids(events)


def per_event_total(rows, column):
    return sum(r.get(column) or 0 for r in rows)


def judge(c, stack, model, events, summary, label="", applied_before=0):
    """Prints sent / acked / lost / duplicated, checks that lost and
    duplicated are 0 and every report variant equals the model, and that
    only events sent again, or the applied_before events another producer
    had delivered before this push began, were acked duplicate."""
    unacked = {u.get("event_id") for u in summary.get("unacked_events") or []}
    rejected = summary.get("rejected_events") or []
    ids = [e["event_id"] for e in events]
    acked_ids = set(ids) - unacked - {r.get("event_id") for r in rejected}
    acked = summary.get("accepted", 0) + summary.get("duplicate", 0)
    unmarked = len(acked_ids - marked_event_ids(stack, [e for e in events
                                                         if e["event_id"] in acked_ids]))
    short = surplus = counted = 0
    for name, by, column in PER_EVENT:
        got = per_event_total(stack.report(name, by), column)
        want = per_event_total(model.report(name, by), column)
        short += max(0, want - got)
        surplus += max(0, got - want)
        counted += got
    c.check(counted > 0, f"per-event counters read ({counted} in all)")
    lost, duplicated = max(unmarked, short), surplus
    prefix = f"{label}: " if label else ""
    print(f"FIGURES {prefix}sent {len(ids)}, acked {acked}, lost {lost}, duplicated {duplicated}",
          flush=True)
    c.check(acked == len(ids) and not unacked and not rejected,
            f"{prefix}all {len(ids)} events acked accepted or duplicate",
            f"{acked} acked; rejected {len(rejected)}, unacked {len(unacked)}")
    c.check(lost == 0, f"{prefix}lost 0 (acked but not counted)",
            f"{unmarked} acked without a marker, per-event counters {short} short")
    c.check(duplicated == 0, f"{prefix}duplicated 0 (counted twice)",
            f"per-event counters {surplus} over the model")
    # Acks tell the truth: an event is duplicate only when another request
    # applied it, so only events the producer sent again (or repeats in the
    # input) can be; a worker's retry or the broker's redelivery of the same
    # job acks accepted what it applied.
    repeats = len(ids) - len(set(ids))
    c.check(summary.get("duplicate", 0) <= summary.get("resent", 0) + repeats + applied_before,
            f"{prefix}duplicate only for events sent again",
            f"{summary.get('duplicate', 0)} duplicate, {summary.get('resent', 0)} resent")
    # quality is left out: a resend's events count as duplicates there
    expect.check_reports(c, stack, model, prefix + "after the fault", skip=("quality",),
                         variants=model.report_variants(with_programmes=False, with_dates=False))
    dup = {r["measure"]: r["count"] for r in stack.report("quality")}.get("duplicate", 0)
    c.note(f"resent events found already applied (quality duplicate): {dup}")


def start_daemon(stack, name, argv):
    """A daemon like scripts/up's, logging to <name>.log in the stack folder
    (appended) with a <name>.pid file, so that scripts/down stops it. A
    broker or worker authenticates to Redis as its own user, as scripts/up's."""
    role = {"caseflow-broker": "broker", "caseflow-worker": "worker"}.get(os.path.basename(argv[0]))
    argv = list(argv) + (stack.role_args(role) if role else [])
    log = open(os.path.join(stack.dir, f"{name}.log"), "a")
    proc = subprocess.Popen(argv, env=stack.env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=log, start_new_session=True)
    log.close()
    with open(os.path.join(stack.dir, f"{name}.pid"), "w") as f:
        f.write(f"{proc.pid}\n")
    return proc


def binary(name):
    return os.path.join(expect.bin_dir(), name)
