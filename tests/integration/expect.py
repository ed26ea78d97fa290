"""expect: what caseflow's reports must show for a set of events, worked out
independently of the C code from the semantics in docs/domain.md and
docs/reports.md. A helper for the integration tests (no test of its own).

    import expect
    model = expect.Model(expect.load_events(["events.jsonl"]))
    model.report("stages")                                   # rows as caseflow-ctl --json prints them
    model.report("returns", by="host", period="month", programme="CH-AVR")
    model.notifications()                                    # {(case_ref, stage), ...}

The model, for valid events (each file line one event):
- duplicate event_ids count once (the first occurrence in file order wins);
- stages registered < screened < assisted < departed < arrived < reintegrating <
  closed; case.registered/screened/assisted/departed/arrived/reintegration/closed
  enter them; detained, released, monitored, reunified, funding and flow events
  move nothing;
- per registered case (n = len(persons), programme P from its registration):
  ever[P][s] += 1 case, n persons for every stage s seen; now[P][highest stage]
  += 1 case, n persons;
- returns: a registered case that reached 'arrived' counts 1 case, n persons
  under its origin, host, programme and route ('-' when none) from the
  registration, in the UTC day/month/year of its first case.arrived event;
- vulnerability: 1 case per distinct flag of the registration and its
  case.screened events; demographics: 1 person per persons[] entry;
- cases never registered are counted nowhere.
Ambiguous inputs (a second registration or arrival for one case) are listed in
Model.warnings; the tests' data avoid them.

Run as a script it prints a report's expected rows:
    expect.py FILE... --report stages [--by origin] [--period year] [--programme P]

The second half of this module holds small helpers the tests share: starting
and stopping a stack with scripts/up and scripts/down, running caseflow-ctl,
and printing checks.
"""
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

STAGES = ["registered", "screened", "assisted", "departed", "arrived", "reintegrating", "closed"]
STAGE_OF = {
    "case.registered": "registered",
    "case.screened": "screened",
    "case.assisted": "assisted",
    "case.departed": "departed",
    "case.arrived": "arrived",
    "case.reintegration": "reintegrating",
    "case.closed": "closed",
}
SEXES = ["f", "m", "x", "u"]
AGE_BANDS = ["0-4", "5-11", "12-17", "18-59", "60+"]
BY_COLUMN = {"origin": "origin_country", "host": "host_country", "programme": "programme",
             "route": "route"}
PERIODS = ["year", "month", "day"]


def load_events(paths):
    """The events of JSON-lines files, in file order (blank lines skipped)."""
    events = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    events.append(json.loads(line))
    return events


def period_of(ms, period):
    d = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return {"year": d.strftime("%Y"), "month": d.strftime("%Y-%m"),
            "day": d.strftime("%Y-%m-%d")}[period]


class Case:
    def __init__(self, ref):
        self.ref = ref
        self.registration = None        # the case.registered event
        self.stages = set()
        self.arrival = None             # the first case.arrived event
        self.flags = set()              # from case.screened (registration's added later)
        self.event_ids = []


class Model:
    def __init__(self, events):
        self.events = []
        self.warnings = []
        seen_ids = set()
        for e in events:
            if e["event_id"] in seen_ids:
                continue
            seen_ids.add(e["event_id"])
            self.events.append(e)
        self.cases = {}
        for e in self.events:
            ref = e.get("case_ref")
            if ref is None:
                continue
            case = self.cases.setdefault(ref, Case(ref))
            case.event_ids.append(e["event_id"])
            etype = e["event_type"]
            if etype == "case.registered":
                if case.registration is not None:
                    self.warnings.append(f"{ref}: registered twice; the first counts")
                    continue
                case.registration = e
            stage = STAGE_OF.get(etype)
            if stage:
                case.stages.add(stage)
            if etype == "case.arrived":
                if case.arrival is not None:
                    self.warnings.append(f"{ref}: arrived twice; the first counts")
                else:
                    case.arrival = e
            if etype == "case.screened":
                case.flags.update(e.get("vulnerabilities", []))
        self.registered = [c for c in self.cases.values() if c.registration is not None]
        self.event_case = {eid: c.ref for c in self.cases.values() for eid in c.event_ids}

    # ---- helpers ----------------------------------------------------------

    def _cases(self, programme=None):
        for c in self.registered:
            if programme is None or c.registration["programme"] == programme:
                yield c

    @property
    def programmes(self):
        return sorted({c.registration["programme"] for c in self.registered})

    # ---- reports ------------------------------------------------------------

    def stages(self, programme=None):
        counts = {}
        for c in self._cases(programme):
            p, n = c.registration["programme"], len(c.registration["persons"])
            for s in c.stages:
                row = counts.setdefault((p, s), [0, 0, 0, 0])
                row[2] += 1
                row[3] += n
            top = max(c.stages, key=STAGES.index)
            row = counts.setdefault((p, top), [0, 0, 0, 0])
            row[0] += 1
            row[1] += n
        rows = []
        for (p, s) in sorted(counts, key=lambda k: (k[0].encode(), STAGES.index(k[1]))):
            v = counts[(p, s)]
            if any(v):
                rows.append({"programme": p, "stage": s, "cases_now": v[0], "persons_now": v[1],
                             "cases_ever": v[2], "persons_ever": v[3]})
        return rows

    def returns(self, by="origin", period="year", programme=None):
        column = BY_COLUMN[by]
        counts = {}
        for c in self._cases(programme):
            if "arrived" not in c.stages:
                continue
            reg = c.registration
            value = reg.get(column) or "-"
            key = (period_of(c.arrival["occurred_at"], period), value)
            row = counts.setdefault(key, [0, 0])
            row[0] += 1
            row[1] += len(reg["persons"])
        return [{column: value, period: when, "cases": v[0], "persons": v[1]}
                for (when, value), v in sorted(counts.items(),
                                               key=lambda kv: (kv[0][0].encode(), kv[0][1].encode()))
                if any(v)]

    def vulnerability(self, programme=None):
        counts = {}
        for c in self._cases(programme):
            p = c.registration["programme"]
            for flag in set(c.registration.get("vulnerabilities", [])) | c.flags:
                counts[(p, flag)] = counts.get((p, flag), 0) + 1
        return [{"programme": p, "vulnerability": f, "cases": n}
                for (p, f), n in sorted(counts.items(), key=lambda kv: (kv[0][0].encode(), kv[0][1]))
                if n]

    def demographics(self, programme=None):
        counts = {}
        for c in self._cases(programme):
            p = c.registration["programme"]
            for person in c.registration["persons"]:
                key = (p, person["sex"], person["age_band"])
                counts[key] = counts.get(key, 0) + 1
        return [{"programme": p, "sex": s, "age_band": a, "persons": n}
                for (p, s, a), n in sorted(counts.items(),
                                           key=lambda kv: (kv[0][0].encode(), SEXES.index(kv[0][1]),
                                                           AGE_BANDS.index(kv[0][2])))
                if n]

    def report(self, name, by=None, period=None, programme=None):
        if name == "stages":
            return self.stages(programme)
        if name == "returns":
            return self.returns(by or "origin", period or "year", programme)
        if name == "vulnerability":
            return self.vulnerability(programme)
        if name == "demographics":
            return self.demographics(programme)
        raise ValueError(f"no model of report {name!r}")

    def report_variants(self, with_programmes=True):
        """Every (name, by, period, programme) the tests compare."""
        variants = [("stages", None, None, None), ("vulnerability", None, None, None),
                    ("demographics", None, None, None)]
        variants += [("returns", by, period, None) for by in BY_COLUMN for period in PERIODS]
        if with_programmes:
            for p in self.programmes:
                variants += [("stages", None, None, p), ("vulnerability", None, None, p),
                             ("demographics", None, None, p), ("returns", "origin", "month", p)]
        return variants

    # ---- notifications ------------------------------------------------------

    def notifications(self):
        """{(case_ref, stage)}: one case.<P>.<stage> notification each."""
        return {(c.ref, s) for c in self.registered for s in c.stages}

    def notification_topics(self):
        """{topic: count} of the case.* notifications."""
        topics = {}
        for c in self.registered:
            for s in c.stages:
                t = f"case.{c.registration['programme']}.{s}"
                topics[t] = topics.get(t, 0) + 1
        return topics


# ---- shared test helpers ------------------------------------------------------

class Checks:
    """Prints one line per check; remembers failures."""

    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"FAIL {what}" + (f"\n     {detail}" if detail else ""), flush=True)
        return ok

    def note(self, text):
        print(f"     {text}", flush=True)

    def finish(self):
        print(f"\n{self.passed} checks passed, {len(self.failed)} failed", flush=True)
        for what in self.failed:
            print(f"  failed: {what}")
        return 1 if self.failed else 0


def diff_rows(got, want, limit=6):
    """A short description of how two row lists differ ('' when equal)."""
    if got == want:
        return ""
    gk = [json.dumps(r, sort_keys=True) for r in got]
    wk = [json.dumps(r, sort_keys=True) for r in want]
    if sorted(gk) == sorted(wk):
        return "same rows, different order"
    missing = [r for r in wk if r not in set(gk)]
    extra = [r for r in gk if r not in set(wk)]
    lines = [f"{len(got)} rows, expected {len(want)}"]
    lines += [f"expected, not shown: {r}" for r in missing[:limit]]
    lines += [f"shown, not expected: {r}" for r in extra[:limit]]
    if len(missing) > limit or len(extra) > limit:
        lines.append(f"... {len(missing)} missing and {len(extra)} extra in all")
    return "\n     ".join(lines)


def ordered(rows):
    """Rows with their key order, for a comparison that checks column order too."""
    return [list(r.items()) for r in rows]


def source_dir():
    return os.environ.get("CASEFLOW_SOURCE") or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bin_dir():
    return os.environ.get("CASEFLOW_BIN") or os.path.join(source_dir(), "build")


class Stack:
    """A stack started with scripts/up in a temporary folder; use with `with`."""

    def __init__(self, workers=2, keep_logs_on_failure=True, queue=None):
        self.workers = workers
        self.queue = queue
        self.tmp = tempfile.mkdtemp(prefix="caseflow-test-")
        self.dir = os.path.join(self.tmp, "stack")
        self.env = dict(os.environ)
        self.started = False
        self.down_status = None

    def __enter__(self):
        src, bins = source_dir(), bin_dir()
        for name in ("caseflow-broker", "caseflow-worker", "caseflow-push", "caseflow-ctl",
                     "caseflow-watch"):
            if not os.access(os.path.join(bins, name), os.X_OK):
                print(f"note: {name} is not in {bins}", flush=True)
        proc = subprocess.run([os.path.join(src, "scripts", "up"), "--dir", self.dir,
                               "--workers", str(self.workers), "--bin", bins]
                              + (["--queue", str(self.queue)] if self.queue else []),
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            self.started = os.path.isdir(self.dir)
            self._down()
            raise RuntimeError(f"scripts/up failed ({proc.returncode}): {proc.stderr.strip()}")
        self.started = True
        for line in proc.stdout.splitlines():
            if not line.startswith("export ") or "=" not in line:
                continue
            name, value = line[len("export "):].split("=", 1)
            if name == "PATH":
                continue
            self.env[name] = shlex.split(value)[0] if value else ""
        self.env["PATH"] = bins + os.pathsep + self.env.get("PATH", "")
        for var in ("CASEFLOW_INTAKE", "CASEFLOW_SUBSCRIBE", "CASEFLOW_REDIS"):
            if not self.env.get(var):
                raise RuntimeError(f"scripts/up printed no {var}")
        return self

    def _down(self):
        if not self.started:
            return
        proc = subprocess.run([os.path.join(source_dir(), "scripts", "down"), "--dir", self.dir],
                              capture_output=True, text=True, timeout=60)
        self.down_status = proc.returncode
        self.started = False
        if proc.returncode != 0:
            print(f"scripts/down exited {proc.returncode}: {proc.stderr.strip()}", flush=True)

    def __exit__(self, *exc):
        self._down()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def pids(self):
        """{name: pid} from the stack's pid files."""
        out = {}
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".pid"):
                with open(os.path.join(self.dir, name)) as f:
                    out[name[:-4]] = int(f.read().strip())
        return out

    def alive(self):
        """{name: bool}: is each daemon still running (and not a zombie)?"""
        state = {}
        for name, pid in self.pids().items():
            try:
                os.kill(pid, 0)
                with open(f"/proc/{pid}/stat") as f:
                    state[name] = f.read().rsplit(")", 1)[1].split()[0] != "Z"
            except (OSError, IndexError):
                state[name] = False
        return state

    def log_tail(self, name, lines=20):
        try:
            with open(os.path.join(self.dir, name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def run(self, *args, timeout=300, stdin=None):
        return subprocess.run(list(args), capture_output=True, text=True, env=self.env,
                              timeout=timeout, input=stdin)

    def report(self, name, by=None, period=None, programme=None):
        """caseflow-ctl report NAME --json ... as a list of rows (order kept)."""
        args = ["caseflow-ctl", "report", name, "--json"]
        if by:
            args += ["--by", by]
        if period:
            args += ["--period", period]
        if programme:
            args += ["--programme", programme]
        proc = self.run(*args, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        return json.loads(proc.stdout)


class Watcher:
    """caseflow-watch in the background, its lines in a file."""

    def __init__(self, stack, *prefixes):
        self.path = os.path.join(stack.tmp, "watch-%d.jsonl" % len(os.listdir(stack.tmp)))
        self.out = open(self.path, "w")
        self.err = open(self.path + ".err", "w")
        self.proc = subprocess.Popen(["caseflow-watch", *prefixes], stdout=self.out,
                                     stderr=self.err, env=stack.env)
        time.sleep(1.0)     # let the subscription reach the broker

    def lines(self):
        if not self.out.closed:
            self.out.flush()
        with open(self.path, encoding="utf-8", errors="replace") as f:
            return [line for line in f if line.strip()]

    def settle(self, quiet=2.0, limit=60.0):
        """Waits until no new line came for `quiet` seconds (at most `limit`)."""
        start = last_change = time.monotonic()
        count = len(self.lines())
        while time.monotonic() - start < limit:
            time.sleep(0.25)
            n = len(self.lines())
            if n != count:
                count, last_change = n, time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                break
        return count

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        with open(self.path + ".err", errors="replace") as f:
            stderr = f.read()
        lines = self.lines()
        for p in (self.path, self.path + ".err"):
            try:
                os.unlink(p)
            except OSError:
                pass
        return lines, stderr

    def still_running(self):
        return self.proc.poll() is None


def parse_notification(line):
    """A watcher line as its body map (accepts {"topic", "body"} wrappers too)."""
    note = json.loads(line)
    if isinstance(note, dict) and isinstance(note.get("body"), dict) and "seq" not in note:
        body = dict(note["body"])
        body.setdefault("topic", note.get("topic"))
        return body
    return note


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="expected caseflow-ctl --json rows for event files")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--report", required=True,
                    choices=["stages", "returns", "vulnerability", "demographics"])
    ap.add_argument("--by", choices=list(BY_COLUMN))
    ap.add_argument("--period", choices=PERIODS)
    ap.add_argument("--programme")
    args = ap.parse_args(argv)
    model = Model(load_events(args.files))
    for w in model.warnings:
        print("warning: " + w, file=sys.stderr)
    rows = model.report(args.report, args.by, args.period, args.programme)
    print("[" + ",\n ".join(json.dumps(r) for r in rows) + "]" if rows else "[]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
