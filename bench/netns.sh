#!/bin/sh
# Creates (up) or removes (down) the private network the benches use to reach a server that
# will not gather loopback candidates (Janus): a namespace joined to the host by a veth pair,
# host side 10.99.0.1/24, namespace side 10.99.0.2/24. No route leads anywhere else, and IPv6
# is off on both ends, so nothing in the namespace can reach another address.
# Usage: bench/netns.sh up|down|status   (as root; both up and down are idempotent)
# Overridable: MCU_NETNS (namespace name), MCU_VETH_HOST, MCU_VETH_NS, MCU_NET_PREFIX (10.99.0).
set -eu

NS=${MCU_NETNS:-mcu-bench}
VETH_HOST=${MCU_VETH_HOST:-mcub-host}
VETH_NS=${MCU_VETH_NS:-mcub-ns}
NET=${MCU_NET_PREFIX:-10.99.0}
HOST_IP=$NET.1
NS_IP=$NET.2

have_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"; }
have_host_link() { ip link show "$VETH_HOST" >/dev/null 2>&1; }

up() {
    have_ns || ip netns add "$NS"
    if ! have_host_link; then
        # The peer may survive inside the namespace from an earlier half-done run.
        ip netns exec "$NS" ip link del "$VETH_NS" 2>/dev/null || true
        ip link add "$VETH_HOST" type veth peer name "$VETH_NS"
    fi
    # If the peer is still in the host namespace, move it in.
    if ip link show "$VETH_NS" >/dev/null 2>&1; then
        ip link set "$VETH_NS" netns "$NS"
    fi
    # IPv6 off before the links come up, so no link-local address or router solicitation.
    sysctl -qw "net.ipv6.conf.$VETH_HOST.disable_ipv6=1" 2>/dev/null || true
    ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
    ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true

    ip addr replace "$HOST_IP/24" dev "$VETH_HOST"
    ip link set "$VETH_HOST" up
    ip netns exec "$NS" ip link set lo up
    ip netns exec "$NS" ip addr replace "$NS_IP/24" dev "$VETH_NS"
    ip netns exec "$NS" ip link set "$VETH_NS" up

    # Wait (bounded) until the pair reports carrier, so callers can start servers at once.
    i=0
    while [ "$(cat "/sys/class/net/$VETH_HOST/operstate" 2>/dev/null)" != up ]; do
        i=$((i + 1))
        if [ "$i" -ge 50 ]; then
            echo "netns: $VETH_HOST did not come up" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "netns: $NS up ($VETH_HOST $HOST_IP <-> $VETH_NS $NS_IP)"
}

down() {
    # Deleting one end of a veth pair deletes the other.
    if have_host_link; then ip link del "$VETH_HOST"; fi
    if have_ns; then ip netns del "$NS"; fi
    echo "netns: $NS down"
}

status() {
    if have_ns && have_host_link; then
        echo "netns: $NS up"
        ip -br addr show "$VETH_HOST"
        ip netns exec "$NS" ip -br addr
    else
        echo "netns: $NS down"
        return 1
    fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
