/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: env_dpdk's setup and the parts of its seam table that do not touch a port: config
 * validation, a complete ops table, storage forwarded to the given env, the seed, refusals of
 * oversized datagrams and unknown peers, clean failure on every allocation, and the memif link
 * AF_XDP and PCI naming and port config checks that run before DPDK is involved. Method: fake port
 * handles (never dereferenced on these paths), a fake storage env that records calls, and
 * base_alloc_fail_at. The traffic path itself runs in the dataplane-int suite (real memif).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "dataplane/dp_port.h"
#include "dataplane/env_dpdk.h"

#define SECRET "0123456789abcdef0123"

struct fake_storage {
	struct env_ops ops;
	int puts;
	int syncs;
	int polls;
	int loads;
	uint64_t last_token;
};

static int
fake_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct fake_storage *s = ctx;

	(void)name;
	(void)data;
	(void)size;
	s->puts++;
	s->last_token = token;
	return 0;
}

static int
fake_sync(void *ctx, const char *name, uint64_t token)
{
	struct fake_storage *s = ctx;

	(void)name;
	s->syncs++;
	s->last_token = token;
	return -ENOBUFS;
}

static size_t
fake_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	struct fake_storage *s = ctx;

	(void)out;
	(void)capacity;
	s->polls++;
	return 3;
}

static int
fake_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	struct fake_storage *s = ctx;

	(void)name;
	(void)buf;
	(void)capacity;
	s->loads++;
	*size = 0;
	return -ENOENT;
}

struct fixture {
	struct fake_storage storage;
	struct env_dpdk_config cfg;
	struct env_dpdk *env;
	long live;
};

static int
setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.storage.ops.ctx = &f.storage;
	f.storage.ops.storage_put = fake_put;
	f.storage.ops.storage_sync = fake_sync;
	f.storage.ops.storage_poll = fake_poll;
	f.storage.ops.storage_load = fake_load;
	f.cfg.node_id = 1;
	f.cfg.cluster_id = 5;
	f.cfg.epoch = 1;
	f.cfg.incarnation = 1;
	f.cfg.secret = (const uint8_t *)SECRET;
	f.cfg.secret_size = strlen(SECRET);
	f.cfg.peer_count = 2;
	f.cfg.peers[0].node_id = 2;
	f.cfg.peers[0].port = (struct dp_port *)(uintptr_t)0x1000; /* never dereferenced here */
	f.cfg.peers[1].node_id = 3;
	f.cfg.peers[1].port = (struct dp_port *)(uintptr_t)0x2000;
	f.cfg.storage = &f.storage.ops;
	f.cfg.seed = 99;
	f.live = base_alloc_live();
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	env_dpdk_destroy(f->env);
	f->env = NULL;
	assert_int_equal(base_alloc_live(), f->live);
	return 0;
}

static void
test_env_dpdk_fills_a_complete_table_and_forwards_storage(void **state)
{
	struct fixture *f = *state;
	const struct env_ops *ops;
	struct env_storage_completion c[4];
	uint8_t buf[8];
	size_t size;

	assert_int_equal(env_dpdk_create(&f->cfg, &f->env), 0);
	ops = env_dpdk_ops(f->env);
	env_ops_assert_valid(ops);
	assert_ptr_equal(ops->ctx, f->env);
	assert_true(ops->seed(ops->ctx) == 99);
	assert_true(ops->now_ns(ops->ctx) <= ops->now_ns(ops->ctx));
	assert_int_equal(ops->storage_put(ops->ctx, "a", buf, 1, 7), 0);
	assert_int_equal(ops->storage_sync(ops->ctx, "a", 8), -ENOBUFS);
	assert_int_equal(ops->storage_poll(ops->ctx, c, 4), 3);
	assert_int_equal(ops->storage_load(ops->ctx, "a", buf, sizeof(buf), &size), -ENOENT);
	assert_int_equal(f->storage.puts, 1);
	assert_int_equal(f->storage.syncs, 1);
	assert_int_equal(f->storage.polls, 1);
	assert_int_equal(f->storage.loads, 1);
	assert_true(f->storage.last_token == 8);
}

static void
test_env_dpdk_send_refuses_oversized_datagrams_and_unknown_peers(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[ENV_MSG_MAX + 1];
	const struct env_ops *ops;
	struct env_dpdk_stats s;

	assert_int_equal(env_dpdk_create(&f->cfg, &f->env), 0);
	ops = env_dpdk_ops(f->env);
	assert_int_equal(ops->send(ops->ctx, 2, big, sizeof(big)), -EMSGSIZE);
	assert_int_equal(ops->send(ops->ctx, 9, big, 10), -EHOSTUNREACH);
	assert_int_equal(ops->send(ops->ctx, 1, big, 10), -EHOSTUNREACH); /* itself */
	env_dpdk_stats_get(f->env, &s);
	assert_int_equal(s.sent_count, 0);
	assert_int_equal(s.auth.sealed_count, 0); /* no counter was used up */
}

static void
test_env_dpdk_create_rejects_bad_configs(void **state)
{
	struct fixture *f = *state;
	struct env_dpdk_config bad;
	struct dp_fault_config fault;

	bad = f->cfg;
	bad.peer_count = 0;
	assert_int_equal(env_dpdk_create(&bad, &f->env), -EINVAL);
	bad.peer_count = ENV_DPDK_PEERS_MAX + 1;
	assert_int_equal(env_dpdk_create(&bad, &f->env), -EINVAL);
	bad = f->cfg;
	bad.peers[1].port = NULL;
	assert_int_equal(env_dpdk_create(&bad, &f->env), -EINVAL);
	bad = f->cfg;
	bad.storage = NULL;
	assert_int_equal(env_dpdk_create(&bad, &f->env), -EINVAL);
	bad = f->cfg;
	bad.peers[1].node_id = 2; /* duplicate */
	assert_int_equal(env_dpdk_create(&bad, &f->env), -EINVAL);
	bad = f->cfg;
	bad.peers[1].node_id = 1; /* self */
	assert_int_equal(env_dpdk_create(&bad, &f->env), -EINVAL);
	bad = f->cfg;
	bad.secret_size = 4;
	assert_int_equal(env_dpdk_create(&bad, &f->env), -EINVAL);
	bad = f->cfg;
	memset(&fault, 0, sizeof(fault));
	fault.drop_ppm = DP_FAULT_PPM + 1;
	fault.reorder_ns_max = 1;
	bad.peers[0].fault = &fault;
	assert_int_equal(env_dpdk_create(&bad, &f->env), -EINVAL);
	assert_null(f->env);
}

static void
test_env_dpdk_create_cleans_up_after_every_failed_allocation(void **state)
{
	struct fixture *f = *state;
	struct dp_fault_config fault;
	struct dp_fault_stats fs;
	int rc;

	memset(&fault, 0, sizeof(fault));
	fault.reorder_ns_max = 1000;
	f->cfg.peers[1].fault = &fault;
	for (unsigned long n = 1;; n++) {
		base_alloc_fail_at(n);
		rc = env_dpdk_create(&f->cfg, &f->env);
		base_alloc_fail_at(0);
		if (rc == 0) {
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(f->env);
		assert_int_equal(base_alloc_live(), f->live);
	}
	assert_int_equal(env_dpdk_fault_stats_get(f->env, 3, &fs), 0);
	assert_int_equal(env_dpdk_fault_stats_get(f->env, 2, &fs), -ENOENT);
}

static void
test_memif_link_makes_the_lower_id_the_server(void **state)
{
	struct dp_port_config a;
	struct dp_port_config b;
	char long_dir[DP_PORT_PATH_MAX];

	(void)state;
	dp_port_config_default(&a);
	dp_port_config_default(&b);
	assert_int_equal(dp_port_memif_link(3, 7, "/run/x", &a), 0);
	assert_int_equal(dp_port_memif_link(7, 3, "/run/x", &b), 0);
	assert_int_equal(a.memif.role, DP_MEMIF_SERVER);
	assert_int_equal(b.memif.role, DP_MEMIF_CLIENT);
	assert_string_equal(a.memif.socket_path, "/run/x/memif-3-7.sock");
	assert_string_equal(b.memif.socket_path, a.memif.socket_path);
	assert_string_equal(a.name, "net_memif_3_7");
	assert_string_equal(b.name, "net_memif_7_3");
	assert_int_equal(dp_port_memif_link(3, 3, "/run/x", &a), -EINVAL);
	memset(long_dir, 'd', sizeof(long_dir) - 1);
	long_dir[0] = '/';
	long_dir[sizeof(long_dir) - 1] = '\0';
	assert_int_equal(dp_port_memif_link(3, 7, long_dir, &a), -ENAMETOOLONG);
}

static void
test_af_xdp_link_names_the_device_after_the_interface(void **state)
{
	struct dp_port_config c;

	(void)state;
	dp_port_config_default(&c);
	assert_int_equal(c.af_xdp.busy_budget, DP_PORT_AF_XDP_BUSY_BUDGET_DEFAULT);
	assert_int_equal(dp_port_af_xdp_link("veth-a0", &c), 0);
	assert_int_equal(c.type, DP_PORT_AF_XDP);
	assert_string_equal(c.name, "net_af_xdp_veth-a0");
	assert_string_equal(c.af_xdp.ifname, "veth-a0");
	assert_int_equal(c.af_xdp.queue_id, 0);
	assert_int_equal(dp_port_af_xdp_link("fifteen-chars-x", &c), 0); /* IFNAMSIZ - 1 */
	assert_string_equal(c.name, "net_af_xdp_fifteen-chars-x");
	assert_int_equal(dp_port_af_xdp_link("", &c), -EINVAL);
	assert_int_equal(dp_port_af_xdp_link("sixteen-chars-xy", &c), -EINVAL);
	assert_int_equal(dp_port_af_xdp_link("eth0,iface=x", &c), -EINVAL); /* ends the devargs */
	assert_int_equal(dp_port_af_xdp_link("a=b", &c), -EINVAL);
	assert_string_equal(c.af_xdp.ifname, "fifteen-chars-x"); /* untouched on failure */
}

static void
test_af_xdp_port_create_checks_its_config_before_touching_dpdk(void **state)
{
	struct dp_mempool *pool = (struct dp_mempool *)(uintptr_t)0x3000; /* not used */
	struct dp_port_config c;
	struct dp_port *p = NULL;

	(void)state;
	dp_port_config_default(&c);
	assert_int_equal(dp_port_af_xdp_link("veth0", &c), 0);
	c.af_xdp.busy_budget = 1025; /* above our bound */
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	c.af_xdp.busy_budget = 0;
	c.af_xdp.queue_id = 65536;
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	c.af_xdp.queue_id = 0;
	memcpy(c.name, "net_memif9", sizeof("net_memif9")); /* not an af_xdp device name */
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	assert_int_equal(dp_port_af_xdp_link("veth0", &c), 0);
	memcpy(c.af_xdp.ifname, "a,b", sizeof("a,b")); /* set behind the helper's back */
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	memset(c.af_xdp.ifname, 0, sizeof(c.af_xdp.ifname));
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	assert_null(p);
}

static void
test_port_create_checks_its_config_before_touching_dpdk(void **state)
{
	struct dp_mempool *pool = (struct dp_mempool *)(uintptr_t)0x3000; /* not used */
	struct dp_port_config c;
	struct dp_port *p = NULL;

	(void)state;
	dp_port_config_default(&c);
	assert_int_equal(dp_port_memif_link(1, 2, "/tmp", &c), 0);
	c.type = DP_PORT_AF_XDP;
	memcpy(c.af_xdp.ifname, "veth0", sizeof("veth0"));
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL); /* a memif device name */
	c.type = DP_PORT_PCI; /* no address, and a memif device name */
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	c.type = DP_PORT_MEMIF;
	memcpy(c.name, "net_tap0", sizeof("net_tap0")); /* not a memif device name */
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	assert_int_equal(dp_port_memif_link(1, 2, "/tmp", &c), 0);
	c.rx_desc_count = 100; /* not a power of two */
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	assert_int_equal(dp_port_memif_link(1, 2, "relative", &c), 0);
	c.rx_desc_count = 1024;
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL); /* not absolute */
	assert_int_equal(dp_port_memif_link(1, 2, "/tmp/a,b", &c), 0);
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL); /* comma in devargs */
	assert_null(p);
}

static void
assert_pci_address_refused(const char *address)
{
	struct dp_port_config c;

	dp_port_config_default(&c);
	assert_int_equal(dp_port_pci_link(address, &c), -EINVAL);
	assert_int_equal(c.type, DP_PORT_MEMIF); /* untouched */
}

static void
test_pci_link_names_the_device_after_its_normalized_address(void **state)
{
	struct dp_port_config c;

	(void)state;
	dp_port_config_default(&c);
	assert_int_equal(dp_port_pci_link("0000:03:00.0", &c), 0);
	assert_int_equal(c.type, DP_PORT_PCI);
	assert_string_equal(c.pci.address, "0000:03:00.0");
	assert_string_equal(c.name, "0000:03:00.0");
	assert_int_equal(dp_port_pci_link("AF:1f.7", &c), 0); /* no domain, upper case */
	assert_string_equal(c.pci.address, "0000:af:1f.7");
	assert_string_equal(c.name, "0000:af:1f.7");
	assert_int_equal(dp_port_pci_link("10ab:00:01.1", &c), 0);
	assert_string_equal(c.pci.address, "10ab:00:01.1");
}

static void
test_pci_link_refuses_anything_but_a_pci_address(void **state)
{
	(void)state;
	assert_pci_address_refused("");
	assert_pci_address_refused("03:00");
	assert_pci_address_refused("0000:03:00");
	assert_pci_address_refused("0000:03:20.0"); /* device above 0x1f */
	assert_pci_address_refused("0000:03:00.8"); /* function above 7 */
	assert_pci_address_refused("0000:g3:00.0");
	assert_pci_address_refused("0000:03:00.0,x=1"); /* devargs are not an address */
	assert_pci_address_refused("00000:03:00.0");
	assert_pci_address_refused("0000-03-00.0");
	assert_pci_address_refused(" 03:00.0");
	assert_pci_address_refused("net_memif0");
}

static void
test_pci_port_create_checks_its_config_before_touching_dpdk(void **state)
{
	struct dp_mempool *pool = (struct dp_mempool *)(uintptr_t)0x3000; /* not used */
	struct dp_port_config c;
	struct dp_port *p = NULL;

	(void)state;
	dp_port_config_default(&c);
	assert_int_equal(dp_port_pci_link("0000:03:00.0", &c), 0);
	memcpy(c.pci.address, "03:00.0", sizeof("03:00.0")); /* not the normalized form */
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	assert_int_equal(dp_port_pci_link("0000:03:00.0", &c), 0);
	memcpy(c.name, "0000:03:00.1", sizeof("0000:03:00.1")); /* not named after it */
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	assert_int_equal(dp_port_pci_link("0000:03:00.0", &c), 0);
	memcpy(c.pci.address, "0000:03:00.9", sizeof("0000:03:00.9"));
	memcpy(c.name, "0000:03:00.9", sizeof("0000:03:00.9"));
	assert_int_equal(dp_port_create(&c, pool, NULL, &p), -EINVAL);
	assert_null(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_env_dpdk_fills_a_complete_table_and_forwards_storage, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_dpdk_send_refuses_oversized_datagrams_and_unknown_peers, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_env_dpdk_create_rejects_bad_configs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_env_dpdk_create_cleans_up_after_every_failed_allocation, setup,
			teardown),
		cmocka_unit_test(test_memif_link_makes_the_lower_id_the_server),
		cmocka_unit_test(test_port_create_checks_its_config_before_touching_dpdk),
		cmocka_unit_test(test_af_xdp_link_names_the_device_after_the_interface),
		cmocka_unit_test(test_af_xdp_port_create_checks_its_config_before_touching_dpdk),
		cmocka_unit_test(test_pci_link_names_the_device_after_its_normalized_address),
		cmocka_unit_test(test_pci_link_refuses_anything_but_a_pci_address),
		cmocka_unit_test(test_pci_port_create_checks_its_config_before_touching_dpdk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
