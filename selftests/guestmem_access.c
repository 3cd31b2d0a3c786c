// SPDX-License-Identifier: GPL-2.0
/*
 * The data path of a guest memory object: byte copies, fills, the
 * atomic-buffer variants, plain (typed) accesses and compare-exchange, each
 * checked against the bytes of the backing itself.  Every test runs over
 * user memory (GuestMemory::new) and over allocated memory
 * (GuestMemory::allocate), which the kernel backs very differently, each
 * both ways the library can reach it: directly (the default in the owner,
 * guestmem_direct.c) and through the kernel (gm_set_direct(false)).
 */
#include <stdatomic.h>
#include <sys/syscall.h>

#include "guestmem_utils.h"

#define MEM_SIZE (16 * SZ_4K)

FIXTURE(mem) {
	struct gm_test_resources before;
	void *user;             /* the backing, when it is user memory */
	uint8_t *bytes;         /* the backing as the test sees it */
	struct gm *gm;
};

FIXTURE_VARIANT(mem) {
	bool allocated;
	bool kernel;            /* direct access off: every call is an ioctl */
};

FIXTURE_VARIANT_ADD(mem, user) {
	.allocated = false,
};

FIXTURE_VARIANT_ADD(mem, allocated) {
	.allocated = true,
};

FIXTURE_VARIANT_ADD(mem, user_through_the_kernel) {
	.allocated = false,
	.kernel = true,
};

FIXTURE_VARIANT_ADD(mem, allocated_through_the_kernel) {
	.allocated = true,
	.kernel = true,
};

FIXTURE_SETUP(mem)
{
	size_t len;

	gm_require_module();
	self->before = gm_test_snapshot();
	gm_set_direct(!variant->kernel);
	if (variant->allocated) {
		test_gm_ok(gm_allocate(MEM_SIZE, &self->gm));
		test_gm_ok(gm_full_mapping(self->gm, (void **)&self->bytes, &len));
		ASSERT_EQ(MEM_SIZE, len);
	} else {
		self->user = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->user);
		self->bytes = self->user;
		test_gm_ok(gm_new("test", self->user, MEM_SIZE, &self->gm));
	}
}

FIXTURE_TEARDOWN(mem)
{
	gm_release(self->gm);
	if (self->user && self->user != MAP_FAILED)
		munmap(self->user, MEM_SIZE);
	gm_test_expect_no_leaks(self->before);
}

TEST_F(mem, write_at_and_read_at_cross_page_boundaries)
{
	uint8_t src[3 * 4096], dst[3 * 4096];

	gm_test_fill_pattern(src, sizeof(src));
	test_gm_ok(gm_write_at(self->gm, 0x1ffd, src, sizeof(src)));
	EXPECT_EQ(0, memcmp(self->bytes + 0x1ffd, src, sizeof(src)));
	EXPECT_EQ(0, self->bytes[0x1ffc]);
	EXPECT_EQ(0, self->bytes[0x1ffd + sizeof(src)]);
	test_gm_ok(gm_read_at(self->gm, 0x1ffd, dst, sizeof(dst)));
	EXPECT_EQ(0, memcmp(src, dst, sizeof(src)));
}

TEST_F(mem, fill_at_sets_exactly_len_bytes)
{
	test_gm_ok(gm_fill_at(self->gm, 0x0fff, 0xc3, 0x2002));
	EXPECT_EQ(0, self->bytes[0x0ffe]);
	EXPECT_EQ(0xc3, self->bytes[0x0fff]);
	EXPECT_EQ(0xc3, self->bytes[0x3000]);
	EXPECT_EQ(0, self->bytes[0x3001]);
}

TEST_F(mem, atomic_buffer_variants_move_the_same_bytes)
{
	_Atomic uint8_t abuf[5000];
	size_t i;

	for (i = 0; i < 5000; i++)
		atomic_store(&abuf[i], (uint8_t)(i ^ 0x5a));
	test_gm_ok(gm_write_from_atomic(self->gm, 0x800, abuf, 5000));
	for (i = 0; i < 5000; i++)
		ASSERT_EQ((uint8_t)(i ^ 0x5a), self->bytes[0x800 + i]);
	memset(self->bytes + 0x800, 0x11, 5000);
	test_gm_ok(gm_read_to_atomic(self->gm, 0x800, abuf, 5000));
	for (i = 0; i < 5000; i++)
		ASSERT_EQ(0x11, atomic_load(&abuf[i]));
}

TEST_F(mem, plain_accesses_of_every_size)
{
	uint64_t q = 0x0123456789abcdefULL, q2 = 0;
	uint32_t d = 0xdeadbeef, d2 = 0;
	uint16_t w = 0xcafe, w2 = 0;
	uint8_t b = 0x7e, b2 = 0;
	uint8_t big[24], big2[24];

	test_gm_ok(gm_write_plain(self->gm, 0x10, &q, 8));
	test_gm_ok(gm_write_plain(self->gm, 0x20, &d, 4));
	test_gm_ok(gm_write_plain(self->gm, 0x30, &w, 2));
	test_gm_ok(gm_write_plain(self->gm, 0x40, &b, 1));
	EXPECT_EQ(0, memcmp(self->bytes + 0x10, &q, 8));
	EXPECT_EQ(0, memcmp(self->bytes + 0x20, &d, 4));
	EXPECT_EQ(0, memcmp(self->bytes + 0x30, &w, 2));
	EXPECT_EQ(0x7e, self->bytes[0x40]);
	test_gm_ok(gm_read_plain(self->gm, 0x10, &q2, 8));
	test_gm_ok(gm_read_plain(self->gm, 0x20, &d2, 4));
	test_gm_ok(gm_read_plain(self->gm, 0x30, &w2, 2));
	test_gm_ok(gm_read_plain(self->gm, 0x40, &b2, 1));
	EXPECT_EQ(q, q2);
	EXPECT_EQ(d, d2);
	EXPECT_EQ(w, w2);
	EXPECT_EQ(b, b2);

	/* Unaligned and odd sizes are plain copies, across a page boundary too. */
	gm_test_fill_pattern(big, sizeof(big));
	test_gm_ok(gm_write_plain(self->gm, 0xff3, big, sizeof(big)));
	test_gm_ok(gm_read_plain(self->gm, 0xff3, big2, sizeof(big2)));
	EXPECT_EQ(0, memcmp(big, big2, sizeof(big)));
	test_gm_ok(gm_write_plain(self->gm, 0xffd, &q, 8));
	test_gm_ok(gm_read_plain(self->gm, 0xffd, &q2, 8));
	EXPECT_EQ(q, q2);
	EXPECT_EQ(0, memcmp(self->bytes + 0xffd, &q, 8));
}

TEST_F(mem, compare_exchange_swaps_only_on_a_match)
{
	uint64_t cur = 0, newv = 0x1111222233334444ULL, seen;
	uint32_t cur32 = 5, new32 = 6;
	uint8_t cur8 = 0, new8 = 9;
	uint16_t cur16 = 0, new16 = 0xffff;

	/* Memory is 0: the swap happens and memory holds the new value. */
	EXPECT_EQ(1, gm_compare_exchange(self->gm, 0x100, &cur, &newv, 8));
	EXPECT_EQ(0, memcmp(self->bytes + 0x100, &newv, 8));
	EXPECT_EQ(0, cur);

	/* Memory no longer holds 0: no swap, and cur reports what was found. */
	seen = 0x9999;
	EXPECT_EQ(0, gm_compare_exchange(self->gm, 0x100, &cur, &seen, 8));
	EXPECT_EQ(newv, cur);
	EXPECT_EQ(0, memcmp(self->bytes + 0x100, &newv, 8));

	/* Every size, naturally aligned. */
	memcpy(self->bytes + 0x204, &cur32, 4);
	EXPECT_EQ(1, gm_compare_exchange(self->gm, 0x204, &cur32, &new32, 4));
	EXPECT_EQ(6, *(uint32_t *)(self->bytes + 0x204));
	EXPECT_EQ(1, gm_compare_exchange(self->gm, 0x302, &cur16, &new16, 2));
	EXPECT_EQ(0xffff, *(uint16_t *)(self->bytes + 0x302));
	EXPECT_EQ(1, gm_compare_exchange(self->gm, 0x401, &cur8, &new8, 1));
	EXPECT_EQ(9, self->bytes[0x401]);
	EXPECT_EQ(0, gm_compare_exchange(self->gm, 0x401, &cur8, &new8, 1));
	EXPECT_EQ(9, cur8);
}

/*
 * Every size exchanges when memory holds the expected value and otherwise
 * reports the value found, leaving memory and its neighbours alone.  The
 * pages are present and writable, so for user memory this is the owner's
 * fast path (one locked cmpxchg on the user address), not GUP.
 */
TEST_F(mem, compare_exchange_of_every_size_exchanges_or_reports_the_value_found)
{
	static const size_t sizes[] = { 1, 2, 4, 8 };
	const uint64_t was = 0x8877665544332211ULL, want = 0x0123456789abcdefULL;
	size_t i;

	memset(self->bytes + 0x600, 0xee, 0x100);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];
		uint64_t gpa = 0x600 + 0x20 * i + 8, cur = 0, newv = 0, other = 0;

		memcpy(self->bytes + gpa, &was, len);
		memcpy(&cur, &was, len);
		memcpy(&newv, &want, len);
		EXPECT_EQ(1, gm_compare_exchange(self->gm, gpa, &cur, &newv, len))
			TH_LOG("size %zu", len);
		EXPECT_EQ(0, memcmp(&cur, &was, len)) TH_LOG("size %zu", len);
		EXPECT_EQ(0, memcmp(self->bytes + gpa, &want, len)) TH_LOG("size %zu", len);

		/* Expecting the old value again: no swap, cur is what is there. */
		memcpy(&cur, &was, len);
		memset(&other, 0x5a, len);
		EXPECT_EQ(0, gm_compare_exchange(self->gm, gpa, &cur, &other, len))
			TH_LOG("size %zu", len);
		EXPECT_EQ(0, memcmp(&cur, &want, len)) TH_LOG("size %zu", len);
		EXPECT_EQ(0, memcmp(self->bytes + gpa, &want, len)) TH_LOG("size %zu", len);
		EXPECT_EQ(0xee, self->bytes[gpa - 1]) TH_LOG("size %zu", len);
		EXPECT_EQ(0xee, self->bytes[gpa + len]) TH_LOG("size %zu", len);
	}
}

/*
 * compare_exchange_bytes: the seed's byte-slice form; its implementation
 * handles 1, 2, 4 and 8 bytes, so those are the sizes it takes here too.
 */
TEST_F(mem, compare_exchange_bytes_works_on_byte_arrays)
{
	uint8_t cur[8] = { 0 }, newv[8], other[8], cur2[2] = { 0 }, new2[2] = { 1, 2 };

	gm_test_fill_pattern(newv, sizeof(newv));
	memset(other, 0x77, sizeof(other));
	/* The last 8 bytes of a page. */
	EXPECT_EQ(1, gm_compare_exchange_bytes(self->gm, 0xff8, cur, newv, sizeof(newv)));
	EXPECT_EQ(0, memcmp(self->bytes + 0xff8, newv, sizeof(newv)));
	EXPECT_EQ(0, gm_compare_exchange_bytes(self->gm, 0xff8, cur, other, sizeof(other)));
	EXPECT_EQ(0, memcmp(cur, newv, sizeof(newv)));
	EXPECT_EQ(0, memcmp(self->bytes + 0xff8, newv, sizeof(newv)));
	EXPECT_EQ(1, gm_compare_exchange_bytes(self->gm, 0x1002, cur2, new2, 2));
	EXPECT_EQ(0, memcmp(self->bytes + 0x1002, new2, 2));
}

TEST_F(mem, the_last_byte_is_reachable_and_the_next_is_not)
{
	uint8_t b = 0x33;

	test_gm_ok(gm_write_at(self->gm, MEM_SIZE - 1, &b, 1));
	EXPECT_EQ(0x33, self->bytes[MEM_SIZE - 1]);
	test_gm_fails(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		      gm_write_at(self->gm, MEM_SIZE, &b, 1));
	test_gm_fails(GM_ERRNO_OUT_OF_RANGE, GM_ERROR_OUT_OF_RANGE,
		      gm_read_at(self->gm, MEM_SIZE - 1, &b, 2));
}

/*
 * A read-only backing of two kernel pages (u bytes each, 0x1000 with 4 KiB
 * pages): reads work, writes of every kind fail at the GPA.
 */
TEST(read_only_backing_refuses_every_write)
{
	const uint64_t u = HPAGE;
	struct gm_test_chunk ro = { 0, 2 * u, PROT_READ };
	uint64_t cur = 0, newv = 1;
	char msg[128];
	uint8_t b = 1;
	struct gm *gm;
	void *base;

	gm_require_module();
	base = gm_test_reserve(2 * u, &ro, 1);
	ASSERT_NE(NULL, base);
	test_gm_ok(gm_new("ro", base, 2 * u, &gm));
	test_gm_ok(gm_read_at(gm, u, &b, 1));
	EXPECT_EQ(0, b);
	snprintf(msg, sizeof(msg),
		 "guest memory 'ro': write error: failed to access 0x%" PRIx64 "-0x%" PRIx64,
		 u, u + 1);
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER, msg, gm_write_at(gm, u, &b, 1));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'ro': fill error: failed to access 0x10-0x20",
		    gm_fill_at(gm, 0x10, 0, 0x10));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'ro': write error: failed to access 0x8-0x10",
		    gm_write_plain(gm, 8, &newv, 8));
	/* compare exchange needs write access, even when it would not swap. */
	newv = 7;
	cur = 3;
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'ro': compare exchange error: failed to access 0x8-0x10",
		    gm_compare_exchange(gm, 8, &cur, &newv, 8));
	gm_release(gm);
	munmap(base, 2 * u);
}

/*
 * A compare-exchange is a write even when it would not swap, so a present
 * read-only page refuses it as GUP does: a private page made read-only by
 * mprotect() and a shared file page mapped read-only.
 */
TEST(compare_exchange_on_a_present_read_only_page_fails_as_through_gup)
{
	uint64_t pattern = 0x1122334455667788ULL, cur, newv = 0x99;
	struct gm *anon_gm, *file_gm;
	uint8_t *anon, *file;
	int fd;

	gm_require_module();
	anon = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	memcpy(anon + 8, &pattern, 8);
	ASSERT_EQ(0, mprotect(anon, SZ_4K, PROT_READ));
	fd = memfd_create("ro", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, SZ_4K));
	ASSERT_EQ(8, pwrite(fd, &pattern, 8, 8));
	file = mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, file);
	/* Both pages are present in the page table, read-only. */
	EXPECT_EQ(pattern, *(volatile uint64_t *)(anon + 8));
	EXPECT_EQ(pattern, *(volatile uint64_t *)(file + 8));
	test_gm_ok(gm_new("anon", anon, SZ_4K, &anon_gm));
	test_gm_ok(gm_new("file", file, SZ_4K, &file_gm));

	cur = pattern;
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'anon': compare exchange error: failed to access 0x8-0x10",
		    gm_compare_exchange(anon_gm, 8, &cur, &newv, 8));
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
	EXPECT_EQ(8, gm_last_error()->gpa);
	cur = 0;
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'anon': compare exchange error: failed to access 0x8-0x10",
		    gm_compare_exchange(anon_gm, 8, &cur, &newv, 8));
	cur = pattern;
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'file': compare exchange error: failed to access 0x8-0x10",
		    gm_compare_exchange(file_gm, 8, &cur, &newv, 8));
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
	cur = 0x88;
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'file': compare exchange error: failed to access 0x8-0x9",
		    gm_compare_exchange(file_gm, 8, &cur, &newv, 1));
	EXPECT_EQ(0, memcmp(anon + 8, &pattern, 8));
	EXPECT_EQ(0, memcmp(file + 8, &pattern, 8));
	gm_release(anon_gm);
	gm_release(file_gm);
	munmap(anon, SZ_4K);
	munmap(file, SZ_4K);
}

/*
 * The owner's small accesses take a uaccess fast path (kmod/access.c) that
 * must fail exactly where GUP fails.  A write-only mapping: GUP refuses to
 * read a page that is not present (no VM_READ), and writes work.
 */
TEST(write_only_backing_refuses_a_read_of_an_untouched_page)
{
	uint64_t v = 0x1122334455667788, cur, newv = 1;
	uint8_t buf[16];
	struct gm *gm;
	void *base;

	gm_require_module();
	base = mmap(NULL, 2 * SZ_4K, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, base);
	test_gm_ok(gm_new("wo", base, 2 * SZ_4K, &gm));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'wo': read error: failed to access 0x1000-0x1010",
		    gm_read_at(gm, 0x1000, buf, sizeof(buf)));
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'wo': read error: failed to access 0x1008-0x1010",
		    gm_read_plain(gm, 0x1008, &v, 8));
	test_gm_ok(gm_write_at(gm, 0x10, &v, 8));
	test_gm_ok(gm_write_plain(gm, 0x18, &v, 8));

	/* A compare-exchange needs only VM_WRITE: GUP populates the page... */
	cur = 0;
	EXPECT_EQ(1, gm_compare_exchange(gm, 0x1010, &cur, &v, 8));
	/* ...and the owner's fast path finds it present and writable. */
	cur = 0;
	EXPECT_EQ(0, gm_compare_exchange(gm, 0x1010, &cur, &newv, 8));
	EXPECT_EQ(v, cur);
	ASSERT_EQ(0, mprotect(base, 2 * SZ_4K, PROT_READ));
	EXPECT_EQ(v, *(uint64_t *)((uint8_t *)base + 0x1010));
	gm_release(gm);
	munmap(base, 2 * SZ_4K);
}

/* GUP refuses secret memory (memfd_secret) even to its owner. */
TEST(secret_memory_is_not_accessible)
{
	uint64_t v = 1, cur;
	struct gm *gm;
	uint8_t *mem;
	int fd;

	gm_require_module();
	fd = syscall(__NR_memfd_secret, 0);
	if (fd < 0)
		SKIP(return, "no memfd_secret (not built in, or secretmem.enable=0 before 6.5): %s",
		     strerror(errno));
	ASSERT_EQ(0, ftruncate(fd, SZ_4K));
	mem = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = 0x5a;
	test_gm_ok(gm_new("secret", mem, SZ_4K, &gm));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'secret': read error: failed to access 0x0-0x8",
		    gm_read_at(gm, 0, &v, 8));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'secret': write error: failed to access 0x0-0x8",
		    gm_write_plain(gm, 0, &v, 8));
	cur = 0x5a;
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'secret': compare exchange error: failed to access 0x0-0x8",
		    gm_compare_exchange(gm, 0, &cur, &v, 8));
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
	EXPECT_EQ(0x5a, mem[0]);
	gm_release(gm);
	munmap(mem, SZ_4K);
}

/* GUP refuses VM_IO | VM_PFNMAP mappings: the BIOS area through /dev/mem. */
TEST(io_mappings_are_not_accessible)
{
	uint64_t v = 0;
	struct gm *gm;
	void *mem;
	int fd;

	gm_require_module();
	fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "no /dev/mem: %s", strerror(errno));
	mem = mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, fd, 0xf0000);
	close(fd);
	if (mem == MAP_FAILED)
		SKIP(return, "cannot map /dev/mem: %s", strerror(errno));
	test_gm_ok(gm_new("io", mem, SZ_4K, &gm));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'io': read error: failed to access 0x0-0x8",
		    gm_read_at(gm, 0, &v, 8));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'io': read error: failed to access 0x0-0x8",
		    gm_read_plain(gm, 0, &v, 8));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'io': compare exchange error: failed to access 0x0-0x8",
		    gm_compare_exchange(gm, 0, &v, &v, 8));
	gm_release(gm);
	munmap(mem, SZ_4K);
}

/*
 * Writable, the same mapping still refuses a compare-exchange (VM_IO |
 * VM_PFNMAP), though its PTEs are present and writable.  The expected value
 * is one the memory does not hold, so that a compare-exchange that went
 * through would store back what it found.
 */
TEST(io_mappings_refuse_a_compare_exchange_even_when_writable)
{
	uint64_t cur, newv;
	struct gm *gm;
	void *mem;
	int fd;

	gm_require_module();
	fd = open("/dev/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "no /dev/mem: %s", strerror(errno));
	mem = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0xf0000);
	close(fd);
	if (mem == MAP_FAILED)
		SKIP(return, "cannot map /dev/mem writable: %s", strerror(errno));
	cur = ~*(volatile uint64_t *)mem;
	newv = cur;
	test_gm_ok(gm_new("io", mem, SZ_4K, &gm));
	test_gm_err(GM_ERRNO_FAULT, GM_ERROR_OTHER,
		    "guest memory 'io': compare exchange error: failed to access 0x0-0x8",
		    gm_compare_exchange(gm, 0, &cur, &newv, 8));
	EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
	EXPECT_EQ(newv, cur);
	gm_release(gm);
	munmap(mem, SZ_4K);
}

TEST_HARNESS_MAIN
