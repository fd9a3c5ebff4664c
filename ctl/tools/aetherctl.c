/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aetherctl: the operator CLI. Parses the command line, sends one request over the node's unix
 * socket (ctl/ctl_proto.h), waits for the answer and prints it as aligned text or, with --json,
 * as one JSON document. `kv list` sends one request per page on the same connection and prints
 * each page as it comes. Errors are one line on stderr and a documented exit code.
 */
#include "aetherctl_int.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/panic.h"
#include "ctl/ctl_server.h"

#define CLI_WORDS_MAX      6
/* The node answers or times a request out within CTL_SERVER_REPLY_TIMEOUT_NS (10 s). */
#define CLI_ANSWER_WAIT_MS 15000
#define CLI_CONNECT_WAIT_S 5
#define CLI_PATH_MAX       CTL_SERVER_PATH_MAX
#define CLI_DEFAULT_SOCKET CTL_SERVER_DEFAULT_SOCKET

/* The help texts quote the limits as numbers. */
static_assert(CTL_VALUE_MAX == 61440 && CTL_KEY_MAX == 512 && CTL_LIST_MAX == 1024,
	      "update the help texts");
/* The largest --limit: the keys a listing shows in all. */
#define CLI_LIMIT_MAX UINT32_MAX

static const char tool_help[] =
	"Usage: aetherctl [--socket PATH] [--json] COMMAND [ARGS]\n"
	"\n"
	"Drives an aether node over its operator socket.\n"
	"\n"
	"Commands:\n"
	"  status             this node, the cluster, leader, term, peers and their state,\n"
	"                     and the applied slot\n"
	"  nodes              the cluster's nodes with their state, role and address\n"
	"  kv put KEY VALUE   write a key (debug command over the replicated store)\n"
	"  kv get KEY         read a key's value and mod index through the log (linearizable);\n"
	"                     --local reads this node's state instead (not linearizable)\n"
	"  kv rm KEY          remove a key\n"
	"  kv list [PREFIX]   list the keys that start with PREFIX (all keys without one);\n"
	"                     a local read of this node's state (not linearizable)\n"
	"  slice load COORD [--worker N]\n"
	"                     load and start a slice from the node's repository on a worker\n"
	"  slice call COORD METHOD [ARG]\n"
	"                     call a method of a loaded slice and print its answer\n"
	"  slice unload COORD stop and unload a slice\n"
	"  slice list         the loaded slices: worker, instance, state\n"
	"\n"
	"Options:\n"
	"  --socket PATH      the node's socket; default $AETHER_SOCKET, else\n"
	"                     " CLI_DEFAULT_SOCKET "\n"
	"  --json             print one JSON document on stdout instead of aligned text\n"
	"  --worker N         slice load: the worker lcore (0-based) to load on\n"
	"  -h, --help         this help; 'aetherctl COMMAND --help' explains one command\n"
	"  --                 end of options (for keys or values that start with '-')\n"
	"\n"
	"Exit status:\n"
	"  0  success\n"
	"  1  the node answered with an error (a missing key, permission denied, ...)\n"
	"     or the answer could not be read\n"
	"  2  usage error: bad command line, empty or oversized key or value\n"
	"  3  cannot connect to the socket (no node running, or no access to it)\n"
	"\n"
	"Errors are one line on stderr; stdout then stays empty.\n";

static const char kv_help[] =
	"Usage: aetherctl [--socket PATH] [--json] kv put|get|rm|list ...\n"
	"\n"
	"Debug commands over the replicated KV store. Keys are any bytes the store accepts\n"
	"(1 to 512 bytes); they are not checked against the key schema.\n"
	"\n"
	"  kv put KEY VALUE   write VALUE (at most 61440 bytes) under KEY\n"
	"  kv get [--local] KEY\n"
	"                     print KEY's value and mod index; read through the log\n"
	"                     (linearizable), or with --local from this node's state\n"
	"  kv rm KEY          remove KEY\n"
	"  kv list [--limit N] [PREFIX]\n"
	"                     list keys starting with PREFIX, with mod index and value size;\n"
	"                     a local read of this node's state (not linearizable)\n"
	"\n"
	"'aetherctl kv COMMAND --help' explains one command.\n";

struct command {
	const char *group; /* "kv" or NULL */
	const char *name;
	enum ctl_msg_type type;
	size_t args_min;
	size_t args_max;
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
	{NULL, "status", CTL_MSG_STATUS, 0, 0, "status",
	 "Shows this node's id, the cluster id, the leader and its term, every peer with its\n"
	 "state (up, suspect, down, unknown) and when it was last heard from, and the last\n"
	 "slot this node applied.\n"},
	{NULL, "nodes", CTL_MSG_NODES, 0, 0, "nodes",
	 "Lists the cluster's nodes: id, state, role (self, leader) and address.\n"},
	{"kv", "put", CTL_MSG_KV_PUT, 2, 2, "kv put KEY VALUE",
	 "Writes VALUE under KEY through the replicated store and prints the write's mod\n"
	 "index (its log index). KEY: 1 to 512 bytes; VALUE: at most 61440 bytes.\n"},
	{"kv", "get", CTL_MSG_KV_GET, 1, 1, "kv get [--local] KEY",
	 "Prints KEY's value and mod index. The read goes through the Rabia log, like a write:\n"
	 "it is linearizable (it sees every write acknowledged before it) and is answered once\n"
	 "this node applies it, so it needs a working majority.\n"
	 "\n"
	 "--local reads this node's applied state instead: answered at once, also without a\n"
	 "majority, but NOT linearizable (it may miss writes this node has not applied yet).\n"
	 "The output then ends with a note naming the node and the slot it reflects; with\n"
	 "--json, \"read\" says how the value was read.\n"
	 "\n"
	 "Bytes that are not printable ASCII are shown as \\xNN in text; with --json, a value\n"
	 "that is not UTF-8 comes as \"value_hex\". Exit status 1 when the key does not exist.\n"},
	{"kv", "rm", CTL_MSG_KV_RM, 1, 1, "kv rm KEY",
	 "Removes KEY and prints the removal's mod index. Exit status 1 when the key does not\n"
	 "exist.\n"},
	{"kv", "list", CTL_MSG_KV_LIST, 0, 1, "kv list [--limit N] [PREFIX]",
	 "Lists the keys starting with PREFIX (every key without one) in byte order, with mod\n"
	 "index and value size. --limit N shows at most N keys (default: all); the output says\n"
	 "when more exist.\n"
	 "\n"
	 "This is a LOCAL read of this node's applied state, not linearizable: it may miss\n"
	 "writes this node has not applied yet. The output ends with a note naming the node\n"
	 "and the slot it reflects; with --json, \"read\" says the same. The node answers in\n"
	 "pages of up to 1024 keys, each read at the moment it is asked for: a key written\n"
	 "while a long listing runs may be missing or appear, but no key comes twice. If the\n"
	 "node fails between pages, the pages printed so far stay on stdout and the error\n"
	 "follows on stderr (exit status 1). --local is accepted and changes nothing.\n"},
	{"slice", "load", CTL_MSG_SLICE_LOAD, 1, 1, "slice load COORD [--worker N]",
	 "Fetches COORD (group:artifact:version) from the node's repository, loads it on a\n"
	 "worker lcore (worker N, 0-based, or the least loaded one) and starts it. Prints the\n"
	 "worker and the instance id once the slice is active. Exit status 1 when the node has\n"
	 "no repository or no worker, or the slice is missing, already loaded or fails.\n"},
	{"slice", "call", CTL_MSG_SLICE_CALL, 2, 3, "slice call COORD METHOD [ARG]",
	 "Calls METHOD of the loaded slice COORD with ARG (empty without one) on its worker and\n"
	 "prints the answer. ARG and the answer: at most 4096 bytes.\n"},
	{"slice", "unload", CTL_MSG_SLICE_UNLOAD, 1, 1, "slice unload COORD",
	 "Stops and unloads the slice COORD.\n"},
	{"slice", "list", CTL_MSG_SLICE_LIST, 0, 0, "slice list",
	 "Lists the slices this node hosts: coordinate, worker, instance id and state.\n"},
};

struct cli {
	const char *socket_path;
	bool json;
	bool help;
	bool local;
	bool has_limit;
	uint32_t limit;
	bool has_worker;
	uint32_t worker;
	size_t word_count;
	const char *words[CLI_WORDS_MAX];
};

/* The largest answer: kept out of main's stack. */
static uint8_t answer_buf[CTL_RESPONSE_MAX];
static struct ctl_response answer;

AE_PRINTF(2, 3)
static int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("aetherctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* ---- Command line ---- */

static int
parse_limit(struct cli *cli, const char *text)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || v == 0 ||
	    v > CLI_LIMIT_MAX) {
		return fail(CTL_CLI_EXIT_USAGE, "--limit wants a number from 1 to %lu, not '%s'",
			    (unsigned long)CLI_LIMIT_MAX, text);
	}
	cli->has_limit = true;
	cli->limit = (uint32_t)v;
	return 0;
}

static int
parse_worker(struct cli *cli, const char *text)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || v >= CTL_WORKERS_MAX) {
		return fail(CTL_CLI_EXIT_USAGE, "--worker wants a number from 0 to %u, not '%s'",
			    CTL_WORKERS_MAX - 1u, text);
	}
	cli->has_worker = true;
	cli->worker = (uint32_t)v;
	return 0;
}

/* Handles the option at argv[*i] (advancing *i past its value); returns 0 or an exit code. */
static int
parse_option(struct cli *cli, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];

	if (strcmp(arg, "--json") == 0) {
		cli->json = true;
	} else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		cli->help = true;
	} else if (strcmp(arg, "--local") == 0) {
		cli->local = true;
	} else if (strncmp(arg, "--socket=", 9) == 0) {
		cli->socket_path = arg + 9;
	} else if (strncmp(arg, "--limit=", 8) == 0) {
		return parse_limit(cli, arg + 8);
	} else if (strcmp(arg, "--worker") == 0) {
		if (*i + 1 >= argc) {
			return fail(CTL_CLI_EXIT_USAGE,
				    "--worker needs a value (see aetherctl --help)");
		}
		*i += 1;
		return parse_worker(cli, argv[*i]);
	} else if (strcmp(arg, "--socket") == 0 || strcmp(arg, "--limit") == 0) {
		if (*i + 1 >= argc) {
			return fail(CTL_CLI_EXIT_USAGE, "%s needs a value (see aetherctl --help)",
				    arg);
		}
		*i += 1;
		if (arg[2] == 'l') {
			return parse_limit(cli, argv[*i]);
		}
		cli->socket_path = argv[*i];
	} else {
		return fail(CTL_CLI_EXIT_USAGE, "unknown option '%s' (see aetherctl --help)", arg);
	}
	return 0;
}

/* Options may appear anywhere before "--"; everything else is a word. */
static int
parse_args(struct cli *cli, int argc, char **argv)
{
	bool options_done = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			int rc = parse_option(cli, argc, argv, &i);

			if (rc != 0) {
				return rc;
			}
			continue;
		}
		if (cli->word_count == CLI_WORDS_MAX) {
			return fail(CTL_CLI_EXIT_USAGE,
				    "too many arguments (see aetherctl --help)");
		}
		cli->words[cli->word_count++] = arg;
	}
	return 0;
}

/* The command named by the first words, and how many words that took (1 or 2). */
static const struct command *
command_find(const struct cli *cli, size_t *taken)
{
	for (size_t i = 0; i < AE_ARRAY_SIZE(commands); i++) {
		const struct command *c = &commands[i];

		if (c->group == NULL && strcmp(cli->words[0], c->name) == 0) {
			*taken = 1;
			return c;
		}
		if (c->group != NULL && cli->word_count >= 2 &&
		    strcmp(cli->words[0], c->group) == 0 && strcmp(cli->words[1], c->name) == 0) {
			*taken = 2;
			return c;
		}
	}
	return NULL;
}

static int
print_help(const struct cli *cli)
{
	const struct command *c;
	size_t taken = 0;

	if (cli->word_count == 0) {
		fputs(tool_help, stdout);
		return CTL_CLI_EXIT_OK;
	}
	c = command_find(cli, &taken);
	if (c != NULL) {
		printf("Usage: aetherctl [--socket PATH] [--json] %s\n\n%s", c->usage, c->help);
		return CTL_CLI_EXIT_OK;
	}
	if (strcmp(cli->words[0], "kv") == 0) {
		fputs(kv_help, stdout);
		return CTL_CLI_EXIT_OK;
	}
	return fail(CTL_CLI_EXIT_USAGE, "unknown command '%s' (see aetherctl --help)",
		    cli->words[0]);
}

/* Resolves the words to a command with the right number of arguments. */
static int
command_resolve(const struct cli *cli, const struct command **out, size_t *first_arg)
{
	const struct command *c;
	size_t args;

	if (cli->word_count == 0) {
		return fail(CTL_CLI_EXIT_USAGE, "no command given (see aetherctl --help)");
	}
	c = command_find(cli, first_arg);
	if (c == NULL && strcmp(cli->words[0], "kv") == 0) {
		return fail(CTL_CLI_EXIT_USAGE,
			    "kv needs a command: put, get, rm or list (see aetherctl kv --help)");
	}
	if (c == NULL && strcmp(cli->words[0], "slice") == 0) {
		return fail(CTL_CLI_EXIT_USAGE, "slice needs a command: load, call, unload or "
						"list (see aetherctl --help)");
	}
	if (c == NULL) {
		return fail(CTL_CLI_EXIT_USAGE, "unknown command '%s' (see aetherctl --help)",
			    cli->words[0]);
	}
	args = cli->word_count - *first_arg;
	if (args < c->args_min || args > c->args_max) {
		return fail(CTL_CLI_EXIT_USAGE, "usage: aetherctl %s (see aetherctl %s%s%s --help)",
			    c->usage, c->group != NULL ? c->group : "", c->group != NULL ? " " : "",
			    c->name);
	}
	if (cli->has_worker && c->type != CTL_MSG_SLICE_LOAD) {
		return fail(CTL_CLI_EXIT_USAGE, "--worker applies to slice load only");
	}
	if (cli->has_limit && c->type != CTL_MSG_KV_LIST) {
		return fail(CTL_CLI_EXIT_USAGE, "--limit applies to kv list only");
	}
	if (cli->local && c->type != CTL_MSG_KV_GET && c->type != CTL_MSG_KV_LIST) {
		return fail(CTL_CLI_EXIT_USAGE, "--local applies to kv get and kv list only");
	}
	*out = c;
	return 0;
}

/* The store's limits, checked before anything is sent. */
static int
check_size(const struct command *c, const char *what, size_t size, size_t min, size_t max)
{
	if (size < min) {
		return fail(CTL_CLI_EXIT_USAGE, "%s %s: the %s is empty", c->group, c->name, what);
	}
	if (size > max) {
		return fail(CTL_CLI_EXIT_USAGE, "%s %s: the %s is %zu bytes; the limit is %zu",
			    c->group, c->name, what, size, max);
	}
	return 0;
}

/* The slice requests: the coordinate (in key), the method and argument, the worker. */
static int
request_build_slice(const struct cli *cli, const struct command *c, size_t first_arg,
		    struct ctl_request *req)
{
	int rc = check_size(c, "coordinate", req->key_size, 1, CTL_COORD_MAX);

	req->worker = cli->has_worker ? cli->worker : CTL_WORKER_ANY;
	if (rc != 0 || c->type != CTL_MSG_SLICE_CALL) {
		return rc;
	}
	req->method = cli->words[first_arg + 1];
	req->method_size = strlen(req->method);
	rc = check_size(c, "method", req->method_size, 0, CTL_METHOD_MAX);
	if (rc == 0 && first_arg + 2 < cli->word_count) {
		req->value = (const uint8_t *)cli->words[first_arg + 2];
		req->value_size = strlen(cli->words[first_arg + 2]);
		rc = check_size(c, "argument", req->value_size, 0, CTL_SLICE_DATA_MAX);
	}
	return rc;
}

static int
request_build(const struct cli *cli, const struct command *c, size_t first_arg,
	      struct ctl_request *req)
{
	const char *key = first_arg < cli->word_count ? cli->words[first_arg] : "";
	int rc = 0;

	memset(req, 0, sizeof(*req));
	req->type = c->type;
	/* Any non-zero id works: one request per connection. The pid helps reading node logs. */
	req->request_id = ((uint64_t)getpid() << 16) | 1;
	if (c->type == CTL_MSG_STATUS || c->type == CTL_MSG_NODES ||
	    c->type == CTL_MSG_SLICE_LIST) {
		return 0;
	}
	req->key = (const uint8_t *)key;
	req->key_size = strlen(key);
	if (c->type == CTL_MSG_SLICE_LOAD || c->type == CTL_MSG_SLICE_CALL ||
	    c->type == CTL_MSG_SLICE_UNLOAD) {
		return request_build_slice(cli, c, first_arg, req);
	}
	if (c->type == CTL_MSG_KV_LIST) {
		/* Local is all a node serves for lists; run_list sets the limit of each page. */
		req->consistency = CTL_CONSISTENCY_LOCAL;
		return check_size(c, "prefix", req->key_size, 0, CTL_KEY_MAX);
	}
	if (c->type == CTL_MSG_KV_GET) {
		req->consistency =
			cli->local ? CTL_CONSISTENCY_LOCAL : CTL_CONSISTENCY_LINEARIZABLE;
	}
	rc = check_size(c, "key", req->key_size, 1, CTL_KEY_MAX);
	if (rc == 0 && c->type == CTL_MSG_KV_PUT) {
		req->value = (const uint8_t *)cli->words[first_arg + 1];
		req->value_size = strlen(cli->words[first_arg + 1]);
		rc = check_size(c, "value", req->value_size, 0, CTL_VALUE_MAX);
	}
	return rc;
}

/* ---- Talking to the node ---- */

static int
socket_path_resolve(const struct cli *cli, const char **out)
{
	const char *path = cli->socket_path;

	if (path == NULL) {
		path = getenv("AETHER_SOCKET");
	}
	if (path == NULL || path[0] == '\0') {
		path = CLI_DEFAULT_SOCKET;
	}
	if (strlen(path) > CLI_PATH_MAX) {
		return fail(CTL_CLI_EXIT_USAGE, "socket path is longer than %d bytes: %s",
			    CLI_PATH_MAX, path);
	}
	*out = path;
	return 0;
}

static const char *
connect_hint(int err)
{
	switch (err) {
	case ENOENT:
		return " (is the node running? see --socket and AETHER_SOCKET)";
	case ECONNREFUSED:
		return " (no node is listening there)";
	case EACCES:
	case EPERM:
		return " (is your user in the node's operator group?)";
	default:
		return "";
	}
}

static int
node_connect(const char *path, int *out)
{
	struct sockaddr_un sa;
	struct timeval wait = {.tv_sec = CLI_CONNECT_WAIT_S};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0) {
		return fail(CTL_CLI_EXIT_CONNECT, "cannot create a socket: %s", strerror(errno));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	/* Bounds connect and send when the node's backlog is full or it stops reading. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		err = errno;
		close(fd);
		return fail(CTL_CLI_EXIT_CONNECT, "cannot connect to %s: %s%s", path, strerror(err),
			    connect_hint(err));
	}
	*out = fd;
	return 0;
}

/* Sends the whole frame. A node that refuses a caller answers and closes at once, so a broken
 * pipe here is not yet an error: its answer may be waiting. */
static void
send_all(int fd, const uint8_t *buf, size_t size)
{
	size_t sent = 0;

	while (sent < size) {
		ssize_t n = send(fd, buf + sent, size - sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return;
		}
		sent += (size_t)n;
	}
}

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads until one whole frame is buffered; returns 0 or an exit code. */
static int
receive_frame(int fd, struct ctl_stream *in, struct ctl_frame *frame)
{
	uint64_t deadline = monotonic_ms() + CLI_ANSWER_WAIT_MS;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = monotonic_ms();
		size_t space;
		uint8_t *dst;
		ssize_t n;
		int rc = ctl_stream_next(in, frame);

		if (rc == 1) {
			return 0;
		}
		if (rc < 0) {
			return fail(CTL_CLI_EXIT_FAILED, "unreadable answer from the node: %s",
				    base_strerror(rc));
		}
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
			return fail(CTL_CLI_EXIT_FAILED, "no answer from the node within %d s",
				    CLI_ANSWER_WAIT_MS / 1000);
		}
		dst = ctl_stream_space(in, &space);
		n = recv(fd, dst, space, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return fail(CTL_CLI_EXIT_FAILED,
				    "the node closed the connection without %s", "answering");
		}
		ctl_stream_commit(in, (size_t)n);
	}
}

/* Sends req and decodes the answer into `answer`; returns 0 or an exit code. */
static int
node_call(int fd, const struct ctl_request *req)
{
	static uint8_t request_buf[CTL_REQUEST_MAX];
	struct ctl_stream in;
	struct ctl_frame frame;
	size_t size;
	int rc = ctl_request_encode(req, request_buf, sizeof(request_buf), &size);

	ASSERT(rc == 0); /* request_build checked every limit */
	send_all(fd, request_buf, size);
	ctl_stream_init(&in, answer_buf, sizeof(answer_buf));
	rc = receive_frame(fd, &in, &frame);
	if (rc != 0) {
		return rc;
	}
	rc = ctl_response_decode(&frame, &answer);
	if (rc != 0) {
		return fail(CTL_CLI_EXIT_FAILED, "unreadable answer from the node: %s",
			    base_strerror(rc));
	}
	/* A connection-level answer (refused, busy, bad frame) names no request. */
	if (answer.type != CTL_MSG_NONE &&
	    (answer.type != req->type || answer.request_id != req->request_id)) {
		return fail(CTL_CLI_EXIT_FAILED, "the node answered another request (id %llu)",
			    (unsigned long long)answer.request_id);
	}
	return 0;
}

/* ---- Output ---- */

static int
report_error(const struct command *c)
{
	fputs("aetherctl: ", stderr);
	if (answer.type != CTL_MSG_NONE) {
		fprintf(stderr, "%s%s%s: ", c->group != NULL ? c->group : "",
			c->group != NULL ? " " : "", c->name);
	}
	ctl_cli_print_escaped(stderr, (const uint8_t *)answer.message, answer.message_size);
	if (answer.message_size == 0) {
		fputs(ctl_status_name(answer.status), stderr);
	}
	fputc('\n', stderr);
	return CTL_CLI_EXIT_FAILED;
}

/* Prints an OK answer to a single-request command. */
static int
run_one(const struct cli *cli, const struct command *c, int fd, const struct ctl_request *req)
{
	int rc = node_call(fd, req);

	if (rc != 0) {
		return rc;
	}
	if (answer.status != CTL_STATUS_OK) {
		return report_error(c);
	}
	if (cli->json) {
		ctl_cli_print_json(stdout, req, &answer);
	} else {
		ctl_cli_print_human(stdout, req, &answer);
	}
	return 0;
}

/* Byte order, a prefix first: the order keys are listed in. */
static int
key_order(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size)
{
	size_t n = a_size < b_size ? a_size : b_size;
	int c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0) {
		return c;
	}
	return a_size < b_size ? -1 : (a_size > b_size ? 1 : 0);
}

/* A page must fit the request and follow the pages before it: from the same node, read the
 * same way, starting after the cursor (else the listing could repeat or never end). */
static int
list_page_check(const struct ctl_request *req, const struct ctl_cli_list *l)
{
	const struct ctl_kv_entry *e = &answer.entries[0];

	if (answer.entry_count > req->limit) {
		return fail(CTL_CLI_EXIT_FAILED, "kv list: the node sent %zu keys for a page of %u",
			    answer.entry_count, (unsigned)req->limit);
	}
	if (l->pages > 0 && (answer.read.consistency != l->read.consistency ||
			     answer.read.node_id != l->read.node_id)) {
		return fail(CTL_CLI_EXIT_FAILED,
			    "kv list: the listing moved from node %u to node %u between pages",
			    (unsigned)l->read.node_id, (unsigned)answer.read.node_id);
	}
	if (answer.entry_count > 0 && req->after_size > 0 &&
	    key_order(e->key, e->key_size, req->after, req->after_size) <= 0) {
		return fail(CTL_CLI_EXIT_FAILED,
			    "kv list: the node's page does not start after the previous one");
	}
	return 0;
}

/* kv list: one request per page, each after the last key so far, printed as it comes. */
static int
run_list(const struct cli *cli, const struct command *c, int fd, struct ctl_request *req)
{
	static uint8_t cursor[CTL_KEY_MAX];
	struct ctl_cli_list l;
	uint64_t left = cli->has_limit ? cli->limit : UINT64_MAX;
	bool more = false;

	memset(&l, 0, sizeof(l));
	for (;;) {
		const struct ctl_kv_entry *last;
		int rc;

		req->limit = (uint32_t)(left < CTL_LIST_MAX ? left : CTL_LIST_MAX);
		rc = node_call(fd, req);
		if (rc == 0 && answer.status != CTL_STATUS_OK) {
			rc = report_error(c);
		}
		if (rc == 0) {
			rc = list_page_check(req, &l);
		}
		if (rc != 0) {
			return rc;
		}
		/* Nothing reaches stdout before the first good answer. */
		if (l.pages == 0) {
			ctl_cli_list_begin(stdout, &l, cli->json, req);
		}
		ctl_cli_list_page(stdout, &l, &answer);
		left -= answer.entry_count;
		if (!answer.has_more || left == 0) {
			more = answer.has_more;
			break;
		}
		/* The answer buffer is reused by the next call: keep the cursor apart. */
		last = &answer.entries[answer.entry_count - 1];
		memcpy(cursor, last->key, last->key_size);
		req->after = cursor;
		req->after_size = last->key_size;
		req->request_id++;
	}
	ctl_cli_list_end(stdout, &l, more);
	return 0;
}

static int
run(const struct cli *cli)
{
	const struct command *c = NULL;
	struct ctl_request req;
	const char *path = NULL;
	size_t first_arg = 0;
	int fd = -1;
	int rc = command_resolve(cli, &c, &first_arg);

	if (rc != 0) {
		return rc;
	}
	ASSERT(c != NULL);
	rc = request_build(cli, c, first_arg, &req);
	if (rc == 0) {
		rc = socket_path_resolve(cli, &path);
	}
	if (rc == 0) {
		rc = node_connect(path, &fd);
	}
	if (rc != 0) {
		return rc;
	}
	if (c->type == CTL_MSG_KV_LIST) {
		rc = run_list(cli, c, fd, &req);
	} else {
		rc = run_one(cli, c, fd, &req);
	}
	close(fd);
	if (rc != 0) {
		return rc;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		return fail(CTL_CLI_EXIT_FAILED, "cannot write the output: %s", strerror(errno));
	}
	return CTL_CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct cli cli;
	int rc;

	memset(&cli, 0, sizeof(cli));
	rc = parse_args(&cli, argc, argv);
	if (rc != 0) {
		return rc;
	}
	/* "aetherctl help kv put" reads like "aetherctl kv put --help". */
	if (cli.word_count > 0 && strcmp(cli.words[0], "help") == 0) {
		cli.help = true;
		memmove(cli.words, cli.words + 1, (cli.word_count - 1) * sizeof(cli.words[0]));
		cli.word_count--;
	}
	if (cli.help) {
		return print_help(&cli);
	}
	return run(&cli);
}
