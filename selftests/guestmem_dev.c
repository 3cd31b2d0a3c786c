// SPDX-License-Identifier: GPL-2.0
/*
 * The character device itself: who may open it, and that it refuses what
 * it does not know.
 *
 * Like /dev/kvm, the module makes the node root:root 0660 and the shipped
 * udev rule (udev/60-guestmem.rules) gives it the group "guestmem": only
 * root and that group's members may create guest memory (everything they
 * pin or allocate is then charged to them, see guestmem_accounting.c).
 */
#include <sys/ioctl.h>

#include "guestmem_utils.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* The 6.1 harness still runs the body after a SKIP in the setup. */
#define NEED_DEV() do { if (self->fd < 0) return; } while (0)

TEST_F(dev, unknown_ioctl_is_enotty)
{
	NEED_DEV();
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, reads_and_writes_are_refused)
{
	char c;

	NEED_DEV();
	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, the_node_is_root_owned_and_0660)
{
	struct stat st;

	NEED_DEV();
	ASSERT_EQ(0, stat("/dev/guestmem", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0660, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

/* As @uid, in the device's group or not: 0 if it opens, else errno. */
static int open_as(uid_t uid, bool in_group)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd;

		if (gm_test_become_user(uid, in_group, -1))
			_exit(100);
		fd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
		_exit(fd < 0 ? errno : 0);
	}
	return gm_test_wait(pid);
}

TEST_F(dev, a_user_outside_the_group_is_refused)
{
	NEED_DEV();
	ASSERT_EQ(0, gm_test_grant_device_group());
	EXPECT_EQ(EACCES, open_as(4310, false));
}

static int create_and_lock(void)
{
	static const uint64_t gpn;
	struct gm_locked_pages *lp;
	struct gm *gm;
	void *mem;

	/* A whole kernel page: only then is its gpn lockable. */
	mem = mmap(NULL, HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || gm_new("member", mem, HPAGE, &gm))
		return 1;
	if (gm_write_at(gm, 0, "x", 1) || gm_lock_gpns(gm, false, &gpn, 1, &lp))
		return 2;
	gm_locked_pages_release(lp);
	gm_release(gm);
	return 0;
}

TEST_F(dev, a_member_of_the_group_opens_it_and_uses_guest_memory)
{
	pid_t pid;

	NEED_DEV();
	ASSERT_EQ(0, gm_test_grant_device_group());
	EXPECT_EQ(0, open_as(4311, true));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (gm_test_become_user(4311, true, 16))
			_exit(100);
		_exit(create_and_lock());
	}
	EXPECT_EQ(0, gm_test_wait(pid));
}

TEST_HARNESS_MAIN
