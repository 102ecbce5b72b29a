# Sourced by scripts/test-services.sh: the two other ways production runs Redis, on 127.0.0.1,
# without systemd and without persistence (docs/redis.md describes the modes):
#   - a Redis Cluster of 3 masters (7000-7002), each with one replica (7003-7005);
#   - a master (6391) with one replica (6392) watched by 3 Sentinels (26391-26393) as
#     "reseller-auth-test".
# Exports TEST_REDIS_CLUSTER_NODES, TEST_REDIS_SENTINELS and TEST_REDIS_SENTINEL_NAME.
# Idempotent: a running, healthy setup is left alone; a node that is down (a test killed it) is
# started again from its own configuration file and rejoins as it was.

need_package redis-sentinel redis-sentinel
redis_modes_dir=/tmp/reseller-auth-test-redis-modes
mkdir -p "$redis_modes_dir"
redis_modes_started=$(date +%s%N)

redis_pings() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }
redis_wait() { # redis_wait <port>: up to 5 s for a new server to answer
  for _ in $(seq 1 50); do redis_pings "$1" && return 0; sleep 0.1; done
  echo "test-services: redis on port $1 did not start (see $redis_modes_dir/$1.log)" >&2
  return 1
}
# redis_node <port> <extra config lines…>: writes the node's configuration once, starts it if down.
redis_node() {
  local port=$1 conf="$redis_modes_dir/$1.conf"
  shift
  if [ ! -f "$conf" ]; then
    mkdir -p "$redis_modes_dir/$port"
    {
      echo "port $port"
      echo "bind 127.0.0.1"
      echo "dir $redis_modes_dir/$port"
      echo "save \"\""
      echo "appendonly no"
      echo "daemonize yes"
      echo "logfile $redis_modes_dir/$port.log"
      printf '%s\n' "$@"
    } >"$conf"
  fi
  if ! redis_pings "$port"; then
    echo "test-services: starting redis on port $port"
    redis-server "$conf"
    redis_wait "$port"
  fi
}

# Redis Cluster. A short node timeout so that a killed master's replica takes over in ~2 s.
cluster_ports=(7000 7001 7002 7003 7004 7005)
for port in "${cluster_ports[@]}"; do
  redis_node "$port" "cluster-enabled yes" "cluster-config-file nodes.conf" "cluster-node-timeout 2000"
done
if [ "$(redis-cli -p 7000 cluster info | tr -d '\r' | awk -F: '$1 == "cluster_slots_assigned" { print $2 }')" = "0" ]; then
  echo "test-services: creating the Redis Cluster"
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${cluster_ports[@]}") --cluster-replicas 1 --cluster-yes >"$redis_modes_dir/cluster-create.log"
fi
cluster_ok=""
for _ in $(seq 1 150); do
  if [ "$(redis-cli -p 7000 cluster info | tr -d '\r' | awk -F: '$1 == "cluster_state" { print $2 }')" = "ok" ]; then cluster_ok=1; break; fi
  sleep 0.1
done
[ -n "$cluster_ok" ] || { echo "test-services: the Redis Cluster is not ok (see $redis_modes_dir)" >&2; return 1 2>/dev/null || exit 1; }

# Sentinel: the data nodes first (once a failover happened, 6392 may be the master: Sentinel
# rewrote both configuration files, and that is kept).
redis_node 6391
redis_node 6392 "replicaof 127.0.0.1 6391"
for port in 26391 26392 26393; do
  conf="$redis_modes_dir/sentinel-$port.conf"
  if [ ! -f "$conf" ]; then
    # Sentinel rewrites its own file (known replicas, epochs): it must be writable, so one per sentinel.
    cat >"$conf" <<EOF
port $port
bind 127.0.0.1
daemonize yes
logfile $redis_modes_dir/sentinel-$port.log
dir $redis_modes_dir
sentinel monitor reseller-auth-test 127.0.0.1 6391 2
sentinel down-after-milliseconds reseller-auth-test 2000
sentinel failover-timeout reseller-auth-test 10000
sentinel parallel-syncs reseller-auth-test 1
EOF
  fi
  if ! redis_pings "$port"; then
    echo "test-services: starting redis-sentinel on port $port"
    redis-sentinel "$conf"
    redis_wait "$port"
  fi
done
# Ready when every sentinel knows the master and the master has its replica online.
sentinel_ok=""
for _ in $(seq 1 150); do
  master_port=$(redis-cli -p 26391 sentinel get-master-addr-by-name reseller-auth-test 2>/dev/null | sed -n 2p)
  if [ -n "$master_port" ] && redis-cli -p "$master_port" info replication | grep -q '^connected_slaves:1' &&
    [ "$(redis-cli -p 26391 sentinel master reseller-auth-test | tr -d '\r' | awk 'found { print; exit } $0 == "num-other-sentinels" { found = 1 }')" = "2" ]; then
    sentinel_ok=1
    break
  fi
  sleep 0.1
done
[ -n "$sentinel_ok" ] || { echo "test-services: Sentinel is not ready (see $redis_modes_dir)" >&2; return 1 2>/dev/null || exit 1; }

export TEST_REDIS_CLUSTER_NODES="127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"
export TEST_REDIS_SENTINELS="127.0.0.1:26391,127.0.0.1:26392,127.0.0.1:26393"
export TEST_REDIS_SENTINEL_NAME="reseller-auth-test"
echo "test-services: Redis Cluster and Sentinel ready in $((($(date +%s%N) - redis_modes_started) / 1000000)) ms: TEST_REDIS_CLUSTER_NODES=$TEST_REDIS_CLUSTER_NODES TEST_REDIS_SENTINELS=$TEST_REDIS_SENTINELS TEST_REDIS_SENTINEL_NAME=$TEST_REDIS_SENTINEL_NAME"
