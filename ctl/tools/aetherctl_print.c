/* SPDX-License-Identifier: Apache-2.0 */
#include "aetherctl_int.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "base/compiler.h"
#include "base/panic.h"
#include "ctl_json.h"

/* Labels of "label  value" blocks are padded to this width, so every block lines up. */
#define LABEL_WIDTH 14
/* One table cell: an escaped key is at most 4 characters per byte. */
#define CELL_MAX    (4 * CTL_KEY_MAX + 1)
#define COLUMNS_MAX 4

/* ---- Escaping for terminals ---- */

/* The text for one byte: itself when printable ASCII, else an escape. */
static const char *
escape_byte(uint8_t c, char out[5])
{
	if (c == '\\') {
		return "\\\\";
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		out[1] = '\0';
		return out;
	}
	snprintf(out, 5, "\\x%02x", (unsigned)c);
	return out;
}

void
ctl_cli_print_escaped(FILE *f, const uint8_t *data, size_t size)
{
	char tmp[5];

	for (size_t i = 0; i < size; i++) {
		fputs(escape_byte(data[i], tmp), f);
	}
}

/* Escapes data into buf (cap >= 4 * size + 1, asserted). */
static void
escape_into(char *buf, size_t cap, const uint8_t *data, size_t size)
{
	size_t pos = 0;
	char tmp[5];

	ASSERT(cap >= 4 * size + 1);
	for (size_t i = 0; i < size; i++) {
		const char *e = escape_byte(data[i], tmp);
		size_t n = strlen(e);

		memcpy(buf + pos, e, n);
		pos += n;
	}
	buf[pos] = '\0';
}

/* ---- Aligned text ---- */

static void
print_label(FILE *f, const char *label)
{
	fprintf(f, "%-*s", LABEL_WIDTH, label);
}

/*
 * Fills buf with the text of (row, col); row 0 is the heading. Tables are printed in two
 * passes (widths, then text) so nothing is stored per row.
 */
typedef void cell_fn(const struct ctl_response *resp, size_t row, size_t col, char *buf,
		     size_t cap);

/* Widens width[0..cols) to fit rows first..last (inclusive) of the table. */
static void
table_measure(const struct ctl_response *resp, size_t first, size_t last, size_t cols,
	      cell_fn *cell, size_t *width)
{
	char buf[CELL_MAX];

	ASSERT(cols <= COLUMNS_MAX);
	for (size_t r = first; r <= last; r++) {
		for (size_t c = 0; c < cols; c++) {
			cell(resp, r, c, buf, sizeof(buf));
			width[c] = base_max_size(width[c], strlen(buf));
		}
	}
}

/* Prints rows first..last (inclusive) padded to width. */
static void
table_print(FILE *f, const struct ctl_response *resp, size_t first, size_t last, size_t cols,
	    cell_fn *cell, const size_t *width)
{
	char buf[CELL_MAX];

	for (size_t r = first; r <= last; r++) {
		for (size_t c = 0; c < cols; c++) {
			cell(resp, r, c, buf, sizeof(buf));
			/* The last column is not padded: no trailing blanks. */
			if (c + 1 < cols) {
				fprintf(f, "%-*s  ", (int)width[c], buf);
			} else {
				fprintf(f, "%s\n", buf);
			}
		}
	}
}

static void
print_table(FILE *f, const struct ctl_response *resp, size_t rows, size_t cols, cell_fn *cell)
{
	size_t width[COLUMNS_MAX] = {0};

	table_measure(resp, 0, rows, cols, cell, width);
	table_print(f, resp, 0, rows, cols, cell, width);
}

static void
format_last_heard(uint64_t ms, char *buf, size_t cap)
{
	if (ms == CTL_NEVER) {
		snprintf(buf, cap, "never");
	} else if (ms < 10000) {
		snprintf(buf, cap, "%" PRIu64 " ms ago", ms);
	} else {
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 " s ago", ms / 1000, ms % 1000 / 100);
	}
}

static void
peer_cell(const struct ctl_response *resp, size_t row, size_t col, char *buf, size_t cap)
{
	static const char *const heading[] = {"PEER", "STATE", "LAST HEARD"};
	const struct ctl_peer_info *p;

	if (row == 0) {
		snprintf(buf, cap, "%s", heading[col]);
		return;
	}
	p = &resp->info.peers[row - 1];
	if (col == 0) {
		snprintf(buf, cap, "%" PRIu32, p->node_id);
	} else if (col == 1) {
		snprintf(buf, cap, "%s", ctl_peer_state_name(p->state));
	} else {
		format_last_heard(p->last_heard_ms, buf, cap);
	}
}

/* The refusal counters, two labelled lines (transport, shard), continued under the label. */
static void
print_counters(FILE *f, const struct ctl_status_info *info)
{
	const struct ctl_frame_counters *c = &info->counters;

	print_label(f, "transport");
	fprintf(f, "%s\n", ctl_transport_name(info->transport));
	print_label(f, "refused");
	fprintf(f,
		"garbage %" PRIu64 ", oversize %" PRIu64 ", forged %" PRIu64
		", unauthenticated %" PRIu64 ",\n",
		c->garbage, c->oversize, c->forged, c->unauthenticated);
	print_label(f, "");
	fprintf(f,
		"replayed %" PRIu64 ", stale %" PRIu64 ", foreign %" PRIu64
		", unknown sender %" PRIu64 "\n",
		c->replayed, c->stale, c->foreign, c->unknown_sender);
	print_label(f, "consensus");
	fprintf(f,
		"bad frames %" PRIu64 ", decode errors %" PRIu64 ", foreign %" PRIu64
		", violations %" PRIu64 "\n",
		c->bad_frames, c->decode_errors, c->rabia_foreign, c->violations);
}

/* One line per worker lcore: cpu, messages each way, full-ring refusals, slices held. Nothing
 * from a node without workers. */
static void
print_workers(FILE *f, const struct ctl_status_info *info)
{
	if (info->worker_count == 0) {
		return;
	}
	print_label(f, "workers");
	fprintf(f, "%zu\n", info->worker_count);
	for (size_t i = 0; i < info->worker_count; i++) {
		const struct ctl_worker_info *w = &info->workers[i];

		fprintf(f,
			"  worker %zu: cpu %" PRIu32 ", messages in %" PRIu64 ", out %" PRIu64
			", ring full %" PRIu64 ", slices %" PRIu32 "\n",
			i, w->cpu, w->messages_in, w->messages_out, w->ring_full, w->slice_count);
	}
}

static void
print_status(FILE *f, const struct ctl_response *resp)
{
	const struct ctl_status_info *info = &resp->info;

	print_label(f, "node");
	fprintf(f, "%" PRIu32 "\n", info->node_id);
	print_label(f, "cluster");
	fprintf(f, "%" PRIu64 "\n", info->cluster_id);
	print_label(f, "leader");
	if (info->has_leader) {
		fprintf(f, "%" PRIu32 "\n", info->leader_id);
	} else {
		fprintf(f, "none\n");
	}
	print_label(f, "term");
	fprintf(f, "%" PRIu64 "\n", info->term);
	print_label(f, "applied slot");
	fprintf(f, "%" PRIu64 "\n", info->applied_slot);
	if (info->has_counters) {
		print_counters(f, info);
	}
	print_label(f, "peers");
	fprintf(f, "%zu\n", info->peer_count);
	if (info->peer_count > 0) {
		fputc('\n', f);
		print_table(f, resp, info->peer_count, 3, peer_cell);
	}
	print_workers(f, info);
}

static const char *
node_role(const struct ctl_node_info *n)
{
	if (n->is_self && n->is_leader) {
		return "self,leader";
	}
	if (n->is_self) {
		return "self";
	}
	return n->is_leader ? "leader" : "-";
}

static void
node_cell(const struct ctl_response *resp, size_t row, size_t col, char *buf, size_t cap)
{
	static const char *const heading[] = {"NODE", "STATE", "ROLE", "ADDRESS"};
	const struct ctl_node_info *n;

	if (row == 0) {
		snprintf(buf, cap, "%s", heading[col]);
		return;
	}
	n = &resp->nodes[row - 1];
	if (col == 0) {
		snprintf(buf, cap, "%" PRIu32, n->node_id);
	} else if (col == 1) {
		snprintf(buf, cap, "%s", ctl_peer_state_name(n->state));
	} else if (col == 2) {
		snprintf(buf, cap, "%s", node_role(n));
	} else if (n->address_size == 0) {
		snprintf(buf, cap, "-");
	} else {
		escape_into(buf, cap, (const uint8_t *)n->address, n->address_size);
	}
}

static void
entry_cell(const struct ctl_response *resp, size_t row, size_t col, char *buf, size_t cap)
{
	static const char *const heading[] = {"KEY", "MOD INDEX", "SIZE"};
	const struct ctl_kv_entry *e;

	if (row == 0) {
		snprintf(buf, cap, "%s", heading[col]);
		return;
	}
	e = &resp->entries[row - 1];
	if (col == 0) {
		escape_into(buf, cap, e->key, e->key_size);
	} else if (col == 1) {
		snprintf(buf, cap, "%" PRIu64, e->mod_index);
	} else {
		snprintf(buf, cap, "%" PRIu32, e->value_size);
	}
}

/*
 * The note under a read answered from one node's state (R9 wants local reads labelled): which
 * node, at which applied slot (a range when the pages of a listing saw several), and what that
 * means. A linearizable read needs no note.
 */
static void
print_read_note(FILE *f, const struct ctl_read_info *read, uint64_t slot_last, size_t pages)
{
	if (read->consistency != CTL_CONSISTENCY_LOCAL) {
		return;
	}
	fprintf(f, "local read on node %" PRIu32, read->node_id);
	if (slot_last == read->applied_slot) {
		fprintf(f, " at slot %" PRIu64, slot_last);
	} else {
		fprintf(f, " at slots %" PRIu64 " to %" PRIu64 " (%zu pages)", read->applied_slot,
			slot_last, pages);
	}
	fprintf(f, ": not linearizable, may miss writes node %" PRIu32 " has not applied yet\n",
		read->node_id);
}

/* "key  foo" / "mod index  12" blocks for put, get and rm. */
static void
print_kv(FILE *f, const char *verb, const struct ctl_request *req, const struct ctl_response *resp)
{
	print_label(f, verb);
	ctl_cli_print_escaped(f, req->key, req->key_size);
	fputc('\n', f);
	if (req->type == CTL_MSG_KV_GET) {
		print_label(f, "value");
		ctl_cli_print_escaped(f, resp->value, resp->value_size);
		fputc('\n', f);
	}
	print_label(f, "mod index");
	fprintf(f, "%" PRIu64 "\n", resp->mod_index);
	if (req->type == CTL_MSG_KV_GET) {
		print_read_note(f, &resp->read, resp->read.applied_slot, 1);
	}
}

static void
print_slice(FILE *f, const struct ctl_request *req, const struct ctl_response *resp)
{
	if (req->type == CTL_MSG_SLICE_CALL) {
		ctl_cli_print_escaped(f, resp->value, resp->value_size);
		fputc('\n', f);
		return;
	}
	if (req->type == CTL_MSG_SLICE_UNLOAD) {
		fprintf(f, "unloaded %.*s\n", (int)req->key_size, (const char *)req->key);
		return;
	}
	for (size_t i = 0; i < resp->slice_count; i++) {
		const struct ctl_slice_info *sl = &resp->slices[i];

		fprintf(f, "%.*s worker %" PRIu32 " instance %" PRIu32 " %s\n", (int)sl->coord_size,
			sl->coord, sl->worker, sl->instance_id, ctl_slice_state_name(sl->state));
	}
}

void
ctl_cli_print_human(FILE *f, const struct ctl_request *req, const struct ctl_response *resp)
{
	ASSERT(resp->status == CTL_STATUS_OK);
	ASSERT(resp->type == req->type);
	switch (req->type) {
	case CTL_MSG_STATUS:
		print_status(f, resp);
		break;
	case CTL_MSG_NODES:
		print_table(f, resp, resp->node_count, 4, node_cell);
		break;
	case CTL_MSG_KV_PUT:
		print_kv(f, "stored", req, resp);
		break;
	case CTL_MSG_KV_GET:
		print_kv(f, "key", req, resp);
		break;
	case CTL_MSG_KV_RM:
		print_kv(f, "removed", req, resp);
		break;
	case CTL_MSG_SLICE_LOAD:
	case CTL_MSG_SLICE_LIST:
	case CTL_MSG_SLICE_CALL:
	case CTL_MSG_SLICE_UNLOAD:
		print_slice(f, req, resp);
		break;
	default:
		/* KV_LIST is printed page by page: ctl_cli_list_*. */
		PANIC("no printer for request type %d", (int)req->type);
	}
}

/* ---- JSON ---- */

/* "transport":{...},"consensus":{...}, or nothing from a server that sends no counters. */
static void
json_counters(FILE *f, const struct ctl_status_info *info)
{
	const struct ctl_frame_counters *c = &info->counters;

	if (!info->has_counters) {
		return;
	}
	fprintf(f,
		",\"transport\":{\"kind\":\"%s\",\"garbage\":%" PRIu64 ",\"oversize\":%" PRIu64
		",\"forged\":%" PRIu64 ",\"unauthenticated\":%" PRIu64 ",\"replayed\":%" PRIu64
		",\"stale\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"unknown_sender\":%" PRIu64 "}",
		ctl_transport_name(info->transport), c->garbage, c->oversize, c->forged,
		c->unauthenticated, c->replayed, c->stale, c->foreign, c->unknown_sender);
	fprintf(f,
		",\"consensus\":{\"bad_frames\":%" PRIu64 ",\"decode_errors\":%" PRIu64
		",\"foreign\":%" PRIu64 ",\"violations\":%" PRIu64 "}",
		c->bad_frames, c->decode_errors, c->rabia_foreign, c->violations);
}

static void
json_status(FILE *f, const struct ctl_status_info *info)
{
	fprintf(f,
		"{\"node_id\":%" PRIu32 ",\"cluster_id\":%" PRIu64 ",\"leader_id\":", info->node_id,
		info->cluster_id);
	if (info->has_leader) {
		fprintf(f, "%" PRIu32, info->leader_id);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"term\":%" PRIu64 ",\"applied_slot\":%" PRIu64, info->term,
		info->applied_slot);
	json_counters(f, info);
	fputs(",\"workers\":[", f);
	for (size_t i = 0; i < info->worker_count; i++) {
		const struct ctl_worker_info *w = &info->workers[i];

		fprintf(f,
			"%s{\"cpu\":%" PRIu32 ",\"messages_in\":%" PRIu64
			",\"messages_out\":%" PRIu64 ",\"ring_full\":%" PRIu64
			",\"slices\":%" PRIu32 "}",
			i > 0 ? "," : "", w->cpu, w->messages_in, w->messages_out, w->ring_full,
			w->slice_count);
	}
	fputs("]", f);
	fputs(",\"peers\":[", f);
	for (size_t i = 0; i < info->peer_count; i++) {
		const struct ctl_peer_info *p = &info->peers[i];

		fprintf(f, "%s{\"node_id\":%" PRIu32 ",\"state\":\"%s\",\"last_heard_ms\":",
			i > 0 ? "," : "", p->node_id, ctl_peer_state_name(p->state));
		if (p->last_heard_ms == CTL_NEVER) {
			fputs("null}", f);
		} else {
			fprintf(f, "%" PRIu64 "}", p->last_heard_ms);
		}
	}
	fputs("]}", f);
}

static void
json_nodes(FILE *f, const struct ctl_response *resp)
{
	fputs("{\"nodes\":[", f);
	for (size_t i = 0; i < resp->node_count; i++) {
		const struct ctl_node_info *n = &resp->nodes[i];

		fprintf(f, "%s{\"node_id\":%" PRIu32 ",\"state\":\"%s\",\"self\":%s,\"leader\":%s,",
			i > 0 ? "," : "", n->node_id, ctl_peer_state_name(n->state),
			n->is_self ? "true" : "false", n->is_leader ? "true" : "false");
		ctl_json_bytes_field(f, "address", (const uint8_t *)n->address, n->address_size);
		fputc('}', f);
	}
	fputs("]}", f);
}

/* ,"read":{"consistency":"local","node_id":N,"applied_slot":S} (linearizable: no node). */
static void
json_read(FILE *f, const struct ctl_read_info *read)
{
	fprintf(f, ",\"read\":{\"consistency\":\"%s\"", ctl_consistency_name(read->consistency));
	if (read->consistency == CTL_CONSISTENCY_LOCAL) {
		fprintf(f, ",\"node_id\":%" PRIu32 ",\"applied_slot\":%" PRIu64, read->node_id,
			read->applied_slot);
	}
	fputc('}', f);
}

static void
json_kv(FILE *f, const struct ctl_request *req, const struct ctl_response *resp)
{
	fputc('{', f);
	ctl_json_bytes_field(f, "key", req->key, req->key_size);
	if (req->type == CTL_MSG_KV_GET) {
		fputc(',', f);
		ctl_json_bytes_field(f, "value", resp->value, resp->value_size);
	}
	fprintf(f, ",\"mod_index\":%" PRIu64, resp->mod_index);
	if (req->type == CTL_MSG_KV_GET) {
		json_read(f, &resp->read);
	}
	fputc('}', f);
}

static void
json_slices(FILE *f, const struct ctl_request *req, const struct ctl_response *resp)
{
	if (req->type == CTL_MSG_SLICE_CALL) {
		fputc('{', f);
		ctl_json_bytes_field(f, "result", resp->value, resp->value_size);
		fputc('}', f);
		return;
	}
	if (req->type == CTL_MSG_SLICE_UNLOAD) {
		fputc('{', f);
		ctl_json_bytes_field(f, "unloaded", req->key, req->key_size);
		fputc('}', f);
		return;
	}
	fputs("{\"slices\":[", f);
	for (size_t i = 0; i < resp->slice_count; i++) {
		const struct ctl_slice_info *sl = &resp->slices[i];

		fputs(i > 0 ? ",{" : "{", f);
		ctl_json_bytes_field(f, "coord", (const uint8_t *)sl->coord, sl->coord_size);
		fprintf(f, ",\"worker\":%" PRIu32 ",\"instance\":%" PRIu32 ",\"state\":\"%s\"}",
			sl->worker, sl->instance_id, ctl_slice_state_name(sl->state));
	}
	fputs("]}", f);
}

void
ctl_cli_print_json(FILE *f, const struct ctl_request *req, const struct ctl_response *resp)
{
	ASSERT(resp->status == CTL_STATUS_OK);
	ASSERT(resp->type == req->type);
	switch (req->type) {
	case CTL_MSG_STATUS:
		json_status(f, &resp->info);
		break;
	case CTL_MSG_NODES:
		json_nodes(f, resp);
		break;
	case CTL_MSG_KV_PUT:
	case CTL_MSG_KV_GET:
	case CTL_MSG_KV_RM:
		json_kv(f, req, resp);
		break;
	case CTL_MSG_SLICE_LOAD:
	case CTL_MSG_SLICE_LIST:
	case CTL_MSG_SLICE_CALL:
	case CTL_MSG_SLICE_UNLOAD:
		json_slices(f, req, resp);
		break;
	default:
		PANIC("no printer for request type %d", (int)req->type);
	}
	fputc('\n', f);
}

/* ---- Listings, page by page ---- */

void
ctl_cli_list_begin(FILE *f, struct ctl_cli_list *l, bool json, const struct ctl_request *req)
{
	ASSERT(req->type == CTL_MSG_KV_LIST);
	memset(l, 0, sizeof(*l));
	l->json = json;
	if (json) {
		fputc('{', f);
		ctl_json_bytes_field(f, "prefix", req->key, req->key_size);
		fputs(",\"keys\":[", f);
	}
}

static void
json_list_entries(FILE *f, const struct ctl_cli_list *l, const struct ctl_response *resp)
{
	for (size_t i = 0; i < resp->entry_count; i++) {
		const struct ctl_kv_entry *e = &resp->entries[i];

		fputs(l->shown + i > 0 ? ",{" : "{", f);
		ctl_json_bytes_field(f, "key", e->key, e->key_size);
		fprintf(f, ",\"mod_index\":%" PRIu64 ",\"value_size\":%" PRIu32 "}", e->mod_index,
			e->value_size);
	}
}

void
ctl_cli_list_page(FILE *f, struct ctl_cli_list *l, const struct ctl_response *resp)
{
	/* The heading goes with the first keys; later pages only widen the columns. */
	size_t first_row = l->shown == 0 ? 0 : 1;

	ASSERT(resp->type == CTL_MSG_KV_LIST && resp->status == CTL_STATUS_OK);
	if (l->pages == 0) {
		l->read = resp->read;
	}
	l->slot_last = resp->read.applied_slot;
	l->pages++;
	if (resp->entry_count == 0) {
		return;
	}
	if (l->json) {
		json_list_entries(f, l, resp);
	} else {
		table_measure(resp, first_row, resp->entry_count, 3, entry_cell, l->width);
		table_print(f, resp, first_row, resp->entry_count, 3, entry_cell, l->width);
	}
	l->shown += resp->entry_count;
}

static void
json_list_end(FILE *f, const struct ctl_cli_list *l, bool more)
{
	const struct ctl_read_info *r = &l->read;

	fprintf(f, "],\"more\":%s,\"read\":{\"consistency\":\"%s\"", more ? "true" : "false",
		ctl_consistency_name(r->consistency));
	if (r->consistency == CTL_CONSISTENCY_LOCAL) {
		fprintf(f,
			",\"node_id\":%" PRIu32 ",\"applied_slot_first\":%" PRIu64
			",\"applied_slot_last\":%" PRIu64,
			r->node_id, r->applied_slot, l->slot_last);
	}
	fprintf(f, ",\"pages\":%zu}}\n", l->pages);
}

void
ctl_cli_list_end(FILE *f, const struct ctl_cli_list *l, bool more)
{
	ASSERT(l->pages > 0);
	if (l->json) {
		json_list_end(f, l, more);
		return;
	}
	if (l->shown == 0) {
		fprintf(f, "no keys\n");
	} else if (more) {
		fprintf(f, "%zu keys shown; more exist (raise --limit or narrow the prefix)\n",
			l->shown);
	} else {
		fprintf(f, "%zu key%s\n", l->shown, l->shown == 1 ? "" : "s");
	}
	print_read_note(f, &l->read, l->slot_last, l->pages);
}
