/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: holding DPDK's interrupt thread while a port is started, stopped or closed.
 *
 * memif (DPDK 22.11) runs its control channel on the EAL interrupt thread: when the peer hangs
 * up, that thread calls memif_disconnect on the device, unlocked against the application's
 * rte_eth_dev_stop / rte_eth_dev_close. If the application closes the port meanwhile (both
 * peers exiting together, or a client restarting after its server went away), the interrupt
 * thread finds the released device (dev_private and process_private NULL) and crashes. EAL
 * runs interrupt callbacks and alarms one at a time on that one thread, so an alarm callback
 * that waits keeps every memif callback out: dp_eal_intr_hold parks the thread in such a
 * callback (after any callback that was running has returned) and dp_eal_intr_release lets
 * it go.
 *
 * Context: a control thread. One hold at a time in the process (a second holder waits for the
 * first to release). On the interrupt thread itself, or before EAL runs, there is nothing to
 * hold: both calls do nothing.
 */
#ifndef AETHER_DATAPLANE_DP_EAL_INT_H
#define AETHER_DATAPLANE_DP_EAL_INT_H

#include "base/compiler.h"

/* How long dp_eal_intr_hold waits for the interrupt thread to reach the parking callback. */
#define DP_EAL_INTR_HOLD_TIMEOUT_NS (5ull * 1000u * 1000u * 1000u)

/*
 * Returns 0 once the interrupt thread is parked (or nothing needs holding), -ETIMEDOUT when
 * it stayed busy for DP_EAL_INTR_HOLD_TIMEOUT_NS, or the negative error of rte_eal_alarm_set
 * (then nothing is held). Holds do not nest.
 */
AE_MUST_CHECK int dp_eal_intr_hold(void);

/* Lets the interrupt thread go and waits until it left the parking callback; does nothing
 * when this thread holds nothing (dp_eal_intr_hold returned early or failed). */
void dp_eal_intr_release(void);

#endif /* AETHER_DATAPLANE_DP_EAL_INT_H */
