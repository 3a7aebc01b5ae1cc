#!/bin/bash
# Starts and stops Debian's Janus (1.1.2) inside the bench namespace (bench/netns.sh), so the
# load generator can drive Janus's AudioBridge with the same load as our MCU. Janus only
# sees 10.99.0.2; its WebSocket API is ws://10.99.0.2:8188 (subprotocol janus-protocol).
#
#   bench/janus/run.sh start        start in the background, wait for the WebSocket, print pid
#   bench/janus/run.sh stop         stop it (SIGTERM, SIGKILL after 10 s); remove the namespace
#                                   if start created it
#   bench/janus/run.sh pid          print the pid (exit 1 if not running)
#   bench/janus/run.sh with CMD...  start, run CMD with JANUS_PID and JANUS_WS set, stop
#
# Environment: JANUS_DEBUG_LEVEL (0-7, default 3 = warnings), JANUS_EVENT_LOOPS (default
# unset: one loop thread per handle, Janus's default), JANUS_START_TIMEOUT (s, default 20).
# State (pid, log, the config copy) lives in build/janus/. Needs root (namespaces, apt).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STATE="$ROOT/build/janus"
PIDFILE="$STATE/janus.pid"
LOG="$STATE/janus.log"
NETNS_MARK="$STATE/netns-created"
NS=${MCU_NETNS:-mcu-bench}
WS_IP=10.99.0.2
WS_PORT=8188
DEBUG_LEVEL=${JANUS_DEBUG_LEVEL:-3}
START_TIMEOUT=${JANUS_START_TIMEOUT:-20}

die() { echo "janus: $*" >&2; exit 1; }

# Installs the janus package if missing, without letting Debian start its own service (which
# would listen on every host address): the unit is masked under systemd, and elsewhere a
# temporary policy-rc.d refuses service starts for the length of the install.
ensure_installed() {
    if dpkg-query -W -f='${Status}' janus 2>/dev/null | grep -q 'install ok installed'; then
        return 0
    fi
    echo "janus: installing the janus package" >&2
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ -d /run/systemd/system ]; then
        systemctl mask janus.service >/dev/null 2>&1 || true
    elif [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y janus >&2 ||
        { DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y janus >&2; } || rc=$?
    if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
    [ "$rc" = 0 ] || die "apt-get install janus failed"
}

# Prints the pid from the pid file if that process is still a janus; exit 1 otherwise. With
# "starting", also while it is still setsid or ip, which exec it (so a pid never recycled by
# something else gets killed).
running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid comm
    pid=$(cat "$PIDFILE")
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    case "$comm" in
    janus) ;;
    setsid | ip) [ "${1:-}" = starting ] || return 1 ;;
    *) return 1 ;;
    esac
    echo "$pid"
}

# True once the server completes a WebSocket handshake with the Janus subprotocol.
ws_ready() {
    timeout 2 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "GET / HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: janus-protocol\r\n\r\n" "$0" "$1" >&3
        IFS= read -r line <&3
        case "$line" in "HTTP/1.1 101"*) exit 0 ;; *) exit 1 ;; esac
    ' "$WS_IP" "$WS_PORT" 2>/dev/null
}

# Makes build/janus/conf from the templates (our copy, rewritten at every start).
make_conf() {
    local conf="$STATE/conf" loops=""
    rm -rf "$conf"
    mkdir -p "$conf"
    cp "$HERE"/conf/*.jcfg "$conf/"
    if [ -n "${JANUS_EVENT_LOOPS:-}" ]; then
        [[ "$JANUS_EVENT_LOOPS" =~ ^[0-9]+$ ]] || die "JANUS_EVENT_LOOPS must be a number"
        loops="event_loops = $JANUS_EVENT_LOOPS"
    fi
    sed -i "s/@EVENT_LOOPS@/$loops/" "$conf/janus.jcfg"
    echo "$conf"
}

start() {
    [ "$(id -u)" = 0 ] || die "needs root"
    [[ "$DEBUG_LEVEL" =~ ^[0-7]$ ]] || die "JANUS_DEBUG_LEVEL must be 0-7"
    if pid=$(running_pid); then die "already running (pid $pid)"; fi
    ensure_installed
    mkdir -p "$STATE"
    if ! "$ROOT/bench/netns.sh" status >/dev/null 2>&1; then
        "$ROOT/bench/netns.sh" up >&2
        touch "$NETNS_MARK"
    fi
    local conf
    conf=$(make_conf)

    # Until Janus answers, any exit (error, timeout, signal) stops what we started.
    trap 'stop >/dev/null 2>&1 || true' EXIT
    ulimit -n 65536 2>/dev/null || true    # 1000 sites need several fds each
    # `ip netns exec` execs janus itself, so $! is janus's pid; setsid keeps it out of our
    # process group so it outlives this script.
    setsid ip netns exec "$NS" /usr/bin/janus -F "$conf" -d "$DEBUG_LEVEL" -o -D \
        </dev/null >"$LOG" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDFILE"

    local deadline=$((SECONDS + START_TIMEOUT))
    until ws_ready; do
        # (/proc/$pid/comm is setsid or ip for a moment before the execs reach janus.)
        [ -d "/proc/$pid" ] || { tail -n 20 "$LOG" >&2; die "exited during start (log: $LOG)"; }
        [ "$SECONDS" -lt "$deadline" ] || die "no WebSocket on $WS_IP:$WS_PORT after ${START_TIMEOUT}s (log: $LOG)"
        sleep 0.2
    done
    running_pid || die "pid $pid is not janus"
    trap - EXIT
}

stop() {
    local pid
    if pid=$(running_pid starting); then
        kill -TERM "$pid" 2>/dev/null || true
        local i=0
        while [ -d "/proc/$pid" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        if [ -d "/proc/$pid" ]; then
            echo "janus: pid $pid ignored SIGTERM for 10 s, killing" >&2
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    rm -f "$PIDFILE"
    if [ -f "$NETNS_MARK" ]; then
        "$ROOT/bench/netns.sh" down >/dev/null
        rm -f "$NETNS_MARK"
    fi
}

with() {
    [ $# -gt 0 ] || die "usage: $0 with CMD [ARGS...]"
    local pid rc=0
    pid=$(start)
    trap 'stop' EXIT
    JANUS_PID=$pid JANUS_WS="ws://$WS_IP:$WS_PORT" "$@" || rc=$?
    return "$rc"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
start) start ;;
stop) stop ;;
pid) running_pid ;;
with) with "$@" ;;
*) echo "usage: $0 start|stop|pid|with CMD..." >&2; exit 2 ;;
esac
