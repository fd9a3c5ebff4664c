/* SPDX-License-Identifier: Apache-2.0 */
#include "node/node_leader.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "consensus/kv_key.h"

static_assert(NODE_LEADER_KEY_MAX > sizeof("leader"), "the key text fits");

void
node_leader_value_encode(const struct node_leader_value *v, uint8_t out[NODE_LEADER_VALUE_SIZE])
{
	ASSERT(v != NULL && out != NULL);
	ASSERT(v->term >= 1);
	memset(out, 0, NODE_LEADER_VALUE_SIZE);
	out[0] = NODE_LEADER_VALUE_VERSION;
	base_store_le32(out + 4, v->node_id);
	base_store_le64(out + 8, v->term);
}

int
node_leader_value_decode(const uint8_t *data, size_t size, struct node_leader_value *out)
{
	ASSERT(out != NULL);
	ASSERT(data != NULL || size == 0);
	if (size < NODE_LEADER_VALUE_SIZE) {
		return -BASE_ERR_TRUNCATED;
	}
	if (size > NODE_LEADER_VALUE_SIZE) {
		return -BASE_ERR_TRAILING;
	}
	if (data[0] != NODE_LEADER_VALUE_VERSION) {
		return -BASE_ERR_VERSION;
	}
	if (data[1] != 0 || data[2] != 0 || data[3] != 0 || base_load_le64(data + 8) == 0) {
		return -EBADMSG;
	}
	out->node_id = base_load_le32(data + 4);
	out->term = base_load_le64(data + 8);
	return 0;
}

size_t
node_leader_key(char out[NODE_LEADER_KEY_MAX])
{
	struct kv_key k;
	int len;

	kv_key_init_leader(&k);
	len = kv_key_format(&k, out, NODE_LEADER_KEY_MAX);
	ASSERT(len > 0);
	return (size_t)len;
}

static uint32_t
leader_index_of(const struct node_leader_config *cfg, uint32_t node_id)
{
	for (uint32_t i = 0; i < cfg->member_count; i++) {
		if (cfg->members[i] == node_id) {
			return i;
		}
	}
	return UINT32_MAX;
}

int
node_leader_config_check(const struct node_leader_config *cfg)
{
	ASSERT(cfg != NULL);
	if (cfg->member_count < 1 || cfg->member_count > NODE_LEADER_MEMBERS_MAX ||
	    cfg->timeout_ns == 0) {
		return -EINVAL;
	}
	if (leader_index_of(cfg, cfg->self_id) == UINT32_MAX) {
		return -EINVAL;
	}
	return 0;
}

void
node_leader_init(struct node_leader *l, const struct node_leader_config *cfg, uint64_t now_ns)
{
	ASSERT(l != NULL);
	ASSERT(node_leader_config_check(cfg) == 0);
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	/* Every peer counts as just heard: the lowest id goes first, the others wait. */
	for (uint32_t i = 0; i < cfg->member_count; i++) {
		l->last_seen_ns[i] = now_ns;
	}
}

void
node_leader_on_peer(struct node_leader *l, uint32_t node_id, uint64_t now_ns)
{
	uint32_t i;

	ASSERT(l != NULL);
	i = leader_index_of(&l->cfg, node_id);
	if (i != UINT32_MAX && now_ns > l->last_seen_ns[i]) {
		l->last_seen_ns[i] = now_ns;
	}
}

int
node_leader_on_applied(struct node_leader *l, const uint8_t *value, size_t value_size,
		       uint64_t mod_index)
{
	struct node_leader_value v = {0, 0};
	int has = value != NULL && node_leader_value_decode(value, value_size, &v) == 0;
	int changed;

	ASSERT(l != NULL);
	ASSERT(value != NULL || mod_index == 0);
	changed = has != l->has_leader ||
		  (has && (v.node_id != l->current.node_id || v.term != l->current.term));
	l->has_leader = has;
	l->current = v;
	l->mod_index = mod_index;
	return changed;
}

void
node_leader_on_result(struct node_leader *l, uint64_t client_seq)
{
	ASSERT(l != NULL);
	if (l->is_outstanding && l->outstanding_seq == client_seq) {
		l->is_outstanding = 0;
	}
}

int
node_leader_is_live(const struct node_leader *l, uint32_t node_id, uint64_t now_ns)
{
	uint32_t i;

	ASSERT(l != NULL);
	if (node_id == l->cfg.self_id) {
		return 1;
	}
	i = leader_index_of(&l->cfg, node_id);
	if (i == UINT32_MAX) {
		return 0;
	}
	return now_ns <= l->last_seen_ns[i] || now_ns - l->last_seen_ns[i] <= l->cfg.timeout_ns;
}

/* The lowest live member id (self always counts, so there is one). */
static uint32_t
leader_lowest_live(const struct node_leader *l, uint64_t now_ns)
{
	uint32_t lowest = l->cfg.self_id;

	for (uint32_t i = 0; i < l->cfg.member_count; i++) {
		uint32_t id = l->cfg.members[i];

		if (id < lowest && node_leader_is_live(l, id, now_ns)) {
			lowest = id;
		}
	}
	return lowest;
}

static void
leader_encode_cas(struct node_leader_proposal *p)
{
	char key[NODE_LEADER_KEY_MAX];
	uint8_t value[NODE_LEADER_VALUE_SIZE];
	size_t key_size = node_leader_key(key);
	struct kv_cmd cmd;
	int rc;

	node_leader_value_encode(&p->value, value);
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = KV_CMD_CAS;
	cmd.op_count = 1;
	cmd.ops[0].type = KV_CMD_CAS;
	cmd.ops[0].key = (const uint8_t *)key;
	cmd.ops[0].key_size = key_size;
	cmd.ops[0].value = value;
	cmd.ops[0].value_size = sizeof(value);
	cmd.ops[0].expected_mod_index = p->expected_mod_index;
	rc = kv_cmd_encode(&cmd, p->cmd, sizeof(p->cmd), &p->cmd_size);
	ASSERT(rc == 0); /* a fixed-size command that fits NODE_LEADER_CMD_MAX */
}

int
node_leader_poll(struct node_leader *l, uint64_t now_ns, struct node_leader_proposal *out)
{
	uint64_t term;

	ASSERT(l != NULL && out != NULL);
	if (l->is_outstanding && now_ns - l->outstanding_ns < l->cfg.timeout_ns) {
		return 0;
	}
	if (l->has_leader && node_leader_is_live(l, l->current.node_id, now_ns)) {
		return 0;
	}
	if (leader_lowest_live(l, now_ns) != l->cfg.self_id) {
		return 0;
	}
	term = l->has_leader ? l->current.term + 1 : 1;
	memset(out, 0, sizeof(*out));
	out->client_id = node_leader_client_id(l->cfg.self_id);
	out->client_seq = term;
	out->expected_mod_index = l->mod_index;
	out->value.node_id = l->cfg.self_id;
	out->value.term = term;
	leader_encode_cas(out);
	l->is_outstanding = 1;
	l->outstanding_seq = term;
	l->outstanding_ns = now_ns;
	l->proposal_count++;
	return 1;
}

/* The first time after now_ns that `at + timeout` has passed, or UINT64_MAX. */
static uint64_t
leader_expiry(const struct node_leader *l, uint64_t at, uint64_t now_ns)
{
	uint64_t t =
		at > UINT64_MAX - l->cfg.timeout_ns - 1 ? UINT64_MAX : at + l->cfg.timeout_ns + 1;

	return t > now_ns ? t : UINT64_MAX;
}

uint64_t
node_leader_next_ns(const struct node_leader *l, uint64_t now_ns)
{
	uint64_t next = UINT64_MAX;

	ASSERT(l != NULL);
	if (l->is_outstanding) {
		uint64_t t = leader_expiry(l, l->outstanding_ns, now_ns);

		next = t < next ? t : next;
	}
	for (uint32_t i = 0; i < l->cfg.member_count; i++) {
		uint64_t t;

		if (l->cfg.members[i] == l->cfg.self_id) {
			continue;
		}
		t = leader_expiry(l, l->last_seen_ns[i], now_ns);
		next = t < next ? t : next;
	}
	return next;
}

int
node_leader_get(const struct node_leader *l, struct node_leader_value *out)
{
	ASSERT(l != NULL && out != NULL);
	if (!l->has_leader) {
		return 0;
	}
	*out = l->current;
	return 1;
}
