/* SPDX-License-Identifier: Apache-2.0 */
#include "node/node_config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"

/* Longest value after unquoting: a full peers line (64 entries of id@host:port/MAC) fits. */
#define VALUE_MAX      (NODE_CONFIG_PEERS_MAX * (10 + 1 + NODE_CONFIG_HOST_MAX + 1 + 5 + 18 + 2))
/* "xx:xx:xx:xx:xx:xx" */
#define MAC_TEXT_LEN   17u
/* Longest option name, dotted section included. */
#define NAME_MAX_LEN   32
/* How much of a bad value an error message quotes. */
#define QUOTE_MAX      60
#define SPIN_COUNT_MAX 1000000000u

struct parse_ctx {
	const char *source;     /* file name; NULL for an override */
	const char *assignment; /* the override's text */
	size_t line;
	struct node_config_error *err;
	size_t seen[24];     /* line each option was set on (0: not yet), by option index */
	const char *section; /* NULL before the first section */
	char value[VALUE_MAX + 1];
};

AE_PRINTF(3, 4)
static int
fail(struct parse_ctx *ctx, int code, const char *fmt, ...)
{
	struct node_config_error *err = ctx->err;
	size_t n;
	va_list ap;

	ASSERT(code < 0);
	if (err == NULL) {
		return code;
	}
	err->code = code;
	err->line = ctx->line;
	if (ctx->source != NULL && ctx->line > 0) {
		snprintf(err->text, sizeof(err->text), "%s:%zu: ", ctx->source, ctx->line);
	} else if (ctx->source != NULL) {
		snprintf(err->text, sizeof(err->text), "%s: ", ctx->source);
	} else if (ctx->assignment != NULL) {
		snprintf(err->text, sizeof(err->text), "--set '%.*s': ", QUOTE_MAX,
			 ctx->assignment);
	} else {
		err->text[0] = '\0';
	}
	n = strlen(err->text);
	va_start(ap, fmt);
	vsnprintf(err->text + n, sizeof(err->text) - n, fmt, ap);
	va_end(ap);
	return code;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The number of characters of a value an error quotes. */
static int
quote_len(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

/* ---- Scalar values ---- */

/* Decimal, or 0x hex when allow_hex. 0, -EINVAL (not a number) or -BASE_ERR_RANGE. */
static int
parse_u64(const char *v, size_t n, bool allow_hex, uint64_t *out)
{
	unsigned base = 10;
	uint64_t x = 0;
	size_t i = 0;

	if (allow_hex && n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n) {
		return -EINVAL;
	}
	for (; i < n; i++) {
		char c = v[i];
		unsigned d;

		if (c >= '0' && c <= '9') {
			d = (unsigned)(c - '0');
		} else if (base == 16 && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
			d = (unsigned)((c | 0x20) - 'a' + 10);
		} else {
			return -EINVAL;
		}
		if (x > (UINT64_MAX - d) / base) {
			return -BASE_ERR_RANGE;
		}
		x = x * base + d;
	}
	*out = x;
	return 0;
}

/* A number in [min, max] for option name. */
static int
value_number(struct parse_ctx *ctx, const char *name, const char *v, size_t n, uint64_t min,
	     uint64_t max, uint64_t *out)
{
	int rc = parse_u64(v, n, max > UINT32_MAX, out);

	if (rc == -EINVAL) {
		return fail(ctx, -EINVAL, "%s wants a number, not '%.*s'", name, quote_len(n), v);
	}
	if (rc != 0 || *out < min || *out > max) {
		return fail(ctx, -BASE_ERR_RANGE, "%s must be %" PRIu64 "..%" PRIu64 ", not %.*s",
			    name, min, max, quote_len(n), v);
	}
	return 0;
}

static bool
text_equal(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(v, word, n) == 0;
}

static int
value_bool(struct parse_ctx *ctx, const char *name, const char *v, size_t n, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < AE_ARRAY_SIZE(yes); i++) {
		if (text_equal(v, n, yes[i]) || text_equal(v, n, no[i])) {
			*out = text_equal(v, n, yes[i]);
			return 0;
		}
	}
	return fail(ctx, -EINVAL, "%s must be true or false (or yes/no, on/off, 1/0), not '%.*s'",
		    name, quote_len(n), v);
}

/* Copies a string value into dst (NUL-padded). */
static int
value_string(struct parse_ctx *ctx, const char *name, const char *v, size_t n, bool allow_empty,
	     char *dst, size_t dst_size)
{
	if (n == 0 && !allow_empty) {
		return fail(ctx, -EINVAL, "%s must not be empty", name);
	}
	if (n >= dst_size) {
		return fail(ctx, -BASE_ERR_TOO_LONG, "%s is %zu bytes long; the limit is %zu", name,
			    n, dst_size - 1);
	}
	memset(dst, 0, dst_size);
	memcpy(dst, v, n);
	return 0;
}

/* ---- Options ---- */

typedef int option_fn(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n);

static int
opt_node_id(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	uint64_t x;
	int rc = value_number(ctx, "node_id", v, n, 1, UINT32_MAX, &x);

	if (rc == 0) {
		cfg->node_id = (uint32_t)x;
	}
	return rc;
}

static int
opt_cluster_id(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	return value_number(ctx, "cluster_id", v, n, 0, UINT64_MAX, &cfg->cluster_id);
}

static int
opt_secret_file(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	return value_string(ctx, "secret_file", v, n, false, cfg->secret_file,
			    sizeof(cfg->secret_file));
}

static int
opt_data_dir(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	return value_string(ctx, "data_dir", v, n, false, cfg->data_dir, sizeof(cfg->data_dir));
}

static int
opt_repository(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	return value_string(ctx, "repository", v, n, true, cfg->repository,
			    sizeof(cfg->repository));
}

static int
opt_socket_path(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	return value_string(ctx, "socket_path", v, n, false, cfg->socket_path,
			    sizeof(cfg->socket_path));
}

static int
opt_transport(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	if (text_equal(v, n, "memif")) {
		cfg->transport = NODE_TRANSPORT_MEMIF;
	} else if (text_equal(v, n, "udp")) {
		cfg->transport = NODE_TRANSPORT_UDP;
	} else if (text_equal(v, n, "af_xdp")) {
		cfg->transport = NODE_TRANSPORT_AF_XDP;
	} else if (text_equal(v, n, "pci")) {
		cfg->transport = NODE_TRANSPORT_PCI;
	} else {
		return fail(ctx, -EINVAL, "transport must be memif, udp, af_xdp or pci, not '%.*s'",
			    quote_len(n), v);
	}
	return 0;
}

static int
opt_durability(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	if (text_equal(v, n, "sync")) {
		cfg->durability = NODE_DURABILITY_SYNC;
	} else if (text_equal(v, n, "replicated")) {
		cfg->durability = NODE_DURABILITY_REPLICATED;
	} else {
		return fail(ctx, -EINVAL, "durability must be sync or replicated, not '%.*s'",
			    quote_len(n), v);
	}
	return 0;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* One CPU number of an lcores item; advances *i. */
static int
lcores_cpu(const char *v, size_t n, size_t *i, uint64_t *cpu)
{
	size_t start = *i;

	while (*i < n && is_digit(v[*i])) {
		(*i)++;
	}
	if (*i == start || parse_u64(v + start, *i - start, false, cpu) != 0 ||
	    *cpu > NODE_CONFIG_CPU_MAX) {
		return -EINVAL;
	}
	return 0;
}

/* "N" or "N-M" items separated by commas, CPU numbers up to NODE_CONFIG_CPU_MAX. */
static int
opt_lcores(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint64_t lo;
		uint64_t hi;

		if (lcores_cpu(v, n, &i, &lo) != 0) {
			return fail(ctx, -EINVAL,
				    "lcores wants CPU numbers 0..%d as in 0,2-3; '%.*s' is not",
				    NODE_CONFIG_CPU_MAX, quote_len(n), v);
		}
		hi = lo;
		if (i < n && v[i] == '-') {
			i++;
			if (lcores_cpu(v, n, &i, &hi) != 0 || hi < lo) {
				return fail(ctx, -EINVAL, "lcores has a bad range in '%.*s'",
					    quote_len(n), v);
			}
		}
		if (i < n && (v[i] != ',' || i + 1 == n)) {
			return fail(ctx, -EINVAL,
				    "lcores wants CPU numbers as in 0,2-3; '%.*s' is not",
				    quote_len(n), v);
		}
		i += i < n ? 1 : 0;
	}
	return value_string(ctx, "lcores", v, n, true, cfg->lcores, sizeof(cfg->lcores));
}

static int
opt_spin_count(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	uint64_t x;
	int rc = value_number(ctx, "idle.spin_count", v, n, 0, SPIN_COUNT_MAX, &x);

	if (rc == 0) {
		cfg->idle.spin_count = (uint32_t)x;
	}
	return rc;
}

static int
opt_yield_count(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	uint64_t x;
	int rc = value_number(ctx, "idle.yield_count", v, n, 0, SPIN_COUNT_MAX, &x);

	if (rc == 0) {
		cfg->idle.yield_count = (uint32_t)x;
	}
	return rc;
}

static int
opt_sleep_max_us(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	uint64_t x;
	int rc = value_number(ctx, "idle.sleep_max_us", v, n, 1, NODE_CONFIG_SLEEP_MAX_US, &x);

	if (rc == 0) {
		cfg->idle.sleep_max_us = (uint32_t)x;
	}
	return rc;
}

static bool
is_name_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
	       c == '_' || c == '-';
}

/* A group name ([A-Za-z0-9._-], not starting with '-'), a gid, or empty for none. */
static int
opt_operator_group(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_name_char(v[i]) || (i == 0 && v[i] == '-')) {
			return fail(ctx, -EINVAL, "operator_group '%.*s' is not a group name or id",
				    quote_len(n), v);
		}
	}
	return value_string(ctx, "operator_group", v, n, true, cfg->operator_group,
			    sizeof(cfg->operator_group));
}

static int
opt_log_level(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	char word[8];

	if (n < sizeof(word)) {
		memcpy(word, v, n);
		word[n] = '\0';
		if (base_log_level_parse(word, &cfg->log_level) == 0) {
			return 0;
		}
	}
	return fail(ctx, -EINVAL, "log_level must be error, warn, info or debug, not '%.*s'",
		    quote_len(n), v);
}

/* A Linux interface name (no '/', blanks or ':'; ',' and '=' would end DPDK's devargs). */
static int
opt_af_xdp_interface(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_name_char(v[i])) {
			return fail(
				ctx, -EINVAL,
				"af_xdp.interface '%.*s' is not an interface name ([A-Za-z0-9._-])",
				quote_len(n), v);
		}
	}
	return value_string(ctx, "af_xdp.interface", v, n, true, cfg->af_xdp.interface,
			    sizeof(cfg->af_xdp.interface));
}

static int
opt_af_xdp_queue(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	uint64_t x;
	int rc = value_number(ctx, "af_xdp.queue", v, n, 0, NODE_CONFIG_QUEUE_MAX, &x);

	if (rc == 0) {
		cfg->af_xdp.queue = (uint32_t)x;
	}
	return rc;
}

static bool
is_hex(char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static unsigned
hex_value(char c)
{
	return is_digit(c) ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* [dddd:]bb:dd.f in hex, device 00..1f, function 0..7. */
static int
opt_pci_address(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	static const char shape[] = "hhhh:hh:hh.h";
	size_t skip = n == sizeof(shape) - 1 ? 0 : 5; /* without the domain: "hh:hh.h" */
	bool ok = n == 0 || n + skip == sizeof(shape) - 1;

	for (size_t i = 0; ok && i < n; i++) {
		ok = shape[skip + i] == 'h' ? is_hex(v[i]) : v[i] == shape[skip + i];
	}
	if (ok && n > 0) {
		/* "...:dd.f": the device is the two digits before '.', the function the last. */
		ok = (hex_value(v[n - 4]) << 4 | hex_value(v[n - 3])) <= 0x1fu &&
		     hex_value(v[n - 1]) <= 7u;
	}
	if (!ok) {
		return fail(ctx, -EINVAL,
			    "pci_address must be a PCI address as in 0000:03:00.0 (device 00..1f, "
			    "function 0..7), not '%.*s'",
			    quote_len(n), v);
	}
	return value_string(ctx, "pci_address", v, n, true, cfg->pci_address,
			    sizeof(cfg->pci_address));
}

static int
opt_hugepages(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	return value_bool(ctx, "hugepages", v, n, &cfg->hugepages);
}

static int
opt_auth(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	return value_bool(ctx, "auth", v, n, &cfg->auth);
}

/* ---- Peers ---- */

static bool
host_ok(const char *h, size_t n)
{
	if (n == 0 || n > NODE_CONFIG_HOST_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_name_char(h[i])) {
			return false;
		}
	}
	return true;
}

/* "xx:xx:xx:xx:xx:xx", hex digits in either case. */
static bool
mac_parse(const char *s, size_t n, uint8_t mac[6])
{
	if (n != MAC_TEXT_LEN) {
		return false;
	}
	for (size_t i = 0; i < 6; i++) {
		const char *b = s + 3 * i;

		if ((i > 0 && b[-1] != ':') || !is_hex(b[0]) || !is_hex(b[1])) {
			return false;
		}
		mac[i] = (uint8_t)(hex_value(b[0]) << 4 | hex_value(b[1]));
	}
	return true;
}

/* The "/MAC" end of an "id@host:port/MAC" entry; shortens *n to what comes before it. */
static int
peer_parse_mac(struct parse_ctx *ctx, const char *e, size_t *n, struct node_config_peer *p)
{
	const char *slash = memchr(e, '/', *n);
	size_t full = *n;

	if (slash == NULL) {
		return 0;
	}
	*n = (size_t)(slash - e);
	if (memchr(e, '@', *n) == NULL) {
		return fail(ctx, -EINVAL, "peer '%.*s': a MAC follows an address: id@host:port/MAC",
			    quote_len(full), e);
	}
	if (!mac_parse(slash + 1, full - *n - 1, p->mac)) {
		return fail(ctx, -EINVAL, "peer '%.*s': the MAC must be xx:xx:xx:xx:xx:xx (hex)",
			    quote_len(full), e);
	}
	p->has_mac = true;
	return 0;
}

/* One "id", "id@host:port" or "id@host:port/MAC" entry. */
static int
peer_parse(struct parse_ctx *ctx, const char *e, size_t n, struct node_config_peer *p)
{
	const char *at;
	uint64_t id;
	uint64_t port;
	const char *colon = NULL;
	size_t id_len;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = peer_parse_mac(ctx, e, &n, p);
	if (rc != 0) {
		return rc;
	}
	at = memchr(e, '@', n);
	id_len = at != NULL ? (size_t)(at - e) : n;
	if (parse_u64(e, id_len, false, &id) != 0 || id == 0 || id > UINT32_MAX) {
		return fail(ctx, -EINVAL, "peer '%.*s': the node id must be 1..%" PRIu32,
			    quote_len(n), e, UINT32_MAX);
	}
	p->node_id = (uint32_t)id;
	if (at == NULL) {
		return 0;
	}
	/* The last ':' splits host from port. */
	for (const char *c = at + 1; c < e + n; c++) {
		if (*c == ':') {
			colon = c;
		}
	}
	if (colon == NULL || !host_ok(at + 1, (size_t)(colon - at - 1))) {
		return fail(ctx, -EINVAL,
			    "peer '%.*s': expected id@host:port with a host name or "
			    "IPv4 address",
			    quote_len(n), e);
	}
	if (parse_u64(colon + 1, (size_t)(e + n - colon - 1), false, &port) != 0 || port == 0 ||
	    port > UINT16_MAX) {
		return fail(ctx, -EINVAL, "peer '%.*s': the port must be 1..65535", quote_len(n),
			    e);
	}
	memcpy(p->host, at + 1, (size_t)(colon - at - 1));
	p->port = (uint16_t)port;
	return 0;
}

/* No id twice, no address twice. */
static int
peer_check_unique(struct parse_ctx *ctx, const struct node_config *cfg)
{
	const struct node_config_peer *last = &cfg->peers[cfg->peer_count - 1];

	for (size_t i = 0; i + 1 < cfg->peer_count; i++) {
		const struct node_config_peer *p = &cfg->peers[i];

		if (p->node_id == last->node_id) {
			return fail(ctx, -EEXIST, "peer %" PRIu32 " is listed twice", p->node_id);
		}
		if (p->port != 0 && p->port == last->port && strcmp(p->host, last->host) == 0) {
			return fail(ctx, -EEXIST,
				    "peers %" PRIu32 " and %" PRIu32 " have the same address %s:%u",
				    p->node_id, last->node_id, p->host, (unsigned)p->port);
		}
	}
	return 0;
}

static int
opt_peers(struct parse_ctx *ctx, struct node_config *cfg, const char *v, size_t n)
{
	size_t i = 0;

	cfg->peer_count = 0;
	memset(cfg->peers, 0, sizeof(cfg->peers));
	while (i < n) {
		size_t start;
		int rc;

		while (i < n && (is_blank(v[i]) || v[i] == ',')) {
			i++;
		}
		start = i;
		while (i < n && !is_blank(v[i]) && v[i] != ',') {
			i++;
		}
		if (start == i) {
			break;
		}
		if (cfg->peer_count == NODE_CONFIG_PEERS_MAX) {
			return fail(ctx, -BASE_ERR_TOO_LONG, "more than %d peers",
				    NODE_CONFIG_PEERS_MAX);
		}
		rc = peer_parse(ctx, v + start, i - start, &cfg->peers[cfg->peer_count++]);
		rc = rc != 0 ? rc : peer_check_unique(ctx, cfg);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

struct option_def {
	const char *name;
	option_fn *apply;
};

static const struct option_def options[] = {
	{"node_id", opt_node_id},
	{"cluster_id", opt_cluster_id},
	{"secret_file", opt_secret_file},
	{"peers", opt_peers},
	{"transport", opt_transport},
	{"durability", opt_durability},
	{"lcores", opt_lcores},
	{"data_dir", opt_data_dir},
	{"repository", opt_repository},
	{"idle.spin_count", opt_spin_count},
	{"idle.yield_count", opt_yield_count},
	{"idle.sleep_max_us", opt_sleep_max_us},
	{"socket_path", opt_socket_path},
	{"operator_group", opt_operator_group},
	{"log_level", opt_log_level},
	{"hugepages", opt_hugepages},
	{"auth", opt_auth},
	{"af_xdp.interface", opt_af_xdp_interface},
	{"af_xdp.queue", opt_af_xdp_queue},
	{"pci_address", opt_pci_address},
};
static_assert(AE_ARRAY_SIZE(options) <= AE_ARRAY_SIZE(((struct parse_ctx *)0)->seen),
	      "parse_ctx.seen needs a slot per option");

static const char *const sections[] = {"idle", "af_xdp"};

static const struct option_def *
option_find(const char *name, size_t n, size_t *index)
{
	for (size_t i = 0; i < AE_ARRAY_SIZE(options); i++) {
		if (text_equal(name, n, options[i].name)) {
			*index = i;
			return &options[i];
		}
	}
	return NULL;
}

/* ---- Lines ---- */

/* Where an unquoted value's comment starts: a '#' first or after a blank; n when none. */
static size_t
comment_start(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '#' && (i == 0 || is_blank(v[i - 1]))) {
			return i;
		}
	}
	return n;
}

/*
 * Unquotes or trims a value into ctx->value. A '#' at the start of an unquoted value or after
 * a blank starts a comment when allow_comment. Sets *len.
 */
static int
value_extract(struct parse_ctx *ctx, const char *v, size_t n, bool allow_comment, size_t *len)
{
	size_t out = 0;
	size_t i = 1;

	if (n == 0 || v[0] != '"') {
		i = allow_comment ? comment_start(v, n) : n;
		while (i > 0 && is_blank(v[i - 1])) {
			i--;
		}
		if (i > VALUE_MAX) {
			return fail(ctx, -BASE_ERR_TOO_LONG, "value longer than %d bytes",
				    VALUE_MAX);
		}
		memcpy(ctx->value, v, i);
		*len = i;
		return 0;
	}
	for (; i < n && v[i] != '"'; i++) {
		if (v[i] == '\\' && (i + 1 == n || (v[i + 1] != '"' && v[i + 1] != '\\'))) {
			return fail(ctx, -BASE_ERR_SYNTAX,
				    "only \\\" and \\\\ may follow a backslash");
		}
		i += v[i] == '\\' ? 1 : 0;
		if (out == VALUE_MAX) {
			return fail(ctx, -BASE_ERR_TOO_LONG, "value longer than %d bytes",
				    VALUE_MAX);
		}
		ctx->value[out++] = v[i];
	}
	if (i == n) {
		return fail(ctx, -BASE_ERR_SYNTAX, "the quoted value has no closing '\"'");
	}
	i++;
	while (i < n && is_blank(v[i])) {
		i++;
	}
	if (i < n && !(allow_comment && v[i] == '#')) {
		return fail(ctx, -BASE_ERR_SYNTAX, "unexpected text after the quoted value");
	}
	*len = out;
	return 0;
}

/* Looks up the option and applies the value; name is the full dotted name. */
static int
option_apply(struct parse_ctx *ctx, struct node_config *cfg, const char *name, size_t name_len,
	     const char *v, size_t n, bool allow_comment)
{
	const struct option_def *opt;
	size_t index = 0;
	size_t len = 0;
	int rc;

	opt = option_find(name, name_len, &index);
	if (opt == NULL) {
		return fail(ctx, -ENOENT, "unknown option '%.*s'", quote_len(name_len), name);
	}
	if (ctx->source != NULL && ctx->seen[index] != 0) {
		return fail(ctx, -EEXIST, "option '%s' is set twice (first on line %zu)", opt->name,
			    ctx->seen[index]);
	}
	rc = value_extract(ctx, v, n, allow_comment, &len);
	if (rc == 0) {
		rc = opt->apply(ctx, cfg, ctx->value, len);
	}
	ctx->seen[index] = ctx->line;
	return rc;
}

static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && is_blank(s[0])) {
		s++;
		(*n)--;
	}
	while (*n > 0 && is_blank(s[*n - 1])) {
		(*n)--;
	}
	return s;
}

/* "[name]" with an optional comment after it. */
static int
section_line(struct parse_ctx *ctx, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	size_t rest = close != NULL ? (size_t)(s + n - close - 1) : 0;
	const char *after = close != NULL ? trim(close + 1, &rest) : NULL;
	size_t name_len = close != NULL ? (size_t)(close - s - 1) : 0;
	const char *name = trim(s + 1, &name_len);

	if (close == NULL || (rest > 0 && after[0] != '#')) {
		return fail(ctx, -BASE_ERR_SYNTAX, "a section line is '[name]'");
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(sections); i++) {
		if (text_equal(name, name_len, sections[i])) {
			ctx->section = sections[i];
			return 0;
		}
	}
	return fail(ctx, -BASE_ERR_SYNTAX,
		    "unknown section [%.*s] (the sections are [idle] and [af_xdp])",
		    quote_len(name_len), name);
}

static int
line_check_chars(struct parse_ctx *ctx, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return fail(ctx, -BASE_ERR_BAD_CHAR,
				    "control character 0x%02x at column %zu", (unsigned)c, i + 1);
		}
	}
	return 0;
}

static int
parse_line(struct parse_ctx *ctx, struct node_config *cfg, const char *s, size_t n)
{
	char name[NAME_MAX_LEN + 1];
	const char *eq;
	const char *key;
	size_t key_len;
	int rc = line_check_chars(ctx, s, n);

	s = trim(s, &n);
	if (rc != 0 || n == 0 || s[0] == '#') {
		return rc;
	}
	if (s[0] == '[') {
		return section_line(ctx, s, n);
	}
	eq = memchr(s, '=', n);
	key_len = eq != NULL ? (size_t)(eq - s) : 0;
	key = trim(s, &key_len);
	if (eq == NULL || key_len == 0) {
		return fail(ctx, -BASE_ERR_SYNTAX,
			    "expected 'name = value', a [section] or a "
			    "# comment");
	}
	if (ctx->section != NULL) {
		snprintf(name, sizeof(name), "%s.%.*s", ctx->section, (int)key_len, key);
		key_len = base_min_size(strlen(ctx->section) + 1 + key_len, sizeof(name) - 1);
		key = name;
	}
	n -= (size_t)(eq + 1 - s);
	s = trim(eq + 1, &n);
	return option_apply(ctx, cfg, key, key_len, s, n, true);
}

/* ---- Public ---- */

void
node_config_defaults(struct node_config *cfg)
{
	ASSERT(cfg != NULL);
	memset(cfg, 0, sizeof(*cfg));
	cfg->node_id = 1;
	cfg->cluster_id = 1;
	snprintf(cfg->secret_file, sizeof(cfg->secret_file), "/etc/aether/cluster.secret");
	cfg->transport = NODE_TRANSPORT_MEMIF;
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "/var/lib/aether");
	/* PLATFORM-NOTES: yielding after 64 empty polls kept p50 near 27 us with 3 nodes on 2
	 * cores; sleeps stay short so that an idle node still answers within 0.1 ms. */
	cfg->idle.spin_count = 64;
	cfg->idle.yield_count = 64;
	cfg->idle.sleep_max_us = 100;
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "/run/aether/aether.sock");
	snprintf(cfg->operator_group, sizeof(cfg->operator_group), "aether");
	cfg->log_level = BASE_LOG_INFO;
	cfg->hugepages = false;
	cfg->auth = true;
}

int
node_config_parse(struct node_config *cfg, const char *text, size_t size, const char *source,
		  struct node_config_error *err)
{
	struct parse_ctx ctx; /* about 18 KiB: the value buffer; startup code on a main stack */
	size_t pos = 0;

	ASSERT(cfg != NULL);
	ASSERT(text != NULL || size == 0);
	memset(&ctx, 0, offsetof(struct parse_ctx, value));
	ctx.source = source != NULL ? source : "config";
	ctx.err = err;
	if (size > NODE_CONFIG_TEXT_MAX) {
		return fail(&ctx, -EFBIG, "larger than %u bytes", (unsigned)NODE_CONFIG_TEXT_MAX);
	}
	while (pos < size) {
		const char *nl = memchr(text + pos, '\n', size - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : size;
		size_t len = end - pos;
		int rc;

		ctx.line++;
		if (len > 0 && text[end - 1] == '\r') {
			len--; /* CRLF */
		}
		rc = parse_line(&ctx, cfg, text + pos, len);
		if (rc != 0) {
			return rc;
		}
		pos = end + 1;
	}
	return 0;
}

int
node_config_set(struct node_config *cfg, const char *assignment, struct node_config_error *err)
{
	struct parse_ctx ctx;
	struct node_config copy;
	const char *eq;
	const char *name;
	const char *value;
	size_t name_len;
	size_t value_len;
	int rc;

	ASSERT(cfg != NULL);
	ASSERT(assignment != NULL);
	memset(&ctx, 0, offsetof(struct parse_ctx, value));
	ctx.assignment = assignment;
	ctx.err = err;
	eq = strchr(assignment, '=');
	name_len = eq != NULL ? (size_t)(eq - assignment) : 0;
	name = trim(assignment, &name_len);
	if (eq == NULL || name_len == 0) {
		return fail(&ctx, -BASE_ERR_SYNTAX, "expected name=value");
	}
	value_len = strlen(eq + 1);
	value = trim(eq + 1, &value_len);
	rc = line_check_chars(&ctx, value, value_len);
	if (rc != 0) {
		return rc;
	}
	copy = *cfg;
	rc = option_apply(&ctx, &copy, name, name_len, value, value_len, false);
	if (rc == 0) {
		*cfg = copy;
	}
	return rc;
}

/* A dotted-quad IPv4 address, each part 0..255. */
static bool
host_is_ipv4(const char *h)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		uint64_t x;

		while (is_digit(h[i]) && i - start < 3) {
			i++;
		}
		if (i == start || parse_u64(h + start, i - start, false, &x) != 0 || x > 255) {
			return false;
		}
		if (part < 3 && h[i++] != '.') {
			return false;
		}
	}
	return h[i] == '\0';
}

/* What a peers entry lacks for a shared wire, or NULL. */
static const char *
shared_wire_lack(const struct node_config *cfg, const struct node_config_peer *p)
{
	if (p->port == 0) {
		return "no address";
	}
	if (!host_is_ipv4(p->host)) {
		return "a host that is not an IPv4 address";
	}
	return p->node_id != cfg->node_id && !p->has_mac ? "no MAC" : NULL;
}

/* af_xdp and pci: one port on a real wire, and nothing resolves addresses (no ARP), so each
 * frame's addresses come from the peers line. */
static int
check_shared_wire(struct parse_ctx *ctx, const struct node_config *cfg)
{
	const char *t = node_transport_name(cfg->transport);

	if (cfg->transport == NODE_TRANSPORT_AF_XDP && cfg->af_xdp.interface[0] == '\0') {
		return fail(ctx, -EINVAL, "transport af_xdp needs af_xdp.interface");
	}
	if (cfg->transport == NODE_TRANSPORT_PCI && cfg->pci_address[0] == '\0') {
		return fail(ctx, -EINVAL, "transport pci needs pci_address (the NIC)");
	}
	if (cfg->peer_count < 2) {
		return fail(ctx, -EINVAL, "transport %s needs peers (one node: udp)", t);
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const char *lack = shared_wire_lack(cfg, &cfg->peers[i]);

		if (lack != NULL) {
			return fail(ctx, -EINVAL,
				    "transport %s needs id@IPv4:port/MAC for every peer "
				    "(id@IPv4:port for this node); peer %" PRIu32 " has %s",
				    t, cfg->peers[i].node_id, lack);
		}
	}
	return 0;
}

int
node_config_check(const struct node_config *cfg, struct node_config_error *err)
{
	struct parse_ctx ctx = {.err = err};
	bool self_listed = cfg->peer_count == 0;

	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct node_config_peer *p = &cfg->peers[i];

		self_listed = self_listed || p->node_id == cfg->node_id;
		if (cfg->transport == NODE_TRANSPORT_UDP && p->port == 0) {
			return fail(&ctx, -EINVAL,
				    "transport udp needs host:port for every peer; peer %" PRIu32
				    " has none",
				    p->node_id);
		}
	}
	if (!self_listed) {
		return fail(&ctx, -EINVAL,
			    "node_id %" PRIu32 " is not among peers (list every member, this "
			    "node too)",
			    cfg->node_id);
	}
	if (cfg->transport == NODE_TRANSPORT_AF_XDP || cfg->transport == NODE_TRANSPORT_PCI) {
		return check_shared_wire(&ctx, cfg);
	}
	return 0;
}

const char *
node_transport_name(enum node_transport transport)
{
	switch (transport) {
	case NODE_TRANSPORT_MEMIF:
		return "memif";
	case NODE_TRANSPORT_UDP:
		return "udp";
	case NODE_TRANSPORT_AF_XDP:
		return "af_xdp";
	case NODE_TRANSPORT_PCI:
		return "pci";
	default:
		return "?";
	}
}

/* ---- Format ---- */

struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

AE_PRINTF(2, 3)
static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	ASSERT(n >= 0);
	if (o->len + (size_t)n >= o->cap) {
		o->overflow = true;
		o->len = o->cap;
		return;
	}
	o->len += (size_t)n;
}

/* name = value, quoted when the value would not read back as itself unquoted. */
static void
out_string(struct out *o, const char *name, const char *value)
{
	size_t n = strlen(value);
	bool quote;

	if (n == 0) {
		out_printf(o, "%s =\n", name);
		return;
	}
	quote = is_blank(value[0]) || is_blank(value[n - 1]) || strpbrk(value, "#\"\\") != NULL;

	if (!quote) {
		out_printf(o, "%s = %s\n", name, value);
		return;
	}
	out_printf(o, "%s = \"", name);
	for (size_t i = 0; i < n; i++) {
		out_printf(o, "%s%c", value[i] == '"' || value[i] == '\\' ? "\\" : "", value[i]);
	}
	out_printf(o, "\"\n");
}

static void
out_peers(struct out *o, const struct node_config *cfg)
{
	out_printf(o, "peers =");
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct node_config_peer *p = &cfg->peers[i];

		out_printf(o, "%s%" PRIu32, i > 0 ? ", " : " ", p->node_id);
		if (p->port != 0) {
			out_printf(o, "@%s:%u", p->host, (unsigned)p->port);
		}
		if (p->has_mac) {
			out_printf(o, "/%02x:%02x:%02x:%02x:%02x:%02x", p->mac[0], p->mac[1],
				   p->mac[2], p->mac[3], p->mac[4], p->mac[5]);
		}
	}
	out_printf(o, "\n");
}

int
node_config_format(const struct node_config *cfg, char *buf, size_t capacity)
{
	struct out o = {.buf = buf, .cap = capacity};

	ASSERT(cfg != NULL);
	ASSERT(buf != NULL || capacity == 0);
	out_printf(&o, "node_id = %" PRIu32 "\ncluster_id = %" PRIu64 "\n", cfg->node_id,
		   cfg->cluster_id);
	out_string(&o, "secret_file", cfg->secret_file);
	out_peers(&o, cfg);
	out_printf(&o, "transport = %s\n", node_transport_name(cfg->transport));
	out_printf(&o, "durability = %s\n",
		   cfg->durability == NODE_DURABILITY_SYNC ? "sync" : "replicated");
	out_string(&o, "lcores", cfg->lcores);
	out_string(&o, "data_dir", cfg->data_dir);
	out_string(&o, "repository", cfg->repository);
	out_string(&o, "socket_path", cfg->socket_path);
	out_string(&o, "operator_group", cfg->operator_group);
	out_printf(&o, "log_level = %s\n", base_log_level_name(cfg->log_level));
	out_printf(&o, "hugepages = %s\nauth = %s\n", cfg->hugepages ? "true" : "false",
		   cfg->auth ? "true" : "false");
	out_string(&o, "pci_address", cfg->pci_address);
	out_printf(&o,
		   "\n[idle]\nspin_count = %" PRIu32 "\nyield_count = %" PRIu32
		   "\nsleep_max_us = %" PRIu32 "\n",
		   cfg->idle.spin_count, cfg->idle.yield_count, cfg->idle.sleep_max_us);
	out_printf(&o, "\n[af_xdp]\n");
	out_string(&o, "interface", cfg->af_xdp.interface);
	out_printf(&o, "queue = %" PRIu32 "\n", cfg->af_xdp.queue);
	if (o.overflow) {
		if (capacity > 0) {
			buf[0] = '\0';
		}
		return -ENOBUFS;
	}
	return (int)o.len;
}
