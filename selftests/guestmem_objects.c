// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory objects as handles: references (clone/release), the object
 * fd, adoption of an fd (from_fd), views (subrange), the empty object,
 * full_mapping, the Debug view, and the locking/IOVA entry points that the
 * next issue fills in.
 */
#include <stdatomic.h>

#include "guestmem_utils.h"

FIXTURE(standard) {
	struct gm_test_resources before;
	uint8_t *base;
	struct gm *gm;
};

FIXTURE_SETUP(standard)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->base = gm_test_standard_layout();
	ASSERT_NE(NULL, self->base);
	test_gm_ok(gm_new("test", self->base, SZ_4M, &self->gm));
}

FIXTURE_TEARDOWN(standard)
{
	gm_release(self->gm);
	if (self->base)
		munmap(self->base, SZ_4M);
	gm_test_expect_no_leaks(self->before);
}

TEST_F(standard, clones_share_one_object_until_the_last_release)
{
	struct gm *clone = gm_clone(self->gm);
	int fd = gm_fd(self->gm);
	uint8_t b = 0x21;

	ASSERT_LE(0, fd);
	EXPECT_EQ(self->gm, clone);
	EXPECT_EQ(fd, gm_fd(clone));
	/* The object fd is close-on-exec. */
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	test_gm_ok(gm_write_at(clone, 0x10, &b, 1));
	gm_release(clone);
	/* One reference left: the fd is still open and the object works. */
	EXPECT_LE(0, fcntl(fd, F_GETFD));
	b = 0;
	test_gm_ok(gm_read_at(self->gm, 0x10, &b, 1));
	EXPECT_EQ(0x21, b);

	gm_release(NULL);
}

TEST_F(standard, the_last_release_closes_the_object_fd)
{
	int fd = gm_fd(self->gm);

	gm_release(self->gm);
	self->gm = NULL;
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
	EXPECT_EQ(EBADF, errno);
}

TEST_F(standard, from_fd_adopts_a_duplicate_of_the_fd)
{
	struct gm *other;
	uint8_t b = 0x3c;
	char buf[512];
	int fd;

	test_gm_ok(gm_from_fd(gm_fd(self->gm), &other));
	fd = gm_fd(other);
	EXPECT_NE(gm_fd(self->gm), fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	test_gm_ok(gm_write_at(other, 0x2000, &b, 1));
	EXPECT_EQ(0x3c, self->base[0x2000]);
	/* It is the same object, name included. */
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'test': read error: failed to access 0x100000-0x100001",
		    gm_read_at(other, SZ_1M, &b, 1));
	test_gm_ok(gm_format(other, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "\"test\"")) TH_LOG("%s", buf);
	gm_release(other);
	/* The caller's fd is untouched. */
	EXPECT_LE(0, fcntl(gm_fd(self->gm), F_GETFD));
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
}

TEST_F(standard, subrange_is_a_window_with_its_own_addresses)
{
	struct gm *view, *nested;
	uint8_t b = 0x44;
	void *va;
	size_t len;

	test_gm_ok(gm_subrange(self->gm, 0x80000, 0x100000, false, &view));
	/* Address 0 of the view is 0x80000 of the parent. */
	test_gm_ok(gm_write_at(view, 0, &b, 1));
	EXPECT_EQ(0x44, self->base[0x80000]);
	test_gm_ok(gm_full_mapping(view, &va, &len));
	EXPECT_EQ(self->base + 0x80000, va);
	EXPECT_EQ(0x100000, len);
	/* Faults are reported in the view's own addresses ... */
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'test': read error: failed to access 0x7ffff-0x80001 at 0x80000",
		    gm_read_at(view, 0x7ffff, &b, 2));
	/* ... and so is its end. */
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'test': read error: failed to access 0x100000-0x100001",
		    gm_read_at(view, 0x100000, &b, 1));

	/* A view of a view points straight at the parent. */
	test_gm_ok(gm_subrange(view, 0x1000, 0x1000, false, &nested));
	b = 0x55;
	test_gm_ok(gm_write_at(nested, 0xfff, &b, 1));
	EXPECT_EQ(0x55, self->base[0x80000 + 0x1fff]);
	test_gm_ok(gm_full_mapping(nested, &va, &len));
	EXPECT_EQ(self->base + 0x81000, va);
	EXPECT_EQ(0x1000, len);
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'test': subrange error: failed to access 0xfff-0x1001",
		    gm_subrange(nested, 0xfff, 2, false, &view));

	/* The view keeps the object alive after the parent handle goes. */
	gm_release(self->gm);
	self->gm = NULL;
	test_gm_ok(gm_read_at(nested, 0xfff, &b, 1));
	EXPECT_EQ(0x55, b);
	gm_release(nested);
	gm_release(view);
}

TEST_F(standard, subrange_may_cover_the_whole_memory_and_no_more)
{
	struct gm *view;

	test_gm_ok(gm_subrange(self->gm, 0, SZ_4M, true, &view));
	gm_release(view);
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'test': subrange error: failed to access 0x3ff000-0x401000",
		    gm_subrange(self->gm, 0x3ff000, 0x2000, false, &view));
}

TEST_F(standard, format_prints_name_regions_and_sizes)
{
	char buf[512], small[8];
	int n;

	n = gm_format(self->gm, buf, sizeof(buf));
	ASSERT_LT(0, n);
	EXPECT_EQ((size_t)n, strlen(buf));
	EXPECT_NE(NULL, strstr(buf, "debug_name: \"test\"")) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "len: 0x400000")) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "region_bits: 63")) TH_LOG("%s", buf);
	/* Like snprintf: the full length comes back, the text is cut. */
	EXPECT_EQ(n, gm_format(self->gm, small, sizeof(small)));
	EXPECT_EQ(sizeof(small) - 1, strlen(small));
}

TEST(multi_region_format_and_no_full_mapping)
{
	struct gm_test_chunk all = { 0, 2 * SZ_4K, PROT_READ | PROT_WRITE };
	struct gm_backing b[2];
	char buf[1024];
	struct gm *gm;
	void *base, *va;
	size_t len;

	gm_require_module();
	base = gm_test_reserve(2 * SZ_4K, &all, 1);
	ASSERT_NE(NULL, base);
	b[0] = (struct gm_backing){ .base = NULL, .len = 0 };
	b[1] = (struct gm_backing){ .base = base, .len = 2 * SZ_4K };
	test_gm_ok(gm_new_multi_region("multi", 0x10000, b, 2, &gm));
	test_gm_ok(gm_format(gm, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "debug_name: \"multi\"")) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "region_bits: 16")) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "mapping: None, len: 0x0")) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "len: 0x2000")) TH_LOG("%s", buf);
	EXPECT_EQ(-ENOENT, gm_full_mapping(gm, &va, &len));
	gm_release(gm);
	munmap(base, 2 * SZ_4K);
}

TEST(a_single_backing_multi_region_has_a_full_mapping)
{
	struct gm_test_chunk all = { 0, 2 * SZ_4K, PROT_READ | PROT_WRITE };
	struct gm_backing b = { .base = NULL, .len = 2 * SZ_4K };
	struct gm *gm;
	void *va;
	size_t len;

	gm_require_module();
	b.base = gm_test_reserve(2 * SZ_4K, &all, 1);
	ASSERT_NE(NULL, b.base);
	test_gm_ok(gm_new_multi_region("one", 0x10000, &b, 1, &gm));
	test_gm_ok(gm_full_mapping(gm, &va, &len));
	EXPECT_EQ(b.base, va);
	EXPECT_EQ(2 * SZ_4K, len);
	gm_release(gm);
	munmap(b.base, 2 * SZ_4K);
}

TEST(empty_memory_has_no_bytes)
{
	struct gm_test_resources before;
	struct gm *gm;
	uint8_t b = 0;
	void *va;
	size_t len;

	gm_require_module();
	before = gm_test_snapshot();
	test_gm_ok(gm_empty(&gm));
	test_gm_ok(gm_read_at(gm, 0, &b, 0));
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'empty': read error: failed to access 0x0-0x1",
		    gm_read_at(gm, 0, &b, 1));
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'empty': write error: failed to access 0x1000-0x1001",
		    gm_write_at(gm, 0x1000, &b, 1));
	EXPECT_EQ(-ENOENT, gm_full_mapping(gm, &va, &len));
	EXPECT_FALSE(gm_check_gpa_readable(gm, 0));
	/*
	 * A zero-size plain access at 0 passes the address check and then
	 * finds no backing: the seed's default fallback error.
	 */
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'empty': read error: failed to access 0x0-0x0",
		    gm_read_plain(gm, 0, &b, 0));
	EXPECT_STREQ("no fallback for this operation", gm_last_error()->cause);
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'empty': write error: failed to access 0x1-0x1",
		    gm_write_plain(gm, 1, &b, 0));
	gm_release(gm);
	gm_test_expect_no_leaks(before);
}

/* A view into region 1 of a multi-region object reaches region 1's backing. */
TEST(subrange_of_multi_region_memory_stays_in_its_region)
{
	struct gm_test_chunk all = { 0, 4 * SZ_4K, PROT_READ | PROT_WRITE };
	struct gm_backing b[2];
	struct gm *gm, *view = NULL;
	uint8_t *base, x = 0x9d;
	void *va;
	size_t len;

	gm_require_module();
	base = gm_test_reserve(4 * SZ_4K, &all, 1);
	ASSERT_NE(NULL, base);
	b[0] = (struct gm_backing){ .base = base, .len = 2 * SZ_4K };
	b[1] = (struct gm_backing){ .base = base + 2 * SZ_4K, .len = 2 * SZ_4K };
	test_gm_ok(gm_new_multi_region("multi", 0x10000, b, 2, &gm));
	test_gm_ok(gm_subrange(gm, 0x10000 + 0x800, 0x1000, false, &view));
	test_gm_ok(gm_write_at(view, 0x10, &x, 1));
	EXPECT_EQ(0x9d, base[2 * SZ_4K + 0x810]);
	/* The view is one mapped region, so it has a full mapping. */
	test_gm_ok(gm_full_mapping(view, &va, &len));
	EXPECT_EQ(base + 2 * SZ_4K + 0x800, va);
	EXPECT_EQ(0x1000, len);
	gm_release(view);
	view = NULL;
	/* A view may not leave its region, nor reach past the backing. */
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'multi': subrange error: failed to access 0xf000-0x11000",
		    gm_subrange(gm, 0xf000, 0x2000, false, &view));
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'multi': subrange error: failed to access 0x11000-0x13000",
		    gm_subrange(gm, 0x11000, 0x2000, false, &view));
	EXPECT_EQ(NULL, view);
	gm_release(gm);
	munmap(base, 4 * SZ_4K);
}

/* A view of allocated memory is mapped from its own fd, at its own offset. */
TEST(subrange_of_allocated_memory_maps_its_window)
{
	struct gm_test_resources before;
	uint8_t *va, *vva;
	struct gm *gm, *view;
	size_t len, vlen;

	gm_require_module();
	before = gm_test_snapshot();
	test_gm_ok(gm_allocate(4 * SZ_4K, &gm));
	test_gm_ok(gm_full_mapping(gm, (void **)&va, &len));
	gm_test_fill_pattern(va, len);
	test_gm_ok(gm_subrange(gm, 0x1801, 0x1000, false, &view));
	test_gm_ok(gm_full_mapping(view, (void **)&vva, &vlen));
	EXPECT_EQ(0x1000, vlen);
	EXPECT_EQ(0, memcmp(vva, va + 0x1801, 0x1000));
	vva[0] = 0xfe;
	EXPECT_EQ(0xfe, va[0x1801]);
	gm_release(gm);
	/* The view's mapping and object outlive the parent handle. */
	EXPECT_EQ((uint8_t)(0x1802 & 0xff), vva[1]);
	gm_release(view);
	gm_test_expect_no_leaks(before);
}

TEST(allocated_memory_adopted_from_an_fd_is_mapped_again)
{
	struct gm *gm, *other;
	void *va, *va2;
	size_t len, len2;

	gm_require_module();
	test_gm_ok(gm_allocate(3 * SZ_4K, &gm));
	test_gm_ok(gm_full_mapping(gm, &va, &len));
	memset(va, 0x6b, len);
	test_gm_ok(gm_from_fd(gm_fd(gm), &other));
	test_gm_ok(gm_full_mapping(other, &va2, &len2));
	EXPECT_EQ(len, len2);
	EXPECT_EQ(0, memcmp(va, va2, len));
	((uint8_t *)va2)[5] = 0x01;
	EXPECT_EQ(0x01, ((uint8_t *)va)[5]);
	gm_release(other);
	gm_release(gm);
}

/*
 * Locking and IOVAs arrive with device attach (the next issue).  Until then
 * every object answers like the seed's memory whose supports_locking() is
 * false: the lock fails with "memory not lockable" at the first page.
 */
/*
 * Locking on the seed's standard layout (guestmem_lock.c has the rest): a
 * page in the hole at 1 MiB fails the lock at its address, and without a
 * device attached nothing has an IOVA (the seed's None).
 */
TEST_F(standard, lock_fails_in_the_hole_and_nothing_has_an_iova)
{
	static const uint64_t gpns[] = { 5, 0x100 };
	struct gm_locked_pages *lp = (void *)1;
	struct gm_locked_range *lr = (void *)1;
	struct gm_paged_range r;
	uint64_t iova = 1;

	test_gm_err(EFAULT, GM_ERROR_OTHER,
		    "guest memory 'test': lock error: failed to access memory at 0x100000",
		    gm_lock_gpns(self->gm, false, gpns, 2, &lp));
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
	EXPECT_EQ(NULL, lp);
	ASSERT_EQ(0, gm_paged_range_init(&r, 0, 8192, gpns, 2));
	test_gm_err(EFAULT, GM_ERROR_OTHER,
		    "guest memory 'test': lock error: failed to access memory at 0x100000",
		    gm_lock_range(self->gm, &r, &lr));
	EXPECT_EQ(NULL, lr);
	EXPECT_EQ(-ENOENT, gm_iova(self->gm, 0x5000, &iova));
	EXPECT_EQ(ENOENT, gm_last_error()->errnum);
	EXPECT_EQ(1, iova);
	/* Releasing nothing is fine. */
	gm_locked_pages_release(NULL);
	gm_locked_range_release(NULL);
}

/*
 * libguestmem 1.0's gm_new_multi_region, as a program linked against 1.0
 * calls it (the symbol version bound explicitly, as the dynamic linker
 * would bind an old binary): its struct gm_backing had two fields.  The
 * old array is read with the old layout - a hole, user memory, and the
 * message that names a backing's length.
 */
struct gm_backing_1_0 {
	void *base;
	size_t len;
};

int gm_new_multi_region_1_0_abi(const char *debug_name, uint64_t region_size,
				const struct gm_backing_1_0 *backings, size_t count,
				struct gm **out);
__asm__(".symver gm_new_multi_region_1_0_abi, gm_new_multi_region@LIBGUESTMEM_1.0");

TEST(a_program_built_against_1_0_passes_the_old_backings)
{
	struct gm_test_resources before = gm_test_snapshot();
	struct gm_backing_1_0 b[3];
	uint8_t *mem, buf[4];
	struct gm *gm = NULL;

	gm_require_module();
	mem = mmap(NULL, 2 * SZ_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memcpy(mem + SZ_4K, "old!", 4);
	b[0] = (struct gm_backing_1_0){ NULL, 0 };
	b[1] = (struct gm_backing_1_0){ mem, 2 * SZ_4K };
	b[2] = (struct gm_backing_1_0){ mem, 3 * SZ_4K };
	test_gm_err(EINVAL, GM_ERROR_OTHER,
		    "backing size 0x3000 is too large for region size 0x2000",
		    gm_new_multi_region_1_0_abi("old", 2 * SZ_4K, b, 3, &gm));
	test_gm_ok(gm_new_multi_region_1_0_abi("old", 2 * SZ_4K, b, 2, &gm));
	test_gm_ok(gm_read_at(gm, 2 * SZ_4K + SZ_4K, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "old!", 4));
	test_gm_fails(ERANGE, GM_ERROR_OUT_OF_RANGE, gm_read_at(gm, 0, buf, 4));
	gm_release(gm);
	munmap(mem, 2 * SZ_4K);
	gm_test_expect_no_leaks(before);
}

TEST_HARNESS_MAIN
