"""expect: what caseflow's reports must show for a set of events, worked out
independently of the C code from docs/domain.md and the storage and report
spec of issue 3 (counter families and reports). A helper for the integration
tests; tests/integration/test_model checks its arithmetic on hand-made events.

    import expect
    model = expect.Model(expect.load_events(["events.jsonl"]))
    model.report("stages")                                   # rows as caseflow-ctl --exact --json prints them
    model.report("returns", by="host", period="month", programme="CH-AVR")
    model.report("flows", by="pair", period="day", frm="2019-02", to="2019-03-15")
    for v in model.report_variants(): ... model.report(*v) ...
    expect.compare("durations", got, want)                    # (ok, detail)

The model, for valid events (each file line one event):
- duplicate event_ids count once (the first occurrence in file order wins;
  the tests' repeated events are exact copies, so the order does not matter);
- only registered cases count in the case reports; a case's events before its
  registration count as if they came after it; cases never registered count
  nowhere (but in quality);
- every case figure is a function of the set of the case's events, not of
  their order: stages seen, the EARLIEST departure, arrival and reintegration
  (by occurred_at), detentions and releases paired by time per country, the
  highest screening risk;
- stages registered < screened < assisted < departed < arrived < reintegrating <
  closed: ever[P][s] += (1 case, n persons) for every stage seen, now[P][highest];
- returns: a case that reached 'arrived' counts (1, n) under its registration's
  origin, host, programme and route ('-' when none), on the UTC day of its
  earliest case.arrived; month and year are that day truncated;
- vulnerability: 1 case per distinct flag (registration and screenings) and
  1 case under 'risk:<highest risk of its screenings>'; rows by programme, the
  flags alphabetically, then risk:low, risk:medium, risk:high;
- demographics: 1 person per persons[] entry;
- durations: registered-departed (registration -> earliest departure),
  departed-arrived (earliest departure -> earliest arrival),
  arrived-reintegrating (earliest arrival -> earliest reintegration); seconds
  = max(0, length); mean = seconds / count / 86400; p50 and p90 from the hour
  histogram exactly as the spec defines them;
- detention: per programme and country, a case is detained now when it has
  more detentions than releases there; episodes = min(detentions, releases),
  the i-th detention by time with the i-th release; their seconds (>= 0);
- reintegration --by service: case.reintegration by dimension, modality and
  currency ('-' without a value); --by origin: case.monitored by the case's
  origin, scores x 10 000 rounded per event, means over surveys (composite
  over the surveys that carried one);
- services: screening (<screening>:<outcome>), assistance, departure (mode),
  escort (mode, escort true), reunification (country), referral
  (<service>:<provider_type>), closure (reason); rows
  by programme, service in that order, detail, currency;
- money in cents and scores x 10 000 are rounded per event half away from zero
  (C's llround of value x 100, of score x 10 000);
- funding: by donor or project, currency and transaction type, over the days
  in --from/--to; flows: by route, pair or country and period, uasc_share =
  uasc / (count of the observations that carried uasc);
- --from/--to (returns, flows, funding): a day D is in when
  D[:len(from)] >= from and D[:len(to)] <= to;
- quality: duplicate and repeat_registration; out_of_order and
  before_registration as if the events were applied one by one in file order
  (the stack applies them in parallel: tests leave those two out, ORDER_DEPENDENT).
Rows appear when one of their counts is non-zero. Model.report rounds the real
columns to the decimals the report prints (REAL_DECIMALS), as caseflow-ctl
--json shows them; compare() rounds what it is given too.

Run as a script it prints a report's expected rows:
    expect.py FILE... --report durations [--by X] [--period P] [--programme P]
                      [--from DATE] [--to DATE]

The helpers the tests share to drive a real stack (Stack, Watcher, Redis,
Checks) live in harness.py; they are re-exported here, with check_reports,
which compares a stack's reports with the model.
"""
import collections
import datetime
import decimal
import json
import sys

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
RISKS = ["low", "medium", "high"]
SERVICES = ["screening", "assistance", "departure", "escort", "reunification", "referral",
            "closure"]
INTERVALS = ["registered-departed", "departed-arrived", "arrived-reintegrating"]
BY_COLUMN = {"origin": "origin_country", "host": "host_country", "programme": "programme",
             "route": "route"}
PERIODS = ["year", "month", "day"]
FLOW_PERIODS = ["month", "day", "year"]
FLOW_BY = {"route": ["route"], "pair": ["from_country", "to_country"], "country": ["country"]}
FUNDING_BY = {"donor": "donor", "project": "project_id"}
TRANSACTION_TYPES = {1: "incoming_funds", 2: "commitment", 3: "disbursement", 4: "expenditure",
                     11: "incoming_commitment"}
QUALITY_FIXED = ["duplicate", "out_of_order", "before_registration", "repeat_registration"]
ORDER_DEPENDENT = {"out_of_order", "before_registration"}

# Each report: its --by choices (first = default), --period choices (first =
# default), whether it takes --programme and --from/--to.
REPORTS = {
    "stages": dict(by=None, periods=None, programme=True, dates=False),
    "returns": dict(by=list(BY_COLUMN), periods=PERIODS, programme=True, dates=True),
    "vulnerability": dict(by=None, periods=None, programme=True, dates=False),
    "demographics": dict(by=None, periods=None, programme=True, dates=False),
    "durations": dict(by=None, periods=None, programme=True, dates=False),
    "detention": dict(by=None, periods=None, programme=True, dates=False),
    "reintegration": dict(by=["service", "origin"], periods=None, programme=True, dates=False),
    "services": dict(by=None, periods=None, programme=True, dates=False),
    "funding": dict(by=list(FUNDING_BY), periods=None, programme=False, dates=True),
    "flows": dict(by=list(FLOW_BY), periods=FLOW_PERIODS, programme=False, dates=True),
    "quality": dict(by=None, periods=None, programme=False, dates=False),
}
# Real-valued columns and the decimals they are printed with.
REAL_DECIMALS = {
    "durations": {"mean_days": 1, "p50_days": 1, "p90_days": 1},
    "detention": {"detention_days": 1, "mean_days": 1},
    "reintegration": {"value": 2, "economic": 3, "social": 3, "psychosocial": 3, "composite": 3},
    "services": {"value": 2},
    "funding": {"value": 2},
    "flows": {"uasc_share": 3},
}
# Reports whose row order the spec leaves open: compare() accepts their rows in
# any order (it still checks the columns' order). The model's order is the one
# caseflow-ctl chose (keys byte-wise but for the domain's orders: stages,
# sexes, age bands, intervals, services, transaction types by code; returns
# and flows by period first).
ORDER_OPEN = {"detention", "reintegration", "services", "funding", "flows"}


def load_events(paths):
    """The events of JSON-lines files, in file order (blank lines skipped)."""
    events = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    events.append(json.loads(line))
    return events


def day_of(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc).strftime("%Y-%m-%d")


def period_of(ms, period):
    """ms's UTC day truncated to the period (year YYYY, month YYYY-MM, day)."""
    return day_of(ms)[:{"year": 4, "month": 7, "day": 10}[period]]


def in_range(day, frm=None, to=None):
    """The spec's --from/--to test for a day YYYY-MM-DD (both inclusive)."""
    return (frm is None or day[:len(frm)] >= frm) and (to is None or day[:len(to)] <= to)


def llround(x):
    """C's llround: to the nearest integer, halves away from zero (exact on the double)."""
    return int(decimal.Decimal(x).to_integral_value(rounding=decimal.ROUND_HALF_UP))


def cents(value):
    return llround(value * 100)


def score(value):
    return llround(value * 10000)


def bucket_of(hours):
    """The histogram bucket [lo, hi) of a length in whole hours."""
    if hours < 32:
        return hours, hours + 1
    width = 1 << (hours.bit_length() - 1 - 4)     # 2 ** (floor(log2 h) - 4)
    lo = hours // width * width
    return lo, lo + width


def percentile_days(buckets, count, q):
    """The spec's estimate from {(lo, hi): cases}: rank r = q * count; in the
    bucket where the cumulative count reaches r, interpolate; hours -> days."""
    r = q * count
    before = 0
    for lo, hi in sorted(buckets):
        n = buckets[(lo, hi)]
        if before + n >= r:
            return (lo + (hi - lo) * (r - before) / n) / 24
        before += n
    raise ValueError("rank beyond the histogram")


def byte_key(*values):
    return tuple(v.encode() if isinstance(v, str) else v for v in values)


class Case:
    def __init__(self, ref):
        self.ref = ref
        self.registration = None        # the case.registered event
        self.stages = set()
        self.events = []                # every (unique) event of the case, file order
        self.event_ids = []

    def first(self, event_type):
        """The earliest (by occurred_at) event of a type, or None."""
        found = [e for e in self.events if e["event_type"] == event_type]
        return min(found, key=lambda e: e["occurred_at"]) if found else None

    @property
    def programme(self):
        return self.registration["programme"]

    @property
    def persons(self):
        return len(self.registration["persons"])

    def flags(self):
        flags = set(self.registration.get("vulnerabilities", []))
        for e in self.events:
            if e["event_type"] == "case.screened":
                flags.update(e.get("vulnerabilities", []))
        return flags

    def risk(self):
        risks = [e["risk"] for e in self.events if e["event_type"] == "case.screened" and "risk" in e]
        return max(risks, key=RISKS.index) if risks else None

    def intervals(self):
        """{interval: seconds (>= 0)} for the intervals with both ends."""
        reg = self.registration["occurred_at"]
        dep, arr, rei = (self.first(t) for t in ("case.departed", "case.arrived",
                                                  "case.reintegration"))
        ends = {"registered-departed": (reg, dep and dep["occurred_at"]),
                "departed-arrived": (dep and dep["occurred_at"], arr and arr["occurred_at"]),
                "arrived-reintegrating": (arr and arr["occurred_at"], rei and rei["occurred_at"])}
        return {k: max(0, b - a) // 1000 for k, (a, b) in ends.items()
                if a is not None and b is not None}

    def detention(self):
        """{country: (detentions, releases, seconds of the completed episodes)}."""
        times = collections.defaultdict(lambda: ([], []))
        for e in self.events:
            if e["event_type"] in ("case.detained", "case.released"):
                times[e["country"]][e["event_type"] == "case.released"].append(e["occurred_at"])
        out = {}
        for country, (det, rel) in times.items():
            det, rel = sorted(det), sorted(rel)
            seconds = sum(max(0, r - d) // 1000 for d, r in zip(det, rel))
            out[country] = (len(det), len(rel), seconds)
        return out


def add_to(table, key, values):
    row = table.setdefault(key, [0] * len(values))
    for i, v in enumerate(values):
        row[i] += v


def identity(e):
    """What makes an event a repeat (docs/storage.md, "Dedupe markers"): a
    case event is known by its event_id within its case, any other by its
    event_id."""
    case = e.get("case_ref") if str(e.get("event_type", "")).startswith("case.") else None
    return (case, e["event_id"])


class Model:
    def __init__(self, events):
        self.raw = list(events)
        self.events = []
        self.warnings = []
        seen_ids = set()
        for e in self.raw:
            if identity(e) in seen_ids:
                continue
            seen_ids.add(identity(e))
            self.events.append(e)
        self.cases = {}
        for e in self.events:
            ref = e.get("case_ref")
            if ref is None:
                continue
            case = self.cases.setdefault(ref, Case(ref))
            case.event_ids.append(e["event_id"])
            if e["event_type"] == "case.registered":
                if case.registration is not None:
                    self.warnings.append(f"{ref}: registered twice; the first counts")
                    continue
                case.registration = e
            case.events.append(e)
            stage = STAGE_OF.get(e["event_type"])
            if stage:
                case.stages.add(stage)
        self.registered = [c for c in self.cases.values() if c.registration is not None]
        self.event_case = {eid: c.ref for c in self.cases.values() for eid in c.event_ids}

    # ---- helpers ----------------------------------------------------------

    def _cases(self, programme=None):
        for c in self.registered:
            if programme is None or c.programme == programme:
                yield c

    def _case_events(self, event_type, programme=None):
        for c in self._cases(programme):
            for e in c.events:
                if e["event_type"] == event_type:
                    yield c, e

    def _other_events(self, event_type, frm=None, to=None):
        for e in self.events:
            if e["event_type"] == event_type and in_range(day_of(e["occurred_at"]), frm, to):
                yield e

    @property
    def programmes(self):
        return sorted({c.programme for c in self.registered}, key=str.encode)

    # ---- reports ------------------------------------------------------------

    def stages(self, programme=None):
        counts = {}
        for c in self._cases(programme):
            for s in c.stages:
                add_to(counts, (c.programme, s), [0, 0, 1, c.persons])
            add_to(counts, (c.programme, max(c.stages, key=STAGES.index)), [1, c.persons, 0, 0])
        return [{"programme": p, "stage": s, "cases_now": v[0], "persons_now": v[1],
                 "cases_ever": v[2], "persons_ever": v[3]}
                for (p, s), v in sorted(counts.items(),
                                        key=lambda kv: (kv[0][0].encode(), STAGES.index(kv[0][1])))
                if any(v)]

    def returns(self, by="origin", period="year", programme=None, frm=None, to=None):
        column = BY_COLUMN[by]
        counts = {}
        for c in self._cases(programme):
            arrival = c.first("case.arrived")
            if arrival is None:
                continue
            day = day_of(arrival["occurred_at"])
            if not in_range(day, frm, to):
                continue
            value = c.registration.get(column) or "-"
            add_to(counts, (period_of(arrival["occurred_at"], period), value), [1, c.persons])
        return [{column: value, period: when, "cases": v[0], "persons": v[1]}
                for (when, value), v in sorted(counts.items(), key=lambda kv: byte_key(*kv[0]))
                if any(v)]

    def vulnerability(self, programme=None):
        counts = collections.Counter()
        for c in self._cases(programme):
            for flag in c.flags():
                counts[(c.programme, flag)] += 1
            if c.risk():
                counts[(c.programme, "risk:" + c.risk())] += 1
        def order(kv):      # flags alphabetically, then the risk levels by rising risk
            p, f = kv[0]
            risk = f.startswith("risk:")
            return p.encode(), risk, RISKS.index(f[5:]) if risk else f.encode()
        return [{"programme": p, "vulnerability": f, "cases": n}
                for (p, f), n in sorted(counts.items(), key=order) if n]

    def demographics(self, programme=None):
        counts = collections.Counter()
        for c in self._cases(programme):
            for person in c.registration["persons"]:
                counts[(c.programme, person["sex"], person["age_band"])] += 1
        return [{"programme": p, "sex": s, "age_band": a, "persons": n}
                for (p, s, a), n in sorted(counts.items(),
                                           key=lambda kv: (kv[0][0].encode(), SEXES.index(kv[0][1]),
                                                           AGE_BANDS.index(kv[0][2])))
                if n]

    def durations(self, programme=None):
        stats = {}          # (programme, interval) -> [count, seconds, {bucket: n}]
        for c in self._cases(programme):
            for interval, seconds in c.intervals().items():
                st = stats.setdefault((c.programme, interval), [0, 0, collections.Counter()])
                st[0] += 1
                st[1] += seconds
                st[2][bucket_of(seconds // 3600)] += 1
        rows = []
        for (p, interval), (count, seconds, buckets) in sorted(
                stats.items(), key=lambda kv: (kv[0][0].encode(), INTERVALS.index(kv[0][1]))):
            rows.append({"programme": p, "interval": interval, "cases": count,
                         "mean_days": seconds / count / 86400,
                         "p50_days": percentile_days(buckets, count, 0.5),
                         "p90_days": percentile_days(buckets, count, 0.9)})
        return rows

    def detention(self, programme=None):
        counts = {}         # country -> [now, cases, episodes, seconds]
        for c in self._cases(programme):
            for country, (det, rel, seconds) in c.detention().items():
                add_to(counts, country, [1 if det > rel else 0, 1 if det else 0, min(det, rel),
                                         seconds])
        rows = []
        for country, (now, cases, episodes, seconds) in sorted(counts.items(),
                                                               key=lambda kv: kv[0].encode()):
            if now or cases or episodes:
                days = seconds / 86400
                rows.append({"country": country, "detained_now": now, "cases_ever": cases,
                             "episodes": episodes, "detention_days": days,
                             "mean_days": days / episodes if episodes else None})
        return rows

    def reintegration(self, by="service", programme=None):
        if by == "origin":
            return self._monitoring(programme)
        counts = {}         # (programme, dimension, modality, currency) -> [services, cents]
        for c, e in self._case_events("case.reintegration", programme):
            has_value = e.get("value") is not None
            key = (c.programme, e["dimension"], e["modality"], e["currency"] if has_value else "-")
            add_to(counts, key, [1, cents(e["value"]) if has_value else 0])
        return [{"programme": p, "dimension": d, "modality": m, "currency": cur,
                 "services": n, "value": value / 100}
                for (p, d, m, cur), (n, value) in sorted(counts.items(),
                                                         key=lambda kv: byte_key(*kv[0]))
                if n]

    def _monitoring(self, programme=None):
        counts = {}         # (programme, origin) -> [surveys, econ, soc, psy, composite, n composite]
        for c, e in self._case_events("case.monitored", programme):
            has = e.get("composite") is not None
            add_to(counts, (c.programme, c.registration["origin_country"]),
                   [1, score(e["economic"]), score(e["social"]), score(e["psychosocial"]),
                    score(e["composite"]) if has else 0, 1 if has else 0])
        return [{"programme": p, "origin_country": o, "surveys": n,
                 "economic": econ / 10000 / n, "social": soc / 10000 / n,
                 "psychosocial": psy / 10000 / n,
                 "composite": comp / 10000 / ncomp if ncomp else None}
                for (p, o), (n, econ, soc, psy, comp, ncomp) in sorted(
                    counts.items(), key=lambda kv: byte_key(*kv[0]))
                if n]

    def services(self, programme=None):
        counts = {}         # (programme, service, detail, currency) -> [events, cents]
        for c in self._cases(programme):
            for e in c.events:
                for service, detail, value, currency in self._services_of(e):
                    add_to(counts, (c.programme, service, detail, currency),
                           [1, cents(value) if value is not None else 0])
        def order(kv):      # services in case order, then detail and currency
            p, service, d, cur = kv[0]
            return p.encode(), SERVICES.index(service), d.encode(), cur.encode()
        return [{"programme": p, "service": s, "detail": d, "currency": cur, "events": n,
                 "value": value / 100}
                for (p, s, d, cur), (n, value) in sorted(counts.items(), key=order) if n]

    @staticmethod
    def _services_of(e):
        """[(service, detail, value or None, currency)] of one case event."""
        t = e["event_type"]
        if t == "case.screened":
            return [("screening", f"{e['screening']}:{e['outcome']}", None, "-")]
        if t == "case.assisted":
            value = e.get("value")
            return [("assistance", e["assistance"], value, e["currency"] if value is not None
                     else "-")]
        if t == "case.departed":
            out = [("departure", e["mode"], None, "-")]
            if e.get("escort") is True:
                out.append(("escort", e["mode"], None, "-"))
            return out
        if t == "case.reunified":
            return [("reunification", e["country"], None, "-")]
        if t == "case.referred":
            return [("referral", f"{e['service']}:{e['provider_type']}", None, "-")]
        if t == "case.closed":
            return [("closure", e["reason"], None, "-")]
        return []

    def funding(self, by="donor", frm=None, to=None):
        column = FUNDING_BY[by]
        counts = {}         # (donor or project, currency, type) -> [transactions, cents]
        for e in self._other_events("funding.transaction", frm, to):
            add_to(counts, (e[column], e["currency"], e["transaction_type"]), [1, cents(e["value"])])
        return [{column: k, "currency": cur, "transaction_type": TRANSACTION_TYPES[tt],
                 "transactions": n, "value": value / 100}
                for (k, cur, tt), (n, value) in sorted(counts.items(),
                                                       key=lambda kv: byte_key(*kv[0]))
                if n]

    def flows(self, by="route", period="month", frm=None, to=None):
        columns = FLOW_BY[by]
        counts = {}         # (period, key...) -> [count, females, males, uasc, uasc_base]
        for e in self._other_events("flow.observed", frm, to):
            row = dict(e, route=e.get("route") or "-")
            has_uasc = e.get("uasc") is not None
            add_to(counts, (period_of(e["occurred_at"], period),) + tuple(row[c] for c in columns),
                   [e["count"], e.get("females", 0), e.get("males", 0), e.get("uasc", 0),
                    e["count"] if has_uasc else 0])
        rows = []
        for key, (count, females, males, uasc, base) in sorted(counts.items(),
                                                               key=lambda kv: byte_key(*kv[0])):
            if count or females or males or uasc:
                row = dict(zip(columns, key[1:]))
                row[period] = key[0]
                row.update(count=count, females=females, males=males, uasc=uasc,
                           uasc_share=uasc / base if base else None)
                rows.append(row)
        return rows

    def quality(self):
        """The quality measures, with out_of_order and before_registration as if
        the events were applied one at a time in file order."""
        seen, registered, stages = set(), set(), collections.defaultdict(set)
        q = collections.Counter({m: 0 for m in QUALITY_FIXED})
        for e in self.raw:
            if identity(e) in seen:
                q["duplicate"] += 1
                continue
            seen.add(identity(e))
            ref = e.get("case_ref")
            if ref is None:
                continue
            stage = STAGE_OF.get(e["event_type"])
            if e["event_type"] == "case.registered":
                if ref in registered:
                    q["repeat_registration"] += 1
                else:
                    registered.add(ref)
                    stages[ref].add(stage)
            elif ref not in registered:
                q["before_registration"] += 1
                if stage:
                    stages[ref].add(stage)
            elif stage and stage not in stages[ref]:
                if STAGES.index(stage) < max(STAGES.index(s) for s in stages[ref]):
                    q["out_of_order"] += 1
                stages[ref].add(stage)
        return [{"measure": m, "count": q[m]} for m in QUALITY_FIXED]

    def report(self, name, by=None, period=None, programme=None, frm=None, to=None):
        """The rows caseflow-ctl report NAME --exact --json prints (real columns
        rounded to the decimals it prints)."""
        return shown(name, self._report(name, by, period, programme, frm, to))

    def _report(self, name, by=None, period=None, programme=None, frm=None, to=None):
        spec = REPORTS.get(name)
        if spec is None:
            raise ValueError(f"no model of report {name!r}")
        if (by and not spec["by"]) or (period and not spec["periods"]) \
                or (programme and not spec["programme"]) or ((frm or to) and not spec["dates"]):
            raise ValueError(f"report {name} takes no such option")
        by = by or (spec["by"] or [None])[0]
        period = period or (spec["periods"] or [None])[0]
        if name == "stages":
            return self.stages(programme)
        if name == "returns":
            return self.returns(by, period, programme, frm, to)
        if name == "funding":
            return self.funding(by, frm, to)
        if name == "flows":
            return self.flows(by, period, frm, to)
        if name == "reintegration":
            return self.reintegration(by, programme)
        if name == "quality":
            return self.quality()
        return getattr(self, name)(programme)

    def report_variants(self, with_programmes=True, with_dates=True):
        """Every Variant the tests compare: each report, each --by and --period
        choice, --from/--to cases, and per programme the reports that take one."""
        V = Variant
        variants = [V(name) for name in ("stages", "vulnerability", "demographics", "durations",
                                         "detention", "services", "quality")]
        variants += [V("returns", by, period) for by in BY_COLUMN for period in PERIODS]
        variants += [V("reintegration", by) for by in REPORTS["reintegration"]["by"]]
        variants += [V("funding", by) for by in FUNDING_BY]
        variants += [V("flows", by, period) for by in FLOW_BY for period in FLOW_PERIODS]
        if with_dates:
            variants += [V("returns", "origin", "month", frm="2019-03", to="2019-06-15"),
                         V("returns", "programme", "day", frm="2019-05-01", to="2019-05"),
                         V("flows", "pair", "day", frm="2019-02-01", to="2019-04"),
                         V("flows", "route", "year", frm="2019-03-15"),
                         V("funding", "donor", to="2019-06"),
                         V("funding", "project", frm="2019-04-10", to="2019-12-31")]
        if with_programmes:
            for p in self.programmes:
                variants += [V("stages", programme=p), V("vulnerability", programme=p),
                             V("demographics", programme=p), V("returns", "origin", "month", p),
                             V("durations", programme=p), V("detention", programme=p),
                             V("reintegration", "service", programme=p),
                             V("reintegration", "origin", programme=p),
                             V("services", programme=p)]
        return variants

    # ---- notifications ------------------------------------------------------

    def notifications(self):
        """{(case_ref, stage)}: one case.<P>.<stage> notification each."""
        return {(c.ref, s) for c in self.registered for s in c.stages}

    def notification_topics(self):
        """{topic: count} of the case.* notifications."""
        topics = collections.Counter()
        for c in self.registered:
            for s in c.stages:
                topics[f"case.{c.programme}.{s}"] += 1
        return dict(topics)


class Variant(collections.namedtuple("Variant", "name by period programme frm to",
                                     defaults=(None, None, None, None, None))):
    """One report invocation: Model.report(*v), Stack.report(*v)."""

    def label(self):
        return " ".join(x for x in (f"report {self.name}", self.by and f"--by {self.by}",
                                    self.period and f"--period {self.period}",
                                    self.programme and f"--programme {self.programme}",
                                    self.frm and f"--from {self.frm}",
                                    self.to and f"--to {self.to}") if x)


def shown(name, rows):
    """Rows with their real columns rounded to the decimals the report prints."""
    decimals = REAL_DECIMALS.get(name, {})
    out = []
    for row in rows:
        row = dict(row)
        for column, d in decimals.items():
            if isinstance(row.get(column), (int, float)) and not isinstance(row[column], bool):
                row[column] = float(f"{row[column]:.{d}f}")
        out.append(row)
    return out


def compare(name, got, want):
    """(ok, detail) for a report's rows against the model's: real columns to the
    printed decimals; the quality measures that depend on the order the events
    are applied in (ORDER_DEPENDENT) left out; rows in any order for the reports
    of ORDER_OPEN (detail then says so)."""
    got, want = shown(name, got), shown(name, want)
    if name == "quality":
        got = [r for r in got if r.get("measure") not in ORDER_DEPENDENT]
        want = [r for r in want if r.get("measure") not in ORDER_DEPENDENT]
    if ordered(got) == ordered(want):
        return True, ""
    if name in ORDER_OPEN:
        def key(r):
            return json.dumps(list(r.items()))
        if sorted(map(key, got)) == sorted(map(key, want)):
            return True, "rows in another order (the spec leaves it open)"
    return False, diff_rows(got, want) or "same rows and order, columns in another order"


# ---- shared test helpers (harness.py), and the model against a stack -----------

from harness import (Checks, Dealer, Redis, Stack, Watcher, bin_dir, diff_rows,  # noqa: E402,F401
                     ordered, parse_notification, pid_running, reply_to, source_dir, curve_client,
                     curve_server, free_ports, outbox_entry_notes, SHARDS, shard_of,
                     wait_for)


def check_reports(c, stack, model, label, skip=(), variants=None):
    """Every report variant (model.report_variants() unless given; none whose
    name is in skip) read from the stack with --exact and compared with the
    model, one check each; returns {variant: rows shown}."""
    shown_rows = {}
    for variant in variants if variants is not None else model.report_variants():
        if variant.name in skip:
            continue
        want = model.report(*variant)
        try:
            got = stack.report(*variant)
        except Exception as e:    # noqa: BLE001 (print what went wrong)
            c.check(False, f"{label}: {variant.label()}", str(e))
            continue
        shown_rows[variant] = got
        ok, detail = compare(variant.name, got, want)
        c.check(ok, f"{label}: {variant.label()} ({len(want)} rows)", detail)
        if ok and detail:
            c.note(detail)
    return shown_rows



def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="expected caseflow-ctl --exact --json rows for event files")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--report", required=True, choices=list(REPORTS))
    ap.add_argument("--by")
    ap.add_argument("--period")
    ap.add_argument("--programme")
    ap.add_argument("--from", dest="frm")
    ap.add_argument("--to")
    args = ap.parse_args(argv)
    model = Model(load_events(args.files))
    for w in model.warnings:
        print("warning: " + w, file=sys.stderr)
    try:
        rows = model.report(args.report, args.by, args.period, args.programme, args.frm, args.to)
    except (ValueError, KeyError) as e:
        ap.error(str(e))
    print("[" + ",\n ".join(json.dumps(r) for r in rows) + "]" if rows else "[]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
