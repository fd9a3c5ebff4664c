#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Goal: two dp_peer processes, each in its own network namespace with its own EAL (no
# hugepages, its own file prefix, pinned to its own cpu), talk through env_dpdk over AF_XDP
# ports on the two ends of a veth pair: authenticated ping-pongs both ways with retransmission
# (AF_XDP drops under load), garbage, forged, replayed and foreign-MAC frames put straight on
# the wire are rejected and never delivered, a datagram above the link MTU is refused with
# -EMSGSIZE, a restarted ping (new incarnation) reattaches to the same interface and is
# accepted, and the link-up wait gives up within its bound when the other end is down.
# Method: this script creates the namespaces and the veth pair (fixed MACs, IPv4 addresses,
# IPv6 off so the kernel adds no multicast chatter), runs dp_peer through `ip netns exec`
# under `timeout` (dataplane/tools/dp_peer.c does the checks and exits 0 when they hold) and
# ALWAYS deletes the namespaces, its run directory and the EAL runtime directories its
# children left (trap on EXIT). Prints TAP; "1..0 # SKIP" when namespaces cannot be created
# (not root) or EAL cannot start.
#
# Usage: test_dp_af_xdp.sh <path to dp_peer>
set -u

peer_bin=${1:?usage: test_dp_af_xdp.sh <dp_peer>}
ns_a="aether-xdp-$$-a"
ns_b="aether-xdp-$$-b"
mac_a=02:00:00:00:00:01
mac_b=02:00:00:00:00:02
ip_a=10.99.0.1
ip_b=10.99.0.2
case_timeout_s=60
run_dir=""
marker=""
case_index=0
failures=0

cleanup() {
	local ns pid

	# Interrupted mid-case: end our children (only processes inside our own namespaces, by
	# pid), so nothing outlives the test.
	for ns in "$ns_a" "$ns_b"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	wait # reaps the timeout wrappers, which reap the killed children first
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	# EAL leaves /var/run/dpdk/aether-dp-<pid>; remove those of our children (created after
	# the marker, process gone). Another test's live process is never touched.
	if [ -n "$marker" ]; then
		for d in /var/run/dpdk/aether-dp-*; do
			[ -d "$d" ] && [ "$d" -nt "$marker" ] || continue
			kill -0 "${d##*-}" 2>/dev/null || rm -rf "$d"
		done
		rm -f "$marker"
	fi
	[ -n "$run_dir" ] && rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v ip >/dev/null 2>&1; then
	echo "1..0 # SKIP iproute2 (ip) is not installed"
	exit 0
fi
if ! ip netns add "$ns_a" 2>/dev/null || ! ip netns add "$ns_b" 2>/dev/null; then
	echo "1..0 # SKIP cannot create network namespaces (needs root / CAP_SYS_ADMIN)"
	exit 0
fi

# Fails the whole test (not a skip): with namespaces available the rest must work here.
setup_fail() {
	echo "Bail out! setup failed: $1"
	exit 1
}

for ns in "$ns_a" "$ns_b"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	# env_posix (the storage env of dp_peer) binds 127.0.0.1.
	ip -n "$ns" link set lo up || setup_fail "lo up in $ns"
done
ip link add xa netns "$ns_a" address "$mac_a" type veth \
	peer name xb netns "$ns_b" address "$mac_b" || setup_fail "veth pair"
ip -n "$ns_a" addr add "$ip_a/24" dev xa || setup_fail "address on xa"
ip -n "$ns_b" addr add "$ip_b/24" dev xb || setup_fail "address on xb"
ip -n "$ns_a" link set xa up || setup_fail "xa up"
ip -n "$ns_b" link set xb up || setup_fail "xb up"

run_dir=$(mktemp -d /tmp/aether-xdp-test-XXXXXX) || setup_fail "run directory"
marker="$run_dir.start"
touch "$marker"

# The first two cpus this process may use (one twice when there is only one).
cpus=()
for range in $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | tr ',' ' '); do
	for c in $(seq "${range%-*}" "${range#*-}"); do
		[ ${#cpus[@]} -lt 2 ] && cpus+=("$c")
	done
done
[ ${#cpus[@]} -eq 0 ] && cpus=(0)
[ ${#cpus[@]} -eq 1 ] && cpus+=("${cpus[0]}")
echo "# namespaces $ns_a $ns_b, run dir $run_dir, cpus ${cpus[*]}"

# dp_peer in namespace a (ping, node 1, xa) or b (pong, node 2, xb); extra arguments follow.
peer_cmd() {
	local role=$1
	shift
	if [ "$role" = ping ]; then
		set -- ip netns exec "$ns_a" "$peer_bin" --role ping --id 1 --peer 2 \
			--cpu "${cpus[0]}" --af-xdp xa --ip "$ip_a" --peer-ip "$ip_b" \
			--peer-mac "$mac_b" "$@"
	else
		set -- ip netns exec "$ns_b" "$peer_bin" --role pong --id 2 --peer 1 \
			--cpu "${cpus[1]}" --af-xdp xb --ip "$ip_b" --peer-ip "$ip_a" \
			--peer-mac "$mac_a" "$@"
	fi
	timeout -k 5 "$case_timeout_s" "$@" --run-dir "$run_dir"
}

# Children's stdout becomes TAP comments; their stderr goes to ours (meson's log).
as_comments() {
	sed 's/^/# /'
}

skipped=0
# Runs one ping (extra arguments, split on spaces) and returns its exit code. In the background
# and waited for, so a signal to this script runs the trap at once.
run_ping() {
	# shellcheck disable=SC2086 # the argument list is meant to split
	peer_cmd ping --timeout-ms 30000 $1 > >(as_comments) &
	wait $!
}

# Runs pong in the background and one or two pings in turn; 0 when every process exited 0.
run_peers() {
	local ping1=$1 ping2=${2:-} pong_pid rc_pong rc_ping rc_ping2=0

	peer_cmd pong --timeout-ms 40000 > >(as_comments) &
	pong_pid=$!
	run_ping "$ping1"
	rc_ping=$?
	if [ -n "$ping2" ]; then
		run_ping "$ping2"
		rc_ping2=$?
	fi
	wait "$pong_pid"
	rc_pong=$?
	echo "# exit codes: pong $rc_pong, ping $rc_ping${ping2:+, second ping $rc_ping2}"
	if [ "$rc_pong" -eq 3 ] || [ "$rc_ping" -eq 3 ]; then
		skipped=1
	fi
	[ "$rc_pong" -eq 0 ] && [ "$rc_ping" -eq 0 ] && [ "$rc_ping2" -eq 0 ]
}

report() {
	local rc=$1 what=$2

	case_index=$((case_index + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $case_index - $what"
	else
		echo "not ok $case_index - $what"
		failures=$((failures + 1))
	fi
}

run_peers "--count 300 --inject"
rc=$?
if [ "$skipped" -eq 1 ]; then
	echo "1..0 # SKIP EAL cannot start on this machine (see stderr)"
	exit 0
fi
echo "1..3"
report "$rc" "300 authenticated ping-pongs over AF_XDP on a veth pair, with retransmission; \
garbage, forged, replayed and foreign-MAC frames rejected and never delivered; a datagram \
above the MTU refused with -EMSGSIZE"

run_peers "--count 100 --no-exit" "--count 100 --incarnation 2"
report $? "a ping restarted with a new incarnation reattaches to the interface and is accepted"

# The other end down: the bounded link-up wait (half of --timeout-ms) must give up.
ip -n "$ns_b" link set xb down
out=$(peer_cmd ping --timeout-ms 2000 --count 1 2>&1)
rc=$?
echo "$out" | grep -v -E '^(libbpf|libxdp):' | as_comments
[ "$rc" -eq 1 ] && echo "$out" | grep -q 'link up: Connection timed out'
report $? "with the peer's end of the veth down, the link-up wait times out and the peer exits 1"

exit $((failures == 0 ? 0 : 1))
