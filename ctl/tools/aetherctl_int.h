/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aetherctl's parts: aetherctl.c parses the command line and talks to the node;
 * aetherctl_print.c turns an answer into aligned text or one JSON document.
 */
#ifndef AETHER_CTL_TOOLS_AETHERCTL_INT_H
#define AETHER_CTL_TOOLS_AETHERCTL_INT_H

#include <stdbool.h>
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

/*
 * A listing (kv list) printed page by page as the node answers, so aetherctl's memory does not
 * grow with the listing: begin, then page for every answer in order, then end. Text columns are
 * as wide as the keys so far (a later, longer key widens them from its page on); the end prints
 * the key count and the read note (node, applied slot or slots, not linearizable). In JSON the
 * keys stream into one document that end closes with "more" and "read".
 */
struct ctl_cli_list {
	bool json;
	size_t width[3];
	size_t shown;
	size_t pages;
	struct ctl_read_info read; /* the first page's label */
	uint64_t slot_last;        /* the last page's applied slot */
};

void ctl_cli_list_begin(FILE *f, struct ctl_cli_list *l, bool json, const struct ctl_request *req);
/* One OK KV_LIST answer (borrowed for the call). */
void ctl_cli_list_page(FILE *f, struct ctl_cli_list *l, const struct ctl_response *resp);
/* more: keys remain that --limit kept out. At least one page was printed (asserted). */
void ctl_cli_list_end(FILE *f, const struct ctl_cli_list *l, bool more);

/* Writes bytes for a terminal: printable ASCII as is, '\\' doubled, anything else as \xNN. */
void ctl_cli_print_escaped(FILE *f, const uint8_t *data, size_t size);

#endif /* AETHER_CTL_TOOLS_AETHERCTL_INT_H */
