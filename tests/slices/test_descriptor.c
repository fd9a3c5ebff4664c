/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the host refuses every descriptor it cannot trust before following any pointer in it,
 * with the right code and a sentence naming the field, and accepts a well-formed one exactly.
 * Method: a valid service-slice descriptor defined in this file, copied into a fixture and
 * broken one field at a time (ABI version, each size field, host table size, coordinates,
 * methods, dependencies, counters, arena), plus method lookup by name and by NULL for lean
 * slices. No shared object is loaded: the check is pure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "aether/slice.h"
#include "base/err.h"
#include "slices/descriptor.h"

static void
noop_handler(const struct slice_host *host, struct slice_instance *self, void *state,
	     struct slice_call call, const uint8_t *request, size_t request_size)
{
	(void)host;
	(void)self;
	(void)state;
	(void)call;
	(void)request;
	(void)request_size;
}

struct fixture {
	struct slice_method methods[3];
	struct slice_dependency deps[2];
	const char *counters[2];
	struct slice_def def;
	struct slice_descriptor out;
	struct slice_error err;
};

static int
setup(void **state)
{
	static struct fixture f;
	static const struct slice_method methods[3] = {
		{.name = "add", .handler = noop_handler},
		{.name = "get", .handler = noop_handler, .is_idempotent = 1},
		{.name = "_internal", .handler = noop_handler},
	};
	static const struct slice_dependency deps[2] = {
		{.name = "org.example:greeter", .pattern = "^1.0.0"},
		{.name = "org.example:store", .pattern = "[1.0.0,2.0.0)"},
	};

	memset(&f, 0, sizeof(f));
	memcpy(f.methods, methods, sizeof(methods));
	memcpy(f.deps, deps, sizeof(deps));
	f.counters[0] = "adds";
	f.counters[1] = "gets";
	f.def = (struct slice_def){
		SLICE_DEF_HEADER,        .group = "org.example", .artifact = "counter-service",
		.version = "1.2.0-rc.1", .methods = f.methods,   .method_count = 3,
		.dependencies = f.deps,  .dependency_count = 2,  .counter_names = f.counters,
		.counter_count = 2,      .arena_size = 4096,
	};
	*state = &f;
	return 0;
}

/* Runs the check and asserts it fails with code and a reason containing `words`. */
static void
assert_refused(struct fixture *f, int code, const char *words)
{
	assert_int_equal(slice_descriptor_check(&f->def, 1u << 20, &f->out, &f->err), code);
	assert_int_equal(f->err.code, code);
	if (strstr(f->err.text, words) == NULL) {
		fail_msg("reason \"%s\" lacks \"%s\"", f->err.text, words);
	}
}

static void
test_descriptor_accepts_a_service_slice_and_copies_it(void **state)
{
	struct fixture *f = *state;
	uint32_t index = 99;

	assert_int_equal(slice_descriptor_check(&f->def, 1u << 20, &f->out, &f->err), 0);
	assert_string_equal(f->out.coord.name.group, "org.example");
	assert_string_equal(f->out.coord.name.artifact, "counter-service");
	assert_int_equal(f->out.coord.version.minor, 2);
	assert_string_equal(f->out.coord.version.qualifier, "rc.1");
	assert_int_equal(f->out.method_count, 3);
	assert_string_equal(f->out.method_names[2], "_internal");
	assert_int_equal(f->out.method_is_idempotent[1], 1);
	assert_int_equal(f->out.dependency_count, 2);
	assert_string_equal(f->out.dependency_names[1].artifact, "store");
	assert_int_equal(f->out.counter_count, 2);
	assert_int_equal(f->out.arena_size, 4096);
	assert_int_equal(slice_descriptor_method(&f->out, "get", &index), 0);
	assert_int_equal(index, 1);
	assert_int_equal(slice_descriptor_method(&f->out, "put", &index), -ENOSYS);
	/* NULL names the only method of a lean slice; a service slice has several. */
	assert_int_equal(slice_descriptor_method(&f->out, NULL, &index), -ENOSYS);
}

static void
test_descriptor_lean_slice_answers_to_null_method(void **state)
{
	struct fixture *f = *state;
	uint32_t index = 99;

	f->def.method_count = 1;
	f->def.dependency_count = 0;
	f->def.dependencies = NULL;
	f->def.counter_count = 0;
	f->def.counter_names = NULL;
	f->def.arena_size = 0;
	assert_int_equal(slice_descriptor_check(&f->def, 0, &f->out, &f->err), 0);
	assert_int_equal(slice_descriptor_method(&f->out, NULL, &index), 0);
	assert_int_equal(index, 0);
}

static void
test_descriptor_refuses_null(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(slice_descriptor_check(NULL, 0, &f->out, &f->err), -EINVAL);
	assert_non_null(strstr(f->err.text, "NULL"));
}

static void
test_descriptor_refuses_another_abi_before_reading_pointers(void **state)
{
	struct fixture *f = *state;

	f->def.abi_version = SLICE_ABI_VERSION + 1;
	/* Garbage pointers prove nothing else is read once the version differs. */
	f->def.methods = (const struct slice_method *)(uintptr_t)8;
	f->def.group = (const char *)(uintptr_t)8;
	assert_refused(f, -BASE_ERR_VERSION, "slice ABI 2");
}

static void
test_descriptor_refuses_each_mismatched_size(void **state)
{
	struct fixture *f = *state;

	f->def.def_size--;
	assert_refused(f, -BASE_ERR_VERSION, "struct sizes");
	f->def.def_size++;
	f->def.method_size += 8;
	assert_refused(f, -BASE_ERR_VERSION, "struct sizes");
	f->def.method_size -= 8;
	f->def.dependency_size = 4;
	assert_refused(f, -BASE_ERR_VERSION, "struct sizes");
	f->def.dependency_size = sizeof(struct slice_dependency);
	f->def.host_size = sizeof(struct slice_host) + 8;
	assert_refused(f, -BASE_ERR_VERSION, "host table");
	/* A slice built against an older, smaller host table is fine. */
	f->def.host_size = sizeof(struct slice_host) - 8;
	assert_int_equal(slice_descriptor_check(&f->def, 1u << 20, &f->out, &f->err), 0);
}

static void
test_descriptor_refuses_bad_coordinates(void **state)
{
	struct fixture *f = *state;
	static char unterminated[SLICE_GROUP_MAX + 8];

	f->def.version = "1.2";
	assert_refused(f, -EINVAL, "coordinates \"org.example:counter-service:1.2\"");
	f->def.version = "1.2.0";
	f->def.group = "Org.example";
	assert_refused(f, -EINVAL, "coordinates");
	f->def.group = NULL;
	assert_refused(f, -EINVAL, "coordinates missing");
	memset(unterminated, 'a', sizeof(unterminated));
	f->def.group = unterminated;
	assert_refused(f, -EINVAL, "too long");
}

static void
test_descriptor_refuses_bad_methods(void **state)
{
	struct fixture *f = *state;

	f->def.method_count = 0;
	assert_refused(f, -EINVAL, "method count 0");
	f->def.method_count = SLICE_METHODS_MAX + 1;
	assert_refused(f, -EINVAL, "method count");
	f->def.method_count = 3;
	f->methods[1].name = "Get";
	assert_refused(f, -EINVAL, "method 1 has an invalid name");
	f->methods[1].name = "add";
	assert_refused(f, -EINVAL, "method add defined twice");
	f->methods[1].name = "get";
	f->methods[2].handler = NULL;
	assert_refused(f, -EINVAL, "method _internal: no handler");
	f->methods[2].handler = noop_handler;
	f->methods[2].is_idempotent = 2;
	assert_refused(f, -EINVAL, "bad flags");
	f->methods[2].is_idempotent = 0;
	f->methods[2].reserved = 1;
	assert_refused(f, -EINVAL, "bad flags");
}

static void
test_descriptor_refuses_bad_dependencies_counters_and_arena(void **state)
{
	struct fixture *f = *state;

	f->deps[1].pattern = "1.0";
	assert_refused(f, -EINVAL, "dependency org.example:store pattern \"1.0\"");
	f->deps[1].pattern = "^1.0.0";
	f->deps[0].name = "greeter";
	assert_refused(f, -EINVAL, "dependency 0 \"greeter\"");
	f->deps[0].name = "org.example:greeter";
	f->def.dependencies = NULL;
	assert_refused(f, -EINVAL, "list missing");
	f->def.dependencies = f->deps;
	f->counters[1] = "gets per second";
	assert_refused(f, -EINVAL, "counter 1 has an invalid name");
	f->counters[1] = "gets";
	f->def.counter_count = SLICE_COUNTERS_MAX + 1;
	assert_refused(f, -EINVAL, "counter count");
	f->def.counter_count = 2;
	f->def.arena_size = (1u << 20) + 1;
	assert_refused(f, -EFBIG, "arena of 1048577 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_descriptor_accepts_a_service_slice_and_copies_it,
				       setup),
		cmocka_unit_test_setup(test_descriptor_lean_slice_answers_to_null_method, setup),
		cmocka_unit_test_setup(test_descriptor_refuses_null, setup),
		cmocka_unit_test_setup(test_descriptor_refuses_another_abi_before_reading_pointers,
				       setup),
		cmocka_unit_test_setup(test_descriptor_refuses_each_mismatched_size, setup),
		cmocka_unit_test_setup(test_descriptor_refuses_bad_coordinates, setup),
		cmocka_unit_test_setup(test_descriptor_refuses_bad_methods, setup),
		cmocka_unit_test_setup(test_descriptor_refuses_bad_dependencies_counters_and_arena,
				       setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
