# Shared by scripts/up, scripts/demo and scripts/test: installing what caseflow
# needs from Debian's packages, building it, and finding free loopback ports.
# Source it; it defines functions and CF_ROOT, and changes nothing by itself.

CF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CF_PACKAGES=(build-essential cmake pkg-config libzmq3-dev libmsgpack-dev libhiredis-dev liblz4-dev
             libcmocka-dev libsodium-dev libjansson-dev libinih-dev libmicrohttpd-dev libcurl4-openssl-dev
             redis-server redis-tools
             python3 python3-zmq python3-msgpack python3-yaml python3-seccomp systemd
             python3-pip python3-setuptools python3-wheel
             help2man libjs-chart.js)
# Only the tests' fuzzing pass (scripts/fuzz) needs these; an image does not.
CF_FUZZ_PACKAGES=(clang libclang-rt-14-dev)
# Only integration.dashboard needs this (headless Chromium drives the page;
# without it the test is skipped); an image does not.
CF_TEST_PACKAGES=(chromium)

cf_say() { printf '%s\n' "$*" >&2; }
cf_die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Installs the packages that are missing (apt-get, as root or through sudo).
cf_ensure_deps() {
  local missing=() pkg
  for pkg in "${CF_PACKAGES[@]}" "${CF_FUZZ_PACKAGES[@]}" "${CF_TEST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || cf_die "missing packages (${missing[*]}) and not root: install them with apt-get"
    sudo=sudo
  fi
  cf_say "installing: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null || cf_die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || cf_die "apt-get install ${missing[*]} failed"
}

# cf_configure DIR [cmake options...]: configures DIR once (RelWithDebInfo
# unless an option says otherwise). A configure that fails leaves no cache,
# so that the next call configures again (say, once the missing packages
# are installed) instead of building from a half-made tree.
cf_configure() {
  local dir=$1; shift
  [ -f "$dir/CMakeCache.txt" ] && return 0
  cmake -S "$CF_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log" >&2; rm -f "$dir/CMakeCache.txt"
         cf_die "cmake configure failed (log above)"; }
  rm -f "$dir.configure.log"
}

# cf_build DIR [cmake options...]: configures (once) and builds into DIR.
cf_build() {
  local dir=$1; shift
  cf_configure "$dir" "$@"
  cmake --build "$dir" -j "$(nproc)" >"$dir.build.log" 2>&1 \
    || { tail -n 40 "$dir.build.log" >&2; cf_die "build failed (last lines above)"; }
  rm -f "$dir.build.log"
}

# cf_redis_acl DIR: the Redis users of deploy/redis-users.acl with a random
# password for each role (in DIR/redis-ROLE.password, mode 0600 under the
# caller's umask 077) stored as its SHA-256 (#hash form), into
# DIR/redis-users.acl, so that the ACL a stack runs is the documented one
# (docs/security.md). Used by scripts/up and cf_cluster_start.
cf_redis_acl() {
  local dir=$1 acl_template="$CF_ROOT/deploy/redis-users.acl" acl role hash
  acl="$(<"$acl_template")"
  for role in worker broker ctl web alert admin; do
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/redis-$role.password"
    hash=$(sha256sum <"$dir/redis-$role.password" | cut -d' ' -f1)
    acl=${acl//">CHANGE-ME-$role"/"#$hash"}
  done
  case $acl in *CHANGE-ME*) cf_die "$acl_template: a placeholder password is left (roles: worker broker ctl web alert admin)" ;; esac
  printf '%s\n' "$acl" >"$dir/redis-users.acl"
}

# cf_free_ports N [TAKEN...]: prints N distinct TCP ports that are free on
# 127.0.0.1 now (all held open at once while choosing, so no two are the same)
# and are none of TAKEN: the ports an earlier call chose for daemons that have
# not bound them yet (scripts/up's, then its cluster's). They are drawn below
# the kernel's ephemeral range, so that no outgoing connection can take one as
# its source port between this choice and the daemon's bind.
cf_free_ports() {
  "$(command -v python3 || echo /usr/bin/python3)" "$CF_ROOT/scripts/lib/free_ports.py" "$@"
}
