// SPDX-License-Identifier: GPL-2.0
/*
 * 4 KiB gpns on larger kernel pages (issue 14, item 3): on arm64 with
 * 64 KiB pages a gpn is a 4 KiB piece of a kernel page, and GUP, the DMA
 * API and the accounting know only whole pages.  What these tests prove,
 * on every kernel (with 4 KiB pages each kernel page is one gpn, and the
 * same expectations reduce to the 4 KiB ones):
 *
 *  - a lock pins the kernel page that holds a gpn once, however many of
 *    its gpns are listed and in whatever order (VmPin, out_pinned_pages,
 *    and nothing left after unlock);
 *  - a gpn whose kernel page reaches outside the object - before or after
 *    its region, outside a view's window - is "not lockable", with the
 *    failing entry named: a lock never pins or maps memory outside it;
 *  - with a device attached, an entry's IOVA is its page's IOVA plus the
 *    piece's offset, and the device (edu) reads and writes exactly those
 *    bytes;
 *  - an unprivileged user is charged kernel pages, what is really pinned,
 *    up to its RLIMIT_MEMLOCK and no further;
 *  - allocated objects lock every gpn, pinning nothing.
 */
#include <linux/guestmem.h>
#include <sys/ioctl.h>

#include "edu.h"
#include "guestmem_raw.h"
#include "guestmem_utils.h"

#define EDU_BDF		"0000:00:03.0"
#define HPAGES		4       /* kernel pages of the test buffer */

/* The cause and entry a failed GUESTMEM_LOCK_GPNS names. */
static int lock_fault(int obj, const uint64_t *gpns, uint64_t n,
		      struct guestmem_fault *fault)
{
	struct guestmem_lock_gpns out;
	int rc = lock_gpns(obj, gpns, n, 0, NULL, &out);

	*fault = out.out_fault;
	if (!rc)
		unlock_gpns(obj, out.out_lock_id);
	return rc;
}

static long pinned_pages_of(int obj)
{
	struct guestmem_info info;

	return info_of(obj, &info) ? -1 : (long)info.out_pinned_pages;
}

FIXTURE(subpage) {
	struct gm_test_resources before;
	long pinned;            /* VmPin before the test */
	uint8_t *buf;           /* HPAGES kernel pages, page aligned */
	size_t len;
	int dev;
};

FIXTURE_SETUP(subpage)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->len = HPAGES * HPAGE;
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	gm_test_fill_pattern(self->buf, self->len);
	self->dev = open_dev();
	ASSERT_LE(0, self->dev);
	self->pinned = gm_test_vmpin_pages();
	ASSERT_LE(0, self->pinned);
}

FIXTURE_TEARDOWN(subpage)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages()) TH_LOG("pins left behind");
	gm_test_expect_no_leaks(self->before);
}

/*
 * Every gpn of pages 0 and 2, backwards and twice over, and one of page 3:
 * three kernel pages pinned, each once, whatever the order.
 */
TEST_F(subpage, a_lock_pins_each_kernel_page_once_whatever_the_order)
{
	uint64_t sub = SUBPAGES, n = 0, i, *gpns;
	struct guestmem_lock_gpns out;
	struct guestmem_info info;
	uint8_t got[8];
	int obj;

	gpns = calloc(4 * sub + 1, sizeof(*gpns));
	ASSERT_NE(NULL, gpns);
	for (i = sub; i-- > 0;)
		gpns[n++] = i;                  /* page 0, backwards */
	for (i = 0; i < sub; i++) {
		gpns[n++] = 2 * sub + i;        /* page 2, with every gpn */
		gpns[n++] = (2 * sub + i) ^ 1;  /* listed out of order */
	}
	gpns[n++] = 3 * sub + sub / 2;          /* one gpn of page 3 */
	obj = raw_create_user(self->dev, self->buf, self->len, "subpage");
	ASSERT_LE(0, obj);
	ASSERT_EQ(0, lock_gpns(obj, gpns, n, 0, NULL, &out));
	EXPECT_EQ(3, gm_test_pages_of(self->buf, gpns, n));
	EXPECT_EQ(self->pinned + 3, gm_test_vmpin_pages());
	ASSERT_EQ(0, info_of(obj, &info));
	EXPECT_EQ(3, info.out_pinned_pages);
	EXPECT_EQ(n, info.out_locked_pages);
	/* The bytes of a listed piece are the object's, read through it. */
	ASSERT_EQ(0, gm_read(obj, gpns[1] * PAGE + 8, got, 8, NULL));
	EXPECT_EQ(0, memcmp(got, self->buf + gpns[1] * PAGE + 8, 8));
	EXPECT_EQ(0, unlock_gpns(obj, out.out_lock_id));
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	EXPECT_EQ(0, pinned_pages_of(obj));
	close(obj);
	free(gpns);
}

/*
 * A region that starts 4 KiB into a kernel page and ends 4 KiB before the
 * end of another: with larger pages the gpns of those two pages are not
 * lockable (their pages hold memory outside the object), the pages between
 * are; with 4 KiB pages every gpn is.
 */
TEST_F(subpage, a_page_reaching_outside_the_region_is_not_lockable)
{
	uint64_t sub = SUBPAGES, last = (self->len - 2 * PAGE) / PAGE - 1;
	uint64_t first_whole = sub - 1;         /* the first gpn of page 1 */
	uint64_t n = last - first_whole + 1, i, *run;
	struct guestmem_fault fault;
	uint64_t gpns[3];
	uint8_t got[16];
	int obj;

	obj = raw_create_user(self->dev, self->buf + PAGE, self->len - 2 * PAGE,
			      "edges");
	ASSERT_LE(0, obj);

	gpns[0] = first_whole;
	gpns[1] = first_whole + sub - 1;        /* all of page 1 */
	gpns[2] = 0;
	if (sub == 1) {
		EXPECT_EQ(0, lock_fault(obj, gpns, 3, &fault));
		gpns[0] = last;
		EXPECT_EQ(0, lock_fault(obj, gpns, 1, &fault));
		close(obj);
		return;
	}
	EXPECT_EQ(0, lock_fault(obj, gpns, 2, &fault));
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	/* gpn 0 is 4 KiB into page 0: the 4 KiB before it are not ours. */
	EXPECT_EQ(-EFAULT, lock_fault(obj, gpns, 3, &fault));
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_LOCKABLE, fault.cause);
	EXPECT_TRUE(fault.flags & GUESTMEM_FAULT_HAS_INDEX);
	EXPECT_EQ(2, fault.index);
	EXPECT_EQ(0, fault.gpn);
	/* The last gpn's page goes on past the region's end. */
	gpns[2] = last;
	EXPECT_EQ(-EFAULT, lock_fault(obj, gpns, 3, &fault));
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_LOCKABLE, fault.cause);
	EXPECT_EQ(2, fault.index);
	EXPECT_EQ(last, fault.gpn);
	/* A run from a whole page into the last one stops at its first gpn. */
	run = calloc(n, sizeof(*run));
	ASSERT_NE(NULL, run);
	for (i = 0; i < n; i++)
		run[i] = first_whole + i;
	EXPECT_EQ(-EFAULT, lock_fault(obj, run, n, &fault));
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_LOCKABLE, fault.cause);
	EXPECT_EQ((HPAGES - 2) * sub, fault.index);
	free(run);
	/* Nothing stayed pinned on the way, and the kernel path still works. */
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	ASSERT_EQ(0, gm_read(obj, 0, got, 16, NULL));
	EXPECT_EQ(0, memcmp(got, self->buf + PAGE, 16));
	close(obj);
}

/* A view's window is the object too: a page crossing its edge is refused. */
TEST_F(subpage, a_view_locks_only_pages_inside_its_window)
{
	uint64_t sub = SUBPAGES, gpn;
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = HPAGE - PAGE, .len = 2 * HPAGE,
	};
	struct guestmem_lock_gpns out;
	struct guestmem_fault fault;
	int obj;

	obj = raw_create_user(self->dev, self->buf, self->len, "base");
	ASSERT_LE(0, obj);
	ASSERT_EQ(0, gm_raw(obj, GUESTMEM_SUBRANGE, &s));
	/* View gpn 0 is the last piece of page 0: page 0 starts before it. */
	gpn = 0;
	if (sub == 1) {
		EXPECT_EQ(0, lock_fault(s.out_fd, &gpn, 1, &fault));
	} else {
		EXPECT_EQ(-EFAULT, lock_fault(s.out_fd, &gpn, 1, &fault));
		EXPECT_EQ(GUESTMEM_CAUSE_NOT_LOCKABLE, fault.cause);
		/* The last gpn: page 2 goes on past the window. */
		gpn = 2 * sub - 1;
		EXPECT_EQ(-EFAULT, lock_fault(s.out_fd, &gpn, 1, &fault));
		EXPECT_EQ(GUESTMEM_CAUSE_NOT_LOCKABLE, fault.cause);
	}
	/* View gpn 1 starts page 1, wholly inside: locked, one page pinned. */
	gpn = 1;
	ASSERT_EQ(0, lock_gpns(s.out_fd, &gpn, 1, 0, NULL, &out));
	EXPECT_EQ(self->pinned + 1, gm_test_vmpin_pages());
	EXPECT_EQ(1, pinned_pages_of(s.out_fd));
	/* The base itself may lock page 0 whole. */
	EXPECT_EQ(0, lock_fault(obj, &gpn, 1, &fault));
	EXPECT_EQ(0, unlock_gpns(s.out_fd, out.out_lock_id));
	close(s.out_fd);
	close(obj);
}

/* Allocated objects: every gpn locks, the object's own pages, none pinned. */
TEST_F(subpage, allocated_objects_lock_every_gpn_without_pinning)
{
	uint64_t gpns[] = { 0, SUBPAGES, 1, SUBPAGES + 1 };
	struct guestmem_lock_gpns out;
	int obj;

	/* One gpn more than a kernel page: the last page is partly used. */
	obj = raw_create_alloc(self->dev, HPAGE + PAGE);
	ASSERT_LE(0, obj);
	gpns[3] = SUBPAGES;                     /* the object's last gpn */
	ASSERT_EQ(0, lock_gpns(obj, gpns, 4, 0, NULL, &out));
	EXPECT_EQ(0, pinned_pages_of(obj));
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	EXPECT_EQ(0, unlock_gpns(obj, out.out_lock_id));
	close(obj);
}

/*
 * With edu attached: the IOVA of each entry is its page's IOVA plus the
 * piece's offset, pieces of one page are 4 KiB apart, and the device moves
 * exactly the bytes of the pieces it is given.
 */
TEST_F(subpage, iovas_are_the_page_iova_plus_the_piece_offset)
{
	uint64_t sub = SUBPAGES;
	uint64_t gpns[4] = { 2, 0, sub + sub / 2, 2 }, iovas[4], again;
	struct guestmem_lock_gpns out;
	uint8_t want[2048], *copy;
	struct edu *edu;
	int obj, i;

	if (geteuid())
		SKIP(return, "needs root: edu's BAR0, device attach");
	if (sub == 1)
		gpns[0] = gpns[3] = 3;          /* 4 KiB pages: distinct pages */
	if (gm_test_bind(EDU_BDF) == -ENODEV)
		SKIP(return, "no edu device at " EDU_BDF);
	edu = edu_open(EDU_BDF);
	ASSERT_NE(NULL, edu) TH_LOG("edu_open: %s", strerror(errno));
	obj = raw_create_user(self->dev, self->buf, self->len, "dma");
	ASSERT_LE(0, obj);
	ASSERT_EQ(0, attach_edu(obj));
	ASSERT_EQ(0, lock_gpns(obj, gpns, 4, 0, iovas, &out));
	ASSERT_TRUE(out.out_flags & GUESTMEM_LOCK_OUT_IOVAS);
	EXPECT_EQ(self->pinned + gm_test_pages_of(self->buf, gpns, 4),
		  gm_test_vmpin_pages());
	for (i = 0; i < 4; i++) {
		/* The page is mapped whole: the piece keeps its offset in it. */
		EXPECT_EQ((gpns[i] % sub) * PAGE, iovas[i] % HPAGE);
		/* GUESTMEM_IOVA answers a gpn's first entry. */
		ASSERT_EQ(0, iova_of(obj, &gpns[i], 1, &again, NULL));
		EXPECT_EQ(iovas[i == 3 ? 0 : i], again);
	}
	if (sub > 1)
		EXPECT_EQ(iovas[1] + 2 * PAGE, iovas[0]);   /* pieces of one page */

	/*
	 * Device reads from the repeated entry's own IOVA (+100; a gpn listed
	 * again away from its first entry is mapped again, in list order)
	 * and writes into gpn 0 (+8).
	 */
	memcpy(want, self->buf + gpns[3] * PAGE + 100, sizeof(want));
	ASSERT_EQ(0, edu_dma_to_device(edu, iovas[3] + 100, 0, sizeof(want)));
	ASSERT_EQ(0, edu_dma_from_device(edu, iovas[1] + 8, 0, sizeof(want)));
	EXPECT_EQ(0, memcmp(want, self->buf + 8, sizeof(want)));
	/* The bytes around it are untouched: the pattern is still there. */
	copy = malloc(self->len);
	ASSERT_NE(NULL, copy);
	gm_test_fill_pattern(copy, self->len);
	EXPECT_EQ(0, memcmp(copy, self->buf, 8));
	EXPECT_EQ(0, memcmp(copy + 8 + sizeof(want), self->buf + 8 + sizeof(want),
			    self->len - 8 - sizeof(want)));
	free(copy);
	EXPECT_EQ(0, unlock_gpns(obj, out.out_lock_id));
	close(obj);
	edu_close(edu);
}

/*
 * An unprivileged user with RLIMIT_MEMLOCK of 2 kernel pages: all the gpns
 * of two pages lock (2 pages charged), one more page does not, and a
 * second lock of a page already locked pays again (it pins it again).
 */
static int pins_two_pages(int dev, uint8_t *buf, size_t len)
{
	uint64_t sub = SUBPAGES, i, *gpns = calloc(2 * sub, sizeof(*gpns));
	struct guestmem_lock_gpns out, more;
	uint64_t third = 2 * sub, first = 0;
	int obj;

	if (!gpns)
		return 1;
	for (i = 0; i < 2 * sub; i++)
		gpns[i] = 2 * sub - 1 - i;
	obj = raw_create_user(dev, buf, len, "limit");
	if (obj < 0)
		return 2;
	if (lock_gpns(obj, gpns, 2 * sub, 0, NULL, &out))
		return 3;
	if (pinned_pages_of(obj) != 2)
		return 4;
	if (lock_gpns(obj, &third, 1, 0, NULL, &more) != -ENOMEM)
		return 5;
	if (lock_gpns(obj, &first, 1, 0, NULL, &more) != -ENOMEM)
		return 6;
	if (unlock_gpns(obj, out.out_lock_id))
		return 7;
	if (lock_gpns(obj, &third, 1, 0, NULL, &more))
		return 8;
	if (pinned_pages_of(obj) != 1)
		return 9;
	close(obj);
	free(gpns);
	return 0;
}

TEST_F(subpage, an_unprivileged_user_is_charged_kernel_pages_up_to_its_limit)
{
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to become another user");
	ASSERT_EQ(0, gm_test_grant_device_group());
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev;

		if (gm_test_become_user(4312, true, 2))
			_exit(100);
		dev = open_dev();
		if (dev < 0)
			_exit(101);
		_exit(pins_two_pages(dev, self->buf, self->len));
	}
	EXPECT_EQ(0, gm_test_wait(pid));
}

TEST_HARNESS_MAIN
