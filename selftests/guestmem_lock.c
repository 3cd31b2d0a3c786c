// SPDX-License-Identifier: GPL-2.0
/*
 * Locking: lock_gpns and lock_range pin the owner's pages long-term, count
 * them in the owner's VmPin (/proc/PID/status), charge them to the locking
 * user (RLIMIT_MEMLOCK; guestmem_accounting.c has the rules), hand out
 * the pages' addresses, and give everything back on release, on close, when
 * the owner is gone, and whatever a fork child does.
 *
 * Helper processes report through their exit status (0 = all good, else the
 * number of the check that failed): harness asserts must not run in them.
 */
#include <linux/capability.h>
#include <linux/guestmem.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "guestmem_raw.h"

#define NPAGES 64
#define BUF_SIZE (NPAGES * SZ_4K)

static long object_lock_count(struct gm *gm)
{
	struct guestmem_info info;

	return info_of(gm_fd(gm), &info) ? -1 : (long)info.out_lock_count;
}

FIXTURE(lock) {
	struct gm_test_resources before;
	long pinned;            /* VmPin before the test */
	uint8_t *buf;
	struct gm *gm;
};

FIXTURE_SETUP(lock)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	gm_test_fill_pattern(self->buf, BUF_SIZE);
	test_gm_ok(gm_new("lock", self->buf, BUF_SIZE, &self->gm));
	self->pinned = gm_test_vmpin_pages();
	ASSERT_LE(0, self->pinned) TH_LOG("no VmPin in /proc/self/status");
}

FIXTURE_TEARDOWN(lock)
{
	gm_release(self->gm);
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, BUF_SIZE);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages()) TH_LOG("pins left behind");
	gm_test_expect_no_leaks(self->before);
}

TEST_F(lock, lock_gpns_pins_exactly_the_pages_and_release_unpins_them)
{
	static const uint64_t gpns[] = { 1, 3, 5, 60 };
	struct gm_locked_pages *lp;

	test_gm_ok(gm_lock_gpns(self->gm, false, gpns, 4, &lp));
	EXPECT_EQ(4, gm_locked_pages_count(lp));
	/* Kernel pages: 4 with 4 KiB pages, 2 with 64 KiB ones. */
	EXPECT_EQ(self->pinned + gm_test_pages_of(self->buf, gpns, 4), gm_test_vmpin_pages());
	EXPECT_EQ(1, object_lock_count(self->gm));
	gm_locked_pages_release(lp);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	EXPECT_EQ(0, object_lock_count(self->gm));
}

TEST_F(lock, lock_gpns_keeps_order_and_duplicates)
{
	static const uint64_t gpns[] = { 7, 2, 7, 0, 63 };
	struct gm_locked_pages *lp;
	size_t i;

	test_gm_ok(gm_lock_gpns(self->gm, true, gpns, 5, &lp));
	ASSERT_EQ(5, gm_locked_pages_count(lp));
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(self->buf + gpns[i] * SZ_4K, gm_locked_pages_page(lp, i));
	}
	EXPECT_EQ(NULL, gm_locked_pages_page(lp, 5));
	/* A page is pinned once per lock, however often it is listed. */
	EXPECT_EQ(self->pinned + gm_test_pages_of(self->buf, gpns, 5), gm_test_vmpin_pages());
	gm_locked_pages_release(lp);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
}

TEST_F(lock, page_addresses_reach_the_guest_bytes)
{
	static const uint64_t gpns[] = { 9, 4 };
	struct gm_locked_pages *lp;
	uint8_t got[16];
	uint8_t *p;

	test_gm_ok(gm_lock_gpns(self->gm, false, gpns, 2, &lp));
	p = gm_locked_pages_page(lp, 1);
	ASSERT_NE(NULL, p);
	memcpy(p + 100, "through the VA", 15);
	test_gm_ok(gm_read_at(self->gm, 4 * SZ_4K + 100, got, 15));
	EXPECT_STREQ("through the VA", (char *)got);
	test_gm_ok(gm_write_at(self->gm, 9 * SZ_4K + 4095, "Z", 1));
	EXPECT_EQ('Z', ((uint8_t *)gm_locked_pages_page(lp, 0))[4095]);
	gm_locked_pages_release(lp);
}

TEST_F(lock, unlock_then_lock_again)
{
	static const uint64_t gpns[] = { 10, 11, 12 };
	struct gm_locked_pages *lp;
	int round;

	for (round = 0; round < 3; round++) {
		test_gm_ok(gm_lock_gpns(self->gm, false, gpns, 3, &lp));
		EXPECT_EQ(self->pinned + gm_test_pages_of(self->buf, gpns, 3),
			  gm_test_vmpin_pages());
		EXPECT_EQ(self->buf + 12 * SZ_4K, gm_locked_pages_page(lp, 2));
		gm_locked_pages_release(lp);
		EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	}
}

TEST_F(lock, two_locks_on_one_page_are_independent)
{
	static const uint64_t gpn = 20;
	struct gm_locked_pages *a, *b;

	test_gm_ok(gm_lock_gpns(self->gm, false, &gpn, 1, &a));
	test_gm_ok(gm_lock_gpns(self->gm, false, &gpn, 1, &b));
	EXPECT_EQ(self->pinned + 2, gm_test_vmpin_pages());
	EXPECT_EQ(2, object_lock_count(self->gm));
	gm_locked_pages_release(a);
	EXPECT_EQ(self->pinned + 1, gm_test_vmpin_pages());
	EXPECT_EQ(self->buf + 20 * SZ_4K, gm_locked_pages_page(b, 0));
	gm_locked_pages_release(b);
}

/* The seed's LockedPages is Clone: the lock goes with the last copy. */
TEST_F(lock, a_cloned_lock_goes_with_the_last_copy)
{
	static const uint64_t gpns[] = { 2, 9 };
	struct gm_locked_pages *lp, *copy;

	EXPECT_TRUE(gm_supports_locking(self->gm));
	test_gm_ok(gm_lock_gpns(self->gm, false, gpns, 2, &lp));
	copy = gm_locked_pages_clone(lp);
	ASSERT_NE(NULL, copy);
	EXPECT_EQ(2, gm_locked_pages_count(copy));
	EXPECT_EQ(self->buf + 9 * SZ_4K, gm_locked_pages_page(copy, 1));
	gm_locked_pages_release(lp);
	EXPECT_EQ(self->pinned + gm_test_pages_of(self->buf, gpns, 2), gm_test_vmpin_pages());
	EXPECT_EQ(1, object_lock_count(self->gm));
	EXPECT_EQ(self->buf + 2 * SZ_4K, gm_locked_pages_page(copy, 0));
	gm_locked_pages_release(copy);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	EXPECT_EQ(0, object_lock_count(self->gm));
	EXPECT_EQ(NULL, gm_locked_pages_clone(NULL));
}

TEST_F(lock, an_empty_list_locks_nothing)
{
	struct gm_locked_pages *lp;

	test_gm_ok(gm_lock_gpns(self->gm, false, NULL, 0, &lp));
	ASSERT_NE(NULL, lp);
	EXPECT_EQ(0, gm_locked_pages_count(lp));
	EXPECT_EQ(NULL, gm_locked_pages_page(lp, 0));
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	gm_locked_pages_release(lp);
	gm_locked_pages_release(NULL);
}

/*
 * The caller forgets its locks and closes the object: the kernel releases
 * them with the fd.  (The handle is abandoned, not released: its fd is
 * closed behind the library's back, which is the point.)
 */
TEST_F(lock, closing_the_object_releases_forgotten_locks)
{
	static const uint64_t gpns[] = { 1, 2, 3, 40, 41 };
	struct gm_locked_pages *lp;

	test_gm_ok(gm_lock_gpns(self->gm, false, gpns, 5, &lp));
	EXPECT_EQ(self->pinned + gm_test_pages_of(self->buf, gpns, 5), gm_test_vmpin_pages());
	ASSERT_EQ(0, close(gm_fd(self->gm)));
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	self->gm = NULL;        /* leaked on purpose, with lp */
}

/*
 * A fork child holds the inherited fd: what it locks is pinned in the
 * owner (the parent) and charged there, never in the child; its unlocks
 * give the parent's pages back, and a lock the child forgets stays with the
 * object until the object is closed.
 */
TEST_F(lock, a_fork_child_locks_the_owners_pages)
{
	static const uint64_t parent_gpns[] = { 1, 2 };
	static const uint64_t child_gpns[] = { 30, 31, 32 };
	/* Kernel pages the locks pin: 2 and 3 with 4 KiB pages, 1 and 2 with 64 KiB. */
	const long ppages = gm_test_pages_of(self->buf, parent_gpns, 2);
	const long cpages = gm_test_pages_of(self->buf, child_gpns, 3);
	struct gm_locked_pages *lp;
	int parent = getpid();
	pid_t pid;

	test_gm_ok(gm_lock_gpns(self->gm, false, parent_gpns, 2, &lp));
	ASSERT_EQ(self->pinned + ppages, gm_test_vmpin_pages());
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gm_locked_pages *clp;

		if (gm_test_vmpin_pages() != 0)
			_exit(1);       /* pins are not inherited */
		if (gm_lock_gpns(self->gm, false, child_gpns, 3, &clp))
			_exit(2);
		if (gm_test_vmpin_pages() != 0)
			_exit(3);
		if (gm_test_vmpin_pages_of(parent) != self->pinned + ppages + cpages)
			_exit(4);
		/* Not the owner: no address of the owner's pages here. */
		if (gm_locked_pages_page(clp, 0) != NULL)
			_exit(5);
		gm_locked_pages_release(clp);
		if (gm_test_vmpin_pages_of(parent) != self->pinned + ppages)
			_exit(6);
		/* Forgotten: stays with the object. */
		if (gm_lock_gpns(self->gm, false, child_gpns, 1, &clp))
			_exit(7);
		_exit(0);
	}
	EXPECT_EQ(0, gm_test_wait(pid));
	/* The forgotten lock of one gpn pins one page. */
	EXPECT_EQ(self->pinned + ppages + 1, gm_test_vmpin_pages());
	EXPECT_EQ(2, object_lock_count(self->gm));
	/* The parent's own pages stay pinned and reachable after the fork. */
	EXPECT_EQ(self->buf + 2 * SZ_4K, gm_locked_pages_page(lp, 1));
	gm_locked_pages_release(lp);
	EXPECT_EQ(self->pinned + 1, gm_test_vmpin_pages());
	gm_release(self->gm);   /* the last fd: the child's forgotten lock goes */
	self->gm = NULL;
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
}

/*
 * The view of the tests below: 8 gpns at 8 gpns into the buffer, whole
 * kernel pages (one 64 KiB page at 64 KiB with 64 KiB pages), so that each
 * of its gpns is lockable through it.
 */
#define VIEW_OFF HPAGE_ROUNDUP(8 * PAGE)
#define VIEW_LEN VIEW_OFF

/* Views lock through their own addresses; the pins are the base's pages. */
TEST_F(lock, a_view_locks_the_pages_at_its_offset)
{
	static const uint64_t gpns[] = { 0, 1 };
	struct gm_locked_pages *lp;
	struct gm *view;

	test_gm_ok(gm_subrange(self->gm, VIEW_OFF, VIEW_LEN, false, &view));
	test_gm_ok(gm_lock_gpns(view, false, gpns, 2, &lp));
	EXPECT_EQ(self->buf + VIEW_OFF, gm_locked_pages_page(lp, 0));
	EXPECT_EQ(self->buf + VIEW_OFF + SZ_4K, gm_locked_pages_page(lp, 1));
	EXPECT_EQ(self->pinned + gm_test_pages_of(self->buf + VIEW_OFF, gpns, 2),
		  gm_test_vmpin_pages());
	gm_locked_pages_release(lp);
	gm_release(view);
}

/*
 * allow_preemptive_locking: the view pins its whole range when it is made,
 * so later locks through it cost no pin and survive the owner's mprotect.
 */
TEST_F(lock, a_preemptive_view_pins_up_front_and_locks_borrow_the_pins)
{
	static const uint64_t gpns[] = { 1, 7 };
	struct gm_locked_pages *lp, *base_lp = (void *)1;
	/* The view's pages: 8 with 4 KiB pages, 1 with 64 KiB ones. */
	const long vpages = gm_test_pages_in(self->buf + VIEW_OFF, VIEW_LEN);
	uint64_t base_gpn = VIEW_OFF / SZ_4K + 1;       /* the view's gpn 1 */
	struct guestmem_info info;
	struct gm *view;
	char msg[128];

	test_gm_ok(gm_subrange(self->gm, VIEW_OFF, VIEW_LEN, true, &view));
	ASSERT_EQ(0, info_of(gm_fd(view), &info));
	ASSERT_TRUE(info.out_flags & GUESTMEM_INFO_PREEMPTIVE);
	EXPECT_EQ(self->pinned + vpages, gm_test_vmpin_pages());
	test_gm_ok(gm_lock_gpns(view, false, gpns, 2, &lp));
	EXPECT_EQ(self->pinned + vpages, gm_test_vmpin_pages());        /* borrowed */
	EXPECT_EQ(self->buf + VIEW_OFF + 7 * SZ_4K, gm_locked_pages_page(lp, 1));
	gm_locked_pages_release(lp);

	/* The owner revokes access: the base cannot lock, the view still can. */
	ASSERT_EQ(0, mprotect(self->buf + VIEW_OFF, VIEW_LEN, PROT_READ));
	snprintf(msg, sizeof(msg),
		 "guest memory 'lock': lock error: failed to access memory at 0x%" PRIx64,
		 base_gpn * SZ_4K);
	test_gm_err(EFAULT, GM_ERROR_OTHER, msg,
		    gm_lock_gpns(self->gm, false, &base_gpn, 1, &base_lp));
	test_gm_ok(gm_lock_gpns(view, false, gpns, 2, &lp));
	gm_locked_pages_release(lp);
	EXPECT_EQ(self->pinned + vpages, gm_test_vmpin_pages());
	ASSERT_EQ(0, mprotect(self->buf + VIEW_OFF, VIEW_LEN, PROT_READ | PROT_WRITE));
	gm_release(view);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
}

/* The seed's lock_range: segments merged where gpns are consecutive. */
TEST_F(lock, lock_range_segments_are_the_seeds_ranges)
{
	static const uint64_t gpns[] = { 3, 4, 5, 9, 10, 2, 7 };
	const uint64_t off = 0x123, len = 7 * SZ_4K - off - 0x800;
	struct gm_address_range ar;
	struct gm_locked_range *lr;
	struct gm_paged_range r, walk;
	struct gm_segment seg;
	size_t i = 0;

	ASSERT_EQ(0, gm_paged_range_init(&r, off, len, gpns, 7));
	test_gm_ok(gm_lock_range(self->gm, &r, &lr));
	/* Every gpn's page, the first and last only in part. */
	EXPECT_EQ(self->pinned + gm_test_pages_of(self->buf, gpns, 7), gm_test_vmpin_pages());
	ASSERT_EQ(4, gm_locked_range_count(lr));

	/* Exactly what PagedRange::ranges() yields, at the owner's addresses. */
	walk = r;
	while (gm_paged_range_pop_front(&walk, &ar) == 1) {
		ASSERT_EQ(0, gm_locked_range_segment(lr, i++, &seg));
		EXPECT_EQ(self->buf + ar.start, seg.va);
		EXPECT_EQ(ar.end - ar.start, seg.len);
		EXPECT_FALSE(seg.has_iova);     /* no device attached */
	}
	EXPECT_EQ(4, i);

	/* And spelled out. */
	ASSERT_EQ(0, gm_locked_range_segment(lr, 0, &seg));
	EXPECT_EQ(self->buf + 3 * SZ_4K + off, seg.va);
	EXPECT_EQ(3 * SZ_4K - off, seg.len);
	ASSERT_EQ(0, gm_locked_range_segment(lr, 1, &seg));
	EXPECT_EQ(self->buf + 9 * SZ_4K, seg.va);
	EXPECT_EQ(2 * SZ_4K, seg.len);
	ASSERT_EQ(0, gm_locked_range_segment(lr, 2, &seg));
	EXPECT_EQ(self->buf + 2 * SZ_4K, seg.va);
	EXPECT_EQ(SZ_4K, seg.len);
	ASSERT_EQ(0, gm_locked_range_segment(lr, 3, &seg));
	EXPECT_EQ(self->buf + 7 * SZ_4K, seg.va);
	EXPECT_EQ(SZ_4K - 0x800, seg.len);
	EXPECT_EQ(-EINVAL, gm_locked_range_segment(lr, 4, &seg));

	gm_locked_range_release(lr);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
}

TEST_F(lock, lock_range_of_part_of_one_page)
{
	static const uint64_t gpns[] = { 33, 5, 34 };
	struct gm_locked_range *lr;
	struct gm_paged_range r;
	struct gm_segment seg;

	/* 200 bytes at 100 into the second page: only that page is locked. */
	ASSERT_EQ(0, gm_paged_range_init(&r, SZ_4K + 100, 200, gpns, 3));
	test_gm_ok(gm_lock_range(self->gm, &r, &lr));
	EXPECT_EQ(self->pinned + 1, gm_test_vmpin_pages());
	ASSERT_EQ(1, gm_locked_range_count(lr));
	ASSERT_EQ(0, gm_locked_range_segment(lr, 0, &seg));
	EXPECT_EQ(self->buf + 5 * SZ_4K + 100, seg.va);
	EXPECT_EQ(200, seg.len);
	gm_locked_range_release(lr);

	/* An empty range yields no segment. */
	ASSERT_EQ(0, gm_paged_range_init(&r, 0, 0, gpns, 3));
	test_gm_ok(gm_lock_range(self->gm, &r, &lr));
	EXPECT_EQ(0, gm_locked_range_count(lr));
	gm_locked_range_release(lr);
}

TEST_F(lock, lock_range_that_fails_pins_nothing)
{
	static const uint64_t gpns[] = { 1, 2, 99 };
	struct gm_locked_range *lr = (void *)1;
	struct gm_paged_range r;

	ASSERT_EQ(0, gm_paged_range_init(&r, 0, 3 * SZ_4K, gpns, 3));
	test_gm_err(ERANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'lock': lock error: failed to access memory at 0x63000",
		    gm_lock_range(self->gm, &r, &lr));
	EXPECT_EQ(NULL, lr);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	EXPECT_EQ(0, object_lock_count(self->gm));
}

/* Locked allocated memory is the object's own pages: nothing is pinned. */
TEST_F(lock, allocated_memory_locks_its_pages_without_pinning)
{
	static const uint64_t gpns[] = { 3, 3, 1 };
	struct gm_locked_pages *lp;
	uint8_t got[6];
	struct gm *heap;
	size_t len;
	void *base;

	test_gm_ok(gm_allocate(8 * SZ_4K, &heap));
	test_gm_ok(gm_full_mapping(heap, &base, &len));
	test_gm_ok(gm_lock_gpns(heap, true, gpns, 3, &lp));
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	EXPECT_EQ((uint8_t *)base + 3 * SZ_4K, gm_locked_pages_page(lp, 0));
	EXPECT_EQ((uint8_t *)base + 1 * SZ_4K, gm_locked_pages_page(lp, 2));
	memcpy(gm_locked_pages_page(lp, 2), "heap!", 6);
	test_gm_ok(gm_read_at(heap, SZ_4K, got, 6));
	EXPECT_STREQ("heap!", (char *)got);
	gm_locked_pages_release(lp);
	gm_release(heap);
}

/*
 * rmmod is refused while an object exists (the object fd holds the
 * module), and the object keeps working.  The runner's own rmmod at the end
 * of the run proves it succeeds once every object is closed.
 */
TEST_F(lock, rmmod_is_refused_while_an_object_exists)
{
	static const uint64_t gpn = 6;
	struct gm_locked_pages *lp;
	uint8_t got[3];
	long ret;

	test_gm_ok(gm_lock_gpns(self->gm, false, &gpn, 1, &lp));
	ret = syscall(SYS_delete_module, "guestmem", O_NONBLOCK);
	if (ret && errno == EPERM) {
		gm_locked_pages_release(lp);
		SKIP(return, "needs CAP_SYS_MODULE");
	}
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) TH_LOG("errno %d", errno);
	test_gm_ok(gm_write_at(self->gm, 6 * SZ_4K, "ok", 3));
	test_gm_ok(gm_read_at(self->gm, 6 * SZ_4K, got, 3));
	EXPECT_STREQ("ok", (char *)got);
	EXPECT_EQ(self->pinned + 1, gm_test_vmpin_pages());
	gm_locked_pages_release(lp);
}

/*
 * Errors, on the seed's FaultingMapping: page 0 and 3 fail, page 1 is
 * read/write, page 2 read-only (a write lock fails on it).  Its pages are
 * kernel pages: page p is gpn p * SUBPAGES on (gpn p with 4 KiB pages).
 * Every failure names the failing page, and whatever was pinned before it
 * is unpinned.
 */
FIXTURE(faults) {
	struct gm_test_resources before;
	long pinned;
	void *base;
	struct gm *gm;
};

FIXTURE_SETUP(faults)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->base = gm_test_faulting_layout();
	ASSERT_NE(NULL, self->base);
	memset((char *)self->base + HPAGE, 1, HPAGE);
	test_gm_ok(gm_new("x", self->base, 4 * HPAGE, &self->gm));
	self->pinned = gm_test_vmpin_pages();
}

FIXTURE_TEARDOWN(faults)
{
	gm_release(self->gm);
	if (self->base)
		munmap(self->base, 4 * HPAGE);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages()) TH_LOG("pins left behind");
	gm_test_expect_no_leaks(self->before);
}

#define expect_lock_fails(_errno, _kind, _msg, ...)                           \
	do {                                                                  \
		const uint64_t __g[] = { __VA_ARGS__ };                       \
		struct gm_locked_pages *__lp = (void *)1;                     \
		test_gm_err(_errno, _kind, _msg,                              \
			    gm_lock_gpns(self->gm, false, __g, ARRAY_SIZE(__g), &__lp)); \
		EXPECT_EQ(NULL, __lp);                                        \
		EXPECT_EQ(self->pinned, gm_test_vmpin_pages());               \
		EXPECT_EQ(0, object_lock_count(self->gm));                    \
	} while (0)

/* The message of a lock of the faults memory that fails at @gpa. */
static const char *lock_error_at(char *msg, size_t size, uint64_t gpa)
{
	snprintf(msg, size, "guest memory 'x': lock error: failed to access memory at 0x%" PRIx64,
		 gpa);
	return msg;
}

TEST_F(faults, beyond_the_memory)
{
	const uint64_t s = SUBPAGES;
	char msg[128];

	expect_lock_fails(ERANGE, GM_ERROR_OUT_OF_RANGE,
			  lock_error_at(msg, sizeof(msg), 5 * HPAGE), s, 5 * s);
	EXPECT_STREQ("no memory at address", gm_last_error()->cause);
}

TEST_F(faults, a_read_only_page)
{
	const uint64_t s = SUBPAGES;
	char msg[128];

	expect_lock_fails(EFAULT, GM_ERROR_OTHER,
			  lock_error_at(msg, sizeof(msg), 2 * HPAGE), s, 2 * s);
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
}

TEST_F(faults, an_inaccessible_page)
{
	const uint64_t s = SUBPAGES;
	char msg[128];

	expect_lock_fails(EFAULT, GM_ERROR_OTHER, lock_error_at(msg, sizeof(msg), 0), 0);
	expect_lock_fails(EFAULT, GM_ERROR_OTHER, lock_error_at(msg, sizeof(msg), 3 * HPAGE),
			  s, s, 3 * s, s);
}

TEST_F(faults, an_invalid_gpn)
{
	expect_lock_fails(ERANGE, GM_ERROR_OUT_OF_RANGE,
			  "guest memory 'x': lock error: failed to access memory",
			  SUBPAGES, 0x10000000000000ULL);
	EXPECT_STREQ("invalid guest page number 0x10000000000000", gm_last_error()->cause);
}

TEST_F(faults, the_good_page_alone_locks)
{
	const uint64_t gpn = SUBPAGES;
	struct gm_locked_pages *lp;

	test_gm_ok(gm_lock_gpns(self->gm, false, &gpn, 1, &lp));
	EXPECT_EQ(self->pinned + 1, gm_test_vmpin_pages());
	EXPECT_EQ((char *)self->base + HPAGE, gm_locked_pages_page(lp, 0));
	gm_locked_pages_release(lp);
}

/*
 * A device that only reads: the read-only page locks, and so does the
 * writable one next to it; unmapped pages still fail.
 */
TEST_F(faults, a_read_only_page_locks_read_only)
{
	const uint64_t s = SUBPAGES, gpns[] = { s, 2 * s }, bad[] = { 2 * s, 3 * s };
	struct gm_locked_pages *lp = (void *)1;
	char msg[128];

	test_gm_ok(gm_lock_gpns_read_only(self->gm, false, gpns, 2, &lp));
	EXPECT_EQ(self->pinned + 2, gm_test_vmpin_pages());
	EXPECT_EQ((char *)self->base + 2 * HPAGE, gm_locked_pages_page(lp, 1));
	EXPECT_EQ(1, object_lock_count(self->gm));
	gm_locked_pages_release(lp);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());

	lp = (void *)1;
	test_gm_err(EFAULT, GM_ERROR_OTHER, lock_error_at(msg, sizeof(msg), 3 * HPAGE),
		    gm_lock_gpns_read_only(self->gm, true, bad, 2, &lp));
	EXPECT_EQ(NULL, lp);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
	EXPECT_EQ(0, object_lock_count(self->gm));
}

/*
 * The last gpn of page 1 and the first of page 2 (gpns 1 and 2 with 4 KiB
 * pages): consecutive, so one segment across the two kernel pages.
 */
TEST_F(faults, a_read_only_range_locks_read_only)
{
	const uint64_t s = SUBPAGES, gpns[] = { 2 * s - 1, 2 * s };
	struct gm_locked_range *lr = (void *)1;
	struct gm_paged_range r;
	struct gm_segment seg;
	char msg[128];

	ASSERT_EQ(0, gm_paged_range_init(&r, 0, 2 * SZ_4K, gpns, 2));
	test_gm_err(EFAULT, GM_ERROR_OTHER, lock_error_at(msg, sizeof(msg), 2 * HPAGE),
		    gm_lock_range(self->gm, &r, &lr));
	EXPECT_EQ(NULL, lr);
	test_gm_ok(gm_lock_range_read_only(self->gm, &r, &lr));
	EXPECT_EQ(self->pinned + 2, gm_test_vmpin_pages());
	ASSERT_EQ(1, gm_locked_range_count(lr));
	ASSERT_EQ(0, gm_locked_range_segment(lr, 0, &seg));
	EXPECT_EQ((char *)self->base + 2 * HPAGE - SZ_4K, seg.va);
	EXPECT_EQ(2 * SZ_4K, seg.len);
	gm_locked_range_release(lr);
}

/*
 * Holes and region ends of multi-region memory.  Regions of 16 kernel
 * pages (16 gpns with 4 KiB pages), so that the backings are whole kernel
 * pages and every gpn in them is lockable.
 */
TEST(multi_region_holes_and_region_ends)
{
	const uint64_t region = 16 * SUBPAGES;  /* gpns per region */
	struct gm_backing b[3];
	struct gm_locked_range *lr = (void *)1;
	struct gm_locked_pages *lp = (void *)1;
	struct gm_paged_range r;
	uint64_t gpns[2];
	char msg[128];
	uint8_t *mem;
	struct gm *gm;
	long pinned;

	gm_require_module();
	mem = mmap(NULL, 2 * region * SZ_4K, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	/* [0] full (its last byte unreachable), [1] a hole, [2] half full. */
	b[0] = (struct gm_backing){ .base = mem, .len = region * SZ_4K };
	b[1] = (struct gm_backing){ .base = NULL, .len = 0 };
	b[2] = (struct gm_backing){ .base = mem + region * SZ_4K, .len = region / 2 * SZ_4K };
	test_gm_ok(gm_new_multi_region("x", region * SZ_4K, b, 3, &gm));
	pinned = gm_test_vmpin_pages();

	gpns[0] = region;
	snprintf(msg, sizeof(msg),
		 "guest memory 'x': lock error: failed to access memory at 0x%" PRIx64,
		 region * SZ_4K);
	test_gm_err(ERANGE, GM_ERROR_OUT_OF_RANGE, msg, gm_lock_gpns(gm, false, gpns, 1, &lp));
	EXPECT_EQ(NULL, lp);

	/* gpn 2 * region is region 2's first: its address is that backing's. */
	gpns[0] = 2 * region + 1;
	gpns[1] = 2 * region;
	test_gm_ok(gm_lock_gpns(gm, false, gpns, 2, &lp));
	EXPECT_EQ(mem + (region + 1) * SZ_4K, gm_locked_pages_page(lp, 0));
	EXPECT_EQ(mem + region * SZ_4K, gm_locked_pages_page(lp, 1));
	gm_locked_pages_release(lp);

	/*
	 * A segment must stop short of its region's end (the seed panics):
	 * the last whole page of a full region cannot be one.
	 */
	gpns[0] = region - 2;
	gpns[1] = region - 1;
	ASSERT_EQ(0, gm_paged_range_init(&r, 0, 2 * SZ_4K - 1, gpns, 2));
	test_gm_ok(gm_lock_range(gm, &r, &lr));
	EXPECT_EQ(1, gm_locked_range_count(lr));
	gm_locked_range_release(lr);
	ASSERT_EQ(0, gm_paged_range_init(&r, 0, 2 * SZ_4K, gpns, 2));
	snprintf(msg, sizeof(msg),
		 "guest memory 'x': lock error: failed to access memory at 0x%" PRIx64,
		 (region - 2) * SZ_4K);
	test_gm_err(ERANGE, GM_ERROR_OUT_OF_RANGE, msg, gm_lock_range(gm, &r, &lr));
	EXPECT_EQ(NULL, lr);
	EXPECT_EQ(pinned, gm_test_vmpin_pages());
	gm_release(gm);
	munmap(mem, 2 * region * SZ_4K);
}

/*
 * RLIMIT_MEMLOCK: without CAP_IPC_LOCK, the pages a process locks are
 * charged to its user against its limit; a lock that would exceed it fails
 * with ENOMEM and pins nothing.  Root has CAP_IPC_LOCK, so it is dropped
 * first (this test body runs in its own forked process).
 */
TEST(rlimit_memlock_caps_what_may_be_pinned)
{
	const uint64_t sub = SUBPAGES;
	uint64_t *six, three[3], two[2], i;
	struct rlimit rl = { 8 * HPAGE, 8 * HPAGE };
	struct gm_locked_pages *a, *b, *c = (void *)1;
	uint8_t *mem;
	struct gm *gm;
	long pinned;

	gm_require_module();
	if (gm_test_drop_cap(CAP_IPC_LOCK))
		SKIP(return, "cannot drop CAP_IPC_LOCK");
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	/*
	 * The limit and the charges are in kernel pages: six is every gpn of
	 * kernel pages 0-5, three and two one gpn of each of pages 6-8 and 6-7
	 * (with 4 KiB pages: gpns 0-5, 6-8 and 6-7).
	 */
	six = calloc(6 * sub, sizeof(*six));
	ASSERT_NE(NULL, six);
	for (i = 0; i < 6 * sub; i++)
		six[i] = i;
	for (i = 0; i < 3; i++)
		three[i] = (6 + i) * sub;
	two[0] = 6 * sub;
	two[1] = 7 * sub;
	mem = mmap(NULL, 16 * HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	test_gm_ok(gm_new("limited", mem, 16 * HPAGE, &gm));
	pinned = gm_test_vmpin_pages();

	test_gm_ok(gm_lock_gpns(gm, false, six, 6 * sub, &a));
	EXPECT_EQ(pinned + 6, gm_test_vmpin_pages());
	test_gm_fails(ENOMEM, GM_ERROR_OTHER, gm_lock_gpns(gm, false, three, 3, &c));
	EXPECT_EQ(NULL, c);
	EXPECT_STREQ("guest memory 'limited': lock error: Cannot allocate memory",
		     gm_last_error()->message);
	EXPECT_EQ(pinned + 6, gm_test_vmpin_pages());
	test_gm_ok(gm_lock_gpns(gm, false, two, 2, &b));        /* exactly at the limit */
	EXPECT_EQ(pinned + 8, gm_test_vmpin_pages());
	gm_locked_pages_release(a);
	test_gm_ok(gm_lock_gpns(gm, false, three, 3, &c));      /* room again */
	gm_locked_pages_release(b);
	gm_locked_pages_release(c);
	EXPECT_EQ(pinned, gm_test_vmpin_pages());
	gm_release(gm);
	munmap(mem, 16 * HPAGE);
	free(six);
}

/*
 * Free pages, including those parked on the per-CPU lists, which MemFree
 * leaves out (and which 6.7+ lets grow to many MiB): nr_free_pages plus
 * every pageset's count in /proc/zoneinfo.
 */
static long free_pages_with_pcp(void)
{
	char line[256];
	long total = 0, v;
	FILE *f = fopen("/proc/zoneinfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " nr_free_pages %ld", &v) == 1 ||
		    sscanf(line, " count: %ld", &v) == 1)
			total += v;
	fclose(f);
	return total;
}

/*
 * Every FOLL_PIN reference a lock takes is given back at unlock, whatever
 * the pages are: huge pages (unpinned a folio at a time), scattered small
 * pages, a page listed three times (pinned once), and a mix of them in one
 * lock.  The kernel's own counters say so (nr_foll_pin_acquired/_released
 * in /proc/vmstat, in kernel pages: a lock pins each kernel page that holds
 * its gpns once); nothing else pins while this runs.
 */
TEST(unlock_gives_back_every_pin_of_huge_and_small_pages)
{
	const size_t len = 8 * SZ_1M, pages = len / SZ_4K;
	long long acq0, rel0, acq, rel, want;
	struct gm_locked_pages *lp;
	uint8_t *raw, *mem;
	uint64_t *gpns;
	struct gm *gm;
	size_t i, n;

	gm_require_module();
	acq0 = gm_test_vmstat("nr_foll_pin_acquired");
	rel0 = gm_test_vmstat("nr_foll_pin_released");
	if (acq0 < 0 || rel0 < 0)
		SKIP(return, "no nr_foll_pin_* in /proc/vmstat, or no vm.stat_refresh (root)");
	raw = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	mem = (uint8_t *)(((uintptr_t)raw + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
	/* The first half may become huge pages, the second half may not. */
	madvise(mem, len / 2, MADV_HUGEPAGE);
	madvise(mem + len / 2, len / 2, MADV_NOHUGEPAGE);
	memset(mem, 1, len);
	gpns = calloc(pages + 2, sizeof(*gpns));
	ASSERT_NE(NULL, gpns);
	test_gm_ok(gm_new("pins", mem, len, &gm));

	/* All pages in order, then every other one backwards, 3 thrice. */
	for (i = 0; i < pages; i++)
		gpns[i] = i;
	want = gm_test_pages_of(mem, gpns, pages);
	acq0 = gm_test_vmstat("nr_foll_pin_acquired");
	rel0 = gm_test_vmstat("nr_foll_pin_released");
	test_gm_ok(gm_lock_gpns(gm, false, gpns, pages, &lp));
	gm_locked_pages_release(lp);
	for (n = 0, i = pages; i >= 2; i -= 2)
		gpns[n++] = i - 1;
	gpns[n++] = 3;
	gpns[n++] = 3;
	want += gm_test_pages_of(mem, gpns, n);        /* pages + n - 2 with 4 KiB pages */
	test_gm_ok(gm_lock_gpns(gm, false, gpns, n, &lp));
	gm_locked_pages_release(lp);
	acq = gm_test_vmstat("nr_foll_pin_acquired") - acq0;
	rel = gm_test_vmstat("nr_foll_pin_released") - rel0;
	TH_LOG("%lld pins acquired, %lld released", acq, rel);
	EXPECT_LE(want, acq);
	EXPECT_EQ(acq, rel);

	gm_release(gm);
	free(gpns);
	munmap(raw, len + SZ_2M);
}

/*
 * The owner exits with its pages locked: the object, held by another
 * process, keeps them pinned (a device may still be writing to them), and
 * frees them when that process closes the object.  32 MiB of the owner's
 * memory: the free page count must come back by (nearly) that much at the
 * close, not before, so a leak and an early unpin both fail.
 */
TEST(locks_outlive_the_owner_until_the_object_is_closed)
{
	const long npages = 8192;               /* gpns */
	const long kpages = npages / SUBPAGES;  /* the kernel pages they are */
	struct gm_locked_pages *lp = (void *)1;
	long before_close, after_close = 0;
	struct guestmem_info info;
	uint64_t gpn = 0;
	struct gm *gm;
	int sv[2], fd, i;
	pid_t pid;

	gm_require_module();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const size_t len = npages * SZ_4K;
		uint64_t *gpns = calloc(npages, sizeof(*gpns));
		uint8_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct gm *cgm;

		if (mem == MAP_FAILED || !gpns)
			_exit(1);
		memset(mem, 0x77, len);
		for (i = 0; i < npages; i++)
			gpns[i] = i;
		if (gm_new("owner", mem, len, &cgm) ||
		    gm_lock_gpns(cgm, false, gpns, npages, &lp))
			_exit(2);
		if (gm_test_vmpin_pages() != gm_test_pages_in(mem, len))
			_exit(3);
		if (gm_test_send_fd(sv[1], gm_fd(cgm)))
			_exit(4);
		_exit(0);       /* no release, no munmap */
	}
	close(sv[1]);
	fd = gm_test_recv_fd(sv[0]);
	close(sv[0]);
	ASSERT_EQ(0, gm_test_wait(pid));
	ASSERT_LE(0, fd);
	test_gm_ok(gm_from_fd(fd, &gm));
	close(fd);

	/* The kernel still holds the dead owner's pages for the object. */
	ASSERT_EQ(0, info_of(gm_fd(gm), &info));
	EXPECT_EQ(kpages, info.out_pinned_pages);
	EXPECT_EQ(1, info.out_lock_count);
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_OWNER_EXITED);
	/* No new lock on a dead owner. */
	test_gm_fails(ESRCH, GM_ERROR_OTHER, gm_lock_gpns(gm, false, &gpn, 1, &lp));
	EXPECT_EQ(NULL, lp);

	before_close = free_pages_with_pcp();
	ASSERT_LT(0, before_close);
	gm_release(gm);
	/* A deferred release may take a moment: wait up to 3 s. */
	for (i = 0; i < 30; i++) {
		after_close = free_pages_with_pcp();
		if (after_close - before_close >= kpages * 3 / 4)
			break;
		usleep(100000);
	}
	TH_LOG("free pages %ld -> %ld after the close", before_close, after_close);
	EXPECT_LE(kpages * 3 / 4, after_close - before_close);
}

TEST_HARNESS_MAIN
