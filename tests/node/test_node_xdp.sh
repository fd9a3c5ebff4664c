#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Goal: aetherd runs a real cluster over AF_XDP (issue 4: "3 nodes over AF_XDP on veth pairs in
# network namespaces the test creates"): scripts/cluster.sh start 3 --transport af_xdp puts each
# node in its own network namespace on a bridge, the nodes form a cluster, a write through node
# 1 is read through node 3, a value larger than the MTU crosses (node_frag), writes go on after
# kill -9 of a node, the restarted node catches up (equal applied slot and local listing), a
# partition (bridge port down) cuts a node off and heal brings it back, a paused node resumes,
# and stop deletes every namespace. Also: the daemon refuses bad af_xdp and pci setups (no interface option, a peer
# without MAC, a malformed PCI address, an absent interface, an absent PCI device) with one
# clear line and its documented exit status; there is no NIC here, so pci is tested only that far.
#
# Method: real processes started by cluster.sh in a temporary AETHER_RUN_DIR, with a base port of
# our own (the namespace names carry it, so parallel runs do not collide), driven with
# aetherctl --json. Every wait is a bounded poll, never a fixed sleep; every aetherctl call has a
# timeout. A trap ALWAYS stops the nodes and deletes our namespaces. Output is TAP; "1..0 # SKIP"
# only when network namespaces cannot be created (not root). Needs: AETHER_BUILD_DIR (with
# node/aetherd and ctl/aetherctl), python3, iproute2.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cluster="$root/scripts/cluster.sh"
build=${AETHER_BUILD_DIR:?set AETHER_BUILD_DIR to the build directory}
aetherd="$build/node/aetherd"
aetherctl="$build/ctl/aetherctl"
python=${PYTHON:-python3}
# shellcheck source=tests/node/lib.sh
. "$(dirname "$0")/lib.sh"
plan=19

export AETHER_BUILD_DIR="$build"
export AETHER_READY_S=30
# Our own range (node_cluster uses 20000..59999 in steps of 100 from its pid): the namespaces are
# aether-<port>-n<I> and aether-<port>-br.
export AETHER_BASE_PORT=$((60000 + ($$ % 50) * 100))
ns_prefix="aether-$AETHER_BASE_PORT-"
probe_ns="aether-probe-$$"

if ! command -v ip >/dev/null 2>&1; then
	echo "1..0 # SKIP iproute2 (ip) is not installed"
	exit 0
fi
if ! ip netns add "$probe_ns" 2>/dev/null; then
	echo "1..0 # SKIP cannot create network namespaces (needs root / CAP_SYS_ADMIN)"
	exit 0
fi
ip netns del "$probe_ns"

tmp=$(mktemp -d /tmp/aether-node-xdp.XXXXXX)
export AETHER_RUN_DIR="$tmp/run"

our_namespaces() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep "^$ns_prefix" || true
}

cleanup() {
	local ns pid
	timeout 60 "$cluster" stop >/dev/null 2>&1
	# Whatever stop could not end (it was interrupted, say): our namespaces' processes, by pid.
	for ns in $(our_namespaces); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() {
	local name=$1
	shift
	if [ "$1" = 0 ]; then
		ok "$name"
	else
		shift
		not_ok "$name" "$@"
	fi
}

peer_state() {
	ctl "$1" status 2>/dev/null | field "[p['state'] for p in d['peers'] if p['node_id'] == $2][0]"
}

# ---- Refusals ----

# Runs aetherd with the arguments; checks exit status $2 and that stderr has exactly one
# "aetherd: " line, matching $3.
expect_refusal() {
	local name=$1 status=$2 pattern=$3 out rc
	shift 3
	out=$(timeout 30 "$aetherd" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$status" ] && [ "$(printf '%s\n' "$out" | grep -c '^aetherd: ')" = 1 ] &&
		grep -q -- "$pattern" <<<"$out"; then
		ok "$name (exit $rc: $(grep '^aetherd: ' <<<"$out"))"
	else
		not_ok "$name" "exit $rc, wanted $status; stderr:" "$out"
	fi
}

test_refusals() {
	local secret="$tmp/secret" peers
	printf '0123456789abcdef0123456789abcdef\n' >"$secret"
	chmod 600 "$secret"
	peers="peers=1@10.9.0.1:7401, 2@10.9.0.2:7402/02:00:00:00:00:02"
	local common=(--set secret_file="$secret" --set operator_group= --set "$peers"
		--set data_dir="$tmp/solo" --socket "$tmp/solo.sock")
	expect_refusal "af_xdp without af_xdp.interface is a config error" 2 \
		"transport af_xdp needs af_xdp.interface" "${common[@]}" --set transport=af_xdp
	expect_refusal "af_xdp with a peer without MAC is a config error" 2 "peer 2 has no MAC" \
		"${common[@]}" --set transport=af_xdp --set af_xdp.interface=eth0 \
		--set "peers=1@10.9.0.1:7401, 2@10.9.0.2:7402"
	expect_refusal "pci with a malformed address is a config error" 2 \
		"pci_address must be a PCI address" "${common[@]}" --set transport=pci \
		--set pci_address=0000:03:00.9
	expect_refusal "af_xdp on an absent interface fails to start" 1 \
		"af_xdp: no interface 'aether-none0'" "${common[@]}" --set transport=af_xdp \
		--set af_xdp.interface=aether-none0
	# Bus ff does not exist on our machines; the check reads sysfs before EAL starts.
	expect_refusal "pci on an absent device fails to start, naming the address" 1 \
		"pci: no PCI device at 0000:ff:1f.7" "${common[@]}" --set transport=pci \
		--set pci_address=ff:1f.7
}

# ---- The cluster ----

test_start() {
	local out i pid ns bad="" br
	if ! out=$(timeout 120 "$cluster" start 3 --transport af_xdp 2>&1); then
		not_ok "cluster.sh start 3 --transport af_xdp forms a cluster" "$out" \
			"$(log_tail 1)" "$(log_tail 2)" "$(log_tail 3)"
		return 1
	fi
	ok "cluster.sh start 3 --transport af_xdp forms a cluster (every node knows the leader)"
	for i in 1 2 3; do
		pid=$(cat "$AETHER_RUN_DIR/node-$i.pid")
		ns=$(ip netns identify "$pid" 2>/dev/null)
		[ "$ns" = "${ns_prefix}n$i" ] || bad="$bad node $i (pid $pid) in '$ns';"
	done
	br=$(ip -n "${ns_prefix}br" -o link show master br0 2>/dev/null | grep -c ' n[123]@')
	[ -z "$bad" ] && [ "$br" = 3 ] &&
		ok "each node runs in its own network namespace, its veth on the bridge" ||
		not_ok "each node runs in its own namespace" "$bad" "bridge ports: $br"
	out=$(ctl 1 status | field 'd["transport"]["kind"] + " forged=" + str(d["transport"]["forged"])')
	check "node 1 reports transport af_xdp and no forged frame" \
		"$([ "$out" = "af_xdp forged=0" ] && echo 0 || echo 1)" "transport '$out'"
}

test_traffic() {
	local v big got
	ctl 1 kv put greeting hello >/dev/null
	v=$(get_value 3 greeting)
	check "a write through node 1 is read through node 3" "$([ "$v" = hello ] && echo 0 || echo 1)" \
		"got '$v'"
	# 6000 bytes: more than one 1500-byte frame carries, so only fragments can deliver it.
	big=$(head -c 6000 /dev/zero | tr '\0' 'x')
	ctl 1 kv put big "$big" >/dev/null
	got=$(get_value 3 big)
	check "a 6000-byte value (several frames per datagram) crosses the cluster" \
		"$([ "$got" = "$big" ] && echo 0 || echo 1)" "got ${#got} bytes"
}

test_kill_restart() {
	local good=1 v state out slot1 slot2 keys1 keys2
	"$cluster" kill 2 >/dev/null
	for i in 1 2 3 4 5; do
		ctl 1 kv put "after-kill-$i" "v$i" >/dev/null || good=0
	done
	v=$(get_value 3 after-kill-5)
	check "after kill -9 of node 2, writes through node 1 commit and node 3 reads them" \
		"$([ "$good" = 1 ] && [ "$v" = v5 ] && echo 0 || echo 1)" "puts ok=$good, read '$v'"
	state=$(wait_for "peer_state 1 2" down 5)
	check "node 1 reports the killed node as down" "$([ "$state" = down ] && echo 0 || echo 1)" \
		"state '$state'"
	if ! out=$(timeout 60 "$cluster" restart 2 2>&1); then
		not_ok "the killed node restarts in its namespace" "$out" "$(log_tail 2)"
		return 1
	fi
	ok "the killed node restarts in its namespace (its XDP program replaced)"
	v=$(get_value 2 after-kill-5)
	check "the restarted node reads the writes it missed through the log" \
		"$([ "$v" = v5 ] && echo 0 || echo 1)" "got '$v'"
	slot1=$(applied_slot 1)
	slot2=$(wait_for "applied_slot 2" "$slot1" 10)
	keys1=$(local_keys 1)
	keys2=$(wait_for "local_keys 2" "$keys1" 10)
	check "the restarted node caught up: equal applied slot and equal local listing" \
		"$([ "$slot2" = "$slot1" ] && [ "$keys2" = "$keys1" ] && [ -n "$keys1" ] && echo 0 || echo 1)" \
		"slots $slot1 / $slot2" "keys1 $keys1" "keys2 $keys2"
}

# Node 2 restarted last: it stays passive (R11) until the cluster passes its recovered mark, so
# nodes 1 and 3 are the quorum; cutting node 2 off (its bridge port down) leaves them working.
test_partition() {
	local v state healed
	if ! "$cluster" partition 2 >/dev/null; then
		not_ok "partition 2 sets its bridge port down"
		return 0
	fi
	ctl 1 kv put during-partition yes >/dev/null
	v=$(get_value 3 during-partition)
	state=$(wait_for "peer_state 1 2" down 5)
	"$cluster" heal >/dev/null
	healed=$(get_value 2 during-partition)
	check "partition cuts node 2 off (nodes 1 and 3 go on), heal brings it back" \
		"$([ "$v" = yes ] && [ "$state" = down ] && [ "$healed" = yes ] && echo 0 || echo 1)" \
		"majority read '$v', node 2 seen as '$state', node 2 after heal '$healed'"
}

test_pause_resume() {
	local v
	"$cluster" pause 1 >/dev/null
	ctl 2 kv put while-paused yes >/dev/null
	"$cluster" resume 1 >/dev/null
	v=$(get_value 1 while-paused)
	check "a paused node resumes and reads what was written meanwhile" \
		"$([ "$v" = yes ] && echo 0 || echo 1)" "got '$v'"
}

test_stop() {
	local left pids="" i
	for i in 1 2 3; do
		pids="$pids $(cat "$AETHER_RUN_DIR/node-$i.pid" 2>/dev/null)"
	done
	"$cluster" stop >/dev/null
	left=$(our_namespaces | tr '\n' ' ')
	check "stop deletes every namespace (and with them the bridge and the veths)" \
		"$([ -z "$left" ] && echo 0 || echo 1)" "left: $left"
	local alive=""
	for i in $pids; do
		if [ -d "/proc/$i" ] && ! grep -q '^State:.*Z' "/proc/$i/status" 2>/dev/null; then
			alive="$alive $i"
		fi
	done
	check "stop ends every node cleanly (sockets removed)" \
		"$([ -z "$alive" ] && ! ls "$AETHER_RUN_DIR"/node-*.sock >/dev/null 2>&1 &&
			grep -q 'stopping (signal 15)' "$AETHER_RUN_DIR/node-1.log" && echo 0 || echo 1)" \
		"alive:$alive" "$(ls "$AETHER_RUN_DIR")"
}

echo "1..$plan"
test_refusals
if test_start; then
	test_traffic
	test_kill_restart
	test_partition
	test_pause_resume
	test_stop
fi
# Tests that could not run (a failed start) still count against the plan.
while [ "$n" -lt "$plan" ]; do
	not_ok "not reached (an earlier step failed)"
done
[ "$failed" = 0 ] && [ "$n" = "$plan" ]
