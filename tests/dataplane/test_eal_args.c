/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the EAL command line built from the config is exactly the one PLATFORM-NOTES.md
 * measured to work (no hugepages: --no-huge --no-shconf -m; hugepages: --in-memory; always
 * --no-telemetry, a unique --file-prefix, --log-level and --lcores=id@cpu), and bad configs
 * are refused before EAL sees them. Method: compare the argv word by word; EAL is not started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dataplane/dp_eal.h"

struct fixture {
	struct dp_eal_config cfg;
	struct dp_eal_args args;
};

static int
setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	dp_eal_config_default(&f.cfg);
	memcpy(f.cfg.file_prefix, "node-7", sizeof("node-7"));
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return 0;
}

static void
assert_argv(const struct dp_eal_args *a, const char *const *want, size_t n)
{
	assert_int_equal(a->argc, (int)n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(a->argv[i], want[i]);
	}
	assert_null(a->argv[n]);
}

static void
test_eal_args_default_is_the_no_hugepage_line(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = {
		"aether",
		"--no-pci",
		"--no-huge",
		"--no-shconf",
		"--no-telemetry",
		"--file-prefix=node-7",
		"-m",
		"128",
		"--log-level=warning",
		"--lcores=0@0",
	};

	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), 0);
	assert_argv(&f->args, want, AE_ARRAY_SIZE(want));
}

static void
test_eal_args_hugepages_use_in_memory_without_size(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = {
		"aether",
		"--no-pci",
		"--in-memory",
		"--no-telemetry",
		"--file-prefix=node-7",
		"--log-level=warning",
		"--lcores=0@0",
	};

	f->cfg.use_hugepages = true;
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), 0);
	assert_argv(&f->args, want, AE_ARRAY_SIZE(want));
}

static void
test_eal_args_map_more_lcores_than_cores(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = {
		"aether",
		"--no-huge",
		"--no-shconf",
		"--no-telemetry",
		"--file-prefix=node-7",
		"-m",
		"256",
		"--log-level=error",
		"--lcores=0@1,1@0,2@1",
		"-a",
		"0000:03:00.0",
	};

	f->cfg.lcore_count = 3;
	f->cfg.lcore_cpus[0] = 1;
	f->cfg.lcore_cpus[1] = 0;
	f->cfg.lcore_cpus[2] = 1;
	f->cfg.memory_mb = 256;
	memcpy(f->cfg.log_level, "error", sizeof("error"));
	f->cfg.use_pci = true;
	memcpy(f->cfg.pci_allow[0], "0000:03:00.0", sizeof("0000:03:00.0"));
	f->cfg.pci_allow_count = 1;
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), 0);
	assert_argv(&f->args, want, AE_ARRAY_SIZE(want));
}

static void
test_eal_args_refuse_bad_configs(void **state)
{
	struct fixture *f = *state;
	struct dp_eal_config base = f->cfg;

	f->cfg.file_prefix[0] = '\0';
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	assert_int_equal(f->args.argc, 0);
	f->cfg = base;
	memcpy(f->cfg.file_prefix, "a/b", sizeof("a/b"));
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	f->cfg = base;
	memcpy(f->cfg.file_prefix, "a b", sizeof("a b"));
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	f->cfg = base;
	f->cfg.lcore_count = 0;
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	f->cfg.lcore_count = DP_EAL_LCORE_MAX + 1;
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	f->cfg = base;
	f->cfg.lcore_cpus[0] = DP_EAL_CPU_MAX + 1;
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	f->cfg = base;
	f->cfg.memory_mb = 8;
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	f->cfg = base;
	f->cfg.pci_allow_count = 1; /* without use_pci */
	memcpy(f->cfg.pci_allow[0], "0000:03:00.0", sizeof("0000:03:00.0"));
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	f->cfg.use_pci = true;
	memcpy(f->cfg.pci_allow[0], "--vdev=x", sizeof("--vdev=x"));
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
	f->cfg = base;
	memcpy(f->cfg.log_level, "warning;x", sizeof("warning;x"));
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), -EINVAL);
}

static void
test_eal_args_fit_the_largest_config(void **state)
{
	struct fixture *f = *state;

	memset(f->cfg.file_prefix, 'p', sizeof(f->cfg.file_prefix) - 1);
	f->cfg.file_prefix[sizeof(f->cfg.file_prefix) - 1] = '\0';
	f->cfg.lcore_count = DP_EAL_LCORE_MAX;
	for (uint32_t i = 0; i < DP_EAL_LCORE_MAX; i++) {
		f->cfg.lcore_cpus[i] = DP_EAL_CPU_MAX;
	}
	f->cfg.use_pci = true;
	f->cfg.pci_allow_count = DP_EAL_PCI_ALLOW_MAX;
	for (size_t i = 0; i < DP_EAL_PCI_ALLOW_MAX; i++) {
		memset(f->cfg.pci_allow[i], 'f', DP_EAL_PCI_ADDR_MAX - 1);
		f->cfg.pci_allow[i][DP_EAL_PCI_ADDR_MAX - 1] = '\0';
	}
	assert_int_equal(dp_eal_args_build(&f->cfg, &f->args), 0);
	assert_true(f->args.argc <= (int)DP_EAL_ARGC_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eal_args_default_is_the_no_hugepage_line,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_eal_args_hugepages_use_in_memory_without_size,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_eal_args_map_more_lcores_than_cores, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_eal_args_refuse_bad_configs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eal_args_fit_the_largest_config, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
