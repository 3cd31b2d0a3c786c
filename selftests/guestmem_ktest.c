// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel API, proven by a kernel consumer: guestmem_ktest.ko (built
 * next to guestmem.ko) is loaded, handed object fds, and reads, writes and
 * locks guest memory through guestmem's exported functions; the bytes are
 * checked here with libguestmem.  The module is unloaded at the end, and
 * guestmem's own unload rules (refused while objects exist) are checked
 * from the outside.
 */
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "guestmem_utils.h"
#include "../kmod/test/guestmem_ktest.h"

#define KTEST_KO	"/lib/modules/guestmem_ktest.ko"
#define KTEST_DEV	"/dev/guestmem_ktest"
/*
 * The fixture's object: 8 kernel pages (32 KiB with 4 KiB pages), so that
 * a kernel-access lock's kernel pages lie wholly inside it.
 */
#define MEM_SIZE	(8 * HPAGE)

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i);
}

/* Load the test module (if it is not loaded yet): 0, or -errno. */
static int ktest_load(void)
{
	int fd = open(KTEST_KO, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
		rc = -errno;
	close(fd);
	return rc;
}

static int ktest_unload(void)
{
	return syscall(SYS_delete_module, "guestmem_ktest", O_NONBLOCK) ?
		-errno : 0;
}

static int ktest_run(int dev, struct gm_ktest_cmd *cmd)
{
	return ioctl(dev, GM_KTEST_RUN, cmd) ? -errno : 0;
}

FIXTURE(ktest) {
	int dev;
	uint8_t *mem;
	struct gm *gm;
};

FIXTURE_VARIANT(ktest) {
	uint32_t flags;
};

/* Each test runs in the caller's context and from a kernel worker. */
FIXTURE_VARIANT_ADD(ktest, caller) {
	.flags = 0,
};

FIXTURE_VARIANT_ADD(ktest, worker) {
	.flags = GM_KTEST_IN_WORKER,
};

FIXTURE_SETUP(ktest)
{
	int rc;

	self->dev = -1;
	self->gm = NULL;
	self->mem = MAP_FAILED;
	if (access("/dev/guestmem", F_OK))
		SKIP(return, "guestmem module not loaded");
	rc = ktest_load();
	if (rc == -ENOENT)
		SKIP(return, "no %s", KTEST_KO);
	ASSERT_EQ(0, rc);
	self->dev = open(KTEST_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	ASSERT_EQ(0, gm_new("ktest", self->mem, MEM_SIZE, &self->gm));
}

FIXTURE_TEARDOWN(ktest)
{
	gm_release(self->gm);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM_SIZE);
	if (self->dev >= 0) {
		close(self->dev);
		/* Leave nothing behind: the runner unloads guestmem last. */
		EXPECT_EQ(0, ktest_unload());
	}
}

TEST_F(ktest, kernel_writes_and_user_reads_back)
{
	struct gm_ktest_cmd cmd = {
		.op = GM_KTEST_WRITE_PATTERN, .flags = variant->flags,
		.fd = gm_fd(self->gm), .seed = 7, .gpa = PAGE - 100,
		.len = 3 * PAGE,
	};
	uint8_t want[3 * PAGE], got[3 * PAGE];

	ASSERT_EQ(0, ktest_run(self->dev, &cmd));
	fill(want, sizeof(want), 7);
	ASSERT_EQ(0, gm_read_at(self->gm, PAGE - 100, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	/* The owner's own mapping holds the bytes. */
	EXPECT_EQ(0, memcmp(want, self->mem + PAGE - 100, sizeof(want)));
}

TEST_F(ktest, user_writes_and_kernel_checks)
{
	struct gm_ktest_cmd cmd = {
		.op = GM_KTEST_CHECK_PATTERN, .flags = variant->flags,
		.fd = gm_fd(self->gm), .seed = 99, .gpa = 5 * PAGE + 1,
		.len = PAGE,
	};
	uint8_t buf[PAGE];

	fill(buf, sizeof(buf), 99);
	ASSERT_EQ(0, gm_write_at(self->gm, 5 * PAGE + 1, buf, sizeof(buf)));
	EXPECT_EQ(0, ktest_run(self->dev, &cmd));
	cmd.seed = 98;
	EXPECT_EQ(-EBADMSG, ktest_run(self->dev, &cmd));
}

/* Past the end: -ERANGE; a read-only (kernel) page: -EFAULT; no object: -EINVAL. */
TEST_F(ktest, kernel_errors_follow_the_address_rules)
{
	struct gm_ktest_cmd cmd = {
		.op = GM_KTEST_WRITE_PATTERN, .flags = variant->flags,
		.fd = gm_fd(self->gm), .gpa = MEM_SIZE - 1, .len = 2,
	};

	EXPECT_EQ(-ERANGE, ktest_run(self->dev, &cmd));
	ASSERT_EQ(0, mprotect(self->mem + 2 * HPAGE, HPAGE, PROT_READ));
	cmd.gpa = 2 * HPAGE;
	EXPECT_EQ(-EFAULT, ktest_run(self->dev, &cmd));
	cmd.fd = self->dev;
	EXPECT_EQ(-EINVAL, ktest_run(self->dev, &cmd));
}

/*
 * The lock holds the gpns of [gpa, gpa + 2 pages): the last gpn of kernel
 * page 2 and the next two, so that with kernel pages over 4 KiB the
 * kernel mapping runs from one kernel page into the next.
 */
TEST_F(ktest, kernel_lock_maps_the_pages_for_the_kernel)
{
	const uint64_t gpa = 3 * HPAGE - PAGE + 10;
	struct gm_ktest_cmd cmd = {
		.op = GM_KTEST_LOCK_WRITE, .flags = variant->flags,
		.fd = gm_fd(self->gm), .seed = 3, .gpa = gpa,
		.len = 2 * PAGE,
	};
	uint8_t want[2 * PAGE], got[2 * PAGE];

	ASSERT_EQ(0, ktest_run(self->dev, &cmd));
	EXPECT_EQ(3, cmd.out_value);	/* gpns 2, 3 and 4 with 4 KiB pages */
	fill(want, sizeof(want), 3);
	ASSERT_EQ(0, gm_read_at(self->gm, gpa, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	/* The owner's own mapping holds the bytes. */
	EXPECT_EQ(0, memcmp(want, self->mem + gpa, sizeof(want)));

	/* Without an attached device there is no IOVA. */
	cmd.op = GM_KTEST_LOCK_IOVA;
	EXPECT_EQ(-ENOENT, ktest_run(self->dev, &cmd));
}

TEST_F(ktest, kernel_locks_of_allocated_memory)
{
	struct gm_ktest_cmd cmd = {
		.op = GM_KTEST_LOCK_WRITE, .flags = variant->flags,
		.seed = 11, .gpa = 100, .len = PAGE,
	};
	uint8_t want[PAGE], got[PAGE];
	struct gm *heap;

	ASSERT_EQ(0, gm_allocate(2 * PAGE, &heap));
	cmd.fd = gm_fd(heap);
	ASSERT_EQ(0, ktest_run(self->dev, &cmd));
	fill(want, sizeof(want), 11);
	ASSERT_EQ(0, gm_read_at(heap, 100, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	gm_release(heap);
}

/*
 * A consumer that drops its object reference without unlocking leaves its
 * lock to the object: destroying the object releases it, pins and all
 * (review finding L4: such locks used to stay pinned, and the object was
 * freed under them).  The lock is the last gpn of kernel page 0 and the
 * first of kernel page 1 (gpns 0 and 1 with 4 KiB pages): two pins.
 */
TEST_F(ktest, a_lock_the_consumer_forgets_goes_with_the_object)
{
	const uint64_t gpa = HPAGE - PAGE;
	struct gm_ktest_cmd cmd = {
		.op = GM_KTEST_LOCK_FORGET, .flags = variant->flags,
		.fd = gm_fd(self->gm), .gpa = gpa, .len = 2 * PAGE,
	};
	long pinned = gm_test_vmpin_pages();

	ASSERT_LE(0, pinned);
	ASSERT_EQ(0, ktest_run(self->dev, &cmd));
	EXPECT_EQ(2, cmd.out_value);
	EXPECT_EQ(pinned + gm_test_pages_in(self->mem + gpa, 2 * PAGE), gm_test_vmpin_pages());
	gm_release(self->gm);
	self->gm = NULL;
	EXPECT_EQ(pinned, gm_test_vmpin_pages());
}

/*
 * Module references: guestmem cannot go while an object fd exists, nor
 * while its consumer is loaded.  (The runner unloads guestmem at the end
 * and reports that as its own check.)
 */
TEST(guestmem_unload_is_refused_while_in_use)
{
	struct gm *gm;
	int rc;

	if (access("/dev/guestmem", F_OK))
		SKIP(return, "guestmem module not loaded");
	rc = ktest_load();
	if (rc == -ENOENT)
		SKIP(return, "no %s", KTEST_KO);
	ASSERT_EQ(0, rc);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "guestmem", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	ASSERT_EQ(0, ktest_unload());

	ASSERT_EQ(0, gm_empty(&gm));
	EXPECT_EQ(-1, syscall(SYS_delete_module, "guestmem", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	gm_release(gm);
}

TEST_HARNESS_MAIN
