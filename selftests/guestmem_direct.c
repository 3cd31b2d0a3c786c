// SPDX-License-Identifier: GPL-2.0
/*
 * Direct access (issue 13): where this process maps the guest memory, the
 * library touches it itself, and every fault there is caught and the call
 * redone through the kernel.  What these tests prove:
 *
 *  - which path a call took, from the object's own counters (gm_stats():
 *    the kernel counts every access it makes; direct ones never reach it)
 *    and from gm_direct_faults() (faults the library's handler recovered);
 *  - that every failure - PROT_NONE, read-only, unmapped pages, holes,
 *    out of range, a fault inside a compare-exchange, the caller's buffer -
 *    ends exactly as on the kernel path: return value, error record,
 *    message, and the bytes of guest memory and of the caller's buffer;
 *  - that the handler shares the process: the application's SIGSEGV and
 *    SIGBUS handlers, installed before or after it, still get their own
 *    faults, a real crash still crashes, an alternate signal stack still
 *    works, threads fault concurrently, and a thread that blocks SIGSEGV
 *    never goes direct;
 *  - that the owner's addresses are used only by the owner (not a fork
 *    child), and allocated memory's mapping by every process that has it;
 *  - that the mappings the kernel refuses stay refused, and the opt-outs
 *    (GUESTMEM_DIRECT=0, gm_set_direct()) take the library out of signal
 *    handling altogether.
 *
 * Each test runs in its own process (the harness forks), so each starts
 * with the library's handler not yet installed.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "guestmem_utils.h"

#define NPAGES 16

/*
 * The test layout, page by page: RW except page 4 (PROT_NONE), page 6
 * (read only) and page 10 (not mapped at all).  Page 10 is unmapped only
 * once the object exists (layout_punch()): the library maps a page of its
 * own when it makes its first object, and mmap() may put it in any gap.
 *
 * Its pages are @pg bytes, the kernel's page (HLAYOUT): mprotect() and
 * munmap() make its PROT_NONE, read-only and unmapped pages on any kernel.
 */
#define PG_NONE 4
#define PG_RO 6
#define PG_UNMAPPED 10

#define HLAYOUT (NPAGES * HPAGE)
#define NONE_GPA (PG_NONE * HPAGE)      /* the PROT_NONE page of HLAYOUT */

static uint8_t *layout_map(size_t pg)
{
	uint8_t *m = mmap(NULL, NPAGES * pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m + PG_NONE * pg, pg, PROT_NONE) ||
	    mprotect(m + PG_RO * pg, pg, PROT_READ) ||
	    mprotect(m + PG_UNMAPPED * pg, pg, PROT_NONE))
		return NULL;
	return m;
}

static int layout_punch(uint8_t *m, size_t pg)
{
	return munmap(m + PG_UNMAPPED * pg, pg);
}

static bool layout_accessible(size_t page)
{
	return page != PG_NONE && page != PG_UNMAPPED;
}

/* Put the pattern back into every accessible page (the read-only one too). */
static void layout_reset(uint8_t *m, size_t pg)
{
	size_t p, i;

	mprotect(m + PG_RO * pg, pg, PROT_READ | PROT_WRITE);
	for (p = 0; p < NPAGES; p++)
		for (i = 0; layout_accessible(p) && i < pg; i++)
			m[p * pg + i] = (uint8_t)(p * 16 + i * 7);
	mprotect(m + PG_RO * pg, pg, PROT_READ);
}

static void layout_snapshot(const uint8_t *m, uint8_t *out, size_t pg)
{
	size_t p;

	for (p = 0; p < NPAGES; p++)
		if (layout_accessible(p))
			memcpy(out + p * pg, m + p * pg, pg);
		else
			memset(out + p * pg, 0, pg);
}

/* How one call ended: what it returned and what it recorded. */
struct outcome {
	int ret;
	int errnum;
	enum gm_error_kind kind;
	enum gm_op op;
	bool has_range, has_gpa;
	uint64_t range_start, range_end, gpa;
	char cause[256], message[1024];
};

static void outcome_take(struct outcome *o, int ret)
{
	const struct gm_error *e = gm_last_error();

	memset(o, 0, sizeof(*o));
	o->ret = ret;
	if (ret >= 0)
		return;
	o->errnum = e->errnum;
	o->kind = e->kind;
	o->op = e->op;
	o->has_range = e->has_range;
	o->range_start = e->range_start;
	o->range_end = e->range_end;
	o->has_gpa = e->has_gpa;
	o->gpa = e->gpa;
	snprintf(o->cause, sizeof(o->cause), "%s", e->cause);
	snprintf(o->message, sizeof(o->message), "%s", e->message);
}

#define EXPECT_SAME_OUTCOME(k, d)                                             \
	do {                                                                  \
		EXPECT_EQ((k)->ret, (d)->ret);                                \
		EXPECT_EQ((k)->errnum, (d)->errnum);                          \
		EXPECT_EQ((k)->kind, (d)->kind);                              \
		EXPECT_EQ((k)->op, (d)->op);                                  \
		EXPECT_EQ((k)->has_range, (d)->has_range);                    \
		EXPECT_EQ((k)->range_start, (d)->range_start);                \
		EXPECT_EQ((k)->range_end, (d)->range_end);                    \
		EXPECT_EQ((k)->has_gpa, (d)->has_gpa);                        \
		EXPECT_EQ((k)->gpa, (d)->gpa);                                \
		EXPECT_STREQ((k)->cause, (d)->cause);                         \
		EXPECT_STREQ((k)->message, (d)->message);                     \
	} while (0)

/*
 * The kernel's per-object counters (it counts reads and writes, not
 * compare-exchanges); false when it has no netlink family.
 */
static bool counters(struct gm *gm, uint64_t *reads, uint64_t *writes)
{
	struct gm_stats st;

	if (gm_stats(gm, &st))
		return false;
	*reads = st.reads;
	*writes = st.writes;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Every failure ends as on the kernel path. */

enum call {
	READ_AT, WRITE_AT, FILL_AT, READ_ATOMIC, WRITE_ATOMIC, READ_PLAIN, WRITE_PLAIN,
	CMPXCHG, CMPXCHG_MISS, READ_RANGE, WRITE_RANGE, FILL_RANGE, READ_BAD_BUFFER,
};

/*
 * A gpa or a length on the layout, written as on 4 KiB pages: @scaled grows
 * with the layout's page (0x6000: page 6; 0x7800: page 7 and a half), @bytes
 * does not (AT(0x6000, -0x10): the last 16 bytes of page 5).  With 4 KiB
 * kernel pages it is @scaled + @bytes, the value the variant names.
 */
struct spot {
	uint64_t scaled;
	int64_t bytes;
};

#define AT(s, b)	{ .scaled = (s), .bytes = (b) }
#define SCALED(s)	AT(s, 0)
#define BYTES(b)	AT(0, b)

static uint64_t spot_value(struct spot sp, size_t pg)
{
	return sp.scaled * (pg / SZ_4K) + sp.bytes;
}

#define BAD_GPN (1ULL << 52)    /* no gpn of any object: never scaled */
#define BUF_PAGES 8             /* the caller's buffer, in layout pages */

FIXTURE(same) {
	struct gm_test_resources before;
	uint8_t *mem;
	struct gm *gm;
	size_t pg;              /* the layout's page: the kernel's */
	uint8_t *kbuf, *dbuf;   /* BUF_PAGES pages each */
	uint8_t *kmem, *dmem;   /* HLAYOUT bytes each */
};

FIXTURE_VARIANT(same) {
	enum call call;
	struct spot gpa;        /* gpa, or the range's offset into @gpns (BYTES) */
	struct spot len;        /* ranges: BYTES */
	uint64_t gpns[3];       /* ranges: the gpn list, in layout pages (or BAD_GPN) */
	int faults;             /* faults the direct attempt takes (then the kernel redoes it) */
};

/* Succeeding calls: they must stay out of the kernel altogether. */
FIXTURE_VARIANT_ADD(same, read_from_rw_into_the_read_only_page) {
	.call = READ_AT, .gpa = AT(0x6000, -0x10), .len = BYTES(0x20),
};
FIXTURE_VARIANT_ADD(same, read_a_page_and_a_half) {
	.call = READ_AT, .gpa = SCALED(0x7800), .len = SCALED(0x1800),
};
FIXTURE_VARIANT_ADD(same, read_plain_of_the_read_only_page) {
	.call = READ_PLAIN, .gpa = AT(0x6000, 8), .len = BYTES(8),
};
FIXTURE_VARIANT_ADD(same, write_plain_of_4) {
	.call = WRITE_PLAIN, .gpa = AT(0x5000, 4), .len = BYTES(4),
};
FIXTURE_VARIANT_ADD(same, compare_exchange_that_swaps) {
	.call = CMPXCHG, .gpa = AT(0x3000, 8), .len = BYTES(8),
};
FIXTURE_VARIANT_ADD(same, compare_exchange_that_misses) {
	.call = CMPXCHG_MISS, .gpa = AT(0x3000, 0x10), .len = BYTES(4),
};
FIXTURE_VARIANT_ADD(same, read_range_over_three_pages) {
	.call = READ_RANGE, .gpa = BYTES(0x10), .len = BYTES(0x2000), .gpns = { 9, 0, 3 },
};

/* A fault on the way: one recovered fault, then the kernel's answer. */
FIXTURE_VARIANT_ADD(same, read_into_prot_none) {
	.call = READ_AT, .gpa = AT(0x4000, -8), .len = BYTES(16), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, read_of_prot_none) {
	.call = READ_AT, .gpa = SCALED(0x4000), .len = BYTES(1), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, long_read_into_prot_none) {
	.call = READ_AT, .gpa = SCALED(0x1000), .len = SCALED(0x5000), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, read_into_an_unmapped_page) {
	.call = READ_AT, .gpa = AT(0xa000, -4), .len = BYTES(8), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, write_into_prot_none) {
	.call = WRITE_AT, .gpa = AT(0x4000, -8), .len = BYTES(16), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, long_write_into_prot_none) {
	.call = WRITE_AT, .gpa = SCALED(0x800), .len = SCALED(0x6000), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, write_into_the_read_only_page) {
	.call = WRITE_AT, .gpa = AT(0x6000, -8), .len = BYTES(16), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, write_of_one_read_only_byte) {
	.call = WRITE_AT, .gpa = AT(0x6000, 0x123), .len = BYTES(1), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, fill_into_the_read_only_page) {
	.call = FILL_AT, .gpa = SCALED(0x5000), .len = AT(0x1000, 0x100), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, fill_into_an_unmapped_page) {
	.call = FILL_AT, .gpa = SCALED(0x9000), .len = SCALED(0x4000), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, atomic_read_into_prot_none) {
	.call = READ_ATOMIC, .gpa = AT(0x4000, -1), .len = BYTES(2), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, atomic_write_into_read_only) {
	.call = WRITE_ATOMIC, .gpa = AT(0x6000, -0x20), .len = BYTES(0x40), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, read_plain_8_of_prot_none) {
	.call = READ_PLAIN, .gpa = SCALED(0x4000), .len = BYTES(8), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, read_plain_4_unaligned_across) {
	.call = READ_PLAIN, .gpa = AT(0x4000, -2), .len = BYTES(4), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, read_plain_16_into_prot_none) {
	.call = READ_PLAIN, .gpa = AT(0x4000, -8), .len = BYTES(16), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, write_plain_8_of_read_only) {
	.call = WRITE_PLAIN, .gpa = SCALED(0x6000), .len = BYTES(8), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, write_plain_2_of_unmapped) {
	.call = WRITE_PLAIN, .gpa = AT(0xa000, 2), .len = BYTES(2), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, write_plain_1_of_prot_none) {
	.call = WRITE_PLAIN, .gpa = AT(0x5000, -1), .len = BYTES(1), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, compare_exchange_8_on_read_only) {
	.call = CMPXCHG, .gpa = SCALED(0x6000), .len = BYTES(8), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, compare_exchange_miss_on_read_only) {
	.call = CMPXCHG_MISS, .gpa = AT(0x6000, 0x10), .len = BYTES(8), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, compare_exchange_4_on_prot_none) {
	.call = CMPXCHG, .gpa = AT(0x4000, 4), .len = BYTES(4), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, compare_exchange_1_on_unmapped) {
	.call = CMPXCHG, .gpa = AT(0xa000, 1), .len = BYTES(1), .faults = 1,
};
FIXTURE_VARIANT_ADD(same, read_range_with_a_prot_none_page) {
	.call = READ_RANGE, .gpa = BYTES(0x10), .len = BYTES(0x2000), .gpns = { 0, 4, 1 },
	.faults = 1,
};
FIXTURE_VARIANT_ADD(same, write_range_into_read_only) {
	.call = WRITE_RANGE, .gpa = BYTES(0x800), .len = BYTES(0x1000), .gpns = { 5, 6 },
	.faults = 1,
};
FIXTURE_VARIANT_ADD(same, fill_range_onto_an_unmapped_page) {
	.call = FILL_RANGE, .gpa = BYTES(0), .len = BYTES(0x3000), .gpns = { 9, 10, 11 },
	.faults = 1,
};
FIXTURE_VARIANT_ADD(same, a_bad_caller_buffer) {
	.call = READ_BAD_BUFFER, .gpa = BYTES(0x100), .len = BYTES(16), .faults = 1,
};

/* Refused before any access: no fault, straight to the kernel. */
FIXTURE_VARIANT_ADD(same, read_beyond_the_end) {
	.call = READ_AT, .gpa = AT(NPAGES * SZ_4K, -8), .len = BYTES(16),
};
FIXTURE_VARIANT_ADD(same, write_plain_beyond_the_end) {
	.call = WRITE_PLAIN, .gpa = SCALED(NPAGES * SZ_4K), .len = BYTES(8),
};
FIXTURE_VARIANT_ADD(same, compare_exchange_misaligned) {
	.call = CMPXCHG, .gpa = AT(0x3000, 4), .len = BYTES(8),
};
FIXTURE_VARIANT_ADD(same, read_range_of_an_invalid_gpn) {
	.call = READ_RANGE, .gpa = BYTES(0), .len = BYTES(0x1800), .gpns = { 2, BAD_GPN },
};
FIXTURE_VARIANT_ADD(same, write_range_beyond_the_end) {
	.call = WRITE_RANGE, .gpa = BYTES(0), .len = BYTES(0x1800), .gpns = { 2, NPAGES },
};

FIXTURE_SETUP(same)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->pg = HPAGE;
	self->kbuf = malloc(BUF_PAGES * self->pg);
	self->dbuf = malloc(BUF_PAGES * self->pg);
	self->kmem = malloc(HLAYOUT);
	self->dmem = malloc(HLAYOUT);
	ASSERT_TRUE(self->kbuf && self->dbuf && self->kmem && self->dmem);
	self->mem = layout_map(self->pg);
	ASSERT_NE(NULL, self->mem);
	test_gm_ok(gm_new("direct", self->mem, HLAYOUT, &self->gm));
	ASSERT_EQ(0, layout_punch(self->mem, self->pg));
}

FIXTURE_TEARDOWN(same)
{
	gm_release(self->gm);
	if (self->mem)
		munmap(self->mem, HLAYOUT);
	free(self->kbuf);
	free(self->dbuf);
	free(self->kmem);
	free(self->dmem);
	gm_test_expect_no_leaks(self->before);
}

/*
 * Run the variant's call once on the layout of @pg pages, with the buffer
 * and memory reset.  A range's gpns name layout pages: each is the first gpn
 * of its page.
 */
static int same_run(struct gm *gm, uint8_t *mem, size_t pg, const FIXTURE_VARIANT(same) *v,
		    uint8_t *buf, size_t buf_len)
{
	size_t i, count = v->gpns[2] ? 3 : v->gpns[1] ? 2 : 1;
	uint64_t gpa = spot_value(v->gpa, pg), len = spot_value(v->len, pg);
	uint64_t cur, newv = 0x5555555555555555ULL, gpns[3];
	struct gm_paged_range r;

	for (i = 0; i < 3; i++)
		gpns[i] = v->gpns[i] == BAD_GPN ? BAD_GPN : v->gpns[i] * (pg / SZ_4K);
	layout_reset(mem, pg);
	gm_test_fill_pattern(buf, buf_len);
	if (v->call >= READ_RANGE && v->call <= FILL_RANGE &&
	    gm_paged_range_init(&r, gpa, len, gpns, count))
		return -1000;
	/* The value at @gpa in the pattern, for a compare-exchange that matches. */
	cur = 0;
	if (v->call == CMPXCHG && (gpa / pg) < NPAGES && layout_accessible(gpa / pg))
		memcpy(&cur, mem + gpa, len);
	if (v->call == CMPXCHG_MISS)
		cur = 0x77;
	switch (v->call) {
	case READ_AT:
		return gm_read_at(gm, gpa, buf, len);
	case WRITE_AT:
		return gm_write_at(gm, gpa, buf, len);
	case FILL_AT:
		return gm_fill_at(gm, gpa, 0xc3, len);
	case READ_ATOMIC:
		return gm_read_to_atomic(gm, gpa, (_Atomic uint8_t *)buf, len);
	case WRITE_ATOMIC:
		return gm_write_from_atomic(gm, gpa, (_Atomic uint8_t *)buf, len);
	case READ_PLAIN:
		return gm_read_plain(gm, gpa, buf, len);
	case WRITE_PLAIN:
		return gm_write_plain(gm, gpa, buf, len);
	case CMPXCHG:
	case CMPXCHG_MISS: {
		int ret = gm_compare_exchange(gm, gpa, &cur, &newv, len);

		memcpy(buf, &cur, 8);   /* what it reported back */
		return ret;
	}
	case READ_RANGE:
		return gm_read_range(gm, &r, buf, len);
	case WRITE_RANGE:
		return gm_write_range(gm, &r, buf, len);
	case FILL_RANGE:
		return gm_fill_range(gm, &r, 0x3c);
	case READ_BAD_BUFFER:
		return gm_read_at(gm, gpa, (void *)8, len);
	}
	return -1000;
}

TEST_F(same, direct_and_kernel_paths_end_alike)
{
	const size_t buf_len = BUF_PAGES * self->pg;
	uint64_t r0 = 0, w0 = 0, r1 = 0, w1 = 0;
	struct outcome k, d;
	uint64_t faults;
	bool counted;

	/* The kernel path: the reference. */
	EXPECT_TRUE(gm_set_direct(false));
	outcome_take(&k, same_run(self->gm, self->mem, self->pg, variant, self->kbuf, buf_len));
	layout_snapshot(self->mem, self->kmem, self->pg);
	EXPECT_FALSE(gm_set_direct(true));

	counted = counters(self->gm, &r0, &w0);
	faults = gm_direct_faults();
	outcome_take(&d, same_run(self->gm, self->mem, self->pg, variant, self->dbuf, buf_len));
	layout_snapshot(self->mem, self->dmem, self->pg);
	faults = gm_direct_faults() - faults;

	TH_LOG("%s", k.ret < 0 ? k.message : "success");
	EXPECT_SAME_OUTCOME(&k, &d);
	EXPECT_EQ(0, memcmp(self->kmem, self->dmem, HLAYOUT)) TH_LOG("guest memory differs");
	EXPECT_EQ(0, memcmp(self->kbuf, self->dbuf, buf_len)) TH_LOG("the caller's buffer differs");
	EXPECT_EQ(variant->faults, faults);
	/* A call that went direct left no trace in the kernel; a redone one, one. */
	if (counted && counters(self->gm, &r1, &w1)) {
		bool cas = variant->call == CMPXCHG || variant->call == CMPXCHG_MISS;

		if (d.ret >= 0) {
			EXPECT_EQ(r0 + w0, r1 + w1);
		} else if (variant->faults) {
			EXPECT_EQ(r0 + w0 + !cas, r1 + w1);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Which memory goes direct. */

/* Proof that calls went direct: the kernel counted none of them. */
static void expect_uncounted(struct __test_metadata *_metadata, struct gm *gm, bool direct)
{
	uint64_t r0, w0, r1, w1, v = 0x1122334455667788ULL, cur = 0;
	struct gm_paged_range r;
	uint64_t gpns[2] = { 1, 0 };
	static uint8_t buf[0x1000];

	if (!counters(gm, &r0, &w0))
		SKIP(return, "no generic netlink family guestmem: no counters");
	test_gm_ok(gm_write_at(gm, 0x10, buf, 64));
	test_gm_ok(gm_read_at(gm, 0x10, buf, 64));
	test_gm_ok(gm_fill_at(gm, 0x100, 1, 0x1000));
	test_gm_ok(gm_write_plain(gm, 0x18, &v, 8));
	test_gm_ok(gm_read_plain(gm, 0x18, &v, 8));
	test_gm_ok(gm_compare_exchange(gm, 0x18, &cur, &v, 8));
	ASSERT_EQ(0, gm_paged_range_init(&r, 0x800, 0x1000, gpns, 2));
	test_gm_ok(gm_read_range(gm, &r, buf, 0x1000));
	test_gm_ok(gm_fill_range(gm, &r, 2));
	ASSERT_TRUE(counters(gm, &r1, &w1));
	if (direct) {
		EXPECT_EQ(r0, r1);
		EXPECT_EQ(w0, w1);
	} else {
		EXPECT_EQ(r0 + 3, r1);
		EXPECT_EQ(w0 + 4, w1);
	}
}

TEST(the_owners_memory_and_allocated_memory_go_direct)
{
	struct gm *user, *heap, *view;
	uint8_t *mem;

	gm_require_module();
	mem = mmap(NULL, 4 * SZ_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	test_gm_ok(gm_new("user", mem, 4 * SZ_4K, &user));
	test_gm_ok(gm_allocate(4 * SZ_4K, &heap));
	expect_uncounted(_metadata, user, true);
	expect_uncounted(_metadata, heap, true);
	/* A view, of either kind, as well. */
	test_gm_ok(gm_subrange(user, SZ_4K + 8, 2 * SZ_4K, false, &view));
	expect_uncounted(_metadata, view, true);
	gm_release(view);
	test_gm_ok(gm_subrange(heap, SZ_4K, 2 * SZ_4K, false, &view));
	expect_uncounted(_metadata, view, true);
	gm_release(view);
	/* The opt-out, at run time: every call is an ioctl again. */
	EXPECT_TRUE(gm_set_direct(false));
	expect_uncounted(_metadata, user, false);
	expect_uncounted(_metadata, heap, false);
	EXPECT_FALSE(gm_set_direct(true));
	expect_uncounted(_metadata, user, true);
	gm_release(heap);
	gm_release(user);
	munmap(mem, 4 * SZ_4K);
}

/* Memory in a file the kernel reads (a memfd): one probe, then direct. */
TEST(a_memfd_region_goes_direct)
{
	struct gm *gm;
	uint8_t *mem;
	int fd;

	gm_require_module();
	fd = memfd_create("direct", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * SZ_4K));
	mem = mmap(NULL, 4 * SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, mem);
	test_gm_ok(gm_new("memfd", mem, 4 * SZ_4K, &gm));
	expect_uncounted(_metadata, gm, true);
	gm_release(gm);
	munmap(mem, 4 * SZ_4K);
}

/*
 * A write-only page reads fine on the CPU but not through the kernel
 * (guestmem_access write_only_backing_refuses_a_read_of_an_untouched_page):
 * the whole region keeps the kernel path.  The pages are the kernel's,
 * what mprotect() can make write-only.
 */
TEST(a_region_with_a_write_only_page_keeps_the_kernel_path)
{
	const size_t pg = HPAGE;
	struct gm *gm;
	uint8_t *mem;

	gm_require_module();
	mem = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, mprotect(mem + 3 * pg, pg, PROT_WRITE));
	test_gm_ok(gm_new("wo", mem, 4 * pg, &gm));
	expect_uncounted(_metadata, gm, false);
	gm_release(gm);
	munmap(mem, 4 * pg);
}

/*
 * Several regions: each goes direct on its own; the hole between them and
 * the padding after them are the kernel's to report.  Each backing is two
 * kernel pages (the last one's second page PROT_NONE), in regions of 64 KiB
 * or four kernel pages, whichever is larger.
 */
TEST(multi_region_memory_goes_direct_region_by_region)
{
	static uint8_t kbuf[16], dbuf[16];
	const uint64_t pg = HPAGE, rs = 4 * pg > 0x10000 ? 4 * pg : 0x10000;
	struct gm_backing b[3];
	struct outcome k, d;
	uint8_t *a, *c;
	uint64_t gpas[] = { 0x10, rs + 0x10, 2 * rs + pg - 8, 2 * rs + 2 * pg, 3 * rs };
	uint64_t r0, w0, r1, w1, f0;
	struct gm *gm;
	size_t i;

	gm_require_module();
	a = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, c);
	ASSERT_EQ(0, mprotect(c + pg, pg, PROT_NONE));
	b[0] = (struct gm_backing){ .base = a, .len = 2 * pg };
	b[1] = (struct gm_backing){ .base = NULL, .len = 0 };
	b[2] = (struct gm_backing){ .base = c, .len = 2 * pg };
	test_gm_ok(gm_new_multi_region("multi", rs, b, 3, &gm));

	memset(a, 0xa1, 2 * pg);
	memset(c, 0xc1, pg);
	if (counters(gm, &r0, &w0)) {
		test_gm_ok(gm_read_at(gm, 0x10, dbuf, 8));
		test_gm_ok(gm_write_at(gm, 2 * rs + 0x20, dbuf, 8));
		ASSERT_TRUE(counters(gm, &r1, &w1));
		EXPECT_EQ(r0 + w0, r1 + w1);
		EXPECT_EQ(0xa1, c[0x20]);
	}
	/* In a region, in the hole, into PROT_NONE, past the backing, the padding. */
	for (i = 0; i < sizeof(gpas) / sizeof(gpas[0]); i++) {
		EXPECT_TRUE(gm_set_direct(false));
		memset(kbuf, 0xee, sizeof(kbuf));
		outcome_take(&k, gm_read_at(gm, gpas[i], kbuf, sizeof(kbuf)));
		EXPECT_FALSE(gm_set_direct(true));
		memset(dbuf, 0xee, sizeof(dbuf));
		f0 = gm_direct_faults();
		outcome_take(&d, gm_read_at(gm, gpas[i], dbuf, sizeof(dbuf)));
		TH_LOG("0x%" PRIx64 ": %s", gpas[i], k.ret ? k.message : "success");
		EXPECT_SAME_OUTCOME(&k, &d);
		EXPECT_EQ(0, memcmp(kbuf, dbuf, sizeof(kbuf)));
		EXPECT_EQ(i == 2, gm_direct_faults() - f0);
	}
	gm_release(gm);
	munmap(a, 2 * pg);
	munmap(c, 2 * pg);
}

/* ------------------------------------------------------------------------ */
/* Compare-exchange. */

/*
 * A locked cmpxchg writes even when it does not swap, so read-only memory
 * faults either way - before it stores anything.  The kernel then does the
 * one exchange there is (and refuses it, as GUP refuses a write pin).
 */
TEST(a_fault_inside_compare_exchange_stores_nothing_and_reports_like_the_kernel)
{
	uint64_t cur, newv = 0xabcdefULL, f0;
	struct gm *gm;
	uint64_t *mem;

	gm_require_module();
	mem = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[1] = 42;
	ASSERT_EQ(0, mprotect(mem, SZ_4K, PROT_READ));
	test_gm_ok(gm_new("cas", mem, SZ_4K, &gm));

	f0 = gm_direct_faults();
	cur = 42;
	test_gm_err(EFAULT, GM_ERROR_OTHER,
		    "guest memory 'cas': compare exchange error: failed to access 0x8-0x10",
		    gm_compare_exchange(gm, 8, &cur, &newv, 8));
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
	EXPECT_EQ(42, cur);
	EXPECT_EQ(42, mem[1]);
	cur = 41;
	test_gm_err(EFAULT, GM_ERROR_OTHER,
		    "guest memory 'cas': compare exchange error: failed to access 0x8-0x10",
		    gm_compare_exchange(gm, 8, &cur, &newv, 8));
	EXPECT_EQ(41, cur);
	EXPECT_EQ(42, mem[1]);
	EXPECT_EQ(2, gm_direct_faults() - f0);

	/* Writable again: the same call swaps, directly. */
	ASSERT_EQ(0, mprotect(mem, SZ_4K, PROT_READ | PROT_WRITE));
	cur = 42;
	EXPECT_EQ(1, gm_compare_exchange(gm, 8, &cur, &newv, 8));
	EXPECT_EQ(newv, mem[1]);
	EXPECT_EQ(2, gm_direct_faults() - f0);
	gm_release(gm);
	munmap(mem, SZ_4K);
}

/* ------------------------------------------------------------------------ */
/* The backing changes under a running copy. */

#define RACE_LEN (64 * SZ_4K)
#define RACE_HOLE (RACE_LEN / 2)        /* the 16 KiB that come and go */
#define RACE_HOLE_LEN (4 * SZ_4K)

struct race {
	uint8_t *mem;
	bool unmap;                     /* munmap + mmap, else mprotect */
	atomic_bool stop;
	atomic_ulong flips;
};

static void *race_flipper(void *arg)
{
	struct race *r = arg;
	uint8_t *hole = r->mem + RACE_HOLE;

	while (!atomic_load(&r->stop)) {
		if (r->unmap) {
			munmap(hole, RACE_HOLE_LEN);
			sched_yield();
			mmap(hole, RACE_HOLE_LEN, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		} else {
			mprotect(hole, RACE_HOLE_LEN, PROT_NONE);
			sched_yield();
			mprotect(hole, RACE_HOLE_LEN, PROT_READ | PROT_WRITE);
		}
		atomic_fetch_add(&r->flips, 1);
		sched_yield();
	}
	return NULL;
}

/*
 * Every call either succeeds or fails exactly as the kernel fails when the
 * hole is gone: EFAULT, "the specified page is not mapped", at a page of
 * the hole (the first one the kernel found missing).
 */
static void race_run(struct __test_metadata *_metadata, bool unmap)
{
	static uint8_t buf[RACE_LEN];
	struct race r = { .unmap = unmap };
	unsigned long ok = 0, failed = 0, bad = 0, i;
	uint64_t f0;
	pthread_t t;
	struct gm *gm;
	double t0;

	gm_require_module();
	r.mem = mmap(NULL, RACE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.mem);
	test_gm_ok(gm_new("race", r.mem, RACE_LEN, &gm));
	test_gm_ok(gm_read_at(gm, 0, buf, 8));          /* set up before the race */
	f0 = gm_direct_faults();
	ASSERT_EQ(0, pthread_create(&t, NULL, race_flipper, &r));
	t0 = (double)time(NULL);
	for (i = 0; (i < 300 || gm_direct_faults() - f0 < 3) && time(NULL) - t0 < 20; i++) {
		int ret;

		switch (i % 3) {
		case 0:
			ret = gm_read_at(gm, 0x1000, buf, RACE_LEN - 0x2000);
			break;
		case 1:
			ret = gm_write_at(gm, 0x800, buf, RACE_LEN - 0x1000);
			break;
		default:
			ret = gm_fill_at(gm, RACE_HOLE - 8, 0x5a, RACE_HOLE_LEN + 16);
			break;
		}
		if (!ret) {
			ok++;
		} else {
			const struct gm_error *e = gm_last_error();

			failed++;
			if (ret != -EFAULT || e->kind != GM_ERROR_OTHER || !e->has_gpa ||
			    e->gpa < RACE_HOLE || e->gpa >= RACE_HOLE + RACE_HOLE_LEN ||
			    e->gpa % SZ_4K || strcmp(e->cause, "the specified page is not mapped")) {
				bad++;
				TH_LOG("unexpected: %d %s", ret, e->message);
			}
		}
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%lu calls: %lu ok, %lu failed; %lu flips, %lu faults recovered", i, ok, failed,
	       atomic_load(&r.flips), (unsigned long)(gm_direct_faults() - f0));
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, gm_direct_faults() - f0);
	gm_release(gm);
	munmap(r.mem, RACE_LEN);
}

TEST(another_thread_munmaps_the_backing_mid_copy)
{
	race_run(_metadata, true);
}

TEST(another_thread_mprotects_the_backing_mid_copy)
{
	race_run(_metadata, false);
}

/* ------------------------------------------------------------------------ */
/* Sharing SIGSEGV and SIGBUS with the application. */

static sigjmp_buf app_jump;
static volatile sig_atomic_t app_calls, app_mask_had_usr1;
static void *volatile app_addr;
static struct sigaction lib_action;     /* what the app replaced, to chain to */

static void app_siginfo_handler(int sig, siginfo_t *si, void *uc)
{
	sigset_t now;

	(void)uc;
	app_calls++;
	app_addr = si->si_addr;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	app_mask_had_usr1 = sigismember(&now, SIGUSR1);
	siglongjmp(app_jump, sig);
}

static void app_plain_handler(int sig)
{
	app_calls++;
	siglongjmp(app_jump, sig);
}

/* An application handler that knows only its own memory, and chains the rest. */
static uint8_t *app_own;

static void app_chaining_handler(int sig, siginfo_t *si, void *uc)
{
	if ((uint8_t *)si->si_addr >= app_own && (uint8_t *)si->si_addr < app_own + SZ_4K) {
		app_calls++;
		siglongjmp(app_jump, sig);
	}
	if (lib_action.sa_flags & SA_SIGINFO)
		lib_action.sa_sigaction(sig, si, uc);
}

/*
 * A PROT_NONE page the test faults on itself, and an object with a hole
 * (HLAYOUT: its PROT_NONE page is at NONE_GPA).
 */
struct app {
	uint8_t *own, *mem, *bus;       /* @bus: a kernel page past the end of a memfd */
	struct gm *gm;
};

/* 0, or -1; no harness asserts, as it runs in helper processes too. */
static int app_init(struct app *a)
{
	int fd = memfd_create("sigbus", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, SZ_4K))
		return -1;
	a->bus = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	a->own = mmap(NULL, SZ_4K, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a->mem = layout_map(HPAGE);
	if (a->bus == MAP_FAILED || a->own == MAP_FAILED || !a->mem)
		return -1;
	app_own = a->own;
	return gm_new("direct", a->mem, HLAYOUT, &a->gm) || layout_punch(a->mem, HPAGE) ?
	       -1 : 0;
}

/* The kernel's report of an 8-byte read of the PROT_NONE page. */
static const char *app_fault_message(void)
{
	static char msg[128];

	snprintf(msg, sizeof(msg),
		 "guest memory 'direct': read error: failed to access 0x%" PRIx64 "-0x%" PRIx64,
		 (uint64_t)NONE_GPA, (uint64_t)NONE_GPA + 8);
	return msg;
}

/*
 * A failing call on the object: reported as the kernel reports it, after
 * @faults faults the library recovered (0: it went to the kernel at once).
 */
static void app_library_fault(struct __test_metadata *_metadata, struct app *a, int faults)
{
	uint64_t f0 = gm_direct_faults(), v;

	test_gm_err(EFAULT, GM_ERROR_OTHER, app_fault_message(),
		    gm_read_plain(a->gm, NONE_GPA, &v, 8));
	EXPECT_EQ(faults, gm_direct_faults() - f0);
}

/* The application's own fault (or a SIGSEGV sent to it), caught by its own handler. */
static int app_own_fault(void *addr, bool write)
{
	int sig = sigsetjmp(app_jump, 1);

	if (!sig) {
		if (!addr)
			kill(getpid(), SIGSEGV);
		else if (write)
			*(volatile uint8_t *)addr = 1;
		else
			(void)*(volatile uint8_t *)addr;
	}
	return sig;
}

static void app_teardown(struct app *a)
{
	gm_release(a->gm);
	munmap(a->mem, HLAYOUT);
	munmap(a->own, SZ_4K);
	munmap(a->bus, 2 * HPAGE);
}

TEST(an_siginfo_handler_installed_before_the_library_still_gets_its_faults)
{
	struct sigaction sa = { .sa_sigaction = app_siginfo_handler, .sa_flags = SA_SIGINFO };
	struct app a;

	gm_require_module();
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, app_init(&a));

	app_library_fault(_metadata, &a, 1);
	EXPECT_EQ(0, app_calls);
	EXPECT_EQ(SIGSEGV, app_own_fault(a.own, false));
	EXPECT_EQ(1, app_calls);
	EXPECT_EQ(a.own, app_addr);
	EXPECT_TRUE(app_mask_had_usr1);         /* its sa_mask, as the kernel would set it */
	EXPECT_EQ(SIGBUS, app_own_fault(a.bus + HPAGE, true));
	EXPECT_EQ(2, app_calls);
	EXPECT_EQ(a.bus + HPAGE, app_addr);
	/* A SIGSEGV a process sends is the application's too. */
	EXPECT_EQ(SIGSEGV, app_own_fault(NULL, false));
	EXPECT_EQ(3, app_calls);
	app_library_fault(_metadata, &a, 1);
	EXPECT_EQ(3, app_calls);
	app_teardown(&a);
}

TEST(a_plain_handler_installed_before_the_library_still_gets_its_faults)
{
	struct app a;

	gm_require_module();
	ASSERT_NE(SIG_ERR, signal(SIGSEGV, app_plain_handler));
	ASSERT_EQ(0, app_init(&a));
	app_library_fault(_metadata, &a, 1);
	EXPECT_EQ(0, app_calls);
	EXPECT_EQ(SIGSEGV, app_own_fault(a.own, true));
	EXPECT_EQ(1, app_calls);
	app_library_fault(_metadata, &a, 1);
	app_teardown(&a);
}

TEST(a_handler_installed_after_the_library_that_chains_keeps_both_working)
{
	struct sigaction sa = { .sa_sigaction = app_chaining_handler,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	struct app a;

	gm_require_module();
	ASSERT_EQ(0, app_init(&a));
	app_library_fault(_metadata, &a, 1);               /* the library's handler is in */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, &lib_action));
	ASSERT_TRUE(lib_action.sa_flags & SA_SIGINFO);
	ASSERT_TRUE(lib_action.sa_flags & SA_ONSTACK);

	app_library_fault(_metadata, &a, 1);               /* chained back to the library */
	EXPECT_EQ(0, app_calls);
	EXPECT_EQ(SIGSEGV, app_own_fault(a.own, false));
	EXPECT_EQ(1, app_calls);
	app_library_fault(_metadata, &a, 1);
	EXPECT_EQ(1, app_calls);
	app_teardown(&a);
}

/* A handler that knows nothing of the library: turning direct off keeps it away. */
TEST(a_handler_installed_after_the_library_that_does_not_chain_needs_the_opt_out)
{
	struct sigaction sa = { .sa_sigaction = app_siginfo_handler, .sa_flags = SA_SIGINFO };
	uint64_t v, f0;
	struct app a;

	gm_require_module();
	ASSERT_EQ(0, app_init(&a));
	app_library_fault(_metadata, &a, 1);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	EXPECT_TRUE(gm_set_direct(false));
	f0 = gm_direct_faults();
	test_gm_err(EFAULT, GM_ERROR_OTHER, app_fault_message(),
		    gm_read_plain(a.gm, NONE_GPA, &v, 8));
	EXPECT_EQ(0, app_calls);
	EXPECT_EQ(f0, gm_direct_faults());
	EXPECT_EQ(SIGSEGV, app_own_fault(a.own, false));
	EXPECT_EQ(1, app_calls);
	app_teardown(&a);
}

/* The exit of a child, for a crash the library must not swallow. */
static int crash_child(struct __test_metadata *_metadata, void (*crash)(struct app *))
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		struct app a;
		uint64_t v;

		if (app_init(&a))
			_exit(9);
		if (gm_read_plain(a.gm, NONE_GPA, &v, 8) != -EFAULT || gm_direct_faults() != 1)
			_exit(10);              /* the library is in, and working */
		crash(&a);
		_exit(11);                      /* survived: wrong */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status);
}

/* Not a constant, so that the compiler does not see the NULL page coming. */
static volatile uintptr_t null_page_addr = 8;

static void crash_null(struct app *a)
{
	(void)a;
	*(volatile int *)null_page_addr = 1;
}

static void crash_prot_none(struct app *a)
{
	(void)*(volatile uint8_t *)(a->mem + NONE_GPA);
}

static void crash_bus(struct app *a)
{
	*(volatile uint8_t *)(a->bus + HPAGE) = 1;
}

static void crash_sent(struct app *a)
{
	(void)a;
	kill(getpid(), SIGSEGV);
}

static volatile sig_atomic_t *oneshot_calls;

static void oneshot_handler(int sig)
{
	(void)sig;
	(*oneshot_calls)++;     /* returns: the fault happens again, now with the default */
}

TEST(a_real_crash_still_crashes)
{
	gm_require_module();
	EXPECT_EQ(SIGSEGV, crash_child(_metadata, crash_null));
	EXPECT_EQ(SIGSEGV, crash_child(_metadata, crash_prot_none));
	EXPECT_EQ(SIGBUS, crash_child(_metadata, crash_bus));
	EXPECT_EQ(SIGSEGV, crash_child(_metadata, crash_sent));
}

/*
 * An SA_RESETHAND handler the library replaced runs once; the second
 * fault takes the default action.
 */
TEST(a_oneshot_handler_runs_once_then_the_crash_is_real)
{
	static struct sigaction sa = { .sa_handler = oneshot_handler,
				       .sa_flags = SA_RESETHAND };
	int status;
	pid_t pid;

	gm_require_module();
	oneshot_calls = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			     -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)oneshot_calls);
	pid = fork();
	if (pid == 0) {
		struct app a;
		uint64_t v;

		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		if (app_init(&a))
			_exit(9);
		if (gm_read_plain(a.gm, NONE_GPA, &v, 8) != -EFAULT || *oneshot_calls)
			_exit(10);
		crash_null(&a);
		_exit(11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGSEGV, WTERMSIG(status));
	EXPECT_EQ(1, *oneshot_calls);
}

/*
 * A stack overflow is delivered on the alternate signal stack, to the
 * library's handler first (installed SA_ONSTACK: without it the kernel
 * could not deliver at all) and then to the application's, still there.
 */
static uint8_t *alt_stack;
#define ALT_STACK_SIZE (256 * 1024)

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
	volatile uint8_t here;

	(void)sig;
	(void)si;
	(void)uc;
	_exit(&here >= alt_stack && &here < alt_stack + ALT_STACK_SIZE ? 42 : 43);
}

static volatile bool recurse_stop;

static int recurse(volatile uint8_t *prev)
{
	volatile uint8_t frame[1024];

	frame[0] = prev ? prev[0] + 1 : 0;
	if (recurse_stop)
		return 0;
	return recurse(frame) + frame[1];
}

TEST(sigaltstack_still_catches_a_stack_overflow)
{
	int status;
	pid_t pid;

	gm_require_module();
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_sigaction = overflow_handler,
					.sa_flags = SA_SIGINFO | SA_ONSTACK };
		stack_t ss;
		struct app a;
		uint64_t v;

		alt_stack = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ss = (stack_t){ .ss_sp = alt_stack, .ss_size = ALT_STACK_SIZE };
		if (alt_stack == MAP_FAILED || sigaltstack(&ss, NULL))
			_exit(20);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		if (app_init(&a))
			_exit(19);
		/* The library's handler recovers on the alternate stack too. */
		if (gm_read_plain(a.gm, NONE_GPA, &v, 8) != -EFAULT || gm_direct_faults() != 1)
			_exit(21);
		recurse(NULL);
		_exit(22);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("killed by signal %d", WTERMSIG(status));
	EXPECT_EQ(42, WEXITSTATUS(status));
}

/* ------------------------------------------------------------------------ */
/* Threads. */

#define FAULT_THREADS 4
#define FAULT_ROUNDS 40

/*
 * On HLAYOUT: 16 bytes across into the PROT_NONE page fail, 16 bytes of
 * page 2 are read, and page 7 holds a counter.
 */
#define FAULT_GPA (NONE_GPA - 8)
#define READ_GPA (2 * HPAGE)
#define COUNTER_GPA (7 * HPAGE)

struct fault_run {
	struct gm *gm;
	uint8_t *mem;
	atomic_ulong bad;
	uint64_t kernel_reads;          /* the blocking thread's: counted by the kernel */
	char message[128];              /* the kernel's report of the read at FAULT_GPA */
};

static void fault_run_init(struct fault_run *f)
{
	snprintf(f->message, sizeof(f->message),
		 "guest memory 'direct': read error: failed to access 0x%" PRIx64 "-0x%" PRIx64
		 " at 0x%" PRIx64, (uint64_t)FAULT_GPA, (uint64_t)FAULT_GPA + 16,
		 (uint64_t)NONE_GPA);
}

static void *fault_thread(void *arg)
{
	struct fault_run *f = arg;
	uint8_t buf[16];
	uint64_t cur, newv;
	int i;

	for (i = 0; i < FAULT_ROUNDS; i++) {
		if (gm_read_at(f->gm, FAULT_GPA, buf, 16) != -EFAULT ||
		    strcmp(gm_last_error()->message, f->message))
			atomic_fetch_add(&f->bad, 1);
		if (gm_read_at(f->gm, READ_GPA, buf, 16) || memcmp(buf, f->mem + READ_GPA, 16))
			atomic_fetch_add(&f->bad, 1);
		/* A counter on a page every thread shares, by compare-exchange. */
		cur = 0;
		do
			newv = cur + 1;
		while (gm_compare_exchange(f->gm, COUNTER_GPA, &cur, &newv, 8) == 0);
	}
	return NULL;
}

TEST(threads_take_faults_at_the_same_time)
{
	struct fault_run f = { 0 };
	pthread_t t[FAULT_THREADS];
	uint64_t f0, total = 0;
	int i;

	gm_require_module();
	fault_run_init(&f);
	f.mem = layout_map(HPAGE);
	ASSERT_NE(NULL, f.mem);
	test_gm_ok(gm_new("direct", f.mem, HLAYOUT, &f.gm));
	ASSERT_EQ(0, layout_punch(f.mem, HPAGE));
	f0 = gm_direct_faults();
	for (i = 0; i < FAULT_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fault_thread, &f));
	for (i = 0; i < FAULT_THREADS; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, atomic_load(&f.bad));
	/* Exactly one recovered fault per failing call: nothing lost or doubled. */
	EXPECT_EQ(FAULT_THREADS * FAULT_ROUNDS, gm_direct_faults() - f0);
	test_gm_ok(gm_read_plain(f.gm, COUNTER_GPA, &total, 8));
	EXPECT_EQ(FAULT_THREADS * FAULT_ROUNDS, total);
	gm_release(f.gm);
	munmap(f.mem, HLAYOUT);
}

static void *blocking_thread(void *arg)
{
	struct fault_run *f = arg;
	uint64_t r0, w0, r1, w1;
	uint8_t buf[16];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (!counters(f->gm, &r0, &w0))
		r0 = w0 = 0;
	if (gm_read_at(f->gm, FAULT_GPA, buf, 16) != -EFAULT)
		atomic_fetch_add(&f->bad, 1);
	if (gm_read_at(f->gm, READ_GPA, buf, 16))
		atomic_fetch_add(&f->bad, 1);
	if (counters(f->gm, &r1, &w1))
		f->kernel_reads = r1 - r0;
	return NULL;
}

/*
 * A fault in a thread that blocks SIGSEGV would kill the process, so such
 * a thread never goes direct, while the others do.
 */
TEST(a_thread_that_blocks_sigsegv_takes_the_kernel_path)
{
	struct fault_run f = { 0 };
	uint64_t f0, r, w;
	pthread_t t;
	uint8_t buf[16];

	gm_require_module();
	f.mem = layout_map(HPAGE);
	ASSERT_NE(NULL, f.mem);
	test_gm_ok(gm_new("direct", f.mem, HLAYOUT, &f.gm));
	test_gm_ok(gm_read_at(f.gm, READ_GPA, buf, 16));        /* direct in this thread */
	f0 = gm_direct_faults();
	ASSERT_EQ(0, pthread_create(&t, NULL, blocking_thread, &f));
	pthread_join(t, NULL);
	EXPECT_EQ(0, atomic_load(&f.bad));
	EXPECT_EQ(f0, gm_direct_faults());
	if (counters(f.gm, &r, &w))
		EXPECT_EQ(2, f.kernel_reads);
	gm_release(f.gm);
	munmap(f.mem, HLAYOUT);
}

/* ------------------------------------------------------------------------ */
/* Processes. */

/*
 * After fork(), the child's copy of the owner's addresses is not the
 * owner's memory: its calls must reach the parent's pages through the
 * kernel, even though the parent had already gone direct through the same
 * handle.  Allocated memory is mapped shared, so the child goes direct.
 */
TEST(a_fork_child_uses_the_owners_addresses_only_through_the_kernel)
{
	uint8_t *mem, *heap_va;
	struct gm *user, *heap;
	size_t len;
	int status;
	pid_t pid;
	char got[8];

	gm_require_module();
	mem = mmap(NULL, 2 * SZ_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	test_gm_ok(gm_new("fork", mem, 2 * SZ_4K, &user));
	test_gm_ok(gm_allocate(2 * SZ_4K, &heap));
	test_gm_ok(gm_full_mapping(heap, (void **)&heap_va, &len));
	test_gm_ok(gm_write_at(user, 0, "parent", 7));  /* both go direct here */
	test_gm_ok(gm_write_at(heap, 0, "parent", 7));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t r0 = 0, w0 = 0, r1, w1;
		bool counted = counters(user, &r0, &w0);

		memcpy(mem, "cowcow", 7);               /* the child's own copy */
		if (gm_read_at(user, 0, got, 7) || memcmp(got, "parent", 7))
			_exit(1);
		if (gm_write_plain(user, 0x100, "child!!", 8))
			_exit(2);
		if (mem[0x100])                         /* not the child's copy */
			_exit(3);
		if (counted && (!counters(user, &r1, &w1) || r1 != r0 + 1 || w1 != w0 + 1))
			_exit(4);
		counted = counters(heap, &r0, &w0);
		if (gm_write_at(heap, 0x10, "child", 6))
			_exit(5);
		if (counted && (!counters(heap, &r1, &w1) || w1 != w0))
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, memcmp(mem + 0x100, "child!!", 8));
	EXPECT_EQ(0, memcmp(mem, "parent", 7));
	EXPECT_EQ(0, memcmp(heap_va + 0x10, "child", 6));
	gm_release(heap);
	gm_release(user);
	munmap(mem, 2 * SZ_4K);
}

/* ------------------------------------------------------------------------ */
/* Opting out. */

static void expect_no_handler(struct __test_metadata *_metadata)
{
	struct sigaction cur;

	ASSERT_EQ(0, sigaction(SIGSEGV, NULL, &cur));
	EXPECT_EQ(SIG_DFL, cur.sa_handler);
	ASSERT_EQ(0, sigaction(SIGBUS, NULL, &cur));
	EXPECT_EQ(SIG_DFL, cur.sa_handler);
}

/* GUESTMEM_DIRECT=0 is read at the first call: nothing direct, no handler ever. */
TEST(guestmem_direct_0_keeps_the_library_out_of_signal_handling)
{
	struct app a;

	gm_require_module();
	ASSERT_EQ(0, setenv("GUESTMEM_DIRECT", "0", 1));
	ASSERT_EQ(0, app_init(&a));
	expect_uncounted(_metadata, a.gm, false);
	app_library_fault(_metadata, &a, 0);
	expect_no_handler(_metadata);
	EXPECT_FALSE(gm_set_direct(false));
	app_teardown(&a);
}

TEST(gm_set_direct_false_before_the_first_call_installs_nothing)
{
	struct app a;

	gm_require_module();
	EXPECT_TRUE(gm_set_direct(false));
	ASSERT_EQ(0, app_init(&a));
	expect_uncounted(_metadata, a.gm, false);
	expect_no_handler(_metadata);
	/* Switched on later, the handler comes with the first direct call. */
	EXPECT_FALSE(gm_set_direct(true));
	app_library_fault(_metadata, &a, 1);
	expect_uncounted(_metadata, a.gm, true);
	app_teardown(&a);
}

TEST_HARNESS_MAIN
