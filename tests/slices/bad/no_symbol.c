/* SPDX-License-Identifier: Apache-2.0 */
/* A shared object that exports no descriptor (a misspelled name, all of it hidden). */
#include <stdint.h>

__attribute__((visibility("hidden"))) uint32_t aether_slice_definition(void);

uint32_t
aether_slice_definition(void)
{
	return 1;
}
