// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory objects across processes.  An object reaches the memory of
 * the process that created it (its owner), whichever process holds the fd:
 * one inherited over fork(), one received over a unix socket (SCM_RIGHTS).
 * When the owner exits, user-backed memory fails with ESRCH while allocated
 * memory lives on; memory munmapped behind the object's back fails cleanly.
 *
 * Helper processes report through their exit status (0 = all good, else the
 * number of the check that failed): harness asserts must not run in them.
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "guestmem_utils.h"

/* Two kernel pages (HPAGE), so that the second can be munmapped alone. */
#define BUF_SIZE (2 * HPAGE)

FIXTURE(owner) {
	struct gm_test_resources before;
	uint8_t *buf;           /* MAP_PRIVATE: a fork child gets its own copy */
	struct gm *gm;
};

FIXTURE_SETUP(owner)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	test_gm_ok(gm_new("xproc", self->buf, BUF_SIZE, &self->gm));
}

FIXTURE_TEARDOWN(owner)
{
	gm_release(self->gm);
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, BUF_SIZE);
	gm_test_expect_no_leaks(self->before);
}

/*
 * The child's copy of the buffer is private after fork(), so what the child
 * writes through the object landing in the parent proves the object acts on
 * the owner's address space, not the caller's.
 */
TEST_F(owner, a_fork_child_reads_and_writes_the_parents_memory)
{
	pid_t pid;

	memcpy(self->buf, "parent", 7);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char got[7] = { 0 };

		if (gm_read_at(self->gm, 0, got, 7) || memcmp(got, "parent", 7))
			_exit(1);
		memcpy(self->buf, "cowcow", 7);         /* the child's own copy */
		if (gm_read_at(self->gm, 0, got, 7) || memcmp(got, "parent", 7))
			_exit(2);
		if (gm_write_at(self->gm, 0x1ff0, "child", 6))
			_exit(3);
		if (self->buf[0x1ff0] != 0)             /* not in the child's copy */
			_exit(4);
		_exit(0);
	}
	EXPECT_EQ(0, gm_test_wait(pid));
	EXPECT_EQ(0, memcmp(self->buf + 0x1ff0, "child", 6));
	EXPECT_EQ(0, memcmp(self->buf, "parent", 7));
}

/*
 * The receiver is forked before the object exists, so it never inherited
 * the fd: all it has is what came over the socket.
 */
TEST_F(owner, an_fd_sent_over_a_unix_socket_reaches_the_senders_memory)
{
	int sv[2], fd;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	gm_release(self->gm);           /* remade below, after the fork */
	self->gm = NULL;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gm *gm;
		char got[6] = { 0 }, desc[512], msg[128];

		close(sv[0]);
		if (gm_test_recv_fds(sv[1], &fd, 1))
			_exit(1);
		if (gm_from_fd(fd, &gm))
			_exit(2);
		close(fd);
		if (gm_read_at(gm, 0x10, got, 6) || memcmp(got, "hello", 6))
			_exit(3);
		if (gm_write_at(gm, 0x20, "reply", 6))
			_exit(4);
		/* The name came with the object; the mapping did not. */
		if (gm_format(gm, desc, sizeof(desc)) < 0 || !strstr(desc, "\"xproc\""))
			_exit(5);
		snprintf(msg, sizeof(msg),
			 "guest memory 'xproc': read error: failed to access 0x%lx-0x%lx",
			 (unsigned long)BUF_SIZE, (unsigned long)BUF_SIZE + 1);
		if (gm_read_at(gm, BUF_SIZE, got, 1) != -ERANGE ||
		    strcmp(gm_last_error()->message, msg))
			_exit(6);
		gm_release(gm);
		_exit(0);
	}
	close(sv[1]);
	test_gm_ok(gm_new("xproc", self->buf, BUF_SIZE, &self->gm));
	memcpy(self->buf + 0x10, "hello", 6);
	fd = gm_fd(self->gm);
	ASSERT_EQ(0, gm_test_send_fds(sv[0], &fd, 1));
	EXPECT_EQ(0, gm_test_wait(pid));
	EXPECT_EQ(0, memcmp(self->buf + 0x20, "reply", 6));
	close(sv[0]);
}

TEST(allocated_memory_sent_over_a_socket_is_mapped_by_the_receiver)
{
	struct gm_test_resources before;
	uint8_t *va;
	struct gm *gm;
	int sv[2], fd;
	size_t len;
	pid_t pid;

	gm_require_module();
	before = gm_test_snapshot();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gm *got;
		uint8_t *m;
		size_t l;

		close(sv[0]);
		if (gm_test_recv_fds(sv[1], &fd, 1) || gm_from_fd(fd, &got))
			_exit(1);
		close(fd);
		if (gm_full_mapping(got, (void **)&m, &l) || l != 3 * SZ_4K)
			_exit(2);
		if (m[0] != 0xaa || m[l - 1] != 0xaa)
			_exit(3);
		memset(m + SZ_4K, 0xbb, SZ_4K);
		gm_release(got);
		_exit(0);
	}
	close(sv[1]);
	test_gm_ok(gm_allocate(3 * SZ_4K, &gm));
	test_gm_ok(gm_full_mapping(gm, (void **)&va, &len));
	memset(va, 0xaa, len);
	fd = gm_fd(gm);
	ASSERT_EQ(0, gm_test_send_fds(sv[0], &fd, 1));
	EXPECT_EQ(0, gm_test_wait(pid));
	EXPECT_EQ(0xaa, va[SZ_4K - 1]);
	EXPECT_EQ(0xbb, va[SZ_4K]);
	EXPECT_EQ(0xbb, va[2 * SZ_4K - 1]);
	EXPECT_EQ(0xaa, va[2 * SZ_4K]);
	gm_release(gm);
	close(sv[0]);
	gm_test_expect_no_leaks(before);
}

/*
 * The owner creates a user-backed and an allocated object, sends both fds,
 * and exits when told.  Before that, both work from here; after it, the
 * user-backed one fails with ESRCH and the allocated one keeps its bytes.
 */
TEST(after_the_owner_exits_user_memory_fails_and_allocated_memory_lives_on)
{
	struct gm_test_resources before;
	struct gm *user, *heap;
	int sv[2], fds[2];
	uint8_t got[8];
	char go = 'x';
	pid_t pid;

	gm_require_module();
	before = gm_test_snapshot();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint8_t *mem = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct gm *u, *h;

		close(sv[0]);
		if (mem == MAP_FAILED)
			_exit(1);
		memcpy(mem, "owner's", 8);
		if (gm_new("owner", mem, BUF_SIZE, &u) || gm_allocate(SZ_4K, &h))
			_exit(2);
		if (gm_write_at(h, 0, "heap mem", 8))
			_exit(3);
		fds[0] = gm_fd(u);
		fds[1] = gm_fd(h);
		if (gm_test_send_fds(sv[1], fds, 2))
			_exit(4);
		/* Exit (with the objects still open here) when the parent says so. */
		if (read(sv[1], &go, 1) != 1)
			_exit(5);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, gm_test_recv_fds(sv[0], fds, 2));
	test_gm_ok(gm_from_fd(fds[0], &user));
	test_gm_ok(gm_from_fd(fds[1], &heap));
	close(fds[0]);
	close(fds[1]);

	test_gm_ok(gm_read_at(user, 0, got, 8));
	EXPECT_EQ(0, memcmp(got, "owner's", 8));

	ASSERT_EQ(1, write(sv[0], &go, 1));
	EXPECT_EQ(0, gm_test_wait(pid));

	test_gm_err(ESRCH, GM_ERROR_OTHER,
		    "guest memory 'owner': read error: failed to access 0x0-0x8",
		    gm_read_at(user, 0, got, 8));
	EXPECT_STREQ("the process that created the memory has exited", gm_last_error()->cause);
	test_gm_err(ESRCH, GM_ERROR_OTHER,
		    "guest memory 'owner': write error: failed to access 0x10-0x11",
		    gm_write_at(user, 0x10, got, 1));
	test_gm_fails(ESRCH, GM_ERROR_OTHER, gm_fill_at(user, 0, 0, 1));
	/* Out of range is still out of range: the address is checked first. */
	test_gm_fails(ERANGE, GM_ERROR_OUT_OF_RANGE, gm_read_at(user, BUF_SIZE, got, 1));

	test_gm_ok(gm_read_at(heap, 0, got, 8));
	EXPECT_EQ(0, memcmp(got, "heap mem", 8));

	gm_release(user);
	gm_release(heap);
	close(sv[0]);
	gm_test_expect_no_leaks(before);
}

/*
 * Munmap behind the object's back: the object keeps no mapping of its own,
 * so the next access finds nothing there and says where.  What goes is the
 * second kernel page, at gpa @hp (0x1000 with 4 KiB pages).
 */
TEST_F(owner, munmap_of_the_backing_makes_accesses_fail_at_the_gpa)
{
	const unsigned long hp = HPAGE;
	char read_msg[128], write_msg[128];
	uint8_t got[4];

	snprintf(read_msg, sizeof(read_msg),
		 "guest memory 'xproc': read error: failed to access 0x%lx-0x%lx at 0x%lx",
		 hp - 2, hp + 2, hp);
	snprintf(write_msg, sizeof(write_msg),
		 "guest memory 'xproc': write error: failed to access 0x%lx-0x%lx",
		 hp + 0x800, hp + 0x804);
	memset(self->buf, 0x11, BUF_SIZE);
	test_gm_ok(gm_read_at(self->gm, hp - 2, got, 4));
	ASSERT_EQ(0, munmap(self->buf + hp, hp));

	test_gm_ok(gm_read_at(self->gm, hp - 4, got, 4));
	test_gm_err(EFAULT, GM_ERROR_OTHER, read_msg, gm_read_at(self->gm, hp - 2, got, 4));
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
	test_gm_err(EFAULT, GM_ERROR_OTHER, write_msg,
		    gm_write_plain(self->gm, hp + 0x800, got, 4));
	EXPECT_FALSE(gm_check_gpa_readable(self->gm, hp));
	EXPECT_TRUE(gm_check_gpa_readable(self->gm, hp - 1));

	/* Mapping something new there is what the object sees next. */
	ASSERT_EQ(self->buf + hp, mmap(self->buf + hp, hp, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	test_gm_ok(gm_read_at(self->gm, hp - 2, got, 4));
	EXPECT_EQ(0x11, got[1]);
	EXPECT_EQ(0, got[2]);
}

TEST_HARNESS_MAIN
