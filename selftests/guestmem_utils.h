/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the libguestmem selftests, in three layers after
 * tools/testing/selftests/iommu/iommufd_utils.h:
 *
 *  1. raw: the library calls themselves, which return 0 or -errno;
 *  2. test_gm_ok(expr): assert success, logging the recorded error if not;
 *  3. test_gm_err(errno, kind, message, expr): expect exactly that failure,
 *     and that the thread's gm_last_error() tells the same story.
 *
 * Plus the memory layouts the seed's unit tests use, built from an
 * mmap(PROT_NONE) reservation with mprotect() for the "RAM" parts, a leak
 * check (open fds and mappings) for fixture teardowns, and what more than
 * one program needs around the tests: users and capabilities, child
 * processes, fd passing, VmPin and /proc/vmstat, physical addresses, the
 * kernel log.  The same three layers over the raw ioctls are in
 * guestmem_raw.h; no program keeps a copy of a helper here.
 */
#ifndef GUESTMEM_SELFTEST_UTILS_H
#define GUESTMEM_SELFTEST_UTILS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <guestmem.h>

#include "kselftest_harness.h"

/*
 * EXPECT_EQ(4096, len) copies both sides into typeof() temporaries, so every
 * literal expectation against an unsigned value would trip -Wsign-compare
 * (part of -Wextra).  The values compared here are small and exact.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"

#define SZ_4K  0x1000UL
#define SZ_1M  0x100000UL
#define SZ_2M  0x200000UL
#define SZ_4M  0x400000UL
#define PAGE   ((uint64_t)GM_PAGE_SIZE)
/* The kernel's page size: what a lock pins, VmPin and RLIMIT_MEMLOCK count. */
#define HPAGE  ((uint64_t)sysconf(_SC_PAGESIZE))
/* gpns per kernel page: 1, or 16 with 64 KiB pages. */
#define SUBPAGES (HPAGE / PAGE)
/*
 * The first gpn of kernel page @k of a kernel-page aligned buffer: gpn @k
 * with 4 KiB kernel pages, 16 * @k with 64 KiB ones.  Tests about physical
 * pages (neighbours or not, contiguous or not) pick gpns this way, as a
 * lock pins and maps whole kernel pages.
 */
#define KGPN(k) ((uint64_t)(k) * SUBPAGES)
/* @bytes rounded up to whole kernel pages. */
#define HPAGE_ROUNDUP(bytes) (((uint64_t)(bytes) + HPAGE - 1) / HPAGE * HPAGE)
/*
 * The 2 MiB hugetlb pool, named: the default huge page size of x86 and of
 * arm64 with 4 KiB pages, but 512 MiB with 64 KiB pages (where 2 MiB is a
 * contiguous-PTE size).
 */
#define NR_HUGEPAGES_2M "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

/*
 * The errno contract (uapi/linux/guestmem.h, DOC: errno contract), as the
 * library passes it through.
 */
#define GM_ERRNO_OUT_OF_RANGE  ERANGE   /* kind OutOfRange: outside the memory, a hole, bad gpn */
#define GM_ERRNO_FAULT         EFAULT   /* kind Other: the backing page cannot be accessed */
#define GM_ERRNO_OWNER_GONE    ESRCH    /* kind Other: the creating process has exited */

/* The harness treats exit 255 from the test child as SKIP. */
#define GM_SKIP_EXIT 255

/* Skip (from a setup or a test body) when /dev/guestmem is missing. */
#define gm_require_module()                                                   \
	do {                                                                  \
		int __fd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);         \
		if (__fd < 0 && (errno == ENOENT || errno == ENODEV))         \
			SKIP(_exit(GM_SKIP_EXIT), "guestmem module not loaded"); \
		ASSERT_LE(0, __fd);                                           \
		close(__fd);                                                  \
	} while (0)

/* Layer 2: the call succeeds (0, or any non-negative value). */
#define test_gm_ok(expr)                                                      \
	do {                                                                  \
		int __ret = (expr);                                           \
		ASSERT_LE(0, __ret)                                           \
			TH_LOG("%s failed: %d: %s", #expr, __ret,             \
			       gm_last_error()->message);                     \
	} while (0)

/* Layer 3: the call fails with exactly this errno, kind and message. */
#define test_gm_err(_errno, _kind, _msg, expr)                                \
	do {                                                                  \
		int __ret = (expr);                                           \
		EXPECT_EQ(-(_errno), __ret) TH_LOG("%s", #expr);              \
		if (__ret < 0) {                                              \
			const struct gm_error *__e = gm_last_error();         \
			EXPECT_EQ(_errno, __e->errnum);                       \
			EXPECT_EQ(_kind, __e->kind);                          \
			EXPECT_STREQ(_msg, __e->message);                     \
		}                                                             \
	} while (0)

/* Layer 3, when only errno and kind are stable (e.g. the seed says "Err"). */
#define test_gm_fails(_errno, _kind, expr)                                    \
	do {                                                                  \
		int __ret = (expr);                                           \
		EXPECT_EQ(-(_errno), __ret) TH_LOG("%s", #expr);              \
		if (__ret < 0)                                                \
			EXPECT_EQ(_kind, gm_last_error()->kind);              \
	} while (0)

/* One piece of a test layout: [off, off+len) gets protection @prot. */
struct gm_test_chunk {
	size_t off, len;
	int prot;
};

/*
 * Reserve @len bytes PROT_NONE and open up the chunks: the C counterpart of
 * sparse_mmap's SparseMapping::new + alloc (RW) + map_zero (read only).
 * mprotect() works in kernel pages (HPAGE): a chunk must start on one and
 * end on one or at @len.  One that would not (a 4 KiB layout on 64 KiB
 * pages) fails the reservation (NULL, errno EINVAL) instead of silently
 * growing over its neighbour.
 */
static inline void *gm_test_reserve(size_t len, const struct gm_test_chunk *chunks,
				    size_t count)
{
	void *base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);
	size_t i, end;

	if (base == MAP_FAILED)
		return NULL;
	for (i = 0; i < count; i++) {
		end = chunks[i].off + chunks[i].len;
		if (chunks[i].off % HPAGE || (end % HPAGE && end != len)) {
			munmap(base, len);
			errno = EINVAL;
			return NULL;
		}
		if (mprotect((char *)base + chunks[i].off, chunks[i].len, chunks[i].prot)) {
			munmap(base, len);
			return NULL;
		}
	}
	return base;
}

/*
 * The seed's create_test_mapping(), its one-page hole one kernel page long:
 *   RAM [0,1M), hole [1M,2M), RAM [2M,3M), hole [3M,3M+HPAGE), RAM [3M+HPAGE,4M)
 * (the seed's hole [3M,3M+4K) with 4 KiB pages; mprotect() cannot make a
 * smaller one).
 */
static inline void *gm_test_standard_layout(void)
{
	const struct gm_test_chunk ram[] = {
		{ 0, SZ_1M, PROT_READ | PROT_WRITE },
		{ 2 * SZ_1M, SZ_1M, PROT_READ | PROT_WRITE },
		{ 3 * SZ_1M + HPAGE, SZ_1M - HPAGE, PROT_READ | PROT_WRITE },
	};

	return gm_test_reserve(SZ_4M, ram, 3);
}

/*
 * The seed's FaultingMapping after its page_fault handler has run, in
 * kernel pages (the seed's are 4 KiB; mprotect() makes no smaller ones):
 * page 0 and 3 fail, page 1 is read/write, page 2 is a read-only zero page.
 * 4 * HPAGE bytes; page p holds gpns [p * SUBPAGES, (p + 1) * SUBPAGES).
 */
static inline void *gm_test_faulting_layout(void)
{
	const struct gm_test_chunk pages[] = {
		{ 1 * HPAGE, HPAGE, PROT_READ | PROT_WRITE },
		{ 2 * HPAGE, HPAGE, PROT_READ },
	};

	return gm_test_reserve(4 * HPAGE, pages, 2);
}

/* What a leak would show up as: open fds and mappings of this process. */
struct gm_test_resources {
	int fds;
	int maps;
};

static inline int gm_test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory stream's own fd */
}

/* Mappings of object fds (anon inode "[guestmem]"), not malloc's. */
static inline int gm_test_count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "[guestmem]") != NULL;
	fclose(f);
	return n;
}

static inline struct gm_test_resources gm_test_snapshot(void)
{
	struct gm_test_resources r = { gm_test_count_fds(), gm_test_count_maps() };

	return r;
}

/* Teardown leak check: every object fd closed, every library mapping gone. */
#define gm_test_expect_no_leaks(before)                                       \
	do {                                                                  \
		struct gm_test_resources __now = gm_test_snapshot();          \
		EXPECT_EQ((before).fds, __now.fds) TH_LOG("fd leak");         \
		EXPECT_EQ((before).maps, __now.maps) TH_LOG("mapping leak");  \
	} while (0)

static inline void gm_test_fill_pattern(uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)i;
}

/*
 * Pages pinned in this process's mm: VmPin of /proc/self/status (kB), or of
 * another process with @pid != 0.  -1 when it cannot be read.
 */
static inline long gm_test_vmpin_pages_of(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / (HPAGE / 1024);
}

static inline long gm_test_vmpin_pages(void)
{
	return gm_test_vmpin_pages_of(0);
}

/*
 * Kernel pages that hold the gpns @gpns of memory starting at @base: what a
 * lock of them pins (each page once).
 */
static inline long gm_test_pages_of(const void *base, const uint64_t *gpns, size_t n)
{
	long count = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		uint64_t page = ((uintptr_t)base + gpns[i] * PAGE) / HPAGE;

		for (j = 0; j < i; j++)
			if (((uintptr_t)base + gpns[j] * PAGE) / HPAGE == page)
				break;
		count += j == i;
	}
	return count;
}

/* Kernel pages that hold [@base, @base + @len). */
static inline long gm_test_pages_in(const void *base, size_t len)
{
	uintptr_t first = (uintptr_t)base / HPAGE;

	return len ? ((uintptr_t)base + len - 1) / HPAGE - first + 1 : 0;
}

/*
 * Tell the VM runner that this test provokes kernel messages containing
 * @text ("guestmem-selftest: expect <text>").  One write() is one record;
 * dprintf() would not work on /dev/kmsg.
 */
static inline int gm_test_kmsg_expect(const char *text)
{
	char rec[128];
	int fd, len;
	ssize_t n;

	len = snprintf(rec, sizeof(rec), "guestmem-selftest: expect %s\n", text);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, rec, len);
	close(fd);
	return n == len ? 0 : -EIO;
}

/*
 * The device node's group, as the shipped udev rule would set it (the rule
 * names the group "guestmem"; the test VM has no group database, so a
 * number stands for it).
 */
#define GM_TEST_DEVICE_GID 4242

/* What udev does with udev/60-guestmem.rules: root:guestmem 0660. */
static inline int gm_test_grant_device_group(void)
{
	if (chown("/dev/guestmem", 0, GM_TEST_DEVICE_GID) ||
	    chmod("/dev/guestmem", 0660))
		return -errno;
	return 0;
}

/*
 * Become the unprivileged user @uid (no capabilities left), a member of the
 * device node's group when @in_group, with RLIMIT_MEMLOCK of @memlock_pages
 * kernel pages, HPAGE each (negative: keep the limit).  Call it in a child
 * process.
 */
static inline int gm_test_become_user(uid_t uid, bool in_group, long memlock_pages)
{
	gid_t group = GM_TEST_DEVICE_GID;
	struct rlimit rl;

	if (memlock_pages >= 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)memlock_pages * HPAGE;
		if (setrlimit(RLIMIT_MEMLOCK, &rl))
			return -errno;
	}
	if (setgroups(in_group ? 1 : 0, &group) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

/* Wait for child @pid; its exit status, or 128 + signal, or -1. */
static inline int gm_test_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Send the @n (at most 4) fds @fds over the unix socket @sock (SCM_RIGHTS). */
static inline int gm_test_send_fds(int sock, const int *fds, int n)
{
	char data = 'F', cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { &data, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *c;

	if (n < 1 || n > 4)
		return -1;
	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* Receive exactly @n fds sent with gm_test_send_fds() (O_CLOEXEC): 0 or -1. */
static inline int gm_test_recv_fds(int sock, int *fds, int n)
{
	char data, cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { &data, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *c;

	if (n < 1 || n > 4 || recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(c), n * sizeof(int));
	return 0;
}

/* Send @fd over the unix socket @sock (SCM_RIGHTS). */
static inline int gm_test_send_fd(int sock, int fd)
{
	return gm_test_send_fds(sock, &fd, 1);
}

/* Receive an fd sent with gm_test_send_fd() (O_CLOEXEC), or -1. */
static inline int gm_test_recv_fd(int sock)
{
	int fd;

	return gm_test_recv_fds(sock, &fd, 1) ? -1 : fd;
}

/*
 * Counters of /proc/vmstat, brought up to date first (vm.stat_refresh,
 * root): otherwise they lag behind.  @vals[i] gets @names[i], or -1 when it
 * cannot be read.
 */
static inline void gm_test_vmstats(const char *const *names, long long *vals, int n)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	long long val;
	char key[64];
	FILE *f = NULL;
	int i;

	for (i = 0; i < n; i++)
		vals[i] = -1;
	if (fd >= 0 && write(fd, "1", 1) == 1)
		f = fopen("/proc/vmstat", "re");
	if (fd >= 0)
		close(fd);
	if (!f)
		return;
	while (fscanf(f, "%63s %lld", key, &val) == 2)
		for (i = 0; i < n; i++)
			if (!strcmp(key, names[i]))
				vals[i] = val;
	fclose(f);
}

/* One counter of /proc/vmstat, e.g. nr_foll_pin_acquired, or -1. */
static inline long long gm_test_vmstat(const char *name)
{
	long long val;

	gm_test_vmstats(&name, &val, 1);
	return val;
}

/*
 * Pages the system holds FOLL_PIN references on (acquired - released), or
 * -1: one refresh and one read for both counters, as the fail-nth sweeps
 * ask after every try.
 */
static inline long long gm_test_foll_pins(void)
{
	static const char *const names[] = {
		"nr_foll_pin_acquired", "nr_foll_pin_released",
	};
	long long v[2];

	gm_test_vmstats(names, v, 2);
	return v[0] < 0 || v[1] < 0 ? -1 : v[0] - v[1];
}

/* Is every one of @len bytes at @p equal to @val? */
static inline bool gm_test_all_bytes(const uint8_t *p, size_t len, uint8_t val)
{
	while (len--)
		if (*p++ != val)
			return false;
	return true;
}

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
static inline uint64_t gm_test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Drop capability @cap from this process (effective, permitted and
 * inheritable): 0 or -errno.  The harness runs each test in a child.
 */
static inline int gm_test_drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].permitted &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].inheritable &= ~CAP_TO_MASK(cap);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

#define GM_TEST_PAGEMAP_PRESENT		(1ULL << 63)
#define GM_TEST_PAGEMAP_PFN_MASK	((1ULL << 55) - 1)

/*
 * The physical address of @va, from /proc/self/pagemap: 0, -ENOENT when
 * the page is not present, -EPERM when PFNs are hidden (no CAP_SYS_ADMIN).
 */
static inline int gm_test_virt_to_phys(const void *va, uint64_t *pa)
{
	uint64_t page = sysconf(_SC_PAGESIZE), entry;
	ssize_t n;
	int fd;

	*pa = 0;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &entry, sizeof(entry), (uintptr_t)va / page * sizeof(entry));
	close(fd);
	if (n != sizeof(entry))
		return n < 0 ? -errno : -EIO;
	if (!(entry & GM_TEST_PAGEMAP_PRESENT))
		return -ENOENT;
	if (!(entry & GM_TEST_PAGEMAP_PFN_MASK))
		return -EPERM;
	*pa = (entry & GM_TEST_PAGEMAP_PFN_MASK) * page + (uintptr_t)va % page;
	return 0;
}

/* The kernel log, read from its current end: only new records are seen. */
static inline int gm_test_kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Wait up to @ms for a kernel log record (read from @fd, see
 * gm_test_kmsg_open_at_end()) whose text contains @text; copy the text to
 * @msg unless it is NULL.
 */
static inline bool gm_test_kmsg_wait_for(int fd, const char *text, char *msg, size_t size,
					 int ms)
{
	uint64_t deadline = gm_test_now_ms() + ms;
	char rec[1024], *body;
	ssize_t n;

	while (gm_test_now_ms() <= deadline) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EAGAIN)
				usleep(10000);
			else if (errno != EPIPE)	/* EPIPE: records lost */
				return false;
			continue;
		}
		rec[n] = '\0';
		body = strchr(rec, ';');	/* "prio,seq,time,flags;text\n" */
		if (!body)
			continue;
		body[strcspn(body, "\n")] = '\0';
		if (strstr(body + 1, text)) {
			if (msg)
				snprintf(msg, size, "%s", body + 1);
			return true;
		}
	}
	return false;
}

#define GM_TEST_PCI_DEVICES	"/sys/bus/pci/devices"

/* The test VM's edu device, and the one behind a hot-plug port. */
#define GM_TEST_EDU		"0000:00:03.0"
#define GM_TEST_EDU_HOTPLUG	"0000:01:00.0"

/*
 * Bind @bdf to guestmem's PCI driver, as an administrator would (gmem
 * bind): 0, -ENODEV when there is no such device, or another -errno.
 */
static inline int gm_test_bind(const char *bdf)
{
	return gm_pci_bind(bdf, NULL, NULL, 0);
}

#endif /* GUESTMEM_SELFTEST_UTILS_H */
