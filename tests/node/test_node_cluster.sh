#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Goal: aetherd and scripts/cluster.sh work as a real multi-process cluster (issue 4, "Tests"):
# three nodes over UDP form a cluster, a write through node 1 is read through node 3, writes go
# on after kill -9 of a node, the restarted node catches up (its applied slot and its local key
# listing equal the others', and a read through the log on it sees every write), partitions cut
# a node off and heal; memif does the same when DPDK can start here; and the daemon refuses a bad
# config, a missing secret, an occupied socket and an occupied UDP port with one clear line and
# its documented exit status.
#
# Method: real processes started by cluster.sh in a temporary AETHER_RUN_DIR on a random port
# range, driven with aetherctl --json. Every wait is a bounded poll (deadline, never a fixed
# sleep). Output is TAP. Needs: AETHER_BUILD_DIR (with node/aetherd and ctl/aetherctl), python3.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cluster="$root/scripts/cluster.sh"
build=${AETHER_BUILD_DIR:?set AETHER_BUILD_DIR to the build directory}
aetherd="$build/node/aetherd"
aetherctl="$build/ctl/aetherctl"
python=${PYTHON:-python3}
# shellcheck source=tests/node/lib.sh
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d /tmp/aether-node-int.XXXXXX)
export AETHER_RUN_DIR="$tmp/run"
export AETHER_BUILD_DIR="$build"
export AETHER_READY_S=20
# A port range of our own, so parallel runs on one machine do not collide.
export AETHER_BASE_PORT=$((20000 + ($$ % 400) * 100))

cleanup() {
	"$cluster" stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- UDP cluster ----

test_udp_cluster() {
	local out v slot1 slot2 keys1 keys2
	if out=$("$cluster" start 3 --transport udp 2>&1); then
		ok "cluster.sh start 3 --transport udp forms a cluster (every node knows the leader)"
	else
		not_ok "cluster.sh start 3 --transport udp forms a cluster" "$out" "$(log_tail 1)"
		return 1
	fi

	ctl 1 kv put greeting hello >/dev/null
	v=$(get_value 3 greeting)
	[ "$v" = hello ] && ok "a write through node 1 is read through node 3" ||
		not_ok "a write through node 1 is read through node 3" "got '$v'"

	"$cluster" kill 2 >/dev/null
	local good=1
	for i in 1 2 3 4 5; do
		ctl 1 kv put "after-kill-$i" "v$i" >/dev/null || good=0
	done
	v=$(get_value 3 after-kill-5)
	[ "$good" = 1 ] && [ "$v" = v5 ] &&
		ok "after kill -9 of node 2, writes through node 1 commit and node 3 reads them" ||
		not_ok "after kill -9 of node 2, writes continue" "puts ok=$good, read '$v'"

	# Liveness is a silence longer than the suspect timeout: poll (bounded) rather than expect
	# the writes above to have taken that long.
	out=$(wait_for "ctl 1 status | field '[p[\"state\"] for p in d[\"peers\"] if p[\"node_id\"] == 2][0]' | sed 's/suspect/down/'" down 5)
	[ "$out" = down ] &&
		ok "node 1 reports the killed node as $out" ||
		not_ok "node 1 reports the killed node as down" "state '$out'"

	if ! out=$("$cluster" restart 2 2>&1); then
		not_ok "the killed node restarts" "$out" "$(log_tail 2)"
		return 1
	fi
	v=$(get_value 2 after-kill-5)
	[ "$v" = v5 ] && ok "the restarted node reads the writes it missed through the log" ||
		not_ok "the restarted node reads the writes it missed" "got '$v'"

	slot1=$(applied_slot 1)
	slot2=$(wait_for "applied_slot 2" "$slot1" 10)
	keys1=$(local_keys 1)
	keys2=$(wait_for "local_keys 2" "$keys1" 10)
	[ "$slot2" = "$slot1" ] && [ "$keys2" = "$keys1" ] && [ -n "$keys1" ] &&
		ok "the restarted node caught up: equal applied slot and equal local listing" ||
		not_ok "the restarted node caught up" "slots $slot1 / $slot2" "keys1 $keys1" \
			"keys2 $keys2"
}

# Node 2 restarted last: it stays passive (R11) until the cluster passes its recovered mark,
# so nodes 1 and 3 are the quorum; cutting node 2 off leaves them working.
test_udp_partition() {
	local v other healed
	if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null; then
		skip "partition cuts node 2 off, heal brings it back" "needs root and nft"
		return 0
	fi
	"$cluster" partition 2 >/dev/null || {
		not_ok "partition 2 installs its rules"
		return 0
	}
	ctl 1 kv put during-partition yes >/dev/null
	v=$(get_value 3 during-partition)
	other=$(wait_for "ctl 1 status | field '[p[\"state\"] for p in d[\"peers\"] if p[\"node_id\"] == 2][0]'" down 5)
	"$cluster" heal >/dev/null
	healed=$(get_value 2 during-partition)
	[ "$v" = yes ] && [ "$other" = down ] && [ "$healed" = yes ] &&
		ok "partition cuts node 2 off (nodes 1 and 3 go on), heal brings it back" ||
		not_ok "partition and heal" "majority read '$v', node 2 seen as '$other'," \
			"node 2 after heal '$healed'"
}

# A zombie (exited, not yet reaped by whoever adopted it) does not count as running.
is_running() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

test_clean_stop() {
	local pid
	pid=$(cat "$AETHER_RUN_DIR/node-1.pid")
	"$cluster" stop >/dev/null
	if [ ! -e "$AETHER_RUN_DIR/node-1.sock" ] && ! is_running "$pid" &&
		grep -q 'stopping (signal 15)' "$AETHER_RUN_DIR/node-1.log"; then
		ok "SIGTERM stops a node cleanly and removes its socket"
	else
		not_ok "SIGTERM stops a node cleanly" "pid $pid, socket: $(ls "$AETHER_RUN_DIR")" \
			"$(log_tail 1)"
	fi
}

# ---- Refusals ----

# Runs aetherd with the arguments; checks exit status $1 and that stderr is one line matching $2.
expect_refusal() {
	local name=$1 status=$2 pattern=$3 out rc
	shift 3
	out=$(timeout 20 "$aetherd" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$status" ] && [ "$(printf '%s\n' "$out" | grep -c '^aetherd: ')" = 1 ] &&
		grep -q -- "$pattern" <<<"$out"; then
		ok "$name (exit $rc: $(grep '^aetherd: ' <<<"$out"))"
	else
		not_ok "$name" "exit $rc, wanted $status; stderr:" "$out"
	fi
}

test_refusals() {
	local conf="$tmp/bad.conf" secret="$tmp/secret" port=$((AETHER_BASE_PORT + 50))
	printf 'node_id = 1\nidel.spin_count = 3\n' >"$conf"
	expect_refusal "a config with an unknown option is refused" 2 "bad.conf:2: unknown option" \
		--config "$conf"
	printf 'node_id = 1\ntransport = tcp\n' >"$conf"
	expect_refusal "a config with a bad value is refused" 2 "bad.conf:2:" --config "$conf"
	expect_refusal "an unknown command-line option is refused" 2 "unknown option" --frobnicate
	expect_refusal "a missing secret file is refused" 2 "cannot read secret_file" \
		--set secret_file="$tmp/no-such-secret" --set transport=udp

	printf '0123456789abcdef0123456789abcdef\n' >"$secret"
	chmod 600 "$secret"
	mkdir -p "$tmp/solo"
	local common=(--set secret_file="$secret" --set transport=udp --set operator_group=
		--set data_dir="$tmp/solo/data" --set "peers=1@127.0.0.1:$port")
	"$aetherd" "${common[@]}" --socket "$tmp/solo/a.sock" 2>"$tmp/solo/a.log" &
	local pid=$!
	wait_for "timeout 5 $aetherctl --socket $tmp/solo/a.sock --json status | field 'd[\"node_id\"]'" 1 10 >/dev/null
	expect_refusal "a socket served by a live node is refused" 1 "in use" "${common[@]}" \
		--set data_dir="$tmp/solo/data2" --socket "$tmp/solo/a.sock"
	expect_refusal "a UDP port in use is refused" 1 "cannot bind udp" "${common[@]}" \
		--set data_dir="$tmp/solo/data3" --socket "$tmp/solo/b.sock"
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	[ "$rc" = 0 ] && [ ! -e "$tmp/solo/a.sock" ] &&
		ok "a one-node cluster serves, and exits 0 on SIGTERM leaving no socket" ||
		not_ok "a one-node cluster exits 0 on SIGTERM" "exit $rc" "$(tail -n 3 "$tmp/solo/a.log")"
}

# ---- memif ----

test_memif_cluster() {
	local out v
	rm -rf "$AETHER_RUN_DIR"
	if ! out=$("$cluster" start 3 --transport memif 2>&1); then
		if grep -q 'EAL cannot start' "$AETHER_RUN_DIR"/node-*.log 2>/dev/null; then
			skip "3 nodes over memif form a cluster and survive kill -9" "DPDK cannot start here"
			"$cluster" stop >/dev/null 2>&1
			return 0
		fi
		not_ok "3 nodes over memif form a cluster" "$out" "$(log_tail 1)"
		return 1
	fi
	ctl 1 kv put m hello >/dev/null
	"$cluster" kill 3 >/dev/null
	ctl 2 kv put m2 world >/dev/null
	"$cluster" restart 3 >/dev/null
	v="$(get_value 3 m) $(get_value 3 m2)"
	[ "$v" = "hello world" ] &&
		ok "3 nodes over memif form a cluster, survive kill -9 and catch up" ||
		not_ok "3 nodes over memif" "node 3 read '$v'" "$(log_tail 3)"
	"$cluster" stop >/dev/null
}

echo "1..16"
test_udp_cluster
test_udp_partition
test_clean_stop
test_refusals
test_memif_cluster
# Tests that could not run (a failed start) still count against the plan.
while [ "$n" -lt 16 ]; do
	not_ok "not reached (an earlier step failed)"
done
[ "$failed" = 0 ]
