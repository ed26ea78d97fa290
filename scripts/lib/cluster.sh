# A throw-away Redis Cluster on loopback ports, for tests and (later)
# `scripts/up --cluster`: cf_cluster_start and cf_cluster_stop. Source it
# after scripts/lib/common.sh (it is sourced here when it was not).
#
# Each node is a redis-server with cluster-enabled yes, its append-only file
# fsynced on every write (as scripts/up runs Redis), the ACL users of
# deploy/redis-users.acl with random passwords (cf_redis_acl), its client
# and cluster-bus ports both drawn free (cluster-port: the bus is not
# port+10000, which could be taken), in DIR/node-PORT. Replicas replicate as
# caseflow-admin; the password is in each node's redis.conf (mode 0600),
# never on a command line. A replica syncs as soon as it asks
# (repl-diskless-sync-delay 0: the default 5 s wait for more replicas would
# only slow a start). CF_CLUSTER_NODE_TIMEOUT (ms, default 2000) is how
# long a master may be silent before its replica takes over.

[ -n "${CF_ROOT:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# redis-cli as caseflow-admin of the cluster in DIR (password through the environment)
cf_cluster_cli() {
  local dir=$1; shift
  REDISCLI_AUTH="$(<"$dir/redis-admin.password")" redis-cli --user caseflow-admin "$@"
}

# cf_cluster_by_hand DIR MASTERS PORTS...: the first MASTERS nodes take an
# equal share of the 16384 slots each, every node meets the first, and each
# other node replicates master (i - MASTERS) mod MASTERS. PORTS holds the
# client ports, then the bus ports.
cf_cluster_by_hand() {
  local dir=$1 masters=$2; shift 2
  local ports=("$@") n=$(($# / 2)) i first last id
  for ((i = 0; i < masters; i++)); do
    first=$((16384 * i / masters)) last=$((16384 * (i + 1) / masters - 1))
    cf_cluster_cli "$dir" -p "${ports[i]}" cluster addslotsrange "$first" "$last" | grep -q OK || return 1
  done
  for ((i = 1; i < n; i++)); do
    cf_cluster_cli "$dir" -p "${ports[i]}" cluster meet 127.0.0.1 "${ports[0]}" "${ports[n]}" \
      | grep -q OK || return 1
  done
  for ((i = masters; i < n; i++)); do
    id=$(cf_cluster_cli "$dir" -p "${ports[(i - masters) % masters]}" cluster myid)
    for _ in $(seq 200); do     # it must know the master before it can replicate it
      cf_cluster_cli "$dir" -p "${ports[i]}" cluster replicate "$id" 2>/dev/null | grep -q OK && continue 2
      sleep 0.05
    done
    return 1
  done
}

# cf_cluster_start DIR MASTERS REPLICAS [TAKEN...]: starts MASTERS x (1 +
# REPLICAS) nodes, on ports none of TAKEN (those the caller chose for its own
# daemons, which have not bound them yet), makes them one cluster (redis-cli --cluster create ... --cluster-yes; by
# hand for fewer than 3 masters, which redis-cli refuses) and
# returns once every node says cluster_state:ok. DIR/cluster.ports lists the
# nodes' client ports, one a line; DIR/node-PORT.pid their pids. Returns 1,
# with the reason on stderr and the nodes stopped, when that fails.
cf_cluster_start() {
  local dir=$1 masters=$2 replicas=$3
  shift 3                   # the rest: ports the caller chose and has not bound yet
  [[ $masters =~ ^[0-9]+$ && $masters -ge 1 && $replicas =~ ^[0-9]+$ ]] \
    || { cf_say "cf_cluster_start: a cluster needs 1 master or more (got '$masters', '$replicas')"; return 1; }
  local n=$((masters * (1 + replicas))) ports bus i port
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
  read -r -a ports < <(cf_free_ports $((2 * n)) "$@")
  (umask 077 && cf_redis_acl "$dir") || return 1
  : >"$dir/cluster.ports"
  for ((i = 0; i < n; i++)); do
    port=${ports[i]} bus=${ports[n + i]}
    mkdir -p "$dir/node-$port"
    (umask 077 && cat >"$dir/node-$port/redis.conf" <<CONF
port $port
cluster-port $bus
bind 127.0.0.1
protected-mode yes
dir $dir/node-$port
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout ${CF_CLUSTER_NODE_TIMEOUT:-2000}
appendonly yes
appendfsync always
save ""
hash-max-listpack-entries 128
repl-diskless-sync-delay 0
aclfile $dir/redis-users.acl
masteruser caseflow-admin
masterauth $(<"$dir/redis-admin.password")
CONF
    )
    nohup redis-server "$dir/node-$port/redis.conf" </dev/null >"$dir/node-$port.log" 2>&1 &
    echo $! >"$dir/node-$port.pid"
    echo "$port" >>"$dir/cluster.ports"
  done
  local addrs=()
  for ((i = 0; i < n; i++)); do
    port=${ports[i]}
    addrs+=("127.0.0.1:$port")
    for _ in $(seq 100); do
      cf_cluster_cli "$dir" -p "$port" ping 2>/dev/null | grep -q PONG && break
      sleep 0.05
    done
  done
  if [ "$masters" -lt 3 ]; then
    # redis-cli --cluster create wants 3 masters: fewer (for a measurement
    # against 1 and 2) are made by hand, as it would make them
    cf_cluster_by_hand "$dir" "$masters" "${ports[@]}" >"$dir/cluster-create.log" 2>&1 \
      || { tail -n 5 "$dir/cluster-create.log" >&2; cf_cluster_stop "$dir"
           cf_say "cf_cluster_start: making the cluster failed (log in $dir/cluster-create.log)"
           return 1; }
  elif ! cf_cluster_cli "$dir" --cluster create "${addrs[@]}" --cluster-replicas "$replicas" \
       --cluster-yes >"$dir/cluster-create.log" 2>&1; then
    tail -n 5 "$dir/cluster-create.log" >&2
    cf_cluster_stop "$dir"
    cf_say "cf_cluster_start: redis-cli --cluster create failed (log in $dir/cluster-create.log)"
    return 1
  fi
  local ok=0
  for _ in $(seq 300); do       # up to 15 s for the nodes to agree
    ok=0
    for ((i = 0; i < n; i++)); do
      cf_cluster_cli "$dir" -p "${ports[i]}" cluster info 2>/dev/null \
        | grep -q '^cluster_state:ok' && ok=$((ok + 1))
    done
    [ "$ok" -eq "$n" ] && break
    sleep 0.05
  done
  if [ "$ok" -ne "$n" ]; then
    cf_cluster_stop "$dir"
    cf_say "cf_cluster_start: only $ok of $n nodes reached cluster_state:ok"
    return 1
  fi
  # state ok comes before every node knows every replica, and before they
  # have synced: wait for both, so that a failover has one to promote (CLUSTER
  # SLOTS lists a replica only once the gossip carries a replication offset
  # other than 0: after the first writes, not here)
  local want=$((masters * replicas)) linked known
  for _ in $(seq 300); do
    linked=0 known=0
    for ((i = 0; i < n; i++)); do
      cf_cluster_cli "$dir" -p "${ports[i]}" info replication 2>/dev/null \
        | grep -q '^master_link_status:up' && linked=$((linked + 1))
      port=$(cf_cluster_cli "$dir" -p "${ports[i]}" cluster nodes 2>/dev/null \
        | awk '$3 ~ /slave/ && $4 != "-" { k++ } END { print k + 0 }')
      known=$((known + port))
    done
    [ "$linked" -eq "$want" ] && [ "$known" -eq $((n * want)) ] && return 0
    sleep 0.05
  done
  cf_cluster_stop "$dir"
  cf_say "cf_cluster_start: $linked of $want replicas linked, $known of $((n * want)) known by the nodes"
  return 1
}

# cf_cluster_stop DIR: stops the nodes of DIR (SIGTERM, SIGKILL after 10 s);
# leaves DIR itself to the caller.
cf_cluster_stop() {
  local dir=$1 pids=() f
  for f in "$dir"/node-*.pid; do [ -f "$f" ] && pids+=("$(cat "$f")"); done
  [ ${#pids[@]} -eq 0 ] && return 0
  kill -TERM "${pids[@]}" 2>/dev/null
  for _ in $(seq 100); do
    kill -0 "${pids[@]}" 2>/dev/null || { rm -f "$dir"/node-*.pid; return 0; }
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null
  rm -f "$dir"/node-*.pid
}
