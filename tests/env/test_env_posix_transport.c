/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the POSIX env's UDP transport delivers datagrams between peers with the sender's node
 * id taken from the peer table, refuses what the seam says it refuses (-EMSGSIZE,
 * -EHOSTUNREACH), and drops and counts datagrams from strangers and datagrams too large for the
 * caller's buffer. Method: two envs on 127.0.0.1 ephemeral ports plus a plain UDP socket as the
 * stranger; every wait is poll() on the env's socket with a timeout, never a sleep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "base/alloc.h"
#include "base/err.h"
#include "env/env.h"
#include "env/env_posix.h"
#include "env_test.h"

/* Generous: loopback delivers in microseconds, but CI machines stall. */
#define WAIT_MS 5000

struct fixture {
	char dir[ENV_TEST_PATH_MAX];
	char dir_a[ENV_TEST_PATH_MAX];
	char dir_b[ENV_TEST_PATH_MAX];
	struct env_posix *a; /* node 1 */
	struct env_posix *b; /* node 2 */
	const struct env_ops *oa;
	const struct env_ops *ob;
	long live_before;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct env_posix_config cfg;
	struct env_posix_addr addr;

	assert_non_null(f);
	f->live_before = base_alloc_live();
	env_test_dir_make(f->dir, sizeof(f->dir));
	env_test_path_join(f->dir_a, sizeof(f->dir_a), f->dir, "a");
	env_test_path_join(f->dir_b, sizeof(f->dir_b), f->dir, "b");
	env_test_config(&cfg, 1, f->dir_a);
	assert_int_equal(env_posix_create(&cfg, &f->a), 0);
	env_test_config(&cfg, 2, f->dir_b);
	assert_int_equal(env_posix_create(&cfg, &f->b), 0);
	/* Peers learn each other's ephemeral ports only after both have bound. */
	addr = env_test_addr_of(f->b);
	assert_int_equal(env_posix_set_peer(f->a, 2, &addr), 0);
	addr = env_test_addr_of(f->a);
	assert_int_equal(env_posix_set_peer(f->b, 1, &addr), 0);
	f->oa = env_posix_ops(f->a);
	f->ob = env_posix_ops(f->b);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	env_posix_destroy(f->a);
	env_posix_destroy(f->b);
	assert_int_equal(base_alloc_live(), f->live_before);
	env_test_dir_remove(f->dir);
	free(f);
	return 0;
}

/* Blocks in poll() until e's socket is readable (fails the test after WAIT_MS). */
static void
wait_readable(const struct env_posix *e)
{
	struct pollfd p = {.fd = env_posix_fd(e), .events = POLLIN};

	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_true(p.revents & POLLIN);
}

/* Waits for the next datagram and checks that it came from `from` with exactly `text`. */
static void
assert_receives(const struct env_posix *e, uint32_t from, const char *text)
{
	const struct env_ops *ops = env_posix_ops(e);
	uint8_t buf[ENV_MSG_MAX];
	uint32_t peer = 0;
	size_t size = 0;

	wait_readable(e);
	assert_int_equal(ops->recv(ops->ctx, &peer, buf, sizeof(buf), &size), 0);
	assert_int_equal(peer, from);
	assert_int_equal(size, strlen(text));
	assert_memory_equal(buf, text, size);
}

static void
assert_nothing_pending(const struct env_posix *e)
{
	const struct env_ops *ops = env_posix_ops(e);
	uint8_t buf[16];
	uint32_t peer;
	size_t size;

	assert_int_equal(ops->recv(ops->ctx, &peer, buf, sizeof(buf), &size), -EAGAIN);
}

static int
send_text(const struct env_ops *ops, uint32_t peer, const char *text)
{
	return ops->send(ops->ctx, peer, (const uint8_t *)text, strlen(text));
}

/* A plain UDP socket on 127.0.0.1 that no env knows about. */
static int
stranger_open(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (const struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
stranger_send(int fd, const struct env_posix *to, const char *text)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(env_posix_port(to))};
	ssize_t n = sendto(fd, text, strlen(text), 0, (const struct sockaddr *)&sa, sizeof(sa));

	assert_int_equal(n, (ssize_t)strlen(text));
}

static uint16_t
stranger_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

static void
test_env_posix_datagrams_flow_both_ways_with_the_sender_peer_id(void **state)
{
	struct fixture *f = *state;

	assert_true(env_posix_port(f->a) != 0);
	assert_true(env_posix_port(f->b) != 0);
	assert_true(env_posix_port(f->a) != env_posix_port(f->b));
	assert_int_equal(send_text(f->oa, 2, "hello from a"), 0);
	assert_receives(f->b, 1, "hello from a");
	assert_int_equal(send_text(f->ob, 1, "hello from b"), 0);
	assert_receives(f->a, 2, "hello from b");
	assert_nothing_pending(f->a);
	assert_nothing_pending(f->b);
}

static void
test_env_posix_recv_with_nothing_pending_is_eagain(void **state)
{
	struct fixture *f = *state;

	assert_nothing_pending(f->a);
}

static void
test_env_posix_empty_and_largest_datagrams_arrive_intact(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[ENV_MSG_MAX];
	static uint8_t got[ENV_MSG_MAX];
	uint32_t peer = 0;
	size_t size = 1;

	for (size_t i = 0; i < sizeof(big); i++) {
		big[i] = (uint8_t)(i * 7u + 3u);
	}
	assert_int_equal(f->oa->send(f->oa->ctx, 2, NULL, 0), 0);
	wait_readable(f->b);
	assert_int_equal(f->ob->recv(f->ob->ctx, &peer, got, sizeof(got), &size), 0);
	assert_int_equal(peer, 1);
	assert_int_equal(size, 0);
	assert_int_equal(f->oa->send(f->oa->ctx, 2, big, sizeof(big)), 0);
	wait_readable(f->b);
	assert_int_equal(f->ob->recv(f->ob->ctx, &peer, got, sizeof(got), &size), 0);
	assert_int_equal(size, ENV_MSG_MAX);
	assert_memory_equal(got, big, sizeof(big));
}

static void
test_env_posix_send_over_msg_max_is_emsgsize_and_sends_nothing(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[ENV_MSG_MAX + 1];

	assert_int_equal(f->oa->send(f->oa->ctx, 2, big, sizeof(big)), -EMSGSIZE);
	/* Nothing left the socket: the next datagram b sees is the marker. */
	assert_int_equal(send_text(f->oa, 2, "marker"), 0);
	assert_receives(f->b, 1, "marker");
	assert_nothing_pending(f->b);
}

static void
test_env_posix_send_to_unknown_peer_is_ehostunreach(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_text(f->oa, 99, "x"), -EHOSTUNREACH);
	assert_int_equal(send_text(f->oa, 1, "x"), -EHOSTUNREACH); /* itself: not in its table */
}

static void
test_env_posix_datagram_from_unknown_address_is_dropped_and_counted(void **state)
{
	struct fixture *f = *state;
	struct env_posix_stats st;
	int fd = stranger_open();

	stranger_send(fd, f->a, "who am i");
	wait_readable(f->a);
	assert_nothing_pending(f->a);
	env_posix_stats_get(f->a, &st);
	assert_int_equal(st.recv_unknown_count, 1);
	/* A known peer's datagram behind a stranger's is still delivered. */
	stranger_send(fd, f->a, "again");
	assert_int_equal(send_text(f->ob, 1, "from b"), 0);
	assert_receives(f->a, 2, "from b");
	env_posix_stats_get(f->a, &st);
	assert_int_equal(st.recv_unknown_count, 2);
	assert_int_equal(close(fd), 0);
}

/*
 * One recv call drops at most ENV_POSIX_RECV_DROP_BURST strangers' datagrams, so a flood cannot
 * pin the caller; the known peer's datagram sent after the flood still arrives.
 */
static void
test_env_posix_recv_drops_a_bounded_number_of_strangers_per_call(void **state)
{
	struct fixture *f = *state;
	const unsigned flood = ENV_POSIX_RECV_DROP_BURST + 1;
	struct env_posix_stats st;
	uint8_t buf[64];
	uint32_t peer = 0;
	size_t size = 0;
	uint64_t before = 0;
	int fd = stranger_open();
	int rc = -EAGAIN;
	int eagain_count = 0;

	for (unsigned i = 0; i < flood; i++) {
		stranger_send(fd, f->a, "flood");
	}
	assert_int_equal(send_text(f->ob, 1, "real"), 0);
	while (rc == -EAGAIN) {
		wait_readable(f->a);
		rc = f->oa->recv(f->oa->ctx, &peer, buf, sizeof(buf), &size);
		env_posix_stats_get(f->a, &st);
		assert_true(st.recv_unknown_count - before <= ENV_POSIX_RECV_DROP_BURST);
		before = st.recv_unknown_count;
		eagain_count += rc == -EAGAIN;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(peer, 2);
	assert_int_equal(st.recv_unknown_count, flood);
	assert_true(eagain_count >= 1);
	assert_int_equal(close(fd), 0);
}

static void
test_env_posix_datagram_larger_than_the_buffer_is_emsgsize_and_dropped(void **state)
{
	struct fixture *f = *state;
	struct env_posix_stats st;
	uint8_t small[4];
	uint32_t peer;
	size_t size;

	assert_int_equal(send_text(f->oa, 2, "too long for four bytes"), 0);
	wait_readable(f->b);
	assert_int_equal(f->ob->recv(f->ob->ctx, &peer, small, sizeof(small), &size), -EMSGSIZE);
	env_posix_stats_get(f->b, &st);
	assert_int_equal(st.recv_too_big_count, 1);
	assert_nothing_pending(f->b);
}

static void
test_env_posix_set_peer_moves_an_existing_node_to_a_new_address(void **state)
{
	struct fixture *f = *state;
	struct env_posix_addr addr = {.ipv4 = env_posix_ipv4(127, 0, 0, 1)};
	char buf[16];
	int fd = stranger_open();
	struct pollfd p = {.fd = fd, .events = POLLIN};

	addr.port = stranger_port(fd);
	assert_int_equal(env_posix_set_peer(f->a, 2, &addr), 0);
	assert_int_equal(send_text(f->oa, 2, "moved"), 0);
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 5);
	assert_memory_equal(buf, "moved", 5);
	/* b's real address is now unknown to a, so b's datagrams are strangers'. */
	assert_int_equal(send_text(f->ob, 1, "lost"), 0);
	wait_readable(f->a);
	assert_nothing_pending(f->a);
	assert_int_equal(close(fd), 0);
}

static void
test_env_posix_set_peer_rejects_bad_duplicate_and_excess_peers(void **state)
{
	struct fixture *f = *state;
	struct env_posix_addr addr = env_test_addr_of(f->b);
	struct env_posix_addr zero_port = {.ipv4 = env_posix_ipv4(127, 0, 0, 1), .port = 0};
	struct env_posix_addr zero_ip = {.ipv4 = 0, .port = 9};

	assert_int_equal(env_posix_set_peer(f->a, 3, &zero_port), -EINVAL);
	assert_int_equal(env_posix_set_peer(f->a, 3, &zero_ip), -EINVAL);
	/* Node 2 already owns b's address; a second id there would make recv ambiguous. */
	assert_int_equal(env_posix_set_peer(f->a, 3, &addr), -EEXIST);
	/* Fill the table: a already has node 2, so ENV_POSIX_PEERS_MAX - 1 more fit. */
	for (uint32_t id = 100; id < 100 + ENV_POSIX_PEERS_MAX - 1; id++) {
		struct env_posix_addr other = {.ipv4 = env_posix_ipv4(127, 0, 0, 2),
					       .port = (uint16_t)id};

		assert_int_equal(env_posix_set_peer(f->a, id, &other), 0);
	}
	addr.port = 7;
	assert_int_equal(env_posix_set_peer(f->a, 3, &addr), -ENOBUFS);
	/* Moving a known node still works in a full table. */
	assert_int_equal(env_posix_set_peer(f->a, 100, &addr), 0);
	/* The original mapping is intact. */
	assert_int_equal(send_text(f->oa, 2, "still here"), 0);
	assert_receives(f->b, 1, "still here");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_env_posix_datagrams_flow_both_ways_with_the_sender_peer_id, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_env_posix_recv_with_nothing_pending_is_eagain,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_empty_and_largest_datagrams_arrive_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_send_over_msg_max_is_emsgsize_and_sends_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_env_posix_send_to_unknown_peer_is_ehostunreach,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_datagram_from_unknown_address_is_dropped_and_counted, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_recv_drops_a_bounded_number_of_strangers_per_call, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_datagram_larger_than_the_buffer_is_emsgsize_and_dropped,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_set_peer_moves_an_existing_node_to_a_new_address, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_set_peer_rejects_bad_duplicate_and_excess_peers, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
