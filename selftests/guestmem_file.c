// SPDX-License-Identifier: GPL-2.0
/*
 * File-backed guest memory (issue 13, part 2): regions that are a range of
 * a memfd, tmpfs or hugetlbfs file, held by the object rather than by an
 * owner's address space.  What these tests prove:
 *
 *  - the kernel path reaches the file's own pages both ways (bytes compared
 *    through the file's own mapping), and a file that shrinks fails as
 *    unmapped memory does, with the same error on both paths;
 *  - mmap() of the object fd maps the file itself, for any process holding
 *    the fd: a process that receives the fd over a unix socket reads,
 *    writes and compare-exchanges guest memory with no ioctl at all (the
 *    object's counters stay 0) and sees the other process's writes;
 *  - multi-region objects mix files, user memory and holes: each region
 *    is mapped at its slot, holes and user memory stay inaccessible
 *    through the object fd, one mmap() never spans two regions;
 *  - every creation error has its errno, and seals hold both ways;
 *  - locks pin the file's pages (FOLL_PIN, Linux 6.11 on), counted and
 *    charged to the locking user up to its RLIMIT_MEMLOCK, and nothing
 *    stays pinned; before 6.11 they are refused as "not lockable".
 *
 * With kernel pages over 4 KiB (arm64 with 64 KiB pages) a file's pages
 * are pinned, counted and charged in kernel pages, a region is mmap()able
 * through the object fd only when it is made of whole kernel pages of its
 * file, and a file ends on a kernel page: the tests place their windows,
 * cuts and regions on kernel pages, which with 4 KiB pages are the 4 KiB
 * layouts they have always used.
 */
#include <linux/guestmem.h>
#include <linux/guestmem_netlink.h>
#include <linux/memfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include "guestmem_raw.h"
#include "guestmem_utils.h"

#define NPAGES		16
/* The fixture's file: NPAGES gpns, and at least two kernel pages. */
#define FILE_SIZE	at_least(NPAGES * SZ_4K, 2 * HPAGE)
#define LIMIT		8       /* RLIMIT_MEMLOCK of the unprivileged user, kernel pages */

static uint64_t at_least(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Does this kernel pin file pages (memfd_pin_folios(), 6.11)? */
static bool kernel_pins_files(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 11);
}

/* A memfd of @size bytes, each byte set by its offset. */
static int make_memfd(const char *name, size_t size, unsigned int flags)
{
	uint8_t *p;
	size_t i;
	int fd;

	fd = memfd_create(name, MFD_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, size)) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -1;
	}
	for (i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 7 + i / SZ_4K);
	munmap(p, size);
	return fd;
}

static int raw_create_file(int dev, int fd, uint64_t offset, uint64_t len)
{
	struct guestmem_create_file a = {
		.size = sizeof(a),
		.fd = fd,
		.offset = offset,
		.len = len,
	};

	if (gm_raw(dev, GUESTMEM_CREATE_FILE, &a))
		return -errno;
	return (int)a.out_fd;
}

FIXTURE(file) {
	struct gm_test_resources before;
	long long pins;
	int memfd;
	uint8_t *view;          /* the test's own mapping of the file */
	struct gm *gm;
};

FIXTURE_SETUP(file)
{
	gm_require_module();
	self->before = gm_test_snapshot();
	self->pins = geteuid() ? 0 : gm_test_foll_pins();
	self->memfd = make_memfd("guest", FILE_SIZE, MFD_ALLOW_SEALING);
	ASSERT_LE(0, self->memfd);
	self->view = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->view);
	test_gm_ok(gm_new_file("file", self->memfd, 0, FILE_SIZE, &self->gm));
}

FIXTURE_TEARDOWN(file)
{
	gm_release(self->gm);
	if (self->view && self->view != MAP_FAILED)
		munmap(self->view, FILE_SIZE);
	if (self->memfd >= 0)
		close(self->memfd);
	if (!geteuid())
		EXPECT_EQ(self->pins, gm_test_foll_pins()) TH_LOG("pins left behind");
	gm_test_expect_no_leaks(self->before);
}

TEST_F(file, the_object_describes_a_file_region_that_mmap_reaches)
{
	struct guestmem_region_info ri = { 0 };
	struct guestmem_info info = {
		.size = sizeof(info),
		.regions_uptr = (uintptr_t)&ri,
		.region_capacity = 1,
	};
	void *base = NULL;
	size_t len = 0;

	ASSERT_EQ(0, gm_raw(gm_fd(self->gm), GUESTMEM_INFO, &info));
	EXPECT_EQ(GUESTMEM_OBJ_FILE, info.out_type);
	EXPECT_EQ(GUESTMEM_INFO_FULL_MAPPING | GUESTMEM_INFO_MMAP,
		  info.out_flags & (GUESTMEM_INFO_FULL_MAPPING | GUESTMEM_INFO_MMAP |
				    GUESTMEM_INFO_OWNER | GUESTMEM_INFO_FULL_MAPPING_VA));
	EXPECT_EQ(kernel_pins_files(), !!(info.out_flags & GUESTMEM_INFO_SUPPORTS_LOCKING));
	EXPECT_EQ(kernel_pins_files(), gm_supports_locking(self->gm));
	EXPECT_EQ((uint64_t)FILE_SIZE, info.out_mmap_size);
	EXPECT_EQ(0, info.out_mmap_offset);
	EXPECT_EQ(GUESTMEM_REGION_PRESENT | GUESTMEM_REGION_MAPPED | GUESTMEM_REGION_FILE |
		  GUESTMEM_REGION_MMAP, ri.flags);
	EXPECT_EQ((uint64_t)FILE_SIZE, ri.len);
	EXPECT_EQ(0, ri.va);

	/* full_mapping is the library's mapping of the file: the same bytes. */
	test_gm_ok(gm_full_mapping(self->gm, &base, &len));
	ASSERT_NE(NULL, base);
	EXPECT_EQ((size_t)FILE_SIZE, len);
	EXPECT_EQ(0, memcmp(base, self->view, FILE_SIZE));
	((uint8_t *)base)[100] = 0xab;
	EXPECT_EQ(0xab, self->view[100]);
}

TEST_F(file, the_kernel_path_reads_and_writes_the_files_pages)
{
	struct gm_stats st;
	uint8_t buf[3 * SZ_4K], back[sizeof(buf)];
	uint64_t v = 0x1122334455667788ULL, cur;
	int obj = gm_fd(self->gm);

	gm_set_direct(false);
	/* Across pages 2..5, unaligned at both ends. */
	gm_test_fill_pattern(buf, sizeof(buf));
	ASSERT_EQ(0, gm_write(obj, 2 * SZ_4K + 100, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, memcmp(self->view + 2 * SZ_4K + 100, buf, sizeof(buf)));
	/* What the file's mapping writes, the object reads. */
	memset(self->view + 9 * SZ_4K, 0x3c, SZ_4K);
	ASSERT_EQ(0, gm_read(obj, 9 * SZ_4K - 8, back, SZ_4K + 16, NULL));
	EXPECT_EQ(0, memcmp(back, self->view + 9 * SZ_4K - 8, SZ_4K + 16));
	/* Plain accesses and compare-exchange, through the library. */
	test_gm_ok(gm_write_plain(self->gm, 0x800, &v, 8));
	EXPECT_EQ(0, memcmp(self->view + 0x800, &v, 8));
	cur = v;
	EXPECT_EQ(1, gm_compare_exchange(self->gm, 0x800, &cur, &(uint64_t){ 42 }, 8));
	EXPECT_EQ(42, *(uint64_t *)(self->view + 0x800));
	if (gm_stats(self->gm, &st) == 0) {
		EXPECT_EQ(GUESTMEM_NL_KIND_FILE, st.kind);
		/* One read, one write and one plain write (cmpxchg is neither). */
		EXPECT_EQ(1, st.reads);
		EXPECT_EQ(2, st.writes);
	}
	gm_set_direct(true);
}

TEST_F(file, the_library_goes_direct_through_its_mapping)
{
	uint64_t v = 0xfeedfacecafebeefULL, got = 0, cur;
	uint8_t big[2 * SZ_4K];
	struct gm_stats st;

	test_gm_ok(gm_write_plain(self->gm, 8, &v, 8));
	EXPECT_EQ(0, memcmp(self->view + 8, &v, 8));
	test_gm_ok(gm_read_plain(self->gm, 8, &got, 8));
	EXPECT_EQ(v, got);
	cur = v;
	EXPECT_EQ(1, gm_compare_exchange(self->gm, 8, &cur, &(uint64_t){ 7 }, 8));
	EXPECT_EQ(7, *(uint64_t *)(self->view + 8));
	gm_test_fill_pattern(big, sizeof(big));
	test_gm_ok(gm_write_at(self->gm, 5 * SZ_4K - 1, big, sizeof(big)));
	EXPECT_EQ(0, memcmp(self->view + 5 * SZ_4K - 1, big, sizeof(big)));
	/* Nothing went through the kernel. */
	if (gm_stats(self->gm, &st) == 0) {
		EXPECT_EQ(0, st.reads);
		EXPECT_EQ(0, st.writes);
	}
	EXPECT_EQ(0, gm_direct_faults());
}

/*
 * The helper process: receives the object fd and nothing else, reads what
 * the parent wrote, writes its answer, and answers again after the
 * parent's second write - all without one ioctl on the object.
 */
static int receiver(int sock)
{
	uint64_t cur = 0x5555, seen = 0;
	struct gm_stats st;
	char msg[16] = { 0 };
	struct gm *gm;
	int fd;

	fd = gm_test_recv_fd(sock);
	if (fd < 0)
		return 1;
	if (gm_from_fd(fd, &gm))
		return 2;
	close(fd);
	if (gm_read_at(gm, 3 * SZ_4K, msg, 7) || memcmp(msg, "parent", 7))
		return 3;
	if (gm_write_at(gm, 4 * SZ_4K, "child", 6))
		return 4;
	if (gm_compare_exchange(gm, 6 * SZ_4K, &cur, &(uint64_t){ 0x6666 }, 8) != 1)
		return 5;
	if (write(sock, "1", 1) != 1 || read(sock, msg, 1) != 1)
		return 6;
	/* The parent has written again, through the file's own mapping. */
	if (gm_read_plain(gm, 7 * SZ_4K, &seen, 8) || seen != 0x7777)
		return 7;
	if (gm_stats(gm, &st) == 0 && (st.reads || st.writes))
		return 8;
	if (gm_direct_faults())
		return 9;
	gm_release(gm);
	return 0;
}

TEST_F(file, a_process_that_receives_the_fd_needs_no_ioctl)
{
	struct gm_stats st;
	int sv[2];
	char c;
	pid_t pid;

	memcpy(self->view + 3 * SZ_4K, "parent", 7);
	*(uint64_t *)(self->view + 6 * SZ_4K) = 0x5555;
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Nothing of the parent's but the socket: no memfd, no object. */
		gm_release(self->gm);
		munmap(self->view, FILE_SIZE);
		close(self->memfd);
		close(sv[0]);
		_exit(receiver(sv[1]));
	}
	close(sv[1]);
	ASSERT_EQ(0, gm_test_send_fd(sv[0], gm_fd(self->gm)));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	EXPECT_EQ(0, memcmp(self->view + 4 * SZ_4K, "child", 6));
	EXPECT_EQ(0x6666, *(uint64_t *)(self->view + 6 * SZ_4K));
	*(uint64_t *)(self->view + 7 * SZ_4K) = 0x7777;
	ASSERT_EQ(1, write(sv[0], "2", 1));
	EXPECT_EQ(0, gm_test_wait(pid));
	close(sv[0]);
	if (gm_stats(self->gm, &st) == 0) {
		EXPECT_EQ(0, st.reads);
		EXPECT_EQ(0, st.writes);
		EXPECT_EQ(0, st.faults);
	}
}

TEST_F(file, a_file_that_shrinks_fails_as_unmapped_memory_on_both_paths)
{
	char direct_msg[256], kernel_msg[256], expected[256];
	/* Where the file now ends: on a kernel page, as a file's pages go. */
	const uint64_t cut = HPAGE_ROUNDUP(8 * SZ_4K);
	uint8_t buf[16];
	uint64_t faults;

	/* Pages 8..15 (with 64 KiB pages: the second kernel page) leave the file. */
	ASSERT_LT(cut, FILE_SIZE);
	ASSERT_EQ(0, ftruncate(self->memfd, cut));
	faults = gm_direct_faults();
	test_gm_fails(EFAULT, GM_ERROR_OTHER, gm_read_at(self->gm, cut - 8, buf, 16));
	snprintf(direct_msg, sizeof(direct_msg), "%s", gm_last_error()->message);
	EXPECT_EQ(faults + 1, gm_direct_faults()) TH_LOG("the direct read did not fault");
	gm_set_direct(false);
	test_gm_fails(EFAULT, GM_ERROR_OTHER, gm_read_at(self->gm, cut - 8, buf, 16));
	snprintf(kernel_msg, sizeof(kernel_msg), "%s", gm_last_error()->message);
	gm_set_direct(true);
	/* 4 KiB pages: "failed to access 0x7ff8-0x8008 at 0x8000". */
	snprintf(expected, sizeof(expected),
		 "guest memory 'file': read error: failed to access 0x%llx-0x%llx at 0x%llx",
		 (unsigned long long)cut - 8, (unsigned long long)cut + 8,
		 (unsigned long long)cut);
	EXPECT_STREQ(expected, kernel_msg);
	EXPECT_STREQ(kernel_msg, direct_msg);
	/* What is left of the file still works. */
	test_gm_ok(gm_read_at(self->gm, cut - 8, buf, 8));
	EXPECT_EQ(0, memcmp(buf, self->view + cut - 8, 8));
}

TEST_F(file, a_write_seal_cannot_be_added_while_an_object_holds_the_file)
{
	struct gm *again = NULL;

	EXPECT_EQ(-1, fcntl(self->memfd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(EBUSY, errno);
	/* The object, not a mapping, holds it: without our mapping too. */
	munmap(self->view, FILE_SIZE);
	self->view = NULL;
	EXPECT_EQ(-1, fcntl(self->memfd, F_ADD_SEALS, F_SEAL_WRITE));
	gm_release(self->gm);
	self->gm = NULL;
	EXPECT_EQ(0, fcntl(self->memfd, F_ADD_SEALS, F_SEAL_WRITE));
	/* A write-sealed file is refused. */
	test_gm_err(EPERM, GM_ERROR_OTHER,
		    "guest memory 'sealed': create error: Operation not permitted",
		    gm_new_file("sealed", self->memfd, 0, FILE_SIZE, &again));
	EXPECT_EQ(NULL, again);
}

/*
 * F_SEAL_FUTURE_WRITE added while the object exists: the object is an
 * existing writer and keeps writing, but no new writable mapping is
 * allowed, so a handle made now has none and takes the kernel path.
 */
TEST_F(file, a_handle_made_after_a_future_write_seal_goes_through_the_kernel)
{
	struct gm_stats st;
	struct gm *late;
	void *base;
	size_t len;

	ASSERT_EQ(0, fcntl(self->memfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	/* The object fd maps the file as the file itself would be mapped. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED,
				   gm_fd(self->gm), 0));
	EXPECT_EQ(EPERM, errno);
	base = mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, gm_fd(self->gm), 0);
	ASSERT_NE(MAP_FAILED, base);
	EXPECT_EQ(-1, mprotect(base, SZ_4K, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(base, SZ_4K);
	test_gm_ok(gm_from_fd(gm_fd(self->gm), &late));
	test_gm_err(ENOENT, GM_ERROR_OTHER,
		    "guest memory 'file': full mapping error: the file is not mapped in this process",
		    gm_full_mapping(late, &base, &len));
	test_gm_ok(gm_write_at(late, 0x2000, "late", 4));
	EXPECT_EQ(0, memcmp(self->view + 0x2000, "late", 4));
	if (gm_stats(late, &st) == 0)
		EXPECT_EQ(1, st.writes);
	gm_release(late);
}

TEST(creating_a_file_object_checks_every_argument)
{
	struct gm_test_resources before = gm_test_snapshot();
	struct guestmem_create_file a = { .size = sizeof(a) };
	int dev, memfd, sealed, rdonly, obj, pipefd[2];
	uint8_t byte;
	char path[64];

	gm_require_module();
	dev = open_dev();
	ASSERT_LE(0, dev);
	memfd = make_memfd("args", FILE_SIZE, MFD_ALLOW_SEALING);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, pipe(pipefd));

	EXPECT_EQ(-EBADF, raw_create_file(dev, -1, 0, SZ_4K));
	EXPECT_EQ(-EBADF, raw_create_file(dev, 9999, 0, SZ_4K));
	/* Not shared memory: a pipe, the device itself. */
	EXPECT_EQ(-EINVAL, raw_create_file(dev, pipefd[0], 0, SZ_4K));
	EXPECT_EQ(-EINVAL, raw_create_file(dev, dev, 0, SZ_4K));
	/* Misaligned, past the end, wrapping. */
	EXPECT_EQ(-EINVAL, raw_create_file(dev, memfd, 100, SZ_4K));
	EXPECT_EQ(-EINVAL, raw_create_file(dev, memfd, 0, SZ_4K + 1));
	EXPECT_EQ(-EINVAL, raw_create_file(dev, memfd, SZ_4K, FILE_SIZE));
	EXPECT_EQ(-EINVAL, raw_create_file(dev, memfd, UINT64_MAX - SZ_4K + 1, 2 * SZ_4K));
	/* Open for reading only. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	rdonly = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rdonly);
	EXPECT_EQ(-EACCES, raw_create_file(dev, rdonly, 0, SZ_4K));
	/* F_SEAL_FUTURE_WRITE: no new writer, the object included. */
	sealed = make_memfd("sealed", FILE_SIZE, MFD_ALLOW_SEALING);
	ASSERT_LE(0, sealed);
	ASSERT_EQ(0, fcntl(sealed, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	EXPECT_EQ(-EPERM, raw_create_file(dev, sealed, 0, SZ_4K));
	/* Unknown flags and reserved fields. */
	a.fd = memfd;
	a.len = SZ_4K;
	a.flags = 1;
	test_err(EOPNOTSUPP, dev, GUESTMEM_CREATE_FILE, &a);
	a.flags = 0;
	a.__reserved = 1;
	test_err(EOPNOTSUPP, dev, GUESTMEM_CREATE_FILE, &a);
	/* Length 0 is an object with nothing in it. */
	obj = raw_create_file(dev, memfd, FILE_SIZE, 0);
	ASSERT_LE(0, obj);
	EXPECT_EQ(-ERANGE, gm_read(obj, 0, &byte, 1, NULL));
	close(obj);
	close(sealed);
	close(rdonly);
	close(pipefd[0]);
	close(pipefd[1]);
	close(memfd);
	close(dev);
	gm_test_expect_no_leaks(before);
}

/*
 * Region size rs, the whole file (64 KiB; with 64 KiB pages two of them, so
 * that the last region, half of one, is whole kernel pages of the file and
 * can be mapped): [file 0..rs) [hole] [user rs] [file 0..rs/2 again].
 */
TEST_F(file, multi_region_objects_mix_files_user_memory_and_holes)
{
	const uint64_t rs = FILE_SIZE, half = rs / 2;
	uint8_t *user, buf[8];
	struct gm_backing b[4] = {
		{ .kind = GM_BACKING_FILE, .fd = self->memfd, .offset = 0, .len = rs },
		{ 0 },
		{ .len = rs },
		{ .kind = GM_BACKING_FILE, .fd = self->memfd, .offset = 0, .len = half },
	};
	struct guestmem_info info = { .size = sizeof(info) };
	char hole_msg[128];
	struct gm *gm;
	int obj;
	void *p;

	user = mmap(NULL, rs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, user);
	b[2].base = user;
	test_gm_ok(gm_new_multi_region("mixed", rs, b, 4, &gm));
	obj = gm_fd(gm);
	ASSERT_EQ(0, info_of(obj, &info));
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_MMAP);
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_OWNER);
	EXPECT_EQ(3 * rs + half, info.out_mmap_size);

	/* Each region reads its own backing; the two file regions alias. */
	memcpy(self->view + 5, "filebytes", 9);
	memcpy(user + 5, "userbytes", 9);
	test_gm_ok(gm_read_at(gm, 5, buf, 8));
	EXPECT_EQ(0, memcmp(buf, "filebyte", 8));
	test_gm_ok(gm_read_at(gm, 3 * rs + 5, buf, 8));
	EXPECT_EQ(0, memcmp(buf, "filebyte", 8));
	test_gm_ok(gm_read_at(gm, 2 * rs + 5, buf, 8));
	EXPECT_EQ(0, memcmp(buf, "userbyte", 8));
	test_gm_ok(gm_write_at(gm, 3 * rs + 100, "via3", 4));
	EXPECT_EQ(0, memcmp(self->view + 100, "via3", 4));
	/* 64 KiB regions: "failed to access 0x10000-0x10008". */
	snprintf(hole_msg, sizeof(hole_msg),
		 "guest memory 'mixed': read error: failed to access 0x%llx-0x%llx",
		 (unsigned long long)rs, (unsigned long long)rs + 8);
	test_gm_err(ERANGE, GM_ERROR_OUT_OF_RANGE, hole_msg, gm_read_at(gm, rs, buf, 8));
	EXPECT_EQ(0, gm_direct_faults());

	/* One mmap() reaches one file region, nothing else. */
	p = mmap(NULL, rs, PROT_READ, MAP_SHARED, obj, 0);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED) {
		EXPECT_EQ(0, memcmp(p, self->view, rs));
		munmap(p, rs);
	}
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * rs, PROT_READ, MAP_SHARED, obj, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, obj, rs));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, obj, 2 * rs));
	/* One page more than the last region (4 KiB pages: 9 pages of 8). */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, half + HPAGE, PROT_READ, MAP_SHARED, obj, 3 * rs));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SZ_4K, PROT_READ, MAP_PRIVATE, obj, 0));
	/* The last region's last page (4 KiB pages: its page 7). */
	p = mmap(NULL, HPAGE, PROT_READ, MAP_SHARED, obj, 3 * rs + half - HPAGE);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED) {
		EXPECT_EQ(0, memcmp(p, self->view + half - HPAGE, HPAGE));
		munmap(p, HPAGE);
	}
	gm_release(gm);
	munmap(user, rs);
}

TEST_F(file, a_view_maps_the_pages_of_its_window)
{
	struct gm *view;
	uint64_t v = 0;
	void *base;
	size_t len;

	/* Bytes 0x1800 .. 0x5800 of the file. */
	test_gm_ok(gm_subrange(self->gm, 0x1800, 0x4000, false, &view));
	test_gm_ok(gm_full_mapping(view, &base, &len));
	EXPECT_EQ(0x4000, len);
	EXPECT_EQ(0, memcmp(base, self->view + 0x1800, 0x4000));
	test_gm_ok(gm_write_plain(view, 0x10, &(uint64_t){ 0xabcd }, 8));
	EXPECT_EQ(0xabcd, *(uint64_t *)(self->view + 0x1810));
	test_gm_ok(gm_read_plain(view, 0x10, &v, 8));
	EXPECT_EQ(0xabcd, v);
	test_gm_fails(ERANGE, GM_ERROR_OUT_OF_RANGE, gm_read_plain(view, 0x4000, &v, 8));
	gm_release(view);
}

/* Lock gpns @first .. @first + @n - 1. */
static int lock_pages(struct gm *gm, uint64_t first, size_t n, struct gm_locked_pages **lp)
{
	uint64_t *gpns = calloc(n ?: 1, sizeof(*gpns));
	size_t i;
	int ret;

	if (!gpns)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		gpns[i] = first + i;
	ret = gm_lock_gpns(gm, false, gpns, n, lp);
	free(gpns);
	return ret;
}

TEST_F(file, locks_pin_the_files_pages_once_each)
{
	static const uint64_t gpns[] = { 1, 2, 3, 2, 1, 9 };
	struct guestmem_info info = { .size = sizeof(info) };
	struct gm_locked_pages *lp = (void *)1;
	long vmpin = gm_test_vmpin_pages();
	long pages;

	if (!kernel_pins_files()) {
		test_gm_err(EFAULT, GM_ERROR_OTHER,
			    "guest memory 'file': lock error: failed to access memory at 0x1000",
			    gm_lock_gpns(self->gm, false, gpns, 6, &lp));
		EXPECT_STREQ("memory not lockable", gm_last_error()->cause);
		EXPECT_EQ(NULL, lp);
		return;
	}
	/* 4 pages (1, 2, 3, 9); with 64 KiB pages all are in the first one. */
	pages = gm_test_pages_of(self->view, gpns, 6);
	test_gm_ok(gm_lock_gpns(self->gm, false, gpns, 6, &lp));
	ASSERT_EQ(0, info_of(gm_fd(self->gm), &info));
	EXPECT_EQ(6, info.out_locked_pages);
	EXPECT_EQ(pages, info.out_pinned_pages);
	if (!geteuid())
		EXPECT_EQ(self->pins + pages, gm_test_foll_pins());
	/* No process's pinned_vm: no mm maps them for the object. */
	EXPECT_EQ(vmpin, gm_test_vmpin_pages());
	gm_locked_pages_release(lp);
	ASSERT_EQ(0, info_of(gm_fd(self->gm), &info));
	EXPECT_EQ(0, info.out_pinned_pages);
	if (!geteuid())
		EXPECT_EQ(self->pins, gm_test_foll_pins());
}

TEST_F(file, a_lock_past_the_files_end_fails_and_pins_nothing)
{
	/* The file ends on a kernel page: 4 KiB pages, after gpn 3. */
	const uint64_t end = HPAGE_ROUNDUP(4 * SZ_4K);
	struct gm_locked_pages *lp = (void *)1;
	char msg[128];

	if (!kernel_pins_files())
		SKIP(return, "file pages are pinned from Linux 6.11 on");
	/*
	 * Gpns 2 and 3 (the last two before the end) pin, 4 is past the end:
	 * the lock names it and undoes 2 and 3.
	 */
	ASSERT_LT(end, FILE_SIZE);
	ASSERT_EQ(0, ftruncate(self->memfd, end));
	snprintf(msg, sizeof(msg),
		 "guest memory 'file': lock error: failed to access memory at 0x%llx",
		 (unsigned long long)end);
	test_gm_err(EFAULT, GM_ERROR_OTHER, msg, lock_pages(self->gm, end / SZ_4K - 2, 4, &lp));
	EXPECT_EQ(NULL, lp);
	if (!geteuid())
		EXPECT_EQ(self->pins, gm_test_foll_pins());
}

/* allow_preemptive_locking: the view pins its pages once; its locks borrow them. */
TEST_F(file, a_preemptive_view_pins_once_and_its_locks_borrow)
{
	/* Pages 2..5; with 64 KiB pages the second kernel page. */
	const uint64_t off = HPAGE_ROUNDUP(2 * SZ_4K), len = HPAGE_ROUNDUP(4 * SZ_4K);
	const long pages = gm_test_pages_in(self->view + off, len);
	struct guestmem_info info = { .size = sizeof(info) };
	struct gm_locked_pages *lp;
	long long pins = 0;
	struct gm *view;

	ASSERT_LE(off + len, FILE_SIZE);
	test_gm_ok(gm_subrange(self->gm, off, len, true, &view));
	ASSERT_EQ(0, info_of(gm_fd(view), &info));
	if (!kernel_pins_files()) {
		EXPECT_FALSE(info.out_flags & GUESTMEM_INFO_PREEMPTIVE);
		gm_release(view);
		return;
	}
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_PREEMPTIVE);
	EXPECT_EQ(pages, info.out_pinned_pages);
	if (!geteuid()) {
		EXPECT_EQ(self->pins + pages, gm_test_foll_pins());
		pins = gm_test_foll_pins();
	}
	test_gm_ok(lock_pages(view, 0, 4, &lp));
	if (!geteuid())
		EXPECT_EQ(pins, gm_test_foll_pins()) TH_LOG("a lock of a preemptive view pinned");
	gm_locked_pages_release(lp);
	gm_release(view);
	if (!geteuid())
		EXPECT_EQ(self->pins, gm_test_foll_pins());
}

/*
 * LIMIT kernel pages, every gpn of them, pin; one more gpn (the next page)
 * does not.  With 4 KiB pages: gpns 0..7, then 8.
 */
static int pins_up_to_the_limit(void *arg)
{
	const uint64_t size = 2 * LIMIT * HPAGE, n = LIMIT * SUBPAGES;
	struct gm_locked_pages *a, *b;
	int memfd = make_memfd("limit", size, 0);
	struct gm *gm;

	if (memfd < 0 || gm_new_file("limit", memfd, 0, size, &gm))
		return 1;
	if (lock_pages(gm, 0, n, &a))
		return 2;
	if (lock_pages(gm, n, 1, &b) != -ENOMEM)
		return 3;
	if (strcmp(gm_last_error()->message,
		   "guest memory 'limit': lock error: Cannot allocate memory"))
		return 4;
	gm_locked_pages_release(a);
	if (lock_pages(gm, n, n, &b))
		return 5;
	gm_locked_pages_release(b);
	gm_release(gm);
	close(memfd);
	return 0;
}

TEST(an_unprivileged_user_pins_file_pages_up_to_its_limit)
{
	pid_t pid;

	gm_require_module();
	if (!kernel_pins_files())
		SKIP(return, "file pages are pinned from Linux 6.11 on");
	if (geteuid())
		SKIP(return, "needs root to become another user");
	ASSERT_EQ(0, gm_test_grant_device_group());
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (gm_test_become_user(4311, true, LIMIT))
			_exit(100);
		_exit(pins_up_to_the_limit(NULL));
	}
	EXPECT_EQ(0, gm_test_wait(pid));
}

/* Set the number of 2 MiB huge pages; the old value, or -1. */
static long set_nr_hugepages(long n)
{
	FILE *f = fopen(NR_HUGEPAGES_2M, "r+");
	long old = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &old) != 1)
		old = -1;
	rewind(f);
	fprintf(f, "%ld\n", n);
	fclose(f);
	return old;
}

/* hugetlbfs: the kernel path and locks; mmap() of the object fd is refused. */
TEST(a_hugetlbfs_file_backs_guest_memory)
{
	struct gm_test_resources before = gm_test_snapshot();
	const size_t huge = 2 << 20;
	struct gm_locked_pages *lp;
	long old_nr = -1;
	uint8_t buf[8];
	void *base;
	size_t len;
	struct gm *gm;
	int fd, obj;

	gm_require_module();
	if (!geteuid())
		old_nr = set_nr_hugepages(2);
	fd = memfd_create("huge", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
	if (fd < 0 || ftruncate(fd, huge)) {
		if (old_nr >= 0)
			set_nr_hugepages(old_nr);
		SKIP(return, "no 2 MiB huge pages here: %s", strerror(errno));
	}
	if (!kernel_pins_files()) {
		obj = open_dev();
		ASSERT_LE(0, obj);
		EXPECT_EQ(-EOPNOTSUPP, raw_create_file(obj, fd, 0, huge));
		close(obj);
	} else {
		test_gm_ok(gm_new_file("huge", fd, 0, huge, &gm));
		obj = gm_fd(gm);
		EXPECT_FALSE(info_flags_of(obj) & GUESTMEM_INFO_MMAP);
		EXPECT_EQ(MAP_FAILED, mmap(NULL, huge, PROT_READ, MAP_SHARED, obj, 0));
		test_gm_err(ENOENT, GM_ERROR_OTHER,
			    "guest memory 'huge': full mapping error: the file is not mapped in this process",
			    gm_full_mapping(gm, &base, &len));
		test_gm_ok(gm_write_at(gm, huge - 4, "huge", 4));
		test_gm_ok(gm_read_at(gm, huge - 4, buf, 4));
		EXPECT_EQ(0, memcmp(buf, "huge", 4));
		test_gm_ok(lock_pages(gm, 0, 4, &lp));
		gm_locked_pages_release(lp);
		gm_release(gm);
	}
	close(fd);
	if (old_nr >= 0)
		set_nr_hugepages(old_nr);
	gm_test_expect_no_leaks(before);
}

TEST_HARNESS_MAIN
