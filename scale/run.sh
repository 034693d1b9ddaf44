#!/usr/bin/env bash
# Three `replica` examples sharing a Redis event bus, behind HAProxy and
# behind nginx, both MCP eras, checked by scale/driver; sessions routed
# sticky. Beside them three more sharing sessions in their own Redis
# (`--shared-sessions`), behind round-robin HAProxy and nginx without
# affinity. See scale/README.md.
#
#   bash scale/run.sh        # prints one line per check, the balancers' cost,
#                            # and `scale: N passed, M failed` (exit 1 if M > 0)
#
# Needs haproxy, nginx and redis-server; run as root with apt-get, it
# installs the missing ones (`apt-get update` only then).
#
# Environment: CARGO_TARGET_DIR (where both builds go; default each
# workspace's own target/), SCALE_RUNTIME (smol|tokio, default smol),
# SCALE_COST_CALLS (calls per cost measurement, default 20000),
# SCALE_TASK_LEASE_MS (the replicas' task lease, default 2000: how long a
# killed replica's tasks may stay `working`), SCALE_SESSION_COST_CALLS
# (session-era calls per cost measurement, default 20000).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runtime=${SCALE_RUNTIME:-smol}
cost_calls=${SCALE_COST_CALLS:-20000}
task_lease_ms=${SCALE_TASK_LEASE_MS:-2000}
session_cost_calls=${SCALE_SESSION_COST_CALLS:-20000}
work=$(mktemp -d "${TMPDIR:-/tmp}/scale.XXXXXX")
pids=()
passed=0
failed=0
expected=0

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        # A stopped process (the frozen redis-server) acts on it once woken.
        kill -CONT "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
die() {
    say "scale: $*" >&2
    exit 1
}

# --- what the run needs ---------------------------------------------------
# Debian puts nginx and haproxy in /usr/sbin, off a plain user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v nginx >/dev/null || missing+=(nginx)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "scale: installing ${missing[*]} with apt-get"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq haproxy nginx redis-server; } >"$work/apt.log" 2>&1 ||
            die "apt-get install failed: $(tail -5 "$work/apt.log")"
    else
        die "missing ${missing[*]} (apt-get install haproxy nginx redis-server)"
    fi
fi
say "scale: $(haproxy -v | head -1); $(nginx -v 2>&1); $(redis-server --version | cut -d' ' -f1-3)"

# --- build ----------------------------------------------------------------
say "scale: building the replica example and the driver (release)"
cargo build --quiet --release -p examples --bin replica
cargo build --quiet --release --manifest-path scale/driver/Cargo.toml
replica="${CARGO_TARGET_DIR:-$root/target}/release/replica"
driver="${CARGO_TARGET_DIR:-$root/scale/driver/target}/release/scale-driver"
[ -x "$replica" ] || die "no $replica"
[ -x "$driver" ] || die "no $driver"

# --- redis ----------------------------------------------------------------
# start_redis PORT LOG ARGS...: starts redis-server on PORT, waits for its
# PONG; its PID in $started.
start_redis() {
    local p=$1 log=$2 i
    shift 2
    redis-server --port "$p" --bind 127.0.0.1 --logfile "$log" "$@" &
    started=$!
    pids+=("$started")
    for i in $(seq 100); do
        [ "$(redis-cli -p "$p" ping 2>/dev/null)" = PONG ] && return 0
        kill -0 "$started" 2>/dev/null || die "redis-server exited: $(cat "$log")"
        sleep 0.1
    done
    die "redis-server did not answer within 10 s"
}
# The sticky replicas' event bus (pub/sub) and task store, kept in memory
# only: no RDB, no AOF.
redis_port=$("$driver" free-port)
start_redis "$redis_port" "$work/redis.log" --save '' --appendonly no --dir "$work"
redis_pid=$started
redis_url="redis://127.0.0.1:$redis_port"
# The round-robin replicas' Redis: bus, tasks and sessions. With an
# append-only file, so that sessions survive a restart of redis-server
# (`everysec`: Redis writes each command to the file before it answers, so
# a crash of redis-server alone loses nothing; fsync once a second bounds
# what a crash of the machine loses). No RDB snapshots.
rr_redis_port=$("$driver" free-port)
rr_redis_args=(--save '' --appendonly yes --appendfsync everysec --dir "$work/redis-rr")
mkdir -p "$work/redis-rr"
start_redis "$rr_redis_port" "$work/redis-rr.log" "${rr_redis_args[@]}"
rr_redis_pid=$started
rr_redis_url="redis://127.0.0.1:$rr_redis_port"

# --- replicas -------------------------------------------------------------
# One shared requestState key, 32 random bytes in hex, handed over in the
# environment (not on the command line, where `ps` shows it).
key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
declare -A port pid_of rport rpid

# start_replica NAME [rr]: starts it on a free port, waits for its line.
# With `rr`: one of the round-robin set, sessions in its Redis
# (--shared-sessions), its port and PID in rport/rpid.
start_replica() {
    local name=$1 set=${2:-sticky} out i p url extra=()
    out="$work/replica-$set-$name.out"
    url=$redis_url
    if [ "$set" = rr ]; then
        url=$rr_redis_url
        extra=(--shared-sessions)
    fi
    # --name a: session ids `a.{32 hex}` (the name is the tag), which the
    # sticky nginx routes on.
    SWITCHBOARD_STATE_KEYS=$key "$replica" --name "$name" --runtime "$runtime" \
        --redis "$url" "${extra[@]}" --task-lease-ms "$task_lease_ms" --addr 127.0.0.1:0 \
        >"$out" 2>"$work/replica-$set-$name.err" &
    p=$!
    pids+=("$p")
    for i in $(seq 100); do
        if grep -q '^listening on ' "$out"; then
            i=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)/mcp$|\1|p' "$out")
            [ -n "$i" ] || die "replica $set $name: unexpected line $(cat "$out")"
            if [ "$set" = rr ]; then
                rport[$name]=$i
                rpid[$name]=$p
            else
                port[$name]=$i
                pid_of[$name]=$p
            fi
            return 0
        fi
        kill -0 "$p" 2>/dev/null || die "replica $set $name exited: $(cat "$work/replica-$set-$name.err")"
        sleep 0.1
    done
    die "replica $set $name did not start within 10 s"
}
for name in a b c; do
    start_replica "$name"
    start_replica "$name" rr
done

# --- haproxy ---------------------------------------------------------------
# start_haproxy TEMPLATE NAME A B C: fills in TEMPLATE with the replicas'
# ports A B C and a free front port, checks and runs it; the port in
# $started_port, the PID in $started.
start_haproxy() {
    local in=$1 name=$2 i
    started_port=$("$driver" free-port)
    sed -e "s/@FRONT_PORT@/$started_port/" -e "s/@A_PORT@/$3/" \
        -e "s/@B_PORT@/$4/" -e "s/@C_PORT@/$5/" "$in" >"$work/$name.cfg"
    haproxy -c -q -f "$work/$name.cfg" || die "haproxy rejects $in"
    haproxy -db -f "$work/$name.cfg" >"$work/$name.log" 2>&1 &
    started=$!
    pids+=("$started")
    for i in $(seq 100); do
        if (: <"/dev/tcp/127.0.0.1/$started_port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$started" 2>/dev/null || die "haproxy exited: $(cat "$work/$name.log")"
        sleep 0.1
    done
    die "haproxy ($in) did not listen within 10 s"
}
start_haproxy scale/haproxy.cfg.in haproxy "${port[a]}" "${port[b]}" "${port[c]}"
front=$started_port
haproxy_pid=$started
url="http://127.0.0.1:$front/mcp"
# Round robin, no affinity, before the replicas that share sessions.
start_haproxy scale/haproxy-rr.cfg.in haproxy-rr "${rport[a]}" "${rport[b]}" "${rport[c]}"
rr_front=$started_port
rr_haproxy_pid=$started
rr_url="http://127.0.0.1:$rr_front/mcp"

# --- nginx ----------------------------------------------------------------
# start_nginx TEMPLATE NAME A B C: like start_haproxy. Its pid file and
# temp paths under $work/NAME (@WORK@), so it needs no root directories; a
# foreground child (daemon off), stopped by PID.
start_nginx() {
    local in=$1 name=$2 dir="$work/$2" i
    started_port=$("$driver" free-port)
    mkdir -p "$dir"
    sed -e "s/@FRONT_PORT@/$started_port/" -e "s/@A_PORT@/$3/" \
        -e "s/@B_PORT@/$4/" -e "s/@C_PORT@/$5/" -e "s|@WORK@|$dir|g" \
        "$in" >"$dir/nginx.conf"
    nginx -t -q -e stderr -p "$dir" -c "$dir/nginx.conf" 2>"$work/$name.log" ||
        die "nginx rejects $in: $(cat "$work/$name.log")"
    nginx -e stderr -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' \
        >"$work/$name.log" 2>&1 &
    started=$!
    pids+=("$started")
    for i in $(seq 100); do
        if (: <"/dev/tcp/127.0.0.1/$started_port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$started" 2>/dev/null || die "nginx exited: $(cat "$work/$name.log")"
        sleep 0.1
    done
    die "nginx ($in) did not listen within 10 s"
}
start_nginx scale/nginx.conf.in nginx "${port[a]}" "${port[b]}" "${port[c]}"
nginx_front=$started_port
nginx_pid=$started
nginx_url="http://127.0.0.1:$nginx_front/mcp"
start_nginx scale/nginx-rr.conf.in nginx-rr "${rport[a]}" "${rport[b]}" "${rport[c]}"
rr_nginx_front=$started_port
rr_nginx_url="http://127.0.0.1:$rr_nginx_front/mcp"
# Let HAProxy's first health checks mark every server up (rise 2, inter
# 500 ms).
sleep 1.5
direct() { echo "http://127.0.0.1:${port[$1]}/mcp"; }
say "scale: sticky: replicas a=${port[a]} b=${port[b]} c=${port[c]} ($runtime, redis on \
$redis_port), haproxy on $front, nginx on $nginx_front"
say "scale: round robin: replicas a=${rport[a]} b=${rport[b]} c=${rport[c]} (sessions in redis \
on $rr_redis_port), haproxy on $rr_front, nginx on $rr_nginx_front"

# check ARGS...: runs the driver with a time bound, counts the outcome.
check() {
    if timeout 120 "$driver" "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
}

# xcheck ARGS...: a check known to fail today (see scale/README.md, "Known
# gaps"): its failure is counted apart; a pass says to make it a check.
xcheck() {
    if timeout 120 "$driver" "$@"; then
        passed=$((passed + 1))
        say "scale: $1 passes now: make it a plain check in scale/run.sh"
    else
        expected=$((expected + 1))
        say "scale: $1: expected failure (known gap, see scale/README.md)"
    fi
}

say "scale: through haproxy"
check modern --url "$url" --calls 300 --expect-replicas 3
check modern --url "$url" --calls 300 --fresh --expect-replicas 3
check mrtr --url "$url" --rounds 6
check sessions --url "$url" --clients 100 --calls 20 --expect-replicas 3
check resume --url "$url"
say "scale: through nginx"
check modern --url "$nginx_url" --calls 300 --expect-replicas 3
check modern --url "$nginx_url" --calls 300 --fresh --expect-replicas 3
check mrtr --url "$nginx_url" --rounds 6
check sessions --url "$nginx_url" --clients 100 --calls 20 --expect-replicas 3
check resume --url "$nginx_url"
say "scale: changes across replicas (redis event bus)"
touch_urls="$(direct a),$(direct b),$(direct c)"
# A session on a (direct), a listener on a, touched through b or c.
check changes --url "$(direct a)" --listen-url "$(direct a)" --touch-urls "$touch_urls"
# Sessions pinned by each balancer, their GET stream through it.
check changes --url "$url" --touch-urls "$touch_urls"
check changes --url "$nginx_url" --touch-urls "$touch_urls"
say "scale: tasks across replicas (redis task store, through haproxy)"
check tasks --url "$url" --rounds 3

# --- round robin, sessions in redis ---------------------------------------
# No affinity: every session-era request goes to the next replica, which
# serves it from the shared session store. rr-elicit and rr-resume check
# that server->client answers and Last-Event-ID resumption cross replicas
# (letters and the shared stream log on Redis).
for via in haproxy nginx; do
    if [ "$via" = haproxy ]; then u=$rr_url; else u=$rr_nginx_url; fi
    say "scale: round robin through $via (sessions in redis)"
    check rr-sessions --url "$u" --clients 100 --calls 20 --replicas 3
    check rr-elicit --url "$u" --rounds 3
    check rr-resume --url "$u" --rounds 3
done

# --- the balancer's cost --------------------------------------------------
# CPU time (utime + stime, in clock ticks) of a process.
ticks() {
    local stat
    stat=$(cat "/proc/$1/stat")
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo $((${12} + ${13}))
}
hz=$(getconf CLK_TCK)
replica_ticks() { echo $(($(ticks "${pid_of[a]}") + $(ticks "${pid_of[b]}") + $(ticks "${pid_of[c]}"))); }
h0=$(ticks "$haproxy_pid")
r0=$(replica_ticks)
"$driver" modern --url "$url" --calls "$cost_calls" --concurrency 4 >"$work/cost-via.log" ||
    { failed=$((failed + 1)); cat "$work/cost-via.log"; }
h1=$(ticks "$haproxy_pid")
r1=$(replica_ticks)
# nginx: the master and its worker (its child), which does the work.
nginx_ticks() {
    local sum p
    sum=$(ticks "$nginx_pid")
    for p in $(pgrep -P "$nginx_pid"); do
        sum=$((sum + $(ticks "$p" 2>/dev/null || echo 0)))
    done
    echo "$sum"
}
n0=$(nginx_ticks)
q0=$(replica_ticks)
"$driver" modern --url "$nginx_url" --calls "$cost_calls" --concurrency 4 >"$work/cost-nginx.log" ||
    { failed=$((failed + 1)); cat "$work/cost-nginx.log"; }
n1=$(nginx_ticks)
q1=$(replica_ticks)
d0=$(ticks "${pid_of[a]}")
"$driver" modern --url "$(direct a)" --calls "$cost_calls" --concurrency 4 \
    >"$work/cost-direct.log" || { failed=$((failed + 1)); cat "$work/cost-direct.log"; }
d1=$(ticks "${pid_of[a]}")
# Microseconds per call from ticks: ticks * 1e6 / hz / calls.
per_call() { awk -v t="$1" -v hz="$hz" -v n="$cost_calls" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }'; }
say "cost: $cost_calls stateless tools/call whoami, 4 keep-alive connections: via haproxy: \
haproxy $(per_call $((h1 - h0))) us/call, replicas $(per_call $((r1 - r0))) us/call; via nginx: \
nginx $(per_call $((n1 - n0))) us/call, replicas $(per_call $((q1 - q0))) us/call; \
direct to one replica: $(per_call $((d1 - d0))) us/call (CPU time, utime+stime, $hz ticks/s)"

# --- the session store's cost ----------------------------------------------
# Session-era `tools/call whoami`, 4 sessions on keep-alive connections:
# sessions in memory (the sticky replicas) against sessions in Redis (the
# round-robin replicas), direct to one replica and through HAProxy; per
# call: the replicas' CPU time, the balancer's, redis-server's, and the
# Redis commands (INFO commandstats, `info` itself left out).
redis_cmdstats() {
    redis-cli -p "$1" INFO commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),.*/\1 \2/p'
}
# per_calls TICKS: microseconds per session-era call.
per_calls() { awk -v t="$1" -v hz="$hz" -v n="$session_cost_calls" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }'; }
# session_cost LABEL URL REDIS_PORT REDIS_PID BALANCER_PID|- REPLICA_PID...
session_cost() {
    local label=$1 u=$2 rp=$3 rpid=$4 bpid=$5 p t0=0 t1=0 b0=0 b1=0 x0 x1 cmds bal=""
    shift 5
    redis_cmdstats "$rp" >"$work/cmd0"
    for p in "$@"; do t0=$((t0 + $(ticks "$p"))); done
    [ "$bpid" = - ] || b0=$(ticks "$bpid")
    x0=$(ticks "$rpid")
    if ! "$driver" session-load --url "$u" --clients 4 --calls "$session_cost_calls" \
        >"$work/session-cost.log" 2>&1; then
        failed=$((failed + 1))
        cat "$work/session-cost.log"
    fi
    for p in "$@"; do t1=$((t1 + $(ticks "$p"))); done
    [ "$bpid" = - ] || b1=$(ticks "$bpid")
    x1=$(ticks "$rpid")
    redis_cmdstats "$rp" >"$work/cmd1"
    cmds=$(awk -v n="$session_cost_calls" '
        NR == FNR { a[$1] = $2; next }
        { d = $2 - a[$1]; if ($1 != "info" && d > 0) { t += d; s = s sprintf(", %s %d", $1, d) } }
        END { printf "%.3f commands/call (%s)", t / n, s == "" ? "none" : substr(s, 3) }' \
        "$work/cmd0" "$work/cmd1")
    [ "$bpid" = - ] || bal="haproxy $(per_calls $((b1 - b0))) us/call, "
    say "cost: $label: ${bal}replicas $(per_calls $((t1 - t0))) us/call, redis-server \
$(per_calls $((x1 - x0))) us/call, redis $cmds"
}
say "cost: $session_cost_calls session-era tools/call whoami per line, 4 sessions on keep-alive \
connections (CPU time, utime+stime, $hz ticks/s):"
session_cost "sessions in memory, direct to one replica" "$(direct a)" \
    "$redis_port" "$redis_pid" - "${pid_of[a]}"
session_cost "sessions in redis, direct to one replica" "http://127.0.0.1:${rport[a]}/mcp" \
    "$rr_redis_port" "$rr_redis_pid" - "${rpid[a]}"
session_cost "sessions in memory, via haproxy (sticky)" "$url" \
    "$redis_port" "$redis_pid" "$haproxy_pid" "${pid_of[a]}" "${pid_of[b]}" "${pid_of[c]}"
session_cost "sessions in redis, via haproxy (round robin)" "$rr_url" \
    "$rr_redis_port" "$rr_redis_pid" "$rr_haproxy_pid" "${rpid[a]}" "${rpid[b]}" "${rpid[c]}"

# --- redis killed and restarted under the round-robin replicas ------------
# rr-redis opens sessions, writes its ready file; redis-server is frozen
# (SIGSTOP), the driver checks requests are refused within the store's
# bound (503 with a JSON-RPC body) and writes its frozen file;
# redis-server is killed (SIGKILL), the driver checks requests are refused
# quickly and writes its probed file; redis-server is restarted on the same
# port and directory (its append-only file reloaded), the driver checks
# service comes back by itself and the sessions go on.
say "scale: redis killed and restarted under the round-robin replicas (through haproxy)"
rr_ready="$work/rr-redis-ready"
rr_killed="$work/rr-redis-killed"
rr_probed="$work/rr-redis-probed"
rr_restarted="$work/rr-redis-restarted"
rr_stopped="$work/rr-redis-stopped"
rr_frozen="$work/rr-redis-frozen"
timeout 120 "$driver" rr-redis --url "$rr_url" --sessions 10 --ready-file "$rr_ready" \
    --stopped-file "$rr_stopped" --frozen-file "$rr_frozen" \
    --killed-file "$rr_killed" --probed-file "$rr_probed" --restarted-file "$rr_restarted" &
rr_driver_pid=$!
pids+=("$rr_driver_pid")
# wait_file PATH PID: until PATH exists (true) or PID ends or 60 s (false).
wait_file() {
    local i
    for i in $(seq 600); do
        [ -e "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
if wait_file "$rr_ready" "$rr_driver_pid"; then
    # Frozen first (connections open, no answers: the store's time bound
    # must answer), then dead (refused connections).
    kill -STOP "$rr_redis_pid"
    say "scale: froze redis-server (SIGSTOP, pid $rr_redis_pid)"
    : >"$rr_stopped"
    wait_file "$rr_frozen" "$rr_driver_pid" || true
    kill -KILL "$rr_redis_pid"
    wait "$rr_redis_pid" 2>/dev/null || true
    say "scale: killed redis-server (pid $rr_redis_pid)"
    : >"$rr_killed"
    wait_file "$rr_probed" "$rr_driver_pid" || true
    start_redis "$rr_redis_port" "$work/redis-rr.log" "${rr_redis_args[@]}"
    rr_redis_pid=$started
    say "scale: restarted redis-server (pid $rr_redis_pid, $(redis-cli -p "$rr_redis_port" \
dbsize) keys reloaded)"
    : >"$rr_restarted"
fi
if wait "$rr_driver_pid"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi

# --- failover: replica c killed mid-run -----------------------------------
# Four drivers at once: `failover` (sessions and stateless calls through the
# kill), `taskkill` (c's running tasks must turn failed within the lease),
# and `rr-failover` through the round-robin HAProxy and nginx (their c is
# killed at the same moment).
ready="$work/ready"
task_ready="$work/task-ready"
killed="$work/killed"
timeout 150 "$driver" taskkill --url "$url" --victim c \
    --victim-url "http://127.0.0.1:${port[c]}/mcp" --lease-ms "$task_lease_ms" \
    --ready-file "$task_ready" --killed-file "$killed" &
task_driver_pid=$!
pids+=("$task_driver_pid")
timeout 150 "$driver" failover --url "$url" --clients 30 --calls 20 --stateless-clients 4 \
    --victim c --ready-file "$ready" --killed-file "$killed" &
driver_pid=$!
pids+=("$driver_pid")
# The same kill, at the same moment, of the round-robin set's c, under
# rr-failover through its HAProxy and through its nginx.
rr_ready_h="$work/rr-ready-haproxy"
rr_ready_n="$work/rr-ready-nginx"
timeout 150 "$driver" rr-failover --url "$rr_url" --clients 30 --calls 20 \
    --stateless-clients 2 --victim c --ready-file "$rr_ready_h" --killed-file "$killed" &
rr_h_pid=$!
pids+=("$rr_h_pid")
timeout 150 "$driver" rr-failover --url "$rr_nginx_url" --clients 30 --calls 20 \
    --stateless-clients 2 --victim c --ready-file "$rr_ready_n" --killed-file "$killed" &
rr_n_pid=$!
pids+=("$rr_n_pid")
all_ready() { [ -e "$ready" ] && [ -e "$task_ready" ] && [ -e "$rr_ready_h" ] && [ -e "$rr_ready_n" ]; }
for i in $(seq 600); do
    all_ready && break
    for p in "$driver_pid" "$task_driver_pid" "$rr_h_pid" "$rr_n_pid"; do
        kill -0 "$p" 2>/dev/null || break 2
    done
    sleep 0.1
done
if all_ready; then
    # A crash, not a graceful stop: SIGKILL, no answers for what is in flight.
    kill -KILL "${pid_of[c]}" "${rpid[c]}"
    wait "${pid_of[c]}" 2>/dev/null || true
    wait "${rpid[c]}" 2>/dev/null || true
    say "scale: killed replica c (pid ${pid_of[c]}) and round-robin replica c (pid ${rpid[c]})"
    : >"$killed"
fi
for p in "$driver_pid" "$task_driver_pid" "$rr_h_pid" "$rr_n_pid"; do
    if wait "$p"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done

[ "$expected" = 0 ] || say "scale: $expected expected failures (known gaps)"
say "scale: $passed passed, $failed failed"
[ "$failed" = 0 ]
