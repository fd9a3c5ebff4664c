/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the node configuration parser reads the documented format (comments, quotes, optional
 * sections, CRLF), applies command-line overrides, rejects every bad input with its code and a
 * message naming the file and line, and documents its defaults truthfully: the shipped
 * node/aetherd.conf.example parses to exactly node_config_defaults().
 * Method: table-driven error cases (text, code, line, message), field checks for good input,
 * and a format/parse round trip compared byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "node/node_config.h"

struct fixture {
	struct node_config cfg;
	struct node_config other;
	struct node_config_error err;
	char text[NODE_CONFIG_TEXT_MAX + 2];
	char out[64 * 1024];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	node_config_defaults(&f->cfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static int
parse(struct fixture *f, const char *text)
{
	node_config_defaults(&f->cfg);
	memset(&f->err, 0, sizeof(f->err));
	return node_config_parse(&f->cfg, text, strlen(text), "test.conf", &f->err);
}

static void
assert_error(const struct fixture *f, int code, size_t line, const char *message)
{
	if (strcmp(f->err.text, message) != 0) {
		fail_msg("error text '%s', wanted '%s'", f->err.text, message);
	}
	assert_int_equal(f->err.code, code);
	assert_int_equal(f->err.line, line);
}

static void
test_node_config_defaults_are_the_documented_ones(void **state)
{
	struct fixture *f = *state;
	const struct node_config *c = &f->cfg;

	assert_int_equal(c->node_id, 1);
	assert_true(c->cluster_id == 1);
	assert_string_equal(c->secret_file, "/etc/aether/cluster.secret");
	assert_int_equal(c->peer_count, 0);
	assert_int_equal(c->transport, NODE_TRANSPORT_MEMIF);
	assert_string_equal(c->lcores, "");
	assert_string_equal(c->data_dir, "/var/lib/aether");
	assert_int_equal(c->idle.spin_count, 64);
	assert_int_equal(c->idle.yield_count, 64);
	assert_int_equal(c->idle.sleep_max_us, 100);
	assert_string_equal(c->socket_path, "/run/aether/aether.sock");
	assert_string_equal(c->operator_group, "aether");
	assert_int_equal(c->log_level, BASE_LOG_INFO);
	assert_false(c->hugepages);
	assert_true(c->auth);
	assert_string_equal(c->af_xdp.interface, "");
	assert_int_equal(c->af_xdp.queue, 0);
	assert_string_equal(c->pci_address, "");
	assert_int_equal(node_config_check(c, &f->err), 0);
}

static void
test_node_config_example_file_parses_to_the_defaults(void **state)
{
	struct fixture *f = *state;
	const char *path = getenv("NODE_CONFIG_EXAMPLE");
	FILE *file;
	size_t n;

	assert_non_null(path);
	file = fopen(path, "rb");
	assert_non_null(file);
	n = fread(f->text, 1, sizeof(f->text), file);
	fclose(file);
	assert_true(n > 0 && n < sizeof(f->text));
	node_config_defaults(&f->other);
	node_config_defaults(&f->cfg);
	if (node_config_parse(&f->cfg, f->text, n, path, &f->err) != 0) {
		fail_msg("%s", f->err.text);
	}
	assert_memory_equal(&f->cfg, &f->other, sizeof(f->cfg));
}

static void
test_node_config_reads_every_option(void **state)
{
	struct fixture *f = *state;
	const struct node_config *c = &f->cfg;

	assert_int_equal(parse(f, "# a cluster of three\n"
				  "node_id = 2\n"
				  "cluster_id = 0xAbC   # hex works\n"
				  "secret_file = \"/s/with # hash\"\n"
				  "peers = 1@127.0.0.1:7001, 2@node-2.example:7002 3\n"
				  "transport = udp\n"
				  "lcores = 0,2-3\n"
				  "data_dir = /data#1\n"
				  "socket_path = /run/x.sock\n"
				  "operator_group = 1234\n"
				  "log_level = debug\n"
				  "hugepages = yes\n"
				  "auth = off\n"
				  "idle.spin_count = 0\n"
				  "[idle]\r\n"
				  "yield_count = 7\r\n"
				  "  sleep_max_us=1000000  \n"),
			 0);
	assert_int_equal(c->node_id, 2);
	assert_true(c->cluster_id == 0xabc);
	assert_string_equal(c->secret_file, "/s/with # hash");
	assert_int_equal(c->peer_count, 3);
	assert_int_equal(c->peers[0].node_id, 1);
	assert_string_equal(c->peers[0].host, "127.0.0.1");
	assert_int_equal(c->peers[0].port, 7001);
	assert_string_equal(c->peers[1].host, "node-2.example");
	assert_int_equal(c->peers[2].node_id, 3);
	assert_int_equal(c->peers[2].port, 0);
	assert_string_equal(c->peers[2].host, "");
	assert_int_equal(c->transport, NODE_TRANSPORT_UDP);
	assert_string_equal(c->lcores, "0,2-3");
	assert_string_equal(c->data_dir, "/data#1"); /* '#' starts a comment only after a blank */
	assert_string_equal(c->socket_path, "/run/x.sock");
	assert_string_equal(c->operator_group, "1234");
	assert_int_equal(c->log_level, BASE_LOG_DEBUG);
	assert_true(c->hugepages);
	assert_false(c->auth);
	assert_int_equal(c->idle.spin_count, 0);
	assert_int_equal(c->idle.yield_count, 7);
	assert_int_equal(c->idle.sleep_max_us, 1000000);
}

static void
test_node_config_accepts_quotes_empty_values_and_blank_files(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, ""), 0);
	assert_int_equal(parse(f, "\n\n   \n# only comments\n\t# indented\n"), 0);
	assert_int_equal(parse(f, "operator_group =\nlcores =   # none\npeers =\n"), 0);
	assert_string_equal(f->cfg.operator_group, "");
	assert_int_equal(parse(f, "data_dir = \" a \\\"b\\\\ \"  # trailing comment"), 0);
	assert_string_equal(f->cfg.data_dir, " a \"b\\ ");
	assert_int_equal(parse(f, "[ idle ]  # spaces are fine\nspin_count = 5"), 0);
	assert_int_equal(f->cfg.idle.spin_count, 5);
	assert_int_equal(parse(f, "node_id = 7"), 0); /* no final newline */
	assert_int_equal(f->cfg.node_id, 7);
}

struct bad_case {
	const char *text;
	int code;
	size_t line;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{"node_id = abc", -EINVAL, 1, "node_id wants a number, not 'abc'"},
	{"node_id = -1", -EINVAL, 1, "node_id wants a number, not '-1'"},
	{"node_id = 0", -BASE_ERR_RANGE, 1, "node_id must be 1..4294967295, not 0"},
	{"\nnode_id = 4294967296", -BASE_ERR_RANGE, 2,
	 "node_id must be 1..4294967295, not 4294967296"},
	{"cluster_id = 99999999999999999999", -BASE_ERR_RANGE, 1,
	 "cluster_id must be 0..18446744073709551615, not 99999999999999999999"},
	{"cluster_id = 0xZZ", -EINVAL, 1, "cluster_id wants a number, not '0xZZ'"},
	{"cluster_id = 0x", -EINVAL, 1, "cluster_id wants a number, not '0x'"},
	{"secret_file =", -EINVAL, 1, "secret_file must not be empty"},
	{"data_dir = \"\"", -EINVAL, 1, "data_dir must not be empty"},
	{"peers = 0", -EINVAL, 1, "peer '0': the node id must be 1..4294967295"},
	{"peers = x@h:1", -EINVAL, 1, "peer 'x@h:1': the node id must be 1..4294967295"},
	{"peers = 1@host", -EINVAL, 1,
	 "peer '1@host': expected id@host:port with a host name or IPv4 address"},
	{"peers = 1@:80", -EINVAL, 1,
	 "peer '1@:80': expected id@host:port with a host name or IPv4 address"},
	{"peers = 1@h/x:80", -EINVAL, 1,
	 "peer '1@h/x:80': the MAC must be xx:xx:xx:xx:xx:xx (hex)"},
	{"peers = 1/02:00:00:00:00:01", -EINVAL, 1,
	 "peer '1/02:00:00:00:00:01': a MAC follows an address: id@host:port/MAC"},
	{"peers = 1@h:1/02:00:00:00:00", -EINVAL, 1,
	 "peer '1@h:1/02:00:00:00:00': the MAC must be xx:xx:xx:xx:xx:xx (hex)"},
	{"peers = 1@h:1/02-00-00-00-00-01", -EINVAL, 1,
	 "peer '1@h:1/02-00-00-00-00-01': the MAC must be xx:xx:xx:xx:xx:xx (hex)"},
	{"peers = 1@h:1/0g:00:00:00:00:01", -EINVAL, 1,
	 "peer '1@h:1/0g:00:00:00:00:01': the MAC must be xx:xx:xx:xx:xx:xx (hex)"},
	{"peers = 1@h:1/02:00:00:00:00:01/02:00:00:00:00:01", -EINVAL, 1,
	 "peer '1@h:1/02:00:00:00:00:01/02:00:00:00:00:01': the MAC must be xx:xx:xx:xx:xx:xx "
	 "(hex)"},
	{"peers = 1@h:x/02:00:00:00:00:01", -EINVAL, 1, "peer '1@h:x': the port must be 1..65535"},
	{"peers = 1@h:0", -EINVAL, 1, "peer '1@h:0': the port must be 1..65535"},
	{"peers = 1@h:65536", -EINVAL, 1, "peer '1@h:65536': the port must be 1..65535"},
	{"peers = 1@h:", -EINVAL, 1, "peer '1@h:': the port must be 1..65535"},
	{"peers = 1, 2, 1", -EEXIST, 1, "peer 1 is listed twice"},
	{"peers = 1@h:1 2@h:1", -EEXIST, 1, "peers 1 and 2 have the same address h:1"},
	{"transport = tcp", -EINVAL, 1, "transport must be memif, udp, af_xdp or pci, not 'tcp'"},
	{"transport = MEMIF", -EINVAL, 1,
	 "transport must be memif, udp, af_xdp or pci, not 'MEMIF'"},
	{"af_xdp.interface = eth/0", -EINVAL, 1,
	 "af_xdp.interface 'eth/0' is not an interface name ([A-Za-z0-9._-])"},
	{"[af_xdp]\ninterface = a,b", -EINVAL, 2,
	 "af_xdp.interface 'a,b' is not an interface name ([A-Za-z0-9._-])"},
	{"af_xdp.interface = sixteen-chars-xy", -BASE_ERR_TOO_LONG, 1,
	 "af_xdp.interface is 16 bytes long; the limit is 15"},
	{"af_xdp.queue = 65536", -BASE_ERR_RANGE, 1, "af_xdp.queue must be 0..65535, not 65536"},
	{"pci_address = 0000:03:00", -EINVAL, 1,
	 "pci_address must be a PCI address as in 0000:03:00.0 (device 00..1f, function 0..7), "
	 "not '0000:03:00'"},
	{"pci_address = 03:00.0,x", -EINVAL, 1,
	 "pci_address must be a PCI address as in 0000:03:00.0 (device 00..1f, function 0..7), "
	 "not '03:00.0,x'"},
	{"pci_address = 03:20.0", -EINVAL, 1,
	 "pci_address must be a PCI address as in 0000:03:00.0 (device 00..1f, function 0..7), "
	 "not '03:20.0'"},
	{"pci_address = 0000:03:1f.8", -EINVAL, 1,
	 "pci_address must be a PCI address as in 0000:03:00.0 (device 00..1f, function 0..7), "
	 "not '0000:03:1f.8'"},
	{"pci_address = 0000.03:00:0", -EINVAL, 1,
	 "pci_address must be a PCI address as in 0000:03:00.0 (device 00..1f, function 0..7), "
	 "not '0000.03:00:0'"},
	{"lcores = a", -EINVAL, 1, "lcores wants CPU numbers 0..1023 as in 0,2-3; 'a' is not"},
	{"lcores = 1024", -EINVAL, 1,
	 "lcores wants CPU numbers 0..1023 as in 0,2-3; '1024' is not"},
	{"lcores = ,1", -EINVAL, 1, "lcores wants CPU numbers 0..1023 as in 0,2-3; ',1' is not"},
	{"lcores = 3-1", -EINVAL, 1, "lcores has a bad range in '3-1'"},
	{"lcores = 1-", -EINVAL, 1, "lcores has a bad range in '1-'"},
	{"lcores = 1,", -EINVAL, 1, "lcores wants CPU numbers as in 0,2-3; '1,' is not"},
	{"lcores = 1 2", -EINVAL, 1, "lcores wants CPU numbers as in 0,2-3; '1 2' is not"},
	{"idle.sleep_max_us = 0", -BASE_ERR_RANGE, 1,
	 "idle.sleep_max_us must be 1..1000000, not 0"},
	{"[idle]\nyield_count = 1000000001", -BASE_ERR_RANGE, 2,
	 "idle.yield_count must be 0..1000000000, not 1000000001"},
	{"idle.spin_count = x", -EINVAL, 1, "idle.spin_count wants a number, not 'x'"},
	{"operator_group = -wheel", -EINVAL, 1,
	 "operator_group '-wheel' is not a group name or id"},
	{"operator_group = a b", -EINVAL, 1, "operator_group 'a b' is not a group name or id"},
	{"operator_group = abcdefghijklmnopqrstuvwxyz0123456789", -BASE_ERR_TOO_LONG, 1,
	 "operator_group is 36 bytes long; the limit is 32"},
	{"log_level = loud", -EINVAL, 1,
	 "log_level must be error, warn, info or debug, not 'loud'"},
	{"hugepages = maybe", -EINVAL, 1,
	 "hugepages must be true or false (or yes/no, on/off, 1/0), not 'maybe'"},
	{"auth = 2", -EINVAL, 1, "auth must be true or false (or yes/no, on/off, 1/0), not '2'"},
	{"# ok\nnonsense = 1", -ENOENT, 2, "unknown option 'nonsense'"},
	{"node_id", -BASE_ERR_SYNTAX, 1, "expected 'name = value', a [section] or a # comment"},
	{"= 3", -BASE_ERR_SYNTAX, 1, "expected 'name = value', a [section] or a # comment"},
	{"[idle]\nnode_id = 1", -ENOENT, 2, "unknown option 'idle.node_id'"},
	{"[idle", -BASE_ERR_SYNTAX, 1, "a section line is '[name]'"},
	{"[idle] spin_count = 1", -BASE_ERR_SYNTAX, 1, "a section line is '[name]'"},
	{"[net]", -BASE_ERR_SYNTAX, 1,
	 "unknown section [net] (the sections are [idle] and [af_xdp])"},
	{"node_id = 1\n\nnode_id = 2", -EEXIST, 3,
	 "option 'node_id' is set twice (first on line 1)"},
	{"idle.spin_count = 1\n[idle]\nspin_count = 2", -EEXIST, 3,
	 "option 'idle.spin_count' is set twice (first on line 1)"},
	{"secret_file = \"abc", -BASE_ERR_SYNTAX, 1, "the quoted value has no closing '\"'"},
	{"secret_file = \"a\\nb\"", -BASE_ERR_SYNTAX, 1,
	 "only \\\" and \\\\ may follow a backslash"},
	{"secret_file = \"a\" b", -BASE_ERR_SYNTAX, 1, "unexpected text after the quoted value"},
	{"node_id = 1\x01", -BASE_ERR_BAD_CHAR, 1, "control character 0x01 at column 12"},
	{"a = 1\x7f", -BASE_ERR_BAD_CHAR, 1, "control character 0x7f at column 6"},
	{"node_id = 1\r\r\n", -BASE_ERR_BAD_CHAR, 1, "control character 0x0d at column 12"},
};

static void
test_node_config_rejects_every_bad_input_with_line_and_reason(void **state)
{
	struct fixture *f = *state;
	char expected[NODE_CONFIG_ERROR_MAX];

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		int rc = parse(f, b->text);

		if (rc != b->code) {
			fail_msg("case %zu '%s': code %d (%s), wanted %d", i, b->text, rc,
				 f->err.text, b->code);
		}
		snprintf(expected, sizeof(expected), "test.conf:%zu: %s", b->line, b->message);
		assert_error(f, b->code, b->line, expected);
	}
}

static void
test_node_config_rejects_nul_bytes_long_values_and_huge_files(void **state)
{
	struct fixture *f = *state;
	size_t n;

	memcpy(f->text, "node_id = 1\nx\0y = 2\n", 20);
	node_config_defaults(&f->cfg);
	assert_int_equal(node_config_parse(&f->cfg, f->text, 20, "test.conf", &f->err),
			 -BASE_ERR_BAD_CHAR);
	assert_error(f, -BASE_ERR_BAD_CHAR, 2, "test.conf:2: control character 0x00 at column 2");

	n = (size_t)snprintf(f->text, sizeof(f->text), "secret_file = ");
	memset(f->text + n, 's', 300);
	f->text[n + 300] = '\0';
	assert_int_equal(parse(f, f->text), -BASE_ERR_TOO_LONG);
	assert_error(f, -BASE_ERR_TOO_LONG, 1,
		     "test.conf:1: secret_file is 300 bytes long; the limit is 255");

	n = (size_t)snprintf(f->text, sizeof(f->text), "peers = ");
	memset(f->text + n, '1', 20000);
	f->text[n + 20000] = '\0';
	assert_int_equal(parse(f, f->text), -BASE_ERR_TOO_LONG);
	assert_non_null(strstr(f->err.text, "value longer than"));

	memset(f->text, '#', NODE_CONFIG_TEXT_MAX + 1);
	assert_int_equal(
		node_config_parse(&f->cfg, f->text, NODE_CONFIG_TEXT_MAX + 1, "big.conf", &f->err),
		-EFBIG);
	assert_non_null(strstr(f->err.text, "big.conf: larger than 1048576 bytes"));
}

static void
test_node_config_takes_64_peers_and_refuses_65(void **state)
{
	struct fixture *f = *state;
	size_t n = (size_t)snprintf(f->text, sizeof(f->text), "peers =");

	for (int i = 1; i <= 64; i++) {
		n += (size_t)snprintf(f->text + n, sizeof(f->text) - n, " %d@10.0.0.%d:%d", i, i,
				      7000 + i);
	}
	assert_int_equal(parse(f, f->text), 0);
	assert_int_equal(f->cfg.peer_count, 64);
	assert_int_equal(f->cfg.peers[63].port, 7064);
	snprintf(f->text + n, sizeof(f->text) - n, ",65");
	assert_int_equal(parse(f, f->text), -BASE_ERR_TOO_LONG);
	assert_error(f, -BASE_ERR_TOO_LONG, 1, "test.conf:1: more than 64 peers");
}

static void
test_node_config_overrides_replace_values(void **state)
{
	struct fixture *f = *state;
	struct node_config *c = &f->cfg;

	assert_int_equal(parse(f, "peers = 1, 2, 3\ntransport = udp"), 0);
	assert_int_equal(node_config_set(c, "transport=memif", &f->err), 0);
	assert_int_equal(c->transport, NODE_TRANSPORT_MEMIF);
	assert_int_equal(node_config_set(c, " peers = 4@h:1 ,5@h:2 ", &f->err), 0);
	assert_int_equal(c->peer_count, 2);
	assert_int_equal(c->peers[1].node_id, 5);
	assert_int_equal(node_config_set(c, "idle.sleep_max_us=5", &f->err), 0);
	assert_int_equal(c->idle.sleep_max_us, 5);
	/* Overrides take '#' literally: no comments on a command line. */
	assert_int_equal(node_config_set(c, "data_dir=/tmp/a #b", &f->err), 0);
	assert_string_equal(c->data_dir, "/tmp/a #b");
	assert_int_equal(node_config_set(c, "secret_file=\" x \"", &f->err), 0);
	assert_string_equal(c->secret_file, " x ");
	assert_int_equal(node_config_set(c, "operator_group=", &f->err), 0);
	assert_string_equal(c->operator_group, "");
	/* The same option twice on the command line: the last one wins. */
	assert_int_equal(node_config_set(c, "node_id=4", &f->err), 0);
	assert_int_equal(node_config_set(c, "node_id=5", &f->err), 0);
	assert_int_equal(c->node_id, 5);
}

static void
test_node_config_override_errors_name_the_override_and_change_nothing(void **state)
{
	struct fixture *f = *state;

	node_config_defaults(&f->other);
	assert_int_equal(node_config_set(&f->cfg, "transport=tcp", &f->err), -EINVAL);
	assert_error(
		f, -EINVAL, 0,
		"--set 'transport=tcp': transport must be memif, udp, af_xdp or pci, not 'tcp'");
	assert_int_equal(node_config_set(&f->cfg, "peers=1,2,2", &f->err), -EEXIST);
	assert_error(f, -EEXIST, 0, "--set 'peers=1,2,2': peer 2 is listed twice");
	assert_int_equal(node_config_set(&f->cfg, "verbose", &f->err), -BASE_ERR_SYNTAX);
	assert_error(f, -BASE_ERR_SYNTAX, 0, "--set 'verbose': expected name=value");
	assert_int_equal(node_config_set(&f->cfg, "spin_count=1", &f->err), -ENOENT);
	assert_error(f, -ENOENT, 0, "--set 'spin_count=1': unknown option 'spin_count'");
	assert_int_equal(node_config_set(&f->cfg, "data_dir=a\tb\x01", &f->err),
			 -BASE_ERR_BAD_CHAR);
	assert_memory_equal(&f->cfg, &f->other, sizeof(f->cfg));
	/* err may be NULL. */
	assert_int_equal(node_config_set(&f->cfg, "node_id=0", NULL), -BASE_ERR_RANGE);
}

static void
test_node_config_check_catches_what_single_options_cannot(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "node_id = 4\npeers = 1, 2, 3"), 0);
	assert_int_equal(node_config_check(&f->cfg, &f->err), -EINVAL);
	assert_error(f, -EINVAL, 0,
		     "node_id 4 is not among peers (list every member, this node too)");
	assert_int_equal(parse(f, "node_id = 2\npeers = 1@a:1, 2@a:2, 3\ntransport = udp"), 0);
	assert_int_equal(node_config_check(&f->cfg, &f->err), -EINVAL);
	assert_error(f, -EINVAL, 0,
		     "transport udp needs host:port for every peer; peer 3 has none");
	assert_int_equal(parse(f, "node_id = 3\npeers = 1, 2, 3"), 0);
	assert_int_equal(node_config_check(&f->cfg, &f->err), 0);
	assert_int_equal(parse(f, "transport = udp"), 0); /* one node needs no address */
	assert_int_equal(node_config_check(&f->cfg, NULL), 0);
}

static void
test_node_config_reads_shared_wire_options_and_peer_macs(void **state)
{
	struct fixture *f = *state;
	const struct node_config *c = &f->cfg;
	static const uint8_t mac2[6] = {0x02, 0xae, 0x00, 0x00, 0x0f, 0x02};

	assert_int_equal(parse(f, "node_id = 1\ntransport = af_xdp\n"
				  "peers = 1@10.0.0.1:7401, 2@10.0.0.2:7402/02:AE:00:00:0f:02\n"
				  "pci_address = 0000:Af:1f.7\n"
				  "[af_xdp]\ninterface = veth-a0\nqueue = 3\n"),
			 0);
	assert_int_equal(c->transport, NODE_TRANSPORT_AF_XDP);
	assert_string_equal(c->af_xdp.interface, "veth-a0");
	assert_int_equal(c->af_xdp.queue, 3);
	assert_string_equal(c->pci_address, "0000:Af:1f.7");
	assert_false(c->peers[0].has_mac);
	assert_true(c->peers[1].has_mac);
	assert_memory_equal(c->peers[1].mac, mac2, sizeof(mac2));
	assert_string_equal(c->peers[1].host, "10.0.0.2");
	assert_int_equal(c->peers[1].port, 7402);
	assert_int_equal(node_config_check(c, &f->err), 0);
	assert_int_equal(
		parse(f, "transport = pci\npci_address = 03:00.0\n"
			 "peers = 1@10.0.0.1:1/02:00:00:00:00:01 2@10.0.0.2:1/02:00:00:00:00:02"),
		0);
	assert_int_equal(c->transport, NODE_TRANSPORT_PCI);
	assert_int_equal(node_config_check(c, &f->err), 0);
	/* memif and udp accept the MACs and need nothing else from them. */
	assert_int_equal(node_config_set(&f->cfg, "transport=udp", &f->err), 0);
	assert_int_equal(node_config_check(c, &f->err), 0);
}

struct check_case {
	const char *text;
	const char *message;
};

static const struct check_case shared_wire_cases[] = {
	{"transport = af_xdp\npeers = 1@10.0.0.1:1, 2@10.0.0.2:2/02:00:00:00:00:02",
	 "transport af_xdp needs af_xdp.interface"},
	{"transport = pci\npeers = 1@10.0.0.1:1, 2@10.0.0.2:2/02:00:00:00:00:02",
	 "transport pci needs pci_address (the NIC)"},
	{"transport = af_xdp\naf_xdp.interface = x",
	 "transport af_xdp needs peers (one node: udp)"},
	{"transport = af_xdp\naf_xdp.interface = x\npeers = 1@10.0.0.1:1, 2@10.0.0.2:2",
	 "transport af_xdp needs id@IPv4:port/MAC for every peer (id@IPv4:port for this node); "
	 "peer 2 has no MAC"},
	{"transport = af_xdp\naf_xdp.interface = x\npeers = 1, 2@10.0.0.2:2/02:00:00:00:00:02",
	 "transport af_xdp needs id@IPv4:port/MAC for every peer (id@IPv4:port for this node); "
	 "peer 1 has no address"},
	{"transport = pci\npci_address = 03:00.0\n"
	 "peers = 1@10.0.0.1:1, 2@node-2:2/02:00:00:00:00:02",
	 "transport pci needs id@IPv4:port/MAC for every peer (id@IPv4:port for this node); "
	 "peer 2 has a host that is not an IPv4 address"},
	{"transport = pci\npci_address = 03:00.0\n"
	 "peers = 1@10.0.0.256:1, 2@10.0.0.2:2/02:00:00:00:00:02",
	 "transport pci needs id@IPv4:port/MAC for every peer (id@IPv4:port for this node); "
	 "peer 1 has a host that is not an IPv4 address"},
	{"transport = pci\npci_address = 03:00.0\n"
	 "peers = 1@10.0.0:1, 2@10.0.0.2:2/02:00:00:00:00:02",
	 "transport pci needs id@IPv4:port/MAC for every peer (id@IPv4:port for this node); "
	 "peer 1 has a host that is not an IPv4 address"},
};

static void
test_node_config_check_wants_real_addresses_on_a_shared_wire(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(shared_wire_cases) / sizeof(shared_wire_cases[0]); i++) {
		const struct check_case *k = &shared_wire_cases[i];

		assert_int_equal(parse(f, k->text), 0);
		if (node_config_check(&f->cfg, &f->err) != -EINVAL) {
			fail_msg("case %zu '%s' passed the check", i, k->text);
		}
		assert_error(f, -EINVAL, 0, k->message);
	}
}

static void
test_node_config_format_reads_back_to_the_same_config(void **state)
{
	struct fixture *f = *state;
	int n;

	assert_int_equal(parse(f,
			       "node_id = 9\ncluster_id = 18446744073709551615\n"
			       "secret_file = \" odd \\\"#path\\\\ \"\n"
			       "peers = 9@h.example:1, 10, 11@10.1.2.3:4/0a:Bc:de:f0:12:34\n"
			       "lcores = 1-2\noperator_group =\ntransport = pci\n"
			       "pci_address = 03:00.1\naf_xdp.interface = eth0\naf_xdp.queue = 7\n"
			       "log_level = warn\nhugepages = on\nauth = no\ndata_dir = a#b\n"
			       "[idle]\nspin_count = 1\nyield_count = 2\nsleep_max_us = 3\n"),
			 0);
	n = node_config_format(&f->cfg, f->out, sizeof(f->out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(f->out));
	node_config_defaults(&f->other);
	if (node_config_parse(&f->other, f->out, (size_t)n, "formatted", &f->err) != 0) {
		fail_msg("%s\n%s", f->err.text, f->out);
	}
	assert_memory_equal(&f->other, &f->cfg, sizeof(f->cfg));
	for (size_t cap = 0; cap < (size_t)n + 1; cap += 7) {
		assert_int_equal(node_config_format(&f->cfg, f->out, cap), -ENOBUFS);
	}
	assert_int_equal(node_config_format(&f->cfg, f->out, (size_t)n + 1), n);
}

static void
test_node_config_names_transports(void **state)
{
	(void)state;
	assert_string_equal(node_transport_name(NODE_TRANSPORT_MEMIF), "memif");
	assert_string_equal(node_transport_name(NODE_TRANSPORT_UDP), "udp");
	assert_string_equal(node_transport_name(NODE_TRANSPORT_AF_XDP), "af_xdp");
	assert_string_equal(node_transport_name(NODE_TRANSPORT_PCI), "pci");
	assert_string_equal(node_transport_name((enum node_transport)0), "?");
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_node_config_defaults_are_the_documented_ones),
		CASE(test_node_config_example_file_parses_to_the_defaults),
		CASE(test_node_config_reads_every_option),
		CASE(test_node_config_accepts_quotes_empty_values_and_blank_files),
		CASE(test_node_config_rejects_every_bad_input_with_line_and_reason),
		CASE(test_node_config_rejects_nul_bytes_long_values_and_huge_files),
		CASE(test_node_config_takes_64_peers_and_refuses_65),
		CASE(test_node_config_overrides_replace_values),
		CASE(test_node_config_override_errors_name_the_override_and_change_nothing),
		CASE(test_node_config_check_catches_what_single_options_cannot),
		CASE(test_node_config_reads_shared_wire_options_and_peer_macs),
		CASE(test_node_config_check_wants_real_addresses_on_a_shared_wire),
		CASE(test_node_config_format_reads_back_to_the_same_config),
		CASE(test_node_config_names_transports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
