/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure half of dataplane/dp_eal.h: turning a config into an EAL argv. No DPDK here, so the
 * unit tests check the exact arguments without starting EAL.
 */
#include "dataplane/dp_eal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/panic.h"

#define MEMORY_MB_MIN 16u
#define MEMORY_MB_MAX 65536u

void
dp_eal_config_default(struct dp_eal_config *cfg)
{
	ASSERT(cfg != NULL);
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_mb = DP_EAL_MEMORY_MB_DEFAULT;
	cfg->lcore_count = 1;
	cfg->lcore_cpus[0] = 0;
	memcpy(cfg->log_level, "warning", sizeof("warning"));
}

/* True when s is a NUL-terminated string of 1 .. size - 1 characters from the set. */
static bool
string_is_in(const char *s, size_t size, const char *set)
{
	size_t len = strnlen(s, size);

	if (len == 0 || len == size) {
		return false;
	}
	return strspn(s, set) == len;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
#define PCI_CHARS  "0123456789abcdefABCDEF:.=,"

static int
config_check(const struct dp_eal_config *cfg)
{
	if (!string_is_in(cfg->file_prefix, sizeof(cfg->file_prefix), NAME_CHARS) ||
	    !string_is_in(cfg->log_level, sizeof(cfg->log_level), NAME_CHARS ".:*")) {
		return -EINVAL;
	}
	if (cfg->lcore_count == 0 || cfg->lcore_count > DP_EAL_LCORE_MAX) {
		return -EINVAL;
	}
	for (uint32_t i = 0; i < cfg->lcore_count; i++) {
		if (cfg->lcore_cpus[i] > DP_EAL_CPU_MAX) {
			return -EINVAL;
		}
	}
	if (!cfg->use_hugepages &&
	    (cfg->memory_mb < MEMORY_MB_MIN || cfg->memory_mb > MEMORY_MB_MAX)) {
		return -EINVAL;
	}
	if (cfg->pci_allow_count > DP_EAL_PCI_ALLOW_MAX ||
	    (!cfg->use_pci && cfg->pci_allow_count > 0)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->pci_allow_count; i++) {
		if (!string_is_in(cfg->pci_allow[i], DP_EAL_PCI_ADDR_MAX, PCI_CHARS)) {
			return -EINVAL;
		}
	}
	return 0;
}

struct args_writer {
	struct dp_eal_args *args;
	size_t used;
	int err;
};

/* Appends one formatted argument; errors are sticky (like base_writer). */
AE_PRINTF(2, 3) static void arg_add(struct args_writer *w, const char *fmt, ...)
{
	struct dp_eal_args *a = w->args;
	size_t room = sizeof(a->storage) - w->used;
	va_list ap;
	int n;

	if (w->err != 0) {
		return;
	}
	if ((size_t)a->argc >= DP_EAL_ARGC_MAX) {
		w->err = -ENOBUFS;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(a->storage + w->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		w->err = -ENOBUFS;
		return;
	}
	a->argv[a->argc++] = a->storage + w->used;
	w->used += (size_t)n + 1;
}

/* "--lcores=0@3,1@5": one entry per lcore, so any lcore count fits any cpu count. */
static void
arg_add_lcores(struct args_writer *w, const struct dp_eal_config *cfg)
{
	char list[DP_EAL_LCORE_MAX * 12u];
	size_t used = 0;

	for (uint32_t i = 0; i < cfg->lcore_count; i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%u@%u", i == 0 ? "" : ",",
				 (unsigned)i, (unsigned)cfg->lcore_cpus[i]);

		ASSERT(n > 0 && (size_t)n < sizeof(list) - used); /* sized for the limits */
		used += (size_t)n;
	}
	arg_add(w, "--lcores=%s", list);
}

int
dp_eal_args_build(const struct dp_eal_config *cfg, struct dp_eal_args *out)
{
	struct args_writer w = {.args = out};
	int rc;

	ASSERT(cfg != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	rc = config_check(cfg);
	if (rc != 0) {
		return rc;
	}
	arg_add(&w, "aether");
	if (!cfg->use_pci) {
		arg_add(&w, "--no-pci");
	}
	if (cfg->use_hugepages) {
		arg_add(&w, "--in-memory");
	} else {
		arg_add(&w, "--no-huge");
		arg_add(&w, "--no-shconf");
	}
	arg_add(&w, "--no-telemetry");
	arg_add(&w, "--file-prefix=%s", cfg->file_prefix);
	if (!cfg->use_hugepages) {
		arg_add(&w, "-m");
		arg_add(&w, "%u", (unsigned)cfg->memory_mb);
	}
	arg_add(&w, "--log-level=%s", cfg->log_level);
	arg_add_lcores(&w, cfg);
	for (size_t i = 0; i < cfg->pci_allow_count; i++) {
		arg_add(&w, "-a");
		arg_add(&w, "%s", cfg->pci_allow[i]);
	}
	if (w.err != 0) {
		memset(out, 0, sizeof(*out));
		return w.err;
	}
	ASSERT(out->argc > 0 && out->argv[out->argc] == NULL);
	return 0;
}
