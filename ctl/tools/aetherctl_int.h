/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aetherctl's parts: aetherctl.c parses the command line and talks to the node;
 * aetherctl_print.c turns an answer into aligned text or one JSON document.
 */
#ifndef AETHER_CTL_TOOLS_AETHERCTL_INT_H
#define AETHER_CTL_TOOLS_AETHERCTL_INT_H

#include <stdio.h>

#include "ctl/ctl_proto.h"

/* Exit codes, documented in `aetherctl --help`. */
enum ctl_cli_exit {
	CTL_CLI_EXIT_OK = 0,
	CTL_CLI_EXIT_FAILED = 1,  /* the node answered with an error, or the answer was bad */
	CTL_CLI_EXIT_USAGE = 2,   /* bad command line */
	CTL_CLI_EXIT_CONNECT = 3, /* the socket could not be reached */
};

/* Prints an OK answer to req as aligned text (borrowed; f is stdout in the tool). */
void ctl_cli_print_human(FILE *f, const struct ctl_request *req, const struct ctl_response *resp);

/* Prints an OK answer to req as one JSON document followed by a newline. */
void ctl_cli_print_json(FILE *f, const struct ctl_request *req, const struct ctl_response *resp);

/* Writes bytes for a terminal: printable ASCII as is, '\\' doubled, anything else as \xNN. */
void ctl_cli_print_escaped(FILE *f, const uint8_t *data, size_t size);

#endif /* AETHER_CTL_TOOLS_AETHERCTL_INT_H */
