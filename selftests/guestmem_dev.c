// SPDX-License-Identifier: GPL-2.0
/*
 * The character device itself: it exists, opens, and refuses what it does
 * not know.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"

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

TEST_HARNESS_MAIN
