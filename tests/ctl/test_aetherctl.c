/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the built aetherctl binary drives a node for every command, in aligned text and in
 * --json (one valid JSON document), with errors as one line on stderr and the documented exit
 * codes (1 operation, 2 usage, 3 cannot connect); a caller outside the operator group is
 * refused with a clear message and the refusal is logged with pid and uid.
 * Method: a real server in this process on a temporary socket, answering from a real kv_store
 * (ctl_test_util.h); aetherctl runs as a child process, as root or, for the permission cases,
 * after switching to uid 65534 (we run as root); python3 checks the JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl_test_util.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
assert_contains(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL) {
		fail_msg("'%s' not found in:\n%s", needle, text);
	}
}

/* An error is exactly one line on stderr, and nothing on stdout. */
static void
assert_one_line_error(const struct ctl_test *t, const char *needle)
{
	assert_int_equal(t->run.out_size, 0);
	assert_true(t->run.err_size > 0);
	assert_int_equal(t->run.err[t->run.err_size - 1], '\n');
	assert_null(memchr(t->run.err, '\n', t->run.err_size - 1));
	assert_contains(t->run.err, "aetherctl: ");
	assert_contains(t->run.err, needle);
}

static void
test_aetherctl_status_prints_aligned_text_and_json(void **state)
{
	struct ctl_test *t = *state;

	ctl_test_store_put(t, "a", "1");
	ctl_test_aetherctl_ok(t, 0, ARGS("status"));
	assert_string_equal(t->run.out, "node          1\n"
					"cluster       7\n"
					"leader        2\n"
					"term          3\n"
					"applied slot  1\n"
					"peers         2\n"
					"\n"
					"PEER  STATE  LAST HEARD\n"
					"2     up     5 ms ago\n"
					"3     down   never\n");
	assert_int_equal(t->run.err_size, 0);
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "status"));
	ctl_test_assert_json(
		t, t->run.out,
		"d == {'node_id': 1, 'cluster_id': 7, 'leader_id': 2, 'term': 3, "
		"'applied_slot': 1, 'workers': [], 'peers': [{'node_id': 2, 'state': 'up', "
		"'last_heard_ms': 5}, {'node_id': 3, 'state': 'down', "
		"'last_heard_ms': None}]}");
}

static void
test_aetherctl_status_prints_refusal_counters_when_the_node_sends_them(void **state)
{
	struct ctl_test *t = *state;

	t->has_counters = true;
	ctl_test_aetherctl_ok(t, 0, ARGS("status"));
	assert_string_equal(
		t->run.out,
		"node          1\n"
		"cluster       7\n"
		"leader        2\n"
		"term          3\n"
		"applied slot  0\n"
		"transport     udp\n"
		"refused       garbage 1, oversize 2, forged 3, unauthenticated 4,\n"
		"              replayed 5, stale 6, foreign 7, unknown sender 8\n"
		"consensus     bad frames 9, decode errors 10, foreign 11, violations 12\n"
		"peers         2\n"
		"\n"
		"PEER  STATE  LAST HEARD\n"
		"2     up     5 ms ago\n"
		"3     down   never\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "status"));
	ctl_test_assert_json(
		t, t->run.out,
		"d['transport'] == {'kind': 'udp', 'garbage': 1, 'oversize': 2, "
		"'forged': 3, 'unauthenticated': 4, 'replayed': 5, 'stale': 6, "
		"'foreign': 7, 'unknown_sender': 8} and d['consensus'] == "
		"{'bad_frames': 9, 'decode_errors': 10, 'foreign': 11, 'violations': 12} "
		"and d['applied_slot'] == 0 and len(d['peers']) == 2");
}

static void
test_aetherctl_nodes_prints_a_table_and_json(void **state)
{
	struct ctl_test *t = *state;

	/* Options may also follow the command. */
	ctl_test_aetherctl_ok(t, 0, ARGS("nodes"));
	assert_string_equal(t->run.out, "NODE  STATE  ROLE    ADDRESS\n"
					"1     up     self    127.0.0.1:7001\n"
					"2     up     leader  127.0.0.1:7002\n"
					"3     down   -       127.0.0.1:7003\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("nodes", "--json"));
	ctl_test_assert_json(t, t->run.out,
			     "[n['node_id'] for n in d['nodes']] == [1, 2, 3] and "
			     "d['nodes'][0]['self'] and not d['nodes'][0]['leader'] and "
			     "d['nodes'][1]['leader'] and d['nodes'][2]['state'] == 'down' and "
			     "d['nodes'][2]['address'] == '127.0.0.1:7003'");
}

static void
test_aetherctl_kv_put_get_list_rm_in_text(void **state)
{
	struct ctl_test *t = *state;

	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "put", "nodes/n1", "hello world"));
	assert_string_equal(t->run.out, "stored        nodes/n1\nmod index     1\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "put", "nodes/n2", "x"));
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "put", "leader", "2"));
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "get", "nodes/n1"));
	assert_string_equal(t->run.out,
			    "key           nodes/n1\nvalue         hello world\nmod index     1\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "list"));
	assert_string_equal(t->run.out,
			    "KEY       MOD INDEX  SIZE\n"
			    "leader    3          1\n"
			    "nodes/n1  1          11\n"
			    "nodes/n2  2          1\n"
			    "3 keys\n"
			    "local read on node 1 at slot 3: not linearizable, may miss "
			    "writes node 1 has not applied yet\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "list", "nodes/"));
	assert_contains(t->run.out, "nodes/n2");
	assert_null(strstr(t->run.out, "leader"));
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "list", "--limit", "1", "nodes/"));
	assert_string_equal(
		t->run.out,
		"KEY       MOD INDEX  SIZE\n"
		"nodes/n1  1          11\n"
		"1 keys shown; more exist (raise --limit or narrow the prefix)\n"
		"local read on node 1 at slot 3: not linearizable, may miss writes node 1 "
		"has not applied yet\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "rm", "nodes/n1"));
	assert_string_equal(t->run.out, "removed       nodes/n1\nmod index     4\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "list", "nope/"));
	assert_string_equal(t->run.out,
			    "no keys\n"
			    "local read on node 1 at slot 4: not linearizable, may miss "
			    "writes node 1 has not applied yet\n");
}

static void
test_aetherctl_kv_commands_print_json(void **state)
{
	struct ctl_test *t = *state;

	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "put", "k\"1", "v\n\"q\""));
	ctl_test_assert_json(t, t->run.out, "d == {'key': 'k\"1', 'mod_index': 1}");
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "get", "k\"1"));
	ctl_test_assert_json(t, t->run.out,
			     "d == {'key': 'k\"1', 'value': 'v\\n\"q\"', 'mod_index': 1, "
			     "'read': {'consistency': 'linearizable'}}");
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "put", "bin", "\xff\xfe"));
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "get", "bin"));
	ctl_test_assert_json(t, t->run.out, "d['value'] is None and d['value_hex'] == 'fffe'");
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "list"));
	ctl_test_assert_json(t, t->run.out,
			     "d == {'prefix': '', 'keys': [{'key': 'bin', 'mod_index': 2, "
			     "'value_size': 2}, {'key': 'k\"1', 'mod_index': 1, 'value_size': 5}], "
			     "'more': False, 'read': {'consistency': 'local', 'node_id': 1, "
			     "'applied_slot_first': 2, 'applied_slot_last': 2, 'pages': 1}}");
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "rm", "bin"));
	ctl_test_assert_json(t, t->run.out, "d == {'key': 'bin', 'mod_index': 3}");
}

static void
test_aetherctl_kv_get_local_says_which_node_and_slot_it_read(void **state)
{
	struct ctl_test *t = *state;

	ctl_test_store_put(t, "a", "1");
	ctl_test_store_put(t, "b", "2");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "get", "--local", "a"));
	assert_string_equal(t->run.out,
			    "key           a\n"
			    "value         1\n"
			    "mod index     1\n"
			    "local read on node 1 at slot 2: not linearizable, may miss "
			    "writes node 1 has not applied yet\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "get", "a", "--local"));
	ctl_test_assert_json(t, t->run.out,
			     "d == {'key': 'a', 'value': '1', 'mod_index': 1, 'read': "
			     "{'consistency': 'local', 'node_id': 1, 'applied_slot': 2}}");
	ctl_test_aetherctl_ok(t, 1, ARGS("kv", "get", "--local", "absent"));
	assert_one_line_error(t, "aetherctl: kv get: key not found\n");
}

/* More keys than one answer holds: two requests on one connection, one table, one note. */
static void
test_aetherctl_kv_list_pages_through_more_keys_than_one_answer_holds(void **state)
{
	struct ctl_test *t = *state;
	const size_t count = CTL_LIST_MAX + 6;
	char key[16];
	char tail[128];

	for (size_t i = count; i-- > 0;) {
		snprintf(key, sizeof(key), "k%04zu", i);
		ctl_test_store_put(t, key, "v");
	}
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "list", "k"));
	assert_int_equal(t->list_pages, 2);
	assert_true(strncmp(t->run.out, "KEY    MOD INDEX  SIZE\nk0000  1030       1\n", 43) == 0);
	snprintf(tail, sizeof(tail),
		 "k1029  1          1\n%zu keys\nlocal read on node 1 at slot %zu: not "
		 "linearizable, may miss writes node 1 has not applied yet\n",
		 count, count);
	assert_true(t->run.out_size > strlen(tail));
	assert_string_equal(t->run.out + t->run.out_size - strlen(tail), tail);
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "list"));
	ctl_test_assert_json(t, t->run.out,
			     "len(d['keys']) == 1030 and [e['key'] for e in d['keys']] == "
			     "['k%04d' % i for i in range(1030)] and not d['more'] and "
			     "d['read'] == {'consistency': 'local', 'node_id': 1, "
			     "'applied_slot_first': 1030, 'applied_slot_last': 1030, 'pages': 2}");
	/* --limit counts keys in all, not per page. */
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "list", "--limit", "1025"));
	ctl_test_assert_json(t, t->run.out,
			     "len(d['keys']) == 1025 and d['keys'][-1]['key'] == 'k1024' and "
			     "d['more'] and d['read']['pages'] == 2");
}

/* Short pages with writes between them: the note names every slot the pages saw, a key
 * written ahead of the cursor shows up, and columns widen for a later, longer key. */
static void
test_aetherctl_kv_list_follows_short_pages_and_notes_the_slots_they_saw(void **state)
{
	struct ctl_test *t = *state;

	ctl_test_store_put(t, "a1", "1");
	ctl_test_store_put(t, "a2", "1");
	ctl_test_store_put(t, "a333", "1");
	ctl_test_store_put(t, "a4", "1");
	ctl_test_store_put(t, "b", "1");
	t->list_page_max = 2;
	t->list_writes = true;
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "list", "a"));
	assert_int_equal(t->list_pages, 2);
	assert_string_equal(t->run.out,
			    "KEY  MOD INDEX  SIZE\n"
			    "a1   1          1\n"
			    "a2   2          1\n"
			    "a333  3          1\n"
			    "a4    4          1\n"
			    "4 keys\n"
			    "local read on node 1 at slots 5 to 6 (2 pages): not "
			    "linearizable, may miss writes node 1 has not applied yet\n");
	ctl_test_aetherctl_ok(t, 0, ARGS("--json", "kv", "list"));
	ctl_test_assert_json(t, t->run.out,
			     "[e['key'] for e in d['keys']] == ['a1', 'a2', 'a333', 'a4', 'b', "
			     "'written-2', 'written-4', 'written-5', 'written-6', 'written-7'] and "
			     "d['read']['applied_slot_first'] == 6 and "
			     "d['read']['applied_slot_last'] == 10 and d['read']['pages'] == 5");
	/* --local changes nothing for a list: it is a local read anyway. */
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "list", "--local", "--limit", "3", "a"));
	assert_contains(t->run.out, "3 keys shown; more exist");
	assert_contains(t->run.out, "local read on node 1 at slots");
}

static void
test_aetherctl_text_escapes_unprintable_bytes(void **state)
{
	struct ctl_test *t = *state;

	ctl_test_store_put(t, "tab\there", "\x1b[31mred\\");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "get", "tab\there"));
	assert_string_equal(t->run.out, "key           tab\\x09here\n"
					"value         \\x1b[31mred\\\\\n"
					"mod index     1\n");
}

static void
test_aetherctl_missing_key_is_an_operation_error(void **state)
{
	struct ctl_test *t = *state;

	ctl_test_aetherctl_ok(t, 1, ARGS("kv", "get", "absent"));
	assert_one_line_error(t, "aetherctl: kv get: key not found\n");
	ctl_test_aetherctl_ok(t, 1, ARGS("--json", "kv", "rm", "absent"));
	assert_one_line_error(t, "aetherctl: kv rm: key not found\n");
}

static void
test_aetherctl_waits_for_a_deferred_write(void **state)
{
	struct ctl_test *t = *state;

	t->defer_writes = true;
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "put", "slow", "commit"));
	assert_string_equal(t->run.out, "stored        slow\nmod index     1\n");
	t->defer_writes = false;
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "get", "slow"));
	assert_contains(t->run.out, "commit");
}

static void
test_aetherctl_usage_errors_exit_2_before_connecting(void **state)
{
	struct ctl_test *t = *state;
	static char long_key[CTL_KEY_MAX + 2];
	struct ctl_server_stats stats;

	memset(long_key, 'k', CTL_KEY_MAX + 1);
	ctl_test_aetherctl_ok(t, 2, ARGS("kv", "put", "", "v"));
	assert_one_line_error(t, "kv put: the key is empty");
	ctl_test_aetherctl_ok(t, 2, ARGS("kv", "get", long_key));
	assert_one_line_error(t, "kv get: the key is 513 bytes; the limit is 512");
	ctl_test_aetherctl_ok(t, 2, ARGS("kv", "put", "k"));
	assert_one_line_error(t, "usage: aetherctl kv put KEY VALUE");
	ctl_test_aetherctl_ok(t, 2, ARGS("frobnicate"));
	assert_one_line_error(t, "unknown command 'frobnicate'");
	ctl_test_aetherctl_ok(t, 2, ARGS("kv"));
	assert_one_line_error(t, "kv needs a command");
	ctl_test_aetherctl_ok(t, 2, ARGS("--verbose", "status"));
	assert_one_line_error(t, "unknown option '--verbose'");
	ctl_test_aetherctl_ok(t, 2, ARGS("kv", "list", "--limit", "0"));
	assert_one_line_error(t, "--limit wants a number from 1 to 4294967295");
	ctl_test_aetherctl_ok(t, 2, ARGS("kv", "list", "--limit", "4294967296"));
	assert_one_line_error(t, "--limit wants a number from 1 to 4294967295");
	ctl_test_aetherctl_ok(t, 2, ARGS("kv", "put", "--local", "k", "v"));
	assert_one_line_error(t, "--local applies to kv get and kv list only");
	ctl_test_aetherctl_ok(t, 2, ARGS("status", "--limit", "3"));
	assert_one_line_error(t, "--limit applies to kv list only");
	ctl_test_aetherctl_ok(t, 2, ARGS("slice"));
	assert_one_line_error(t, "slice needs a command: load, call, unload or list");
	ctl_test_aetherctl_ok(t, 2, ARGS("slice", "load", ""));
	assert_one_line_error(t, "slice load: the coordinate is empty");
	ctl_test_aetherctl_ok(t, 2, ARGS("slice", "call", "a.b:c:1.0.0"));
	assert_one_line_error(t, "usage: aetherctl slice call COORD METHOD [ARG]");
	ctl_test_aetherctl_ok(t, 2, ARGS("slice", "list", "--worker", "1"));
	assert_one_line_error(t, "--worker applies to slice load only");
	ctl_test_aetherctl_ok(t, 2, ARGS("slice", "load", "a.b:c:1.0.0", "--worker", "x"));
	assert_one_line_error(t, "--worker wants a number from 0 to 126");
	ctl_test_aetherctl(t, NULL, NULL, ARGS(NULL));
	assert_int_equal(t->run.code, 2);
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.accepted, 0);
}

static void
test_aetherctl_help_explains_the_tool_and_each_command(void **state)
{
	struct ctl_test *t = *state;

	ctl_test_aetherctl_ok(t, 0, ARGS("--help"));
	assert_contains(t->run.out, "Usage: aetherctl [--socket PATH] [--json] COMMAND");
	assert_contains(t->run.out, "3  cannot connect to the socket");
	assert_contains(t->run.out, "AETHER_SOCKET");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "--help"));
	assert_contains(t->run.out, "kv put KEY VALUE");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "put", "--help"));
	assert_contains(t->run.out, "Usage: aetherctl [--socket PATH] [--json] kv put KEY VALUE");
	ctl_test_aetherctl_ok(t, 0, ARGS("help", "kv", "list"));
	assert_contains(t->run.out, "--limit N");
	assert_contains(t->run.out, "LOCAL read of this node's applied state, not linearizable");
	ctl_test_aetherctl_ok(t, 0, ARGS("kv", "get", "--help"));
	assert_contains(t->run.out, "through the Rabia log");
	assert_contains(t->run.out, "it is linearizable");
	assert_contains(t->run.out, "--local reads this node's applied state");
	ctl_test_aetherctl_ok(t, 0, ARGS("--help"));
	assert_contains(t->run.out, "through the log (linearizable)");
	ctl_test_aetherctl_ok(t, 0, ARGS("status", "--help"));
	assert_contains(t->run.out, "applied");
	ctl_test_aetherctl_ok(t, 0, ARGS("nodes", "-h"));
	assert_contains(t->run.out, "role");
}

static void
test_aetherctl_finds_the_socket_through_aether_socket(void **state)
{
	struct ctl_test *t = *state;
	char missing[CTL_TEST_PATH_MAX];

	ctl_test_aetherctl(t, NULL, t->sock_path, ARGS("status"));
	assert_int_equal(t->run.code, 0);
	assert_contains(t->run.out, "leader        2");
	snprintf(missing, sizeof(missing), "%s/none.sock", t->dir);
	ctl_test_aetherctl(t, NULL, missing, ARGS("status"));
	assert_int_equal(t->run.code, 3);
	assert_one_line_error(t, "cannot connect to ");
	assert_contains(t->run.err, missing);
	/* --socket wins over the environment. */
	ctl_test_aetherctl(t, NULL, missing, ARGS("--socket", t->sock_path, "status"));
	assert_int_equal(t->run.code, 0);
}

static void
test_aetherctl_cannot_connect_to_a_dead_socket_exits_3(void **state)
{
	struct ctl_test *t = *state;

	ctl_server_destroy(t->srv);
	t->srv = NULL;
	ctl_test_aetherctl(t, NULL, t->sock_path, ARGS("status"));
	assert_int_equal(t->run.code, 3);
	assert_one_line_error(t, "No such file or directory (is the node running?");
}

/* The non-root cases switch uid in a child: only root can. */
static bool
skip_unless_root(void)
{
	if (geteuid() != 0) {
		print_message("skipped: needs root to switch to uid %u\n", CTL_TEST_NOBODY);
		return true;
	}
	return false;
}

static void
test_aetherctl_refuses_a_caller_outside_the_operator_group(void **state)
{
	struct ctl_test *t = *state;
	/* The socket's group opens the file to nobody, but the group database does not list
	 * nobody in it: only the credential check stands in the way. */
	struct ctl_test_ids nobody = {CTL_TEST_NOBODY, CTL_TEST_NOBODY, 1, {t->group_gid}};
	char pid[32];
	struct ctl_server_stats stats;

	if (skip_unless_root()) {
		skip();
	}
	ctl_test_aetherctl(t, &nobody, t->sock_path, ARGS("kv", "put", "k", "v"));
	assert_int_equal(t->run.code, 1);
	assert_one_line_error(t, "aetherctl: permission denied: uid 65534 is not in operator group "
				 "'" CTL_TEST_GROUP "'\n");
	snprintf(pid, sizeof(pid), "pid=%d", (int)t->run.pid);
	assert_true(ctl_test_log_has(
		t, (const char *const[]){"refused connection", pid, "uid=65534", NULL}));
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.refused, 1);
	assert_int_equal(stats.requests, 0);
	assert_int_equal(kv_store_key_count(t->store), 0);
}

static void
test_aetherctl_admits_a_member_of_the_operator_group(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_ids member = {CTL_TEST_NOBODY, 0, 0, {0}};

	if (skip_unless_root()) {
		skip();
	}
	member.gid = t->group_gid;
	ctl_test_aetherctl(t, &member, t->sock_path, ARGS("kv", "put", "k", "v"));
	if (t->run.code != 0) {
		print_error("stderr: %s\n", t->run.err);
	}
	assert_int_equal(t->run.code, 0);
	assert_int_equal(kv_store_key_count(t->store), 1);
}

static void
test_aetherctl_outsider_without_the_group_cannot_reach_the_socket(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_ids outsider = {CTL_TEST_NOBODY, CTL_TEST_NOBODY, 0, {0}};
	struct ctl_server_stats stats;

	if (skip_unless_root()) {
		skip();
	}
	/* The 0750 directory already stops it: connect fails with EACCES. */
	ctl_test_aetherctl(t, &outsider, t->sock_path, ARGS("status"));
	assert_int_equal(t->run.code, 3);
	assert_one_line_error(t, "Permission denied (is your user in the node's operator group?)");
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.accepted + stats.refused, 0);
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, ctl_test_setup, ctl_test_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_aetherctl_status_prints_aligned_text_and_json),
		CASE(test_aetherctl_status_prints_refusal_counters_when_the_node_sends_them),
		CASE(test_aetherctl_nodes_prints_a_table_and_json),
		CASE(test_aetherctl_kv_put_get_list_rm_in_text),
		CASE(test_aetherctl_kv_commands_print_json),
		CASE(test_aetherctl_kv_get_local_says_which_node_and_slot_it_read),
		CASE(test_aetherctl_kv_list_pages_through_more_keys_than_one_answer_holds),
		CASE(test_aetherctl_kv_list_follows_short_pages_and_notes_the_slots_they_saw),
		CASE(test_aetherctl_text_escapes_unprintable_bytes),
		CASE(test_aetherctl_missing_key_is_an_operation_error),
		CASE(test_aetherctl_waits_for_a_deferred_write),
		CASE(test_aetherctl_usage_errors_exit_2_before_connecting),
		CASE(test_aetherctl_help_explains_the_tool_and_each_command),
		CASE(test_aetherctl_finds_the_socket_through_aether_socket),
		CASE(test_aetherctl_cannot_connect_to_a_dead_socket_exits_3),
		CASE(test_aetherctl_refuses_a_caller_outside_the_operator_group),
		CASE(test_aetherctl_admits_a_member_of_the_operator_group),
		CASE(test_aetherctl_outsider_without_the_group_cannot_reach_the_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
