"""deployment: what test_deploy_units and test_deploy_manifests share to
check the files in deploy/ against the programs themselves: the flags and
CASEFLOW_* variables each daemon accepts, read from its --help text (not
from a list kept by hand), the broker's stop grace from its source, and the
small parsers for endpoints and durations that the manifests use.
"""
import os
import re
import subprocess

from harness import Checks, bin_dir, source_dir  # noqa: F401 (re-exported)

# Settings the manifests may name before a program's --help lists them
# (none now: the config file's CASEFLOW_CONFIG is in every --help). Accepted
# with a note while pending, so that the test tightens by itself.
PENDING_ENV = {}


class Program:
    """One daemon's command line, as its --help text tells it."""

    def __init__(self, name, help_text):
        self.name = name
        self.help = help_text
        self.flags = {}      # --flag -> its CASEFLOW_* variable, or None
        flag = None
        for line in help_text.splitlines():
            m = re.match(r"\s{1,4}(--[a-z][a-z-]*)", line)
            if m:
                flag = m.group(1)
                self.flags[flag] = None
            elif not line.startswith("      "):
                flag = None
            env = re.search(r"\b(CASEFLOW_[A-Z_]+)", line)
            if flag and env and self.flags[flag] is None:
                self.flags[flag] = env.group(1)
        self.envs = set(re.findall(r"\b(CASEFLOW_[A-Z_]+)", help_text))

    def accepts_env(self, name):
        return name in self.envs or (name in PENDING_ENV and PENDING_ENV[name] not in self.flags)


def programs():
    """{'caseflow-broker': Program, 'caseflow-worker': Program, 'caseflow-web':
    Program, 'caseflow-alert': Program} from --help."""
    found = {}
    for name in ("caseflow-broker", "caseflow-worker", "caseflow-web", "caseflow-alert"):
        path = os.path.join(bin_dir(), name)
        out = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30)
        if out.returncode != 0 or "--help" not in out.stdout:
            raise SystemExit(f"{path} --help failed (rc {out.returncode}): {out.stderr}")
        found[name] = Program(name, out.stdout)
    return found


def check_env_names(checks, program, names, where):
    """One check: every CASEFLOW_* name is one the program accepts."""
    names = [n for n in names if n.startswith("CASEFLOW_")]
    unknown = [n for n in names if not program.accepts_env(n)]
    checks.check(not unknown, f"{where}: {program.name} accepts every CASEFLOW_* variable",
                 f"not in its --help: {unknown}")
    for name in names:
        if name not in program.envs and name in PENDING_ENV and not unknown:
            checks.note(f"{where}: {name} is not in {program.name} --help yet "
                        f"(being added as {PENDING_ENV[name]})")


def stop_grace_s():
    """The broker's drain on SIGTERM, in seconds, from its source."""
    text = open(os.path.join(source_dir(), "src", "broker", "cf_broker_internal.h")).read()
    m = re.search(r"#define\s+BROKER_STOP_GRACE_MS\s+(\d+)", text)
    if not m:
        raise SystemExit("BROKER_STOP_GRACE_MS not found in src/broker/cf_broker_internal.h")
    return int(m.group(1)) / 1000


def project_version():
    """The version in CMakeLists.txt's project(), which the image tags carry."""
    text = open(os.path.join(source_dir(), "CMakeLists.txt")).read()
    m = re.search(r"project\(caseflow VERSION ([0-9.]+)", text)
    if not m:
        raise SystemExit("no project(caseflow VERSION ...) in CMakeLists.txt")
    return m.group(1)


def endpoint(text):
    """'tcp://host:port' -> (host, port); None when it is not one."""
    m = re.fullmatch(r"tcp://(\[[^\]]+\]|[^:/]+):(\d+)", text or "")
    return (m.group(1), int(m.group(2))) if m else None


def host_port(text):
    """'host:port' -> (host, port); None when it is not one."""
    m = re.fullmatch(r"([^:/]+):(\d+)", text or "")
    return (m.group(1), int(m.group(2))) if m else None


def seconds(text):
    """A duration as systemd or compose write it ('30', '30s', '1m30s')."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total, units = 0.0, {"h": 3600, "min": 60, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|min|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise ValueError(f"not a duration: {text!r}")
    for number, unit in parts:
        total += float(number) * units[unit]
    return total


def unit_settings(text):
    """[(section, key, value)] of a unit file, in order."""
    section, out = None, []
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            key, value = line.split("=", 1)
            out.append((section, key.strip(), value.strip()))
    return out


def values(settings, key):
    return [v for _, k, v in settings if k == key]


def syscall_group(name, seen=None):
    """The syscalls of a systemd-analyze syscall-filter group, expanded."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True,
                         text=True, timeout=60).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        word = line.strip()
        if word and not word.startswith("#"):
            calls |= syscall_group(word, seen) if word.startswith("@") else {word}
    return calls


def allowed_syscalls(settings):
    """The calls a unit's SystemCallFilter= lines let through (allow lists
    first, then the ~ deny lists, as systemd applies them)."""
    allow, deny = set(), set()
    for value in values(settings, "SystemCallFilter"):
        target = deny if value.startswith("~") else allow
        for word in value.lstrip("~").split():
            target |= syscall_group(word) if word.startswith("@") else {word}
    return allow - deny


def proc_net_hex(port):
    """How /proc/net/tcp writes a port (5571 -> '15C3')."""
    return f"{port:04X}"
