// SPDX-License-Identifier: GPL-2.0
/*
 * PagedRange and PagedRanges (ranges.rs), and the *_range accesses that
 * walk them (spec §3.5, §5).  The pure range arithmetic needs no module; the
 * accesses run over the seed's standard 4 MiB layout.
 */
#include <stdatomic.h>

#include "guestmem_utils.h"

/* ranges::tests::test_ranges */
TEST(seed_test_ranges)
{
	static const uint64_t one[] = { 1 };
	static const uint64_t g1[] = { 0x11, 0x22, 0x33 };
	static const uint64_t g2[] = { 0x111, 0x112, 0x222 };
	static const struct gm_address_range want[] = {
		{ 0x11223, 0x12000 },
		{ 0x22000, 0x23000 },
		{ 0x33000, 0x33135 },
		{ 0x111456, 0x11246d },     /* 0x111 and 0x112 merged */
	};
	struct gm_paged_range v[2], r;
	struct gm_paged_ranges multi;
	struct gm_address_range ar;
	size_t n = 0;
	int ret;

	EXPECT_EQ(-EINVAL, gm_paged_range_init(&r, 1, 4096, one, 1));
	ASSERT_EQ(0, gm_paged_range_init(&v[0], 0x123, 0x2012, g1, 3));
	ASSERT_EQ(0, gm_paged_range_init(&v[1], 0x456, 0x2017, g2, 3));

	gm_paged_ranges_init(&multi, v, 2);
	EXPECT_EQ(0x2012 + 0x2017, gm_paged_ranges_len(&multi));
	ASSERT_EQ(0, gm_paged_ranges_skip(&multi, 0x100));
	ASSERT_EQ(0, gm_paged_ranges_truncate(&multi, 0x2f29));
	EXPECT_EQ(0x2f29, gm_paged_ranges_len(&multi));

	while (gm_paged_ranges_next(&multi, &r) == 1) {
		while ((ret = gm_paged_range_pop_front(&r, &ar)) == 1) {
			ASSERT_LT(n, 4);
			EXPECT_EQ(want[n].start, ar.start) TH_LOG("range %zu", n);
			EXPECT_EQ(want[n].end, ar.end) TH_LOG("range %zu", n);
			n++;
		}
		EXPECT_EQ(0, ret);
	}
	EXPECT_EQ(4, n);
}

TEST(paged_range_new_accepts_exactly_what_fits)
{
	static const uint64_t g[] = { 7, 8 };
	struct gm_paged_range r;

	EXPECT_EQ(0, gm_paged_range_init(&r, 0, 8192, g, 2));
	EXPECT_EQ(0, gm_paged_range_init(&r, 8192, 0, g, 2));
	EXPECT_EQ(0, gm_paged_range_init(&r, 4096, 4096, g, 2));
	EXPECT_EQ(-EINVAL, gm_paged_range_init(&r, 8193, 0, g, 2));
	EXPECT_EQ(-EINVAL, gm_paged_range_init(&r, 1, 8192, g, 2));
	EXPECT_EQ(-EINVAL, gm_paged_range_init(&r, 0, UINT64_MAX, g, 2));
	EXPECT_EQ(0, gm_paged_range_init(&r, 0, 0, NULL, 0));
	EXPECT_EQ(0, gm_paged_range_len(&r));
}

TEST(paged_range_gpns_offset_and_len)
{
	static const uint64_t g[] = { 10, 11, 12, 13 };
	struct gm_paged_range r;
	const uint64_t *p;
	size_t n;

	/* Skipping whole pages through the offset: [5000, 5000+4000) lies in pages 1 and 2. */
	ASSERT_EQ(0, gm_paged_range_init(&r, 5000, 4000, g, 4));
	EXPECT_EQ(4000, gm_paged_range_len(&r));
	EXPECT_FALSE(gm_paged_range_is_empty(&r));
	EXPECT_EQ(5000 - 4096, gm_paged_range_offset(&r));
	p = gm_paged_range_gpns(&r, &n);
	EXPECT_EQ(2, n);
	EXPECT_EQ(11, p[0]);
	EXPECT_EQ(12, p[1]);

	/* The seed's quirk: an empty range at an unaligned start still has one gpn. */
	ASSERT_EQ(0, gm_paged_range_init(&r, 100, 0, g, 4));
	EXPECT_TRUE(gm_paged_range_is_empty(&r));
	p = gm_paged_range_gpns(&r, &n);
	EXPECT_EQ(1, n);
	EXPECT_EQ(10, p[0]);
	ASSERT_EQ(0, gm_paged_range_init(&r, 4096, 0, g, 4));
	gm_paged_range_gpns(&r, &n);
	EXPECT_EQ(0, n);
}

TEST(paged_range_subrange_skip_truncate_split)
{
	static const uint64_t g[] = { 1, 2, 3 };
	struct gm_paged_range r, s, head, tail;

	ASSERT_EQ(0, gm_paged_range_init(&r, 10, 10000, g, 3));
	EXPECT_EQ(0, gm_paged_range_subrange(&r, 100, 200, &s));
	EXPECT_EQ(110, s.start);
	EXPECT_EQ(310, s.end);
	EXPECT_EQ(0, gm_paged_range_subrange(&r, 10000, 0, &s));
	EXPECT_EQ(-EINVAL, gm_paged_range_subrange(&r, 10001, 0, &s));
	EXPECT_EQ(-EINVAL, gm_paged_range_subrange(&r, 1, 10000, &s));

	EXPECT_EQ(0, gm_paged_range_split(&r, 4086, &head, &tail));
	EXPECT_EQ(10, head.start);
	EXPECT_EQ(4096, head.end);
	EXPECT_EQ(4096, tail.start);
	EXPECT_EQ(10010, tail.end);
	EXPECT_EQ(-EINVAL, gm_paged_range_split(&r, 10001, &head, &tail));

	/* Where the seed asserts, the range is left alone. */
	EXPECT_EQ(-EINVAL, gm_paged_range_skip(&r, 10001));
	EXPECT_EQ(-EINVAL, gm_paged_range_truncate(&r, 10001));
	EXPECT_EQ(10000, gm_paged_range_len(&r));
	EXPECT_EQ(0, gm_paged_range_skip(&r, 1000));
	EXPECT_EQ(0, gm_paged_range_truncate(&r, 10));
	EXPECT_EQ(1010, r.start);
	EXPECT_EQ(1020, r.end);
}

TEST(pop_front_stops_at_an_invalid_gpn_without_advancing)
{
	static const uint64_t g[] = { 1ULL << 52, 2 };
	struct gm_address_range ar;
	struct gm_paged_range r;

	ASSERT_EQ(0, gm_paged_range_init(&r, 0, 8192, g, 2));
	EXPECT_EQ(-ERANGE, gm_paged_range_pop_front(&r, &ar));
	EXPECT_EQ(0, r.start);
	EXPECT_EQ(-ERANGE, gm_paged_range_pop_front(&r, &ar));
}

TEST(paged_ranges_skip_across_ranges_and_empty_ones)
{
	static const uint64_t g[] = { 4, 5, 6 };
	struct gm_paged_range v[3], r;
	struct gm_paged_ranges pr;

	ASSERT_EQ(0, gm_paged_range_init(&v[0], 0, 100, g, 1));
	ASSERT_EQ(0, gm_paged_range_init(&v[1], 0, 0, g, 1));
	ASSERT_EQ(0, gm_paged_range_init(&v[2], 4096, 8192, g, 3));
	gm_paged_ranges_init(&pr, v, 3);
	EXPECT_EQ(8292, gm_paged_ranges_len(&pr));
	EXPECT_FALSE(gm_paged_ranges_is_empty(&pr));
	EXPECT_EQ(-EINVAL, gm_paged_ranges_skip(&pr, 8293));
	ASSERT_EQ(0, gm_paged_ranges_skip(&pr, 150));
	EXPECT_EQ(8142, gm_paged_ranges_len(&pr));
	ASSERT_EQ(1, gm_paged_ranges_next(&pr, &r));
	EXPECT_EQ(4096 + 50, r.start);
	EXPECT_EQ(4096 + 8192, r.end);
	EXPECT_EQ(0, gm_paged_ranges_next(&pr, &r));
	EXPECT_TRUE(gm_paged_ranges_is_empty(&pr));
	gm_paged_ranges_init(&pr, v + 1, 1);
	EXPECT_TRUE(gm_paged_ranges_is_empty(&pr));
}

/* The *_range accesses over the seed's standard layout. */
FIXTURE(range_io) {
	struct gm_test_resources before;
	uint8_t *base;
	struct gm *gm;
};

FIXTURE_SETUP(range_io)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->base = gm_test_standard_layout();
	ASSERT_NE(NULL, self->base);
	test_gm_ok(gm_new("test", self->base, SZ_4M, &self->gm));
}

FIXTURE_TEARDOWN(range_io)
{
	gm_release(self->gm);
	if (self->base)
		munmap(self->base, SZ_4M);
	gm_test_expect_no_leaks(self->before);
}

TEST_F(range_io, write_range_scatters_pages_in_gpn_order)
{
	/* Three pages, out of order and not contiguous: 0x201, 0x5, 0x200. */
	static const uint64_t g[] = { 0x201, 0x5, 0x200 };
	uint8_t src[3 * 4096 - 300], dst[sizeof(src)];
	struct gm_paged_range r;

	gm_test_fill_pattern(src, sizeof(src));
	ASSERT_EQ(0, gm_paged_range_init(&r, 100, sizeof(src), g, 3));
	test_gm_ok(gm_write_range(self->gm, &r, src, sizeof(src)));

	/* head: 3996 bytes at 0x201000+100; body: page 5; tail: 3896 bytes at 0x200000 */
	EXPECT_EQ(0, memcmp(self->base + 0x201000 + 100, src, 3996));
	EXPECT_EQ(0, memcmp(self->base + 0x5000, src + 3996, 4096));
	EXPECT_EQ(0, memcmp(self->base + 0x200000, src + 3996 + 4096, 3896));
	EXPECT_EQ(0, self->base[0x200000 + 3896]);
	EXPECT_EQ(0, self->base[0x201000 + 99]);

	memset(dst, 0, sizeof(dst));
	test_gm_ok(gm_read_range(self->gm, &r, dst, sizeof(dst)));
	EXPECT_EQ(0, memcmp(src, dst, sizeof(src)));
}

TEST_F(range_io, atomic_buffers_and_zero_range)
{
	static const uint64_t g[] = { 0x210, 0x211 };
	_Atomic uint8_t abuf[6000];
	struct gm_paged_range r;
	uint8_t check[6000];
	size_t i;

	for (i = 0; i < sizeof(abuf); i++)
		atomic_store(&abuf[i], (uint8_t)(i * 7));
	ASSERT_EQ(0, gm_paged_range_init(&r, 2000, 6000, g, 2));
	test_gm_ok(gm_write_range_from_atomic(self->gm, &r, abuf, 6000));
	for (i = 0; i < sizeof(abuf); i++)
		atomic_store(&abuf[i], 0);
	test_gm_ok(gm_read_range_to_atomic(self->gm, &r, abuf, 6000));
	for (i = 0; i < sizeof(abuf); i++)
		check[i] = atomic_load(&abuf[i]);
	for (i = 0; i < sizeof(abuf); i++)
		ASSERT_EQ((uint8_t)(i * 7), check[i]) TH_LOG("byte %zu", i);
	EXPECT_EQ(0, memcmp(check, self->base + 0x210000 + 2000, 6000));

	test_gm_ok(gm_fill_range(self->gm, &r, 0xee));
	EXPECT_EQ(0xee, self->base[0x210000 + 2000]);
	EXPECT_EQ(0xee, self->base[0x211000 + 3903]);
	EXPECT_EQ(0, self->base[0x211000 + 3904]);
	test_gm_ok(gm_zero_range(self->gm, &r));
	for (i = 0; i < 6000; i++)
		ASSERT_EQ(0, self->base[0x210000 + 2000 + i]);
}

TEST_F(range_io, a_failing_chunk_stops_the_walk_and_keeps_earlier_chunks)
{
	/* Page 0x2 is RAM, page 0x100 is in the hole at 1 MiB, page 0x3 is RAM. */
	static const uint64_t g[] = { 0x2, 0x100, 0x3 };
	uint8_t src[3 * 4096];
	struct gm_paged_range r;

	memset(src, 0xab, sizeof(src));
	ASSERT_EQ(0, gm_paged_range_init(&r, 0, sizeof(src), g, 3));
	/* No range in *_range errors, only the failing GPA. */
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'test': write error: failed to access memory at 0x100000",
		    gm_write_range(self->gm, &r, src, sizeof(src)));
	EXPECT_FALSE(gm_last_error()->has_range);
	EXPECT_EQ(0xab, self->base[0x2000]);
	EXPECT_EQ(0xab, self->base[0x2fff]);
	EXPECT_EQ(0, self->base[0x3000]);
}

TEST_F(range_io, zero_length_ranges)
{
	static const uint64_t g[] = { 0x100 }, bad[] = { 1ULL << 52 };
	struct gm_paged_range r;

	/* Aligned and empty: no access at all, even on a hole. */
	ASSERT_EQ(0, gm_paged_range_init(&r, 0, 0, g, 1));
	test_gm_ok(gm_read_range(self->gm, &r, NULL, 0));
	/* Unaligned and empty: one zero-length access, which succeeds ... */
	ASSERT_EQ(0, gm_paged_range_init(&r, 5, 0, g, 1));
	test_gm_ok(gm_zero_range(self->gm, &r));
	/* ... after its gpn has been turned into a GPA. */
	ASSERT_EQ(0, gm_paged_range_init(&r, 5, 0, bad, 1));
	test_gm_err(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		    "guest memory 'test': fill error: failed to access memory",
		    gm_zero_range(self->gm, &r));
	EXPECT_STREQ("invalid guest page number 0x10000000000000", gm_last_error()->cause);
}

TEST_HARNESS_MAIN
