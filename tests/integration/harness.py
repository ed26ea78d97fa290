"""harness: what the integration and fault tests share to drive caseflow for
real: printed checks (Checks), a stack started with scripts/up in a
temporary folder (Stack), a background caseflow-watch (Watcher), a minimal
Redis client to read everything (Redis), and row comparison helpers. The
independent model of the reports is expect.py, which re-exports these.
"""
import ctypes
import hashlib
import hmac
import json
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

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


SHARDS = 64         # the stacks' shard count: the setting's default


def shard_of(key, shards=SHARDS):
    """The shard of a shard key (a case_ref, a flow's route, a transaction's
    event_id: docs/protocol.md, "Shards"): FNV-1a 64 of its UTF-8 bytes,
    modulo shards."""
    h = 0xcbf29ce484222325
    for b in key.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h % shards


OUTBOX_NOTES_MAX = 256     # notifications in one outbox entry (CF_OUTBOX_NOTES_MAX)
OUTBOX_NOTES_FIELD = b"#n"  # the packed layout's one field (CF_OUTBOX_NOTES_FIELD)
OUTBOX_NOTES_LZ4_FIELD = b"#z"  # the same compressed, as commits write it (CF_OUTBOX_NOTES_LZ4_FIELD)


def outbox_decompress(value):
    """The packed value of a compressed one: its 4-byte little-endian length,
    then one LZ4 block (liblz4, through ctypes: Debian's python3 has no LZ4
    module unless python3-lz4 is installed)."""
    n = int.from_bytes(value[:4], "little")
    out = ctypes.create_string_buffer(n)
    got = ctypes.CDLL("liblz4.so.1").LZ4_decompress_safe(value[4:], out, len(value) - 4, n)
    assert got == n, "a compressed outbox value is malformed"
    return out.raw


def outbox_packed_notes(value):
    """The (topic, body) pairs of a packed value (CF_OUTBOX_NOTES_FIELD): per
    notification, topic and body, each a 4-byte little-endian length, the
    bytes and a NUL."""
    pairs, at = [], 0
    while at < len(value):
        strings = []
        for _ in range(2):
            n = int.from_bytes(value[at:at + 4], "little")
            strings.append(value[at + 4:at + 4 + n])
            assert value[at + 4 + n:at + 5 + n] == b"\0", "a packed outbox value is malformed"
            at += 4 + n + 1
        pairs.append(tuple(strings))
    return pairs


def outbox_entry_notes(prefix, entry_id, fields):
    """The notifications of one outbox entry (docs/storage.md, "Outboxes"),
    as [(id, topic, body)] with topic and body bytes: the one field
    OUTBOX_NOTES_LZ4_FIELD holds them all packed and compressed, or
    OUTBOX_NOTES_FIELD packed, or each field-value pair is
    one (its topic, its body), or the pair topic/body of the first layout
    is one; notification k of entry <ms>-<seq> has the id
    <prefix><ms>-<seq * 256 + k> (cf_outbox_notes.h)."""
    if isinstance(entry_id, bytes):
        entry_id = entry_id.decode()
    ms, seq = (int(x) for x in entry_id.split("-"))
    if len(fields) == 2 and fields[0] == OUTBOX_NOTES_LZ4_FIELD:
        pairs = outbox_packed_notes(outbox_decompress(fields[1]))
    elif len(fields) == 2 and fields[0] == OUTBOX_NOTES_FIELD:
        pairs = outbox_packed_notes(fields[1])
    elif len(fields) == 4 and fields[0] == b"topic" and fields[2] == b"body":
        pairs = [(fields[1], fields[3])]
    else:
        pairs = list(zip(fields[0::2], fields[1::2]))
    return [(f"{prefix}{ms}-{seq * OUTBOX_NOTES_MAX + k}", topic, body)
            for k, (topic, body) in enumerate(pairs)]


def case_shards(path, count=4):
    """The shards of the first `count` distinct shards the cases of the
    JSON-lines events at path live in: a test that breaks them knows events
    will meet the fault."""
    found = []
    with open(path) as f:
        for line in f:
            ref = json.loads(line).get("case_ref")
            if ref and shard_of(ref) not in found:
                found.append(shard_of(ref))
            if len(found) == count:
                break
    return tuple(found)


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


def free_ports(n, taken=()):
    """n distinct loopback ports free now, below the ephemeral range, none of
    taken: for daemons a test starts itself (scripts/lib/free_ports.py, which
    scripts/up uses too)."""
    import importlib.util
    path = os.path.join(source_dir(), "scripts", "lib", "free_ports.py")
    spec = importlib.util.spec_from_file_location("free_ports", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.free_ports(n, taken)


# Which of the stack's key files a client of each role uses (scripts/up).
CURVE_KEYS = {"producer": "CASEFLOW_PRODUCER_KEY", "worker": "CASEFLOW_WORKER_KEY",
              "subscriber": "CASEFLOW_SUBSCRIBER_KEY", "operator": "CASEFLOW_OPERATOR_KEY"}


def read_key(path):
    """The one Z85 line of a key file, as bytes."""
    with open(path, "rb") as f:
        return f.read().strip()


def curve_client(sock, env, role, key_file=None):
    """Makes a pyzmq socket (before connect) a CURVE client of the stack's
    broker with the key pair of role ("producer", "subscriber", ...), or of
    key_file; leaves it plain when the stack runs plain. Returns sock."""
    import zmq      # here: most tests never open a socket of their own
    if not env.get("CASEFLOW_SERVER_KEY"):
        return sock
    secret = read_key(key_file or env[CURVE_KEYS[role]])
    sock.curve_secretkey = secret
    sock.curve_publickey = zmq.curve_public(secret)
    sock.curve_serverkey = read_key(env["CASEFLOW_SERVER_KEY"])
    return sock


def curve_server(sock, env):
    """Makes a pyzmq socket (before bind) a CURVE server with the broker's
    key (a test's stand-in for the broker, with no allow-list); plain when
    the stack is. Returns sock."""
    if env.get("CASEFLOW_BROKER_KEY"):
        sock.curve_server = True
        sock.curve_secretkey = read_key(env["CASEFLOW_BROKER_KEY"])
    return sock


def wait_for(ready, seconds=30.0, step=0.2):
    """Polls ready() until it is true or seconds have passed; returns its
    last value. For what a stack does in the background (owners moving,
    notifications published), where a fixed sleep is too short on a loaded
    machine and too long on an idle one: the check that follows still
    decides."""
    deadline = time.monotonic() + seconds
    while True:
        value = ready()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def wait_until(what, ready, seconds=60.0, step=0.1):
    """wait_for, for a step that the rest of a test cannot go on without:
    its truthy value, or RuntimeError naming what did not come."""
    value = wait_for(ready, seconds, step)
    if not value:
        raise RuntimeError(f"timed out waiting for {what}")
    return value


def pid_running(pid):
    """Whether process pid runs (and is not a zombie)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def reply_to(sock, rid, timeout=15.0, also=(), on_other=None):
    """The next reply on a producer's socket whose frame 2 (the request id)
    is rid or one of also, or None after timeout seconds; the replies to
    other requests are skipped (on_other, when given, sees each)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sock.poll(int(max(0.0, deadline - time.monotonic()) * 1000) + 1):
            reply = sock.recv_multipart()
            if len(reply) >= 3 and (reply[2] == rid or reply[2] in also):
                return reply
            if on_other:
                on_other(reply)
    return None


class Dealer:
    """A raw DEALER of a producer on endpoint (the stack's intake unless
    given), with the stack's producer key (CURVE) or key_file: for tests
    that write requests by hand. A producer is its key, whatever connection
    it comes on."""

    def __init__(self, stack, ctx, endpoint=None, key_file=None):
        import zmq      # here: most tests never open a socket of their own
        self.sock = stack.secure(ctx.socket(zmq.DEALER), "producer", key_file)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint or stack.env["CASEFLOW_INTAKE"])

    def request(self, frames, rid, timeout=15.0, also=(), on_other=None):
        """Sends frames; the reply for rid (reply_to), or None."""
        self.sock.send_multipart(frames)
        return reply_to(self.sock, rid, timeout, also, on_other)

    def close(self):
        self.sock.close()


class Stack:
    """A stack started with scripts/up in a temporary folder; use with `with`."""

    def __init__(self, workers=2, keep_logs_on_failure=True, queue=None, web=True, cluster=False,
                 brokers=1):
        self.workers = workers
        self.cluster = cluster
        self.brokers = brokers
        self.queue = queue
        self.web = web
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
                              + (["--queue", str(self.queue)] if self.queue else [])
                              + ([] if self.web else ["--no-web"])
                              + (["--cluster"] if self.cluster else [])
                              + (["--brokers", str(self.brokers)] if self.brokers > 1 else []),
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

    def _down(self, keep=False):
        if not self.started:
            return
        proc = subprocess.run([os.path.join(source_dir(), "scripts", "down"), "--dir", self.dir]
                              + (["--keep"] if keep else []),
                              capture_output=True, text=True, timeout=60)
        self.down_status = proc.returncode
        self.started = False
        if proc.returncode != 0:
            print(f"scripts/down exited {proc.returncode}: {proc.stderr.strip()}", flush=True)

    def stop(self):
        """Stops the daemons (scripts/down --keep): their logs and Redis's files
        stay in self.dir until the with block ends."""
        self._down(keep=True)

    def __exit__(self, *exc):
        self._down()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def secure(self, sock, role, key_file=None):
        """curve_client(sock, self.env, role, key_file): a socket of this stack's."""
        return curve_client(sock, self.env, role, key_file)

    def pids(self):
        """{name: pid} from the stack's pid files."""
        out = {}
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".pid"):
                with open(os.path.join(self.dir, name)) as f:
                    out[name[:-4]] = int(f.read().strip())
        return out

    def daemons_alive(self):
        """Whether redis, the broker, every worker (and caseflow-web, when the
        stack has it) still run."""
        alive = self.alive()
        names = ["redis", "broker"] + [f"worker-{i}" for i in range(1, self.workers + 1)]
        names += [f"broker-{b}" for b in range(2, self.brokers + 1)]
        names += ["web"] if self.web else []
        return all(alive.get(name) for name in names)

    def alive(self):
        """{name: bool}: is each daemon still running (and not a zombie)?"""
        return {name: pid_running(pid) for name, pid in self.pids().items()}

    def log_tail(self, name, lines=20):
        try:
            with open(os.path.join(self.dir, name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def run(self, *args, timeout=300, stdin=None):
        return subprocess.run(list(args), capture_output=True, text=True, env=self.env,
                              timeout=timeout, input=stdin)

    def run_as(self, role, *args, timeout=300, stdin=None):
        """run(), with caseflow-ctl (or any caseflow tool) authenticating to
        Redis as caseflow-ROLE instead of the stack's read-only caseflow-ctl:
        "admin" for dlq replay and clock set."""
        env = dict(self.env, CASEFLOW_REDIS_USER=f"caseflow-{role}",
                   CASEFLOW_REDIS_PASSWORD_FILE=os.path.join(self.dir, f"redis-{role}.password"))
        return subprocess.run(list(args), capture_output=True, text=True, env=env,
                              timeout=timeout, input=stdin)

    def report(self, name, by=None, period=None, programme=None, frm=None, to=None, exact=True,
               fmt="--json"):
        """caseflow-ctl report NAME --exact --json ... as a list of rows (order kept);
        exact=False for the published figures; fmt "--csv" or None gives the text."""
        args = ["caseflow-ctl", "report", name] + ([fmt] if fmt else []) + (["--exact"] if exact else [])
        for flag, value in (("--by", by), ("--period", period), ("--programme", programme),
                            ("--from", frm), ("--to", to)):
            if value:
                args += [flag, value]
        proc = self.run(*args, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        return json.loads(proc.stdout) if fmt == "--json" else proc.stdout

    def intake(self, broker=1):
        """The intake endpoint of broker number broker (scripts/up --brokers)."""
        return self.env["CASEFLOW_INTAKE" if broker == 1 else f"CASEFLOW_INTAKE_{broker}"]

    def push(self, path, *flags, timeout=400, broker=1):
        """caseflow-push --json [flags] PATH to broker number broker: (the
        process, its summary map or None)."""
        proc = self.run("caseflow-push", "--json", "--intake", self.intake(broker), *flags, path,
                        timeout=timeout)
        summary = None
        for text in (proc.stdout, (proc.stdout.strip().splitlines() or [""])[-1]):
            try:
                summary = json.loads(text)
                break
            except ValueError:
                pass
        return proc, summary

    def redis_address(self):
        host, port = self.env["CASEFLOW_REDIS"].rsplit(":", 1)
        return host, int(port)

    def redis_password(self, role):
        """The password scripts/up made for Redis user caseflow-ROLE (worker,
        broker, ctl, admin; see deploy/redis-users.acl)."""
        with open(os.path.join(self.dir, f"redis-{role}.password")) as f:
            return f.read().strip()

    def role_args(self, role):
        """The flags that make a daemon started by a test authenticate to
        Redis as caseflow-ROLE, as scripts/up starts them (the stack's
        environment holds caseflow-ctl's read-only credentials)."""
        return ["--redis-user", f"caseflow-{role}",
                "--redis-password-file", os.path.join(self.dir, f"redis-{role}.password")]

    def redis(self, role="admin"):
        """A Redis client (below) authenticated as caseflow-ROLE: the one way
        the tests talk to Redis directly (admin: every command and key)."""
        return Redis(*self.redis_address(), user=f"caseflow-{role}",
                     password=self.redis_password(role))

    def redis_masters(self):
        """The (host, port) of each master: the one server, or every node of
        a cluster (scripts/up --cluster) that serves slots now."""
        ports = os.path.join(self.dir, "cluster.ports")
        if not os.path.exists(ports):
            return [self.redis_address()]
        masters = []
        with open(ports) as f:
            for port in (int(line) for line in f if line.strip()):
                try:
                    with Redis("127.0.0.1", port, timeout=5, user="caseflow-admin",
                               password=self.redis_password("admin")) as node:
                        if b"role:master" in node.call("INFO", "replication"):
                            masters.append(("127.0.0.1", port))
                except OSError:
                    pass                # a node killed by the test
        return masters

    def _markers(self, command):
        """command (HKEYS, HLEN) of every dedupe bucket, the hashes
        cf:{sN}:eid:<bucket> (docs/storage.md), on every master."""
        replies = []
        for host, port in self.redis_masters():
            with Redis(host, port, user="caseflow-admin",
                       password=self.redis_password("admin")) as redis:
                cursor = b"0"
                while True:
                    cursor, keys = redis.call("SCAN", cursor, "MATCH", "cf:*:eid:*", "COUNT", 5000)
                    replies += redis.pipeline([(command, k) for k in keys])
                    if cursor == b"0":
                        break
        return replies

    def marker_count(self):
        """How many dedupe markers there are (one per event applied)."""
        return sum(self._markers("HLEN"))

    def case_id(self, case_ref):
        """The pseudonym the workers give case_ref (include/caseflow/cf_pseudo.h):
        HMAC-SHA-256 with the stack's key, its first 16 bytes in hex."""
        with open(self.env["CASEFLOW_KEY_FILE"], "rb") as f:
            key = f.read().rstrip(b"\r\n")
        return hmac.new(key, case_ref.encode(), hashlib.sha256).digest()[:16].hex()

    def marker_field(self, event):
        """The dedupe marker field of event (a map as sent): the first 12
        bytes of BLAKE2b-128 of the case's pseudonym, a NUL and the event_id
        for a case event, of the event_id alone for any other
        (docs/storage.md, "Dedupe markers")."""
        data = event["event_id"].encode()
        if str(event.get("event_type", "")).startswith("case."):
            data = self.case_id(event["case_ref"]).encode() + b"\0" + data
        return hashlib.blake2b(data, digest_size=16).digest()[:12]

    def marked_event_ids(self, events):
        """The event_ids of events (maps, as sent) that have a dedupe marker."""
        fields = {f for got in self._markers("HKEYS") for f in got}
        return {e["event_id"] for e in events if self.marker_field(e) in fields}

    def redis_server_argv(self):
        """redis-server's argv as scripts/up starts it (its data and ACL in
        the stack folder), for a test that kills Redis and starts it again."""
        return ["redis-server", "--port", str(self.redis_address()[1]), "--bind", "127.0.0.1",
                "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                "--protected-mode", "yes", "--hash-max-listpack-entries", "128",
                "--aclfile", os.path.join(self.dir, "redis-users.acl")]

    def redis_cli_as(self, role, *args):
        """redis-cli ARGS... as caseflow-ROLE, the password in the
        environment (REDISCLI_AUTH), never on its command line: the process."""
        host, port = self.redis_address()
        env = dict(self.env, REDISCLI_AUTH=self.redis_password(role))
        return subprocess.run(["redis-cli", "--user", f"caseflow-{role}", "-h", host,
                               "-p", str(port), *args], capture_output=True, text=True,
                              env=env, timeout=60)

    def redis_cli(self, *args):
        """redis-cli ARGS... as the admin user: its stdout (raises on failure)."""
        proc = self.redis_cli_as("admin", *args)
        if proc.returncode != 0 or proc.stdout.startswith(("ERR", "NOPERM", "NOAUTH", "LOADING")):
            raise RuntimeError(f"redis-cli {' '.join(args)}: {proc.stdout.strip()} {proc.stderr.strip()}")
        return proc.stdout

    def flush(self):
        """Empties Redis (FLUSHALL): the keys go, the function library stays."""
        return self.redis_cli("FLUSHALL").strip() == "OK"


class Redis:
    """A minimal RESP client (standard library only) for reading everything a
    test wants to inspect; replies as bytes, ints, lists or None."""

    def __init__(self, host, port, timeout=30, user=None, password=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = self.sock.makefile("rb")
        if password is not None:
            try:
                self.call("AUTH", *([user] if user else []), password)
            except BaseException:
                self.close()
                raise

    def close(self):
        self.buf.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def pipeline(self, commands):
        """Sends every command, then reads every reply (in order)."""
        out = bytearray()
        for args in commands:
            out += b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(bytes(out))
        return [self._reply() for _ in commands]

    def call(self, *args):
        return self.pipeline([args])[0]

    def _reply(self):
        line = self.buf.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError("redis: " + rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.buf.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"redis: unexpected reply {line!r}")

    def dump_all(self, batch=500):
        """{key: (type, value)} of every key: strings as bytes, hashes as dicts,
        sets and lists as lists, streams as their XRANGE, zsets WITHSCORES."""
        keys, cursor = [], b"0"
        while True:
            cursor, found = self.call("SCAN", cursor, "COUNT", 1000)
            keys += found
            if cursor == b"0":
                break
        keys = sorted(set(keys))
        out = {}
        for i in range(0, len(keys), batch):
            chunk = keys[i:i + batch]
            types = self.pipeline([("TYPE", k) for k in chunk])
            read = {b"string": ("GET",), b"hash": ("HGETALL",), b"set": ("SMEMBERS",),
                    b"list": ("LRANGE", 0, -1), b"zset": ("ZRANGE", 0, -1, "WITHSCORES"),
                    b"stream": ("XRANGE", "-", "+")}
            cmds = [(read[t][0], k) + read[t][1:] if t in read else ("TYPE", k)
                    for k, t in zip(chunk, types)]
            for k, t, v in zip(chunk, types, self.pipeline(cmds)):
                if t == b"hash":
                    v = dict(zip(v[0::2], v[1::2]))
                out[k] = (t.decode(), v)
        return out


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
