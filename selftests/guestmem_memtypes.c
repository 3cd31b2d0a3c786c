// SPDX-License-Identifier: GPL-2.0
/*
 * Which memory a lock can pin: the gup_longterm matrix of
 * tools/testing/selftests/mm/gup_longterm.c, through guestmem.  A lock is a
 * long-term write pin (FOLL_LONGTERM | FOLL_WRITE), so each row states the
 * outcome for its memory type, and the test asserts it:
 *
 *  anonymous 4 KiB, THP, hugetlb,      pinned: the pages are the process's
 *  memfd, shared anonymous, tmpfs      own or shmem/hugetlbfs pages, which
 *  file, private file mapping          no writeback ever cleans
 *  read-only mappings                  refused on every kernel (a lock is
 *                                      a write pin)
 *  shared writable mapping of a file   refused on every kernel (EFAULT)
 *  on a disk filesystem (ext4)
 *
 * Why the last row differs: writeback cleans a file page and write-protects
 * its PTEs while a device may still be writing into it through the pin, so
 * the data or the filesystem's state is corrupted (the long-standing
 * "DMA to file-backed pages" problem).  6.5 added
 * writable_file_mapping_allowed() to check_vma_flags() (and the matching
 * GUP-fast folio check): a long-term write pin of a shared mapping whose
 * file needs dirty tracking fails with -EFAULT.  shmem, tmpfs and
 * hugetlbfs are exempt, and a MAP_PRIVATE mapping pins anonymous copies.
 * 6.1 checks only for fsdax and would pin the file's page-cache pages, so
 * guestmem applies the 6.5 rule itself there (review finding M4: any user
 * could long-term pin ext4 pages on 6.1).  guestmem reports the refusal as
 * any failed pin: EFAULT, "the specified page is not mapped", at the page.
 */
#include <sys/statfs.h>
#include <linux/mman.h>

#include "guestmem_utils.h"

#define REGION		(2 * SZ_1M)     /* one PMD: THP and hugetlb sized */
#define DISK_DIR	"/mnt/disk"     /* the test VM's ext4 RAM disk */
#define TMPFS_MAGIC	0x01021994
#define EXT4_MAGIC	0xEF53
enum memtype {
	ANON, ANON_THP, HUGETLB, MEMFD, SHARED_ANON, TMPFS_FILE,
	DISK_FILE_SHARED, DISK_FILE_PRIVATE, RO_ANON, RO_MEMFD, RO_DISK_FILE,
};

enum outcome { PINNED, REFUSED };

FIXTURE(memtype) {
	struct gm_test_resources before;
	long pinned;
	uint8_t *mem;           /* REGION bytes, REGION-aligned */
	void *map;              /* what to munmap */
	size_t map_len;
	char path[128];         /* a file to unlink, or "" */
	long saved_nr_hugepages;
	struct gm *gm;
};

FIXTURE_VARIANT(memtype) {
	enum memtype type;
	enum outcome outcome;
};

FIXTURE_VARIANT_ADD(memtype, anon_4k) { ANON, PINNED };
FIXTURE_VARIANT_ADD(memtype, anon_thp) { ANON_THP, PINNED };
FIXTURE_VARIANT_ADD(memtype, hugetlb) { HUGETLB, PINNED };
FIXTURE_VARIANT_ADD(memtype, memfd) { MEMFD, PINNED };
FIXTURE_VARIANT_ADD(memtype, shared_anon) { SHARED_ANON, PINNED };
FIXTURE_VARIANT_ADD(memtype, tmpfs_file_shared) { TMPFS_FILE, PINNED };
FIXTURE_VARIANT_ADD(memtype, disk_file_private) { DISK_FILE_PRIVATE, PINNED };
FIXTURE_VARIANT_ADD(memtype, disk_file_shared) { DISK_FILE_SHARED, REFUSED };
FIXTURE_VARIANT_ADD(memtype, read_only_anon) { RO_ANON, REFUSED };
FIXTURE_VARIANT_ADD(memtype, read_only_memfd) { RO_MEMFD, REFUSED };
FIXTURE_VARIANT_ADD(memtype, read_only_disk_file) { RO_DISK_FILE, REFUSED };

static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%ld\n", v) > 0 ? 0 : -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

/* kB of AnonHugePages in the mapping that holds @addr (/proc/self/smaps). */
static long anon_huge_kb(const void *addr)
{
	unsigned long start, end;
	char line[256];
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)addr >= start && (uintptr_t)addr < end;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* mmap @len bytes aligned to REGION. */
static uint8_t *map_aligned(struct __test_metadata *_metadata, FIXTURE_DATA(memtype) *self,
			    int prot, int flags, int fd)
{
	size_t len = 2 * REGION;
	uint8_t *p;

	p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	self->map = p;
	self->map_len = len;
	p = (uint8_t *)(((uintptr_t)p + REGION - 1) & ~(uintptr_t)(REGION - 1));
	if (mmap(p, REGION, prot, flags | MAP_FIXED, fd, 0) == MAP_FAILED)
		return NULL;
	return p;
}

/* A file of REGION bytes in @dir, its first bytes written; the fd or -errno. */
static int region_file(FIXTURE_DATA(memtype) *self, const char *dir)
{
	int fd;

	snprintf(self->path, sizeof(self->path), "%s/gm-memtype-%d", dir, getpid());
	fd = open(self->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, REGION) || pwrite(fd, "file", 4, 0) != 4) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static bool dir_is(const char *dir, long magic)
{
	struct statfs st;

	return !statfs(dir, &st) && st.f_type == magic && !access(dir, W_OK);
}

FIXTURE_SETUP(memtype)
{
	const int rw = PROT_READ | PROT_WRITE;
	bool ro = variant->type == RO_ANON || variant->type == RO_MEMFD ||
		  variant->type == RO_DISK_FILE;
	int fd = -1;

	gm_require_module();
	self->before = gm_test_snapshot();
	self->saved_nr_hugepages = -1;

	switch (variant->type) {
	case ANON:
	case RO_ANON:
		self->mem = map_aligned(_metadata, self, ro ? PROT_READ : rw,
					MAP_PRIVATE | MAP_ANONYMOUS, -1);
		ASSERT_NE(NULL, self->mem);
		madvise(self->mem, REGION, MADV_NOHUGEPAGE);
		break;
	case ANON_THP:
		self->mem = map_aligned(_metadata, self, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1);
		ASSERT_NE(NULL, self->mem);
		if (madvise(self->mem, REGION, MADV_HUGEPAGE))
			SKIP(return, "madvise(MADV_HUGEPAGE): %s", strerror(errno));
		memset(self->mem, 0, REGION);
		if (anon_huge_kb(self->mem) < (long)(REGION / 1024))
			SKIP(return, "no transparent huge page for the region (AnonHugePages %ld kB)",
			     anon_huge_kb(self->mem));
		break;
	case HUGETLB:
		self->saved_nr_hugepages = read_long(NR_HUGEPAGES_2M);
		if (self->saved_nr_hugepages >= 0 && self->saved_nr_hugepages < 2 &&
		    write_long(NR_HUGEPAGES_2M, 2))
			self->saved_nr_hugepages = -1;
		self->mem = map_aligned(_metadata, self, rw,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB,
					-1);
		if (!self->mem)
			SKIP(return, "no 2 MiB hugetlb page (nr_hugepages %ld)",
			     read_long(NR_HUGEPAGES_2M));
		break;
	case MEMFD:
	case RO_MEMFD:
		fd = memfd_create("gm-memtype", MFD_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ftruncate(fd, REGION));
		self->mem = map_aligned(_metadata, self, ro ? PROT_READ : rw, MAP_SHARED, fd);
		ASSERT_NE(NULL, self->mem);
		break;
	case SHARED_ANON:
		self->mem = map_aligned(_metadata, self, rw, MAP_SHARED | MAP_ANONYMOUS, -1);
		ASSERT_NE(NULL, self->mem);
		break;
	case TMPFS_FILE:
		if (!dir_is("/tmp", TMPFS_MAGIC))
			SKIP(return, "/tmp is not tmpfs");
		fd = region_file(self, "/tmp");
		ASSERT_LE(0, fd);
		self->mem = map_aligned(_metadata, self, rw, MAP_SHARED, fd);
		ASSERT_NE(NULL, self->mem);
		break;
	case DISK_FILE_SHARED:
	case DISK_FILE_PRIVATE:
	case RO_DISK_FILE:
		if (!dir_is(DISK_DIR, EXT4_MAGIC))
			SKIP(return, "no writable ext4 at " DISK_DIR " (the test VM mounts one)");
		fd = region_file(self, DISK_DIR);
		ASSERT_LE(0, fd);
		self->mem = map_aligned(_metadata, self, ro ? PROT_READ : rw,
					variant->type == DISK_FILE_PRIVATE ? MAP_PRIVATE : MAP_SHARED,
					fd);
		ASSERT_NE(NULL, self->mem);
		break;
	}
	if (fd >= 0)
		close(fd);
	/* Fault the pages in (reading a read-only mapping maps what is there). */
	if (!ro)
		memset(self->mem + SZ_4K, 0x11, SZ_4K);
	else
		EXPECT_EQ(0, self->mem[SZ_4K]);
	test_gm_ok(gm_new("memtype", self->mem, REGION, &self->gm));
	self->pinned = gm_test_vmpin_pages();
}

FIXTURE_TEARDOWN(memtype)
{
	gm_release(self->gm);
	if (self->map)
		munmap(self->map, self->map_len);
	if (self->path[0])
		unlink(self->path);
	if (self->saved_nr_hugepages >= 0)
		write_long(NR_HUGEPAGES_2M, self->saved_nr_hugepages);
	if (self->gm)
		EXPECT_EQ(self->pinned, gm_test_vmpin_pages()) TH_LOG("pins left behind");
	gm_test_expect_no_leaks(self->before);
}

TEST_F(memtype, long_term_write_lock)
{
	static const uint64_t gpns[] = { 1, 0, 300, 511 };
	enum outcome outcome = variant->outcome;
	struct gm_locked_pages *lp = (void *)1;
	uint8_t got[8];
	size_t i;

	if (!self->gm)
		return;

	if (outcome == REFUSED) {
		test_gm_err(EFAULT, GM_ERROR_OTHER,
			    "guest memory 'memtype': lock error: failed to access memory at 0x1000",
			    gm_lock_gpns(self->gm, false, gpns, ARRAY_SIZE(gpns), &lp));
		EXPECT_STREQ("the specified page is not mapped", gm_last_error()->cause);
		EXPECT_EQ(NULL, lp);
		EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
		return;
	}

	test_gm_ok(gm_lock_gpns(self->gm, false, gpns, ARRAY_SIZE(gpns), &lp));
	/*
	 * One pinned kernel page per distinct page of the entries (with 4 KiB
	 * pages: one per entry), huge pages included.
	 */
	EXPECT_EQ(self->pinned + gm_test_pages_of(self->mem, gpns, ARRAY_SIZE(gpns)),
		  gm_test_vmpin_pages());
	for (i = 0; i < ARRAY_SIZE(gpns); i++) {
		EXPECT_EQ(self->mem + gpns[i] * SZ_4K, gm_locked_pages_page(lp, i));
	}
	memcpy((uint8_t *)gm_locked_pages_page(lp, 2) + 8, "pinned!", 8);
	test_gm_ok(gm_read_at(self->gm, 300 * SZ_4K + 8, got, 8));
	EXPECT_STREQ("pinned!", (char *)got);
	EXPECT_EQ(0x11, ((uint8_t *)gm_locked_pages_page(lp, 0))[0]);
	gm_locked_pages_release(lp);
	EXPECT_EQ(self->pinned, gm_test_vmpin_pages());
}

TEST_HARNESS_MAIN
