# SPDX-License-Identifier: Apache-2.0
#
# Shared helpers of the node-int test scripts (sourced, not run): TAP output, JSON fields, a
# bounded poll, and aetherctl against node I of a cluster.sh run directory. A script sets
# `aetherctl` and `python` (and AETHER_RUN_DIR for the cluster helpers) before using them.
# CTL_TIMEOUT_S (default 15) bounds one aetherctl call, LOG_TAIL_LINES (default 5) what
# log_tail shows.

n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

# A failure; every line of every further argument becomes a TAP comment.
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" | sed 's/^/# /'
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# Field $1 (a python expression on d) of the JSON document on stdin.
field() {
	"$python" -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# Polls the command $1 until it prints $2, for at most $3 seconds; prints what it saw last.
wait_for() {
	local cmd=$1 want=$2 deadline=$((SECONDS + $3)) got=""
	while [ "$SECONDS" -lt "$deadline" ]; do
		got=$(eval "$cmd" 2>/dev/null)
		if [ "$got" = "$want" ]; then
			echo "$got"
			return 0
		fi
		sleep 0.05 # poll interval of a bounded wait
	done
	echo "$got"
	return 1
}

# aetherctl --json against node $1 of $AETHER_RUN_DIR; further arguments are the command.
ctl() {
	timeout "${CTL_TIMEOUT_S:-15}" "$aetherctl" --socket "$AETHER_RUN_DIR/node-$1.sock" --json \
		"${@:2}"
}

get_value() {
	ctl "$1" kv get "$2" 2>/dev/null | field 'd["value"]'
}

applied_slot() {
	ctl "$1" status 2>/dev/null | field 'd["applied_slot"]'
}

local_keys() {
	ctl "$1" kv list 2>/dev/null | field '" ".join(e["key"] + "=" + str(e["mod_index"]) for e in d["keys"])'
}

log_tail() {
	tail -n "${LOG_TAIL_LINES:-5}" "$AETHER_RUN_DIR/node-$1.log" 2>/dev/null | sed 's/^/  /'
}
