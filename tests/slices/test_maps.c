/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the /proc/self/maps scan that proves an unloaded slice is gone matches exactly the
 * memfd it names: never a name that merely starts the same, never another path, and it sees a
 * match on any line of a long text. Method: captured maps lines (with and without the kernel's
 * " (deleted)"), prefix and suffix near-misses, and a long synthetic maps text. One case reads
 * the real /proc/self/maps for a memfd this test maps itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "slices/maps.h"

#define LINE(s) (s), sizeof(s) - 1

static void
test_maps_line_matches_deleted_memfd(void **state)
{
	(void)state;
	assert_true(slice_maps_line_has_memfd(LINE("7f12a000-7f12b000 r-xp 00001000 00:01 4242    "
						   "/memfd:aether-slice#3:greeter-1.0.0 "
						   "(deleted)"),
					      "aether-slice#3:greeter-1.0.0"));
	assert_true(slice_maps_line_has_memfd(LINE("7f12a000-7f12b000 r--p 00000000 00:01 4242 "
						   "/memfd:aether-slice#3:greeter-1.0.0"),
					      "aether-slice#3:greeter-1.0.0"));
}

static void
test_maps_line_rejects_prefix_and_other_names(void **state)
{
	static const char line[] =
		"7f12a000-7f12b000 r-xp 00001000 00:01 4242 /memfd:aether-slice#31:greeter-1.0.0 "
		"(deleted)";

	(void)state;
	/* #3 is a prefix of #31: the scan must not confuse two instances. */
	assert_false(slice_maps_line_has_memfd(LINE(line), "aether-slice#3"));
	assert_false(slice_maps_line_has_memfd(LINE(line), "aether-slice#31:greeter-1.0"));
	assert_false(slice_maps_line_has_memfd(LINE(line), "aether-slice#31:greeter-1.0.0x"));
	assert_false(slice_maps_line_has_memfd(
		LINE("7f12a000-7f12b000 r-xp 00001000 08:01 99 /tmp/aether-slice#31:greeter-1.0.0"),
		"aether-slice#31:greeter-1.0.0"));
	assert_false(slice_maps_line_has_memfd(LINE("7ffd0000-7ffd1000 rw-p 00000000 00:00 0 "),
					       "aether-slice#31:greeter-1.0.0"));
	assert_false(slice_maps_line_has_memfd(LINE(""), "x"));
}

static void
test_maps_text_finds_a_match_on_any_line(void **state)
{
	static char text[64 * 1024];
	size_t size = 0;

	(void)state;
	for (int i = 0; i < 500; i++) {
		size += (size_t)snprintf(text + size, sizeof(text) - size,
					 "%08x-%08x r--p 00000000 08:01 %d /usr/lib/libx%d.so\n",
					 i * 4096, i * 4096 + 4096, i, i);
	}
	assert_false(slice_maps_text_has_memfd(text, size, "aether-slice#7:a-1.0.0"));
	size += (size_t)snprintf(
		text + size, sizeof(text) - size,
		"7f000000-7f001000 r-xp 00000000 00:01 1 /memfd:aether-slice#7:a-1.0.0 "
		"(deleted)");
	/* The last line has no newline: it counts too. */
	assert_true(slice_maps_text_has_memfd(text, size, "aether-slice#7:a-1.0.0"));
}

static void
test_maps_reads_this_process_and_sees_a_mapped_memfd_go(void **state)
{
	char name[64];
	bool found = true;
	void *map;
	int fd;

	(void)state;
	(void)snprintf(name, sizeof(name), "aether-test-maps#%ld", (long)getpid());
	fd = memfd_create(name, MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(slice_maps_has_memfd(name, &found, NULL), 0);
	assert_false(found);
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(slice_maps_has_memfd(name, &found, NULL), 0);
	assert_true(found);
	assert_int_equal(munmap(map, 4096), 0);
	assert_int_equal(slice_maps_has_memfd(name, &found, NULL), 0);
	assert_false(found);
	assert_int_equal(close(fd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_line_matches_deleted_memfd),
		cmocka_unit_test(test_maps_line_rejects_prefix_and_other_names),
		cmocka_unit_test(test_maps_text_finds_a_match_on_any_line),
		cmocka_unit_test(test_maps_reads_this_process_and_sees_a_mapped_memfd_go),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
