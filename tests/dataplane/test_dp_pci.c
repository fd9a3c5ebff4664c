/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: a PCI port on a machine without that NIC fails cleanly: EAL starts with PCI and the
 * missing address in its allow-list, dp_port_create answers -ENODEV with one error line naming
 * the address (whether the address is on the allow-list or not), a malformed address never
 * reaches DPDK (-EINVAL), the sysfs check refuses a device held by a kernel driver (-EBUSY,
 * tried on one of this machine's devices when it has one: the check never probes), and
 * nothing is left behind (the same create fails the same way again, and a memif port still
 * comes up on the same EAL afterwards).
 * Method: one process, one real EAL (no hugepages, its own file prefix, removed at the end)
 * with use_pci; a log sink that keeps the lines; addresses in bus 0xff, which no machine
 * of ours has (checked in sysfs first, so no real device is ever probed). There is no NIC
 * here to test the success path. Prints TAP; "1..0 # SKIP" when EAL cannot start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/dp_eal.h"
#include "dataplane/dp_mempool.h"
#include "dataplane/dp_port.h"
#include "dp_tool.h"

/* On the allow-list; bus ff, device 1f, function 7 exists on none of our machines. */
#define MISSING_ALLOWED "0000:ff:1f.7"
/* Not on the allow-list: dp_port_create would probe it (rte_dev_probe) if sysfs had it. */
#define MISSING_OTHER   "0000:ff:1e.6"
#define LINES_MAX       16
#define LINE_SIZE       512

struct capture {
	size_t count;
	size_t errors;
	char lines[LINES_MAX][LINE_SIZE];
};

struct fixture {
	struct capture cap;
	struct base_log log;
	struct dp_mempool *pool;
};

static struct dp_mempool *the_pool;

static void
capture_line(void *ctx, enum base_log_level level, const char *line)
{
	struct capture *c = ctx;

	if (level == BASE_LOG_ERROR) {
		c->errors++;
	}
	if (c->count < LINES_MAX) {
		(void)snprintf(c->lines[c->count++], LINE_SIZE, "%s", line);
	}
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	base_log_init(&f->log, capture_line, &f->cap, BASE_LOG_DEBUG);
	f->pool = the_pool;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

/* Exactly one error line, and it names the address and says what is wrong. */
static void
assert_one_error_naming(const struct fixture *f, const char *address, const char *what)
{
	size_t hits = 0;

	assert_int_equal(f->cap.errors, 2); /* the reason, then "cannot be created" */
	for (size_t i = 0; i < f->cap.count; i++) {
		if (strstr(f->cap.lines[i], address) != NULL &&
		    strstr(f->cap.lines[i], what) != NULL) {
			hits++;
		}
	}
	assert_int_equal(hits, 1);
}

static void
assert_missing_nic_refused(struct fixture *f, const char *address)
{
	struct dp_port_config c;
	struct dp_port *p = NULL;

	dp_port_config_default(&c);
	assert_int_equal(dp_port_pci_link(address, &c), 0);
	memset(&f->cap, 0, sizeof(f->cap));
	assert_int_equal(dp_port_create(&c, f->pool, &f->log, &p), -ENODEV);
	assert_null(p);
	assert_one_error_naming(f, address, "no PCI device");
}

static void
test_pci_port_for_a_missing_allowed_nic_is_refused_with_enodev(void **state)
{
	struct fixture *f = *state;

	assert_missing_nic_refused(f, MISSING_ALLOWED);
	/* Nothing was left half-made: the same create fails the same way. */
	assert_missing_nic_refused(f, MISSING_ALLOWED);
}

static void
test_pci_port_for_a_missing_nic_off_the_allow_list_is_refused_with_enodev(void **state)
{
	assert_missing_nic_refused(*state, MISSING_OTHER);
}

static void
test_pci_port_with_a_malformed_address_never_reaches_dpdk(void **state)
{
	struct fixture *f = *state;
	struct dp_port_config c;
	struct dp_port *p = NULL;

	dp_port_config_default(&c);
	assert_int_equal(dp_port_pci_link("0000:ff:1f.8", &c), -EINVAL);
	assert_int_equal(dp_port_pci_link(MISSING_ALLOWED, &c), 0);
	memcpy(c.pci.address, "ff:1f.7", sizeof("ff:1f.7")); /* bypassing the helper */
	memset(&f->cap, 0, sizeof(f->cap));
	assert_int_equal(dp_port_create(&c, f->pool, &f->log, &p), -EINVAL);
	assert_null(p);
	assert_int_equal(f->cap.count, 0); /* refused before anything was tried */
}

static void
test_pci_check_reads_sysfs_and_refuses_missing_or_malformed_addresses(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(dp_port_pci_check(MISSING_OTHER, &f->log), -ENODEV);
	assert_int_equal(f->cap.errors, 1);
	assert_non_null(strstr(f->cap.lines[0], MISSING_OTHER));
	assert_int_equal(dp_port_pci_check("ff:1e.6", NULL), -ENODEV); /* short form */
	assert_int_equal(dp_port_pci_check("0000:ff:1e", NULL), -EINVAL);
}

/* A device of this machine bound to a kernel driver DPDK cannot share (virtio-pci, e1000e,
 * nvme, ...), into out; false when there is none. */
static bool
find_kernel_bound_device(char *out, size_t size)
{
	static const char *const dpdk_drivers[] = {"vfio-pci", "uio_pci_generic", "igb_uio",
						   "mlx4_core", "mlx5_core"};
	char path[512];
	char link[256];
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	bool found = false;

	if (dir == NULL) {
		return false;
	}
	while (!found && (de = readdir(dir)) != NULL) {
		ssize_t n;
		const char *driver;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= size) {
			continue;
		}
		memcpy(out, de->d_name, strlen(de->d_name) + 1);
		(void)snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", out);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0) {
			continue;
		}
		link[n] = '\0';
		driver = strrchr(link, '/') + 1;
		found = true;
		for (size_t i = 0; i < sizeof(dpdk_drivers) / sizeof(dpdk_drivers[0]); i++) {
			found = found && strcmp(driver, dpdk_drivers[i]) != 0;
		}
	}
	(void)closedir(dir);
	return found;
}

/* Only sysfs is read: the device is never probed, so testing this on the host's own NIC or
 * disk is safe (that is what the check protects). */
static void
test_pci_check_refuses_a_device_held_by_a_kernel_driver(void **state)
{
	struct fixture *f = *state;
	char address[64];

	if (!find_kernel_bound_device(address, sizeof(address))) {
		skip();
	}
	assert_int_equal(dp_port_pci_check(address, &f->log), -EBUSY);
	assert_int_equal(f->cap.errors, 1);
	assert_non_null(strstr(f->cap.lines[0], "bound to kernel driver"));
}

static void
test_memif_port_still_works_after_refused_pci_ports(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/aether-dp-pci-XXXXXX";
	struct dp_port_config c;
	struct dp_port *p = NULL;

	assert_non_null(mkdtemp(dir));
	dp_port_config_default(&c);
	assert_int_equal(dp_port_memif_link(1, 2, dir, &c), 0); /* the server: starts at once */
	assert_int_equal(dp_port_create(&c, f->pool, &f->log, &p), 0);
	assert_non_null(p);
	dp_port_destroy(p);
	assert_int_equal(rmdir(dir), 0); /* the server removed its socket */
}

/* EAL with PCI and the missing NIC on its allow-list, as aetherd starts it for transport pci. */
static int
eal_start(const char **reason)
{
	struct dp_eal_config ec;
	struct dp_mempool_config mc;

	dp_eal_config_default(&ec);
	dp_tool_file_prefix(getpid(), ec.file_prefix, sizeof(ec.file_prefix));
	ec.use_pci = true;
	memcpy(ec.pci_allow[0], MISSING_ALLOWED, sizeof(MISSING_ALLOWED));
	ec.pci_allow_count = 1;
	if (dp_eal_start(&ec, NULL, reason) != 0) {
		return -1;
	}
	dp_mempool_config_default(&mc);
	mc.mbuf_count = 1023;
	if (dp_mempool_create(&mc, NULL, &the_pool) != 0) {
		*reason = "cannot create the mempool";
		return -1;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_pci_port_for_a_missing_allowed_nic_is_refused_with_enodev, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_pci_port_for_a_missing_nic_off_the_allow_list_is_refused_with_enodev,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pci_port_with_a_malformed_address_never_reaches_dpdk, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pci_check_reads_sysfs_and_refuses_missing_or_malformed_addresses,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pci_check_refuses_a_device_held_by_a_kernel_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memif_port_still_works_after_refused_pci_ports,
						setup, teardown),
	};
	const char *reason = "rte_eal_init";
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0); /* LeakSanitizer may end the process: keep the lines */
	if (access("/sys/bus/pci/devices/" MISSING_ALLOWED, F_OK) == 0 ||
	    access("/sys/bus/pci/devices/" MISSING_OTHER, F_OK) == 0) {
		printf("1..0 # SKIP this machine has a device at a test address in bus ff\n");
		return 0;
	}
	if (eal_start(&reason) != 0) {
		printf("1..0 # SKIP EAL cannot start here: %s\n", reason);
		dp_tool_remove_runtime_dir(getpid());
		return 0;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	dp_mempool_destroy(the_pool);
	dp_eal_stop();
	dp_tool_remove_runtime_dir(getpid());
	return rc;
}
