/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Starting DPDK's EAL from a configuration struct instead of a command line.
 *
 * The arguments are the ones measured to work on the project's machines (PLATFORM-NOTES.md,
 * "EAL arguments that work here"):
 *  - without hugepages (the default): --no-huge --no-shconf -m <memory_mb>;
 *  - with 2 MiB hugepages reserved:   --in-memory (no files in hugetlbfs, nothing left over);
 *  - always: --no-telemetry, --file-prefix=<unique per process>, --log-level=<level>
 *    (warning by default: memif prints harmless noise at info), and --lcores=0@c0,1@c1,...
 *    (lcore ids mapped to cpu numbers; plain -l fails when lcores outnumber cores);
 *  - --no-pci unless a PCI NIC is used; then -a <address> for each allowed device.
 * --in-memory is never combined with --no-huge (EAL rejects it).
 *
 * dp_eal_args_build is pure (tests check the exact argv); dp_eal_start runs rte_eal_init,
 * which a process can do once. EAL keeps /var/run/dpdk/<file-prefix> behind; that is harmless.
 * Context: the main thread at startup (EAL makes it lcore 0).
 */
#ifndef AETHER_DATAPLANE_DP_EAL_H
#define AETHER_DATAPLANE_DP_EAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/log.h"

#define DP_EAL_LCORE_MAX         16u
#define DP_EAL_FILE_PREFIX_MAX   64u /* including the NUL */
#define DP_EAL_LOG_LEVEL_MAX     16u /* including the NUL */
#define DP_EAL_PCI_ALLOW_MAX     4u
#define DP_EAL_PCI_ADDR_MAX      32u /* including the NUL: "0000:00:00.0" and devargs */
#define DP_EAL_ARGC_MAX          32u
#define DP_EAL_ARGS_SIZE         1024u
#define DP_EAL_MEMORY_MB_DEFAULT 128u
#define DP_EAL_CPU_MAX           1023u /* cpu numbers above this are refused */

struct dp_eal_config {
	/* Unique per process on the host: [A-Za-z0-9_-], 1 .. DP_EAL_FILE_PREFIX_MAX - 1. */
	char file_prefix[DP_EAL_FILE_PREFIX_MAX];
	bool use_hugepages; /* true: --in-memory; false: --no-huge --no-shconf -m memory_mb */
	uint32_t memory_mb; /* without hugepages: 16 .. 65536 */
	/* lcore i runs on cpu lcore_cpus[i]; lcore 0 is the main lcore (the calling thread). */
	uint32_t lcore_count; /* 1 .. DP_EAL_LCORE_MAX */
	uint32_t lcore_cpus[DP_EAL_LCORE_MAX];
	char log_level[DP_EAL_LOG_LEVEL_MAX]; /* an EAL level name: "warning", "error", ... */
	bool use_pci;                         /* false adds --no-pci */
	char pci_allow[DP_EAL_PCI_ALLOW_MAX][DP_EAL_PCI_ADDR_MAX];
	size_t pci_allow_count; /* only with use_pci */
};

/* A built argument vector; argv points into storage. argv[argc] is NULL. */
struct dp_eal_args {
	int argc;
	char *argv[DP_EAL_ARGC_MAX + 1];
	char storage[DP_EAL_ARGS_SIZE];
};

/*
 * Defaults: no file prefix (the caller must set one), no hugepages, 128 MB, one lcore on cpu 0,
 * log level "warning", no PCI.
 */
void dp_eal_config_default(struct dp_eal_config *cfg);

/*
 * Builds the EAL argv for cfg (borrowed) into *out (argv[0] is "aether"). Returns 0, -EINVAL
 * (empty or ill-formed file prefix or log level, lcore_count 0 or above the max, a cpu above
 * DP_EAL_CPU_MAX, memory_mb out of range, PCI devices without use_pci or too many, an empty
 * or ill-formed PCI address) or -ENOBUFS (the strings do not fit: cannot happen within the
 * limits above, checked anyway).
 */
AE_MUST_CHECK int dp_eal_args_build(const struct dp_eal_config *cfg, struct dp_eal_args *out);

/*
 * Ignores SIGPIPE (a closing memif or vhost peer raises it), builds the arguments and runs
 * rte_eal_init. Returns 0; -EALREADY when EAL already runs in this process; the config's
 * -EINVAL; or the negative rte_errno of rte_eal_init (-EACCES without permission, -ENOMEM,
 * ...), with a static sentence in *reason (reason may be NULL). The arguments and the outcome
 * are logged through log (borrowed for the call; may be NULL).
 */
AE_MUST_CHECK int dp_eal_start(const struct dp_eal_config *cfg, const struct base_log *log,
			       const char **reason);

/* Whether dp_eal_start succeeded and dp_eal_stop was not called yet. */
bool dp_eal_is_running(void);

/*
 * Marks EAL stopped, before the process exits. Every port and mempool must be destroyed
 * before. It deliberately does not call rte_eal_cleanup: DPDK 22.11's would unmap memory the
 * still-running interrupt thread reads after memif server ports were used (see dp_eal.c);
 * EAL cannot be started again in this process either way.
 */
void dp_eal_stop(void);

/* The TSC frequency EAL measured (Hz); 0 before start. */
uint64_t dp_eal_tsc_hz(void);

#endif /* AETHER_DATAPLANE_DP_EAL_H */
