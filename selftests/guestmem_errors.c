// SPDX-License-Identifier: GPL-2.0
/*
 * One failing call per validation rule, each with otherwise valid input,
 * asserting the errno, gm_last_error()'s kind and its exact message (the
 * seed's Display, spec §4, or the library's wording where the seed panics).
 *
 * The raw struct rules (size field, flags, reserved fields) are the ABI
 * test's business (guestmem_abi.c); these are the rules a library caller
 * can break.
 */
#include <linux/guestmem.h>
#include <sys/ioctl.h>

#include "guestmem_utils.h"

enum call {
	READ_AT, WRITE_AT, FILL_AT, READ_PLAIN, WRITE_PLAIN, CMPXCHG, SUBRANGE,
	PROBE, READ_RANGE, WRITE_RANGE, ZERO_RANGE,
};

/* Every access below runs on the seed's standard layout, named "test". */
FIXTURE(access) {
	struct gm_test_resources before;
	void *base;
	struct gm *gm;
};

FIXTURE_VARIANT(access) {
	enum call call;
	uint64_t gpa;           /* gpa, subrange offset, or the (one) gpn */
	uint64_t len;           /* bytes, or the range length */
	uint64_t buf_len;       /* *_range: the buffer passed (0: same as len) */
	int errnum;
	enum gm_error_kind kind;
	const char *message;
	const char *cause;      /* NULL: not checked */
};

#define T "guest memory 'test': "

FIXTURE_VARIANT_ADD(access, read_beyond_the_end) {
	READ_AT, 0x400000, 1, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "read error: failed to access 0x400000-0x400001", "no memory at address",
};

FIXTURE_VARIANT_ADD(access, write_crossing_the_end) {
	WRITE_AT, 0x3fffff, 2, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "write error: failed to access 0x3fffff-0x400001", "no memory at address",
};

FIXTURE_VARIANT_ADD(access, read_with_gpa_bit_63_set) {
	READ_AT, 1ULL << 63, 1, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "read error: failed to access 0x8000000000000000-0x8000000000000001",
	"no memory at address",
};

/* The range end wraps, exactly as the seed's gpa..gpa+len does. */
FIXTURE_VARIANT_ADD(access, fill_whose_length_wraps) {
	FILL_AT, 0x1000, UINT64_MAX, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "fill error: failed to access 0x1000-0xfff", "no memory at address",
};

FIXTURE_VARIANT_ADD(access, read_in_a_hole) {
	READ_AT, 0x100000, 1, 0, EFAULT, GM_ERROR_OTHER,
	T "read error: failed to access 0x100000-0x100001",
	"the specified page is not mapped",
};

FIXTURE_VARIANT_ADD(access, read_running_into_a_hole) {
	READ_AT, 0xfffff, 2, 0, EFAULT, GM_ERROR_OTHER,
	T "read error: failed to access 0xfffff-0x100001 at 0x100000",
	"the specified page is not mapped",
};

FIXTURE_VARIANT_ADD(access, fill_running_into_the_page_hole) {
	FILL_AT, 0x2ffffe, 8, 0, EFAULT, GM_ERROR_OTHER,
	T "fill error: failed to access 0x2ffffe-0x300006 at 0x300000",
	"the specified page is not mapped",
};

FIXTURE_VARIANT_ADD(access, write_running_into_the_page_hole_across_pages) {
	WRITE_AT, 0x2ff800, 0x1000, 0, EFAULT, GM_ERROR_OTHER,
	T "write error: failed to access 0x2ff800-0x300800 at 0x300000",
	"the specified page is not mapped",
};

FIXTURE_VARIANT_ADD(access, read_plain_in_a_hole) {
	READ_PLAIN, 0x100000, 8, 0, EFAULT, GM_ERROR_OTHER,
	T "read error: failed to access 0x100000-0x100008", NULL,
};

FIXTURE_VARIANT_ADD(access, write_plain_crossing_the_end) {
	WRITE_PLAIN, 0x3ffffc, 8, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "write error: failed to access 0x3ffffc-0x400004", NULL,
};

/* Zero-size plain accesses still resolve their address (spec §8.1). */
FIXTURE_VARIANT_ADD(access, zero_size_read_plain_past_the_end) {
	READ_PLAIN, 0x400001, 0, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "read error: failed to access 0x400001-0x400001", NULL,
};

FIXTURE_VARIANT_ADD(access, compare_exchange_in_a_hole) {
	CMPXCHG, 0x100000, 8, 0, EFAULT, GM_ERROR_OTHER,
	T "compare exchange error: failed to access 0x100000-0x100008", NULL,
};

FIXTURE_VARIANT_ADD(access, compare_exchange_beyond_the_end) {
	CMPXCHG, 0x400000, 4, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "compare exchange error: failed to access 0x400000-0x400004", NULL,
};

FIXTURE_VARIANT_ADD(access, compare_exchange_misaligned) {
	CMPXCHG, 0x1004, 8, 0, EINVAL, GM_ERROR_OTHER,
	T "compare exchange error: 0x1004 is not aligned to the 8-byte size", NULL,
};

FIXTURE_VARIANT_ADD(access, compare_exchange_of_3_bytes) {
	CMPXCHG, 0x1000, 3, 0, EINVAL, GM_ERROR_OTHER,
	T "compare exchange error: size 3 is not 1, 2, 4 or 8 bytes", NULL,
};

FIXTURE_VARIANT_ADD(access, compare_exchange_of_0_bytes) {
	CMPXCHG, 0x1000, 0, 0, EINVAL, GM_ERROR_OTHER,
	T "compare exchange error: size 0 is not 1, 2, 4 or 8 bytes", NULL,
};

FIXTURE_VARIANT_ADD(access, compare_exchange_of_16_bytes) {
	CMPXCHG, 0x1000, 16, 0, EINVAL, GM_ERROR_OTHER,
	T "compare exchange error: size 16 is not 1, 2, 4 or 8 bytes", NULL,
};

FIXTURE_VARIANT_ADD(access, subrange_beyond_the_end) {
	SUBRANGE, 0x3ff000, 0x2000, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "subrange error: failed to access 0x3ff000-0x401000", "no memory at address",
};

FIXTURE_VARIANT_ADD(access, subrange_longer_than_the_address_space) {
	SUBRANGE, 0x1000, 1ULL << 63, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "subrange error: failed to access 0x1000-0x8000000000001000", "no memory at address",
};

FIXTURE_VARIANT_ADD(access, probe_beyond_the_end) {
	PROBE, 0x400, 0, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "probe error: failed to access memory at 0x400000", "no memory at address",
};

FIXTURE_VARIANT_ADD(access, probe_a_hole) {
	PROBE, 0x100, 0, 0, EFAULT, GM_ERROR_OTHER,
	T "probe error: failed to access memory at 0x100000", "the specified page is not mapped",
};

FIXTURE_VARIANT_ADD(access, probe_a_gpn_that_overflows) {
	PROBE, 1ULL << 52, 0, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "probe error: failed to access memory", "invalid guest page number 0x10000000000000",
};

FIXTURE_VARIANT_ADD(access, read_range_of_a_gpn_that_overflows) {
	READ_RANGE, 0xfffffffffffff000ULL, 16, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "read error: failed to access memory", "invalid guest page number 0xfffffffffffff000",
};

FIXTURE_VARIANT_ADD(access, write_range_in_a_hole) {
	WRITE_RANGE, 0x300, 16, 0, EFAULT, GM_ERROR_OTHER,
	T "write error: failed to access memory at 0x300000", "the specified page is not mapped",
};

FIXTURE_VARIANT_ADD(access, zero_range_beyond_the_end) {
	ZERO_RANGE, 0x400, 16, 0, ERANGE, GM_ERROR_OUT_OF_RANGE,
	T "fill error: failed to access memory at 0x400000", "no memory at address",
};

/* The seed panics on these two; the library refuses them. */
FIXTURE_VARIANT_ADD(access, read_range_with_a_short_buffer) {
	READ_RANGE, 0x5, 0x20, 0x10, EINVAL, GM_ERROR_OTHER,
	T "read error: buffer length 0x10 does not match range length 0x20", NULL,
};

FIXTURE_VARIANT_ADD(access, write_range_with_a_long_buffer) {
	WRITE_RANGE, 0x5, 0x20, 0x21, EINVAL, GM_ERROR_OTHER,
	T "write error: buffer length 0x21 does not match range length 0x20", NULL,
};

FIXTURE_SETUP(access)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->base = gm_test_standard_layout();
	ASSERT_NE(NULL, self->base);
	test_gm_ok(gm_new("test", self->base, SZ_4M, &self->gm));
}

FIXTURE_TEARDOWN(access)
{
	gm_release(self->gm);
	if (self->base)
		munmap(self->base, SZ_4M);
	gm_test_expect_no_leaks(self->before);
}

static int run_call(struct gm *gm, const FIXTURE_VARIANT(access) *v, uint8_t *buf)
{
	uint64_t cur = 0, newv = 1, gpn = v->gpa;
	size_t buf_len = v->buf_len ? v->buf_len : v->len;
	struct gm_paged_range r = { 0, v->len, &gpn, 1 };
	struct gm *view = NULL;
	int ret;

	switch (v->call) {
	case READ_AT:
		return gm_read_at(gm, v->gpa, buf, v->len);
	case WRITE_AT:
		return gm_write_at(gm, v->gpa, buf, v->len);
	case FILL_AT:
		return gm_fill_at(gm, v->gpa, 0x5a, v->len);
	case READ_PLAIN:
		return gm_read_plain(gm, v->gpa, buf, v->len);
	case WRITE_PLAIN:
		return gm_write_plain(gm, v->gpa, buf, v->len);
	case CMPXCHG:
		return gm_compare_exchange(gm, v->gpa, &cur, &newv, v->len);
	case SUBRANGE:
		ret = gm_subrange(gm, v->gpa, v->len, false, &view);
		gm_release(view);
		return ret;
	case PROBE:
		return gm_probe_gpns(gm, &gpn, 1);
	case READ_RANGE:
		return gm_read_range(gm, &r, buf, buf_len);
	case WRITE_RANGE:
		return gm_write_range(gm, &r, buf, buf_len);
	case ZERO_RANGE:
		return gm_zero_range(gm, &r);
	}
	return -EINVAL;
}

TEST_F(access, fails_with_the_documented_errno_kind_and_message)
{
	static uint8_t buf[0x2000];
	const struct gm_error *e;

	test_gm_err(variant->errnum, variant->kind, variant->message,
		    run_call(self->gm, variant, buf));
	e = gm_last_error();
	EXPECT_STREQ("test", e->debug_name);
	if (variant->cause)
		EXPECT_STREQ(variant->cause, e->cause);
}

/* The same failure, twice, leaves the same record: nothing accumulates. */
TEST_F(access, the_record_is_per_call)
{
	static uint8_t buf[0x2000];
	char first[1024];

	run_call(self->gm, variant, buf);
	snprintf(first, sizeof(first), "%s", gm_last_error()->message);
	run_call(self->gm, variant, buf);
	EXPECT_STREQ(first, gm_last_error()->message);
}

/* The caller's own memory failing is not a guest memory failure. */
TEST(a_bad_caller_buffer_is_efault_without_a_guest_address)
{
	const char *msg = T "read error: the caller's buffer or page list is not accessible";
	uint64_t gpn = 0x10;
	struct gm_paged_range r = { 0, 16, &gpn, 1 };
	uint8_t page[SZ_4K];
	struct gm *gm;

	gm_require_module();
	test_gm_ok(gm_new("test", page, sizeof(page), &gm));
	test_gm_err(EFAULT, GM_ERROR_OTHER, msg, gm_read_at(gm, 0, (void *)8, 16));
	EXPECT_FALSE(gm_last_error()->has_range);
	EXPECT_FALSE(gm_last_error()->has_gpa);
	gpn = 0;
	test_gm_err(EFAULT, GM_ERROR_OTHER, msg, gm_read_range(gm, &r, (void *)8, 16));
	r.gpns = (void *)8;
	test_gm_err(EFAULT, GM_ERROR_OTHER, msg, gm_read_range(gm, &r, page, 16));
	test_gm_err(EFAULT, GM_ERROR_OTHER,
		    T "probe error: the caller's buffer or page list is not accessible",
		    gm_probe_gpns(gm, (void *)8, 1));
	gm_release(gm);
}

/*
 * Construction: the seed's MultiRegionError, in the seed's order, and the
 * module's limits.
 */
FIXTURE(create) {
	void *backing;
};

FIXTURE_VARIANT(create) {
	uint64_t region_size;
	size_t count;           /* backings; only the first is present */
	size_t backing_len;
	const char *message;
};

FIXTURE_VARIANT_ADD(create, region_size_not_a_power_of_two) {
	0x3000, 1, 0x1000, "region size 0x3000 is not a power of 2",
};

FIXTURE_VARIANT_ADD(create, region_size_zero) {
	0, 1, 0x1000, "region size 0x0 is not a power of 2",
};

/* Both rules are broken; the power-of-two check comes first. */
FIXTURE_VARIANT_ADD(create, region_size_small_and_not_a_power_of_two) {
	0x300, 1, 0x1000, "region size 0x300 is not a power of 2",
};

FIXTURE_VARIANT_ADD(create, region_size_below_a_page) {
	0x800, 1, 0x1000, "region size 0x800 is smaller than a page",
};

FIXTURE_VARIANT_ADD(create, too_many_regions_for_the_address_space) {
	1ULL << 62, 3, 0x1000,
	"too many regions (4) for region size 0x4000000000000000; max is 2",
};

FIXTURE_VARIANT_ADD(create, backing_larger_than_its_region) {
	0x1000, 2, 0x2000, "backing size 0x2000 is too large for region size 0x1000",
};

FIXTURE_SETUP(create)
{
	gm_require_module();
	self->backing = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	ASSERT_NE(MAP_FAILED, self->backing);
}

FIXTURE_TEARDOWN(create)
{
	if (self->backing && self->backing != MAP_FAILED)
		munmap(self->backing, 0x2000);
}

TEST_F(create, multi_region_rule_is_enforced)
{
	struct gm_backing b[4] = { { .base = self->backing, .len = variant->backing_len } };
	struct gm_test_resources before = gm_test_snapshot();
	struct gm *gm = NULL;

	test_gm_err(EINVAL, GM_ERROR_OTHER, variant->message,
		    gm_new_multi_region("test", variant->region_size, b, variant->count, &gm));
	EXPECT_EQ(NULL, gm);
	EXPECT_EQ(GM_OP_CREATE, gm_last_error()->op);
	EXPECT_STREQ("test", gm_last_error()->debug_name);
	gm_test_expect_no_leaks(before);
}

/*
 * A backing exactly as large as its region is accepted, but an access may
 * not touch the region's end (spec §2.1), so its last byte is unreachable,
 * and no access crosses from one region into the next.
 */
TEST(accesses_stop_short_of_a_region_end)
{
	struct gm_backing b[2] = { { .len = 0x1000 }, { .len = 0x1000 } };
	struct gm *gm, *view = NULL;
	uint8_t x[2] = { 0 };

	gm_require_module();
	b[0].base = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, b[0].base);
	b[1].base = (char *)b[0].base + 0x1000;
	test_gm_ok(gm_new_multi_region("test", 0x1000, b, 2, &gm));
	test_gm_ok(gm_read_at(gm, 0xffe, x, 1));
	test_gm_ok(gm_read_at(gm, 0x1000, x, 1));
	test_gm_err(ERANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'test': read error: failed to access 0xfff-0x1000",
		    gm_read_at(gm, 0xfff, x, 1));
	test_gm_err(ERANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'test': write error: failed to access 0xfff-0x1001",
		    gm_write_at(gm, 0xfff, x, 2));
	test_gm_err(ERANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'test': subrange error: failed to access 0x800-0x1000",
		    gm_subrange(gm, 0x800, 0x800, false, &view));
	EXPECT_EQ(NULL, view);
	gm_release(gm);
	munmap(b[0].base, 0x2000);
}

/*
 * A backing that starts off alignment makes an aligned gpa unaligned in
 * memory, where no atomic instruction can be used either.  The page is
 * present and writable, so the owner's fast path sees these calls first
 * and must leave the unaligned one to the walker's EINVAL.
 */
TEST(compare_exchange_on_a_misaligned_backing)
{
	uint64_t cur = 0, newv = 1;
	struct gm *gm;
	uint8_t *page;

	gm_require_module();
	page = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	memset(page, 0, SZ_4K);
	test_gm_ok(gm_new("test", page + 4, SZ_4K - 4, &gm));
	test_gm_ok(gm_compare_exchange(gm, 0x10, &cur, &newv, 4));
	test_gm_err(EINVAL, GM_ERROR_OTHER,
		    "guest memory 'test': compare exchange error: "
		    "the memory backing 0x10 is not aligned to the 8-byte size",
		    gm_compare_exchange(gm, 0x10, &cur, &newv, 8));
	/* Also when the compare would fail. */
	cur = 0x55;
	test_gm_err(EINVAL, GM_ERROR_OTHER,
		    "guest memory 'test': compare exchange error: "
		    "the memory backing 0x10 is not aligned to the 8-byte size",
		    gm_compare_exchange(gm, 0x10, &cur, &newv, 8));
	EXPECT_EQ(1, *(uint32_t *)(page + 0x14));
	EXPECT_EQ(0, *(uint32_t *)(page + 0x18));
	gm_release(gm);
	munmap(page, SZ_4K);
}

static unsigned long read_module_param(const char *name)
{
	char path[128];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/guestmem/parameters/%s", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

TEST(more_backings_than_max_regions_is_enospc)
{
	unsigned long max = read_module_param("max_regions");
	struct gm_backing *b;
	struct gm *gm = NULL;

	gm_require_module();
	ASSERT_LT(0, max);
	b = calloc(max + 1, sizeof(*b));
	ASSERT_NE(NULL, b);
	test_gm_err(ENOSPC, GM_ERROR_OTHER,
		    "guest memory 'test': create error: No space left on device",
		    gm_new_multi_region("test", 0x1000, b, max + 1, &gm));
	EXPECT_EQ(NULL, gm);
	/* Exactly the limit is fine. */
	test_gm_ok(gm_new_multi_region("test", 0x1000, b, max, &gm));
	gm_release(gm);
	free(b);
}

TEST(allocation_above_max_alloc_bytes_is_enospc)
{
	unsigned long max = read_module_param("max_alloc_bytes");
	struct gm *gm = NULL;

	gm_require_module();
	ASSERT_LT(0, max);
	test_gm_err(ENOSPC, GM_ERROR_OTHER,
		    "guest memory 'heap': create error: No space left on device",
		    gm_allocate(max + 1, &gm));
	EXPECT_EQ(NULL, gm);
}

TEST(name_longer_than_max_name_len_is_enametoolong)
{
	unsigned long max = read_module_param("max_name_len");
	struct gm *gm = NULL;
	uint8_t page[64];
	char name[1024];

	gm_require_module();
	ASSERT_LT(0, max);
	ASSERT_LT(max + 1, sizeof(name));
	memset(name, 'n', max + 1);
	name[max + 1] = '\0';
	test_gm_fails(ENAMETOOLONG, GM_ERROR_OTHER, gm_new(name, page, sizeof(page), &gm));
	EXPECT_NE(NULL, strstr(gm_last_error()->message, "': create error: File name too long"));
	EXPECT_EQ(NULL, gm);
	/* At the limit the name is kept whole and shows up in messages. */
	name[max] = '\0';
	test_gm_ok(gm_new(name, page, sizeof(page), &gm));
	EXPECT_EQ(-ERANGE, gm_read_at(gm, sizeof(page), page, 1));
	EXPECT_STREQ(name, gm_last_error()->debug_name);
	gm_release(gm);
}

TEST(user_range_that_wraps_is_eoverflow)
{
	struct gm *gm = NULL;

	gm_require_module();
	test_gm_err(EOVERFLOW, GM_ERROR_OTHER,
		    "guest memory 'test': create error: Value too large for defined data type",
		    gm_new("test", (void *)(uintptr_t)-0x1000, 0x2000, &gm));
	EXPECT_EQ(NULL, gm);
}

TEST(user_range_outside_user_space_is_efault)
{
	struct gm *gm = NULL;

	gm_require_module();
	test_gm_err(EFAULT, GM_ERROR_OTHER,
		    "guest memory 'test': create error: Bad address",
		    gm_new("test", (void *)0xffff888000000000UL, 0x1000, &gm));
	EXPECT_EQ(NULL, gm);
}

/* Arguments no call can use are refused by name, before the kernel. */
TEST(null_arguments_are_einval)
{
	struct gm_backing b = { 0 };
	struct gm *gm = NULL;
	uint8_t page[64];

	gm_require_module();
	test_gm_err(EINVAL, GM_ERROR_OTHER,
		    "guest memory 'test': create error: the base address is NULL: Invalid argument",
		    gm_new("test", NULL, 0x1000, &gm));
	EXPECT_EQ(NULL, gm);
	test_gm_err(EINVAL, GM_ERROR_OTHER,
		    "guest memory 'test': create error: no place for the new object: Invalid argument",
		    gm_new("test", page, sizeof(page), NULL));
	test_gm_fails(EINVAL, GM_ERROR_OTHER, gm_new_multi_region("m", SZ_1M, NULL, 2, &gm));
	test_gm_fails(EINVAL, GM_ERROR_OTHER, gm_new_multi_region("m", SZ_1M, &b, 1, NULL));
	test_gm_fails(EINVAL, GM_ERROR_OTHER, gm_allocate(SZ_4K, NULL));
	test_gm_fails(EINVAL, GM_ERROR_OTHER, gm_empty(NULL));
	test_gm_fails(EINVAL, GM_ERROR_OTHER, gm_from_fd(0, NULL));
	EXPECT_EQ(NULL, gm);
}

/* The kernel's own rule, for callers of the raw ioctl. */
TEST(a_null_user_base_is_einval_in_the_kernel)
{
	struct guestmem_create_user cmd = { .size = sizeof(cmd), .len = 0x1000 };
	int dev;

	gm_require_module();
	dev = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	EXPECT_EQ(-1, ioctl(dev, GUESTMEM_CREATE_USER, &cmd));
	EXPECT_EQ(EINVAL, errno);
	close(dev);
}

TEST(from_fd_refuses_what_is_not_a_guest_memory_object)
{
	struct gm_test_resources before;
	struct gm *gm = NULL;
	char msg[128];
	int p[2];

	gm_require_module();
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	before = gm_test_snapshot();
	test_gm_fails(ENOTTY, GM_ERROR_OTHER, gm_from_fd(p[0], &gm));
	EXPECT_EQ(NULL, gm);
	/* The message names the dup the library made, which is closed again. */
	snprintf(msg, sizeof(msg), "create error: not a guest memory object: %s", strerror(ENOTTY));
	EXPECT_NE(NULL, strstr(gm_last_error()->message, msg))
		TH_LOG("%s", gm_last_error()->message);
	gm_test_expect_no_leaks(before);
	test_gm_fails(EBADF, GM_ERROR_OTHER, gm_from_fd(-1, &gm));
	close(p[0]);
	close(p[1]);
}

TEST(device_fd_is_not_an_object)
{
	struct gm *gm = NULL;
	int dev;

	gm_require_module();
	dev = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	test_gm_fails(ENOTTY, GM_ERROR_OTHER, gm_from_fd(dev, &gm));
	close(dev);
}

TEST_HARNESS_MAIN
