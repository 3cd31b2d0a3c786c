// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem's error paths under fault injection (fail-nth), in the shape of
 * tools/testing/selftests/iommu/iommufd_fail_nth.c.  Moved out of
 * guestmem_abi.c as they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/guestmem.h>

#include "kselftest_harness.h"

#pragma GCC diagnostic ignored "-Wsign-compare"

#define PAGE 4096UL

/* Layer 1: the raw call, 0 or -errno. */
static int gm_raw(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int open_dev(void)
{
	return open("/dev/guestmem", O_RDWR | O_CLOEXEC);
}

static int create_user(int dev, void *base, uint64_t len, const char *name)
{
	struct guestmem_create_user cmd = {
		.size = sizeof(cmd),
		.name_uptr = (uintptr_t)name,
		.name_len = strlen(name),
		.base_uptr = (uintptr_t)base,
		.len = len,
	};
	int rc = gm_raw(dev, GUESTMEM_CREATE_USER, &cmd);

	return rc ? rc : (int)cmd.out_fd;
}

static int create_alloc(int dev, uint64_t len)
{
	struct guestmem_create_alloc cmd = { .size = sizeof(cmd), .len = len };
	int rc = gm_raw(dev, GUESTMEM_CREATE_ALLOC, &cmd);

	return rc ? rc : (int)cmd.out_fd;
}

/* VmPin of /proc/<pid>/status in pages, or -1. */
static long vmpin_pages(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 4;
}

static int lock_gpns(int obj, const uint64_t *gpns, uint64_t n,
		     uint64_t *iovas, uint32_t *id, struct guestmem_fault *f)
{
	struct guestmem_lock_gpns cmd = {
		.size = sizeof(cmd), .gpns_uptr = (uintptr_t)gpns,
		.gpn_count = n, .iovas_uptr = (uintptr_t)iovas,
	};
	int rc = gm_raw(obj, GUESTMEM_LOCK_GPNS, &cmd);

	if (id)
		*id = cmd.out_lock_id;
	if (f)
		*f = cmd.out_fault;
	if (!rc && iovas && !(cmd.out_flags & GUESTMEM_LOCK_OUT_IOVAS))
		return 1;	/* locked, but no IOVAs (not attached) */
	return rc;
}

static int unlock_gpns(int obj, uint32_t id)
{
	struct guestmem_unlock_gpns cmd = { .size = sizeof(cmd), .lock_id = id };

	return gm_raw(obj, GUESTMEM_UNLOCK_GPNS, &cmd);
}

static int iova_of(int obj, const uint64_t *gpns, uint64_t n, uint64_t *iovas,
		   struct guestmem_fault *f)
{
	struct guestmem_iova cmd = {
		.size = sizeof(cmd), .gpns_uptr = (uintptr_t)gpns,
		.gpn_count = n, .iovas_uptr = (uintptr_t)iovas,
	};
	int rc = gm_raw(obj, GUESTMEM_IOVA, &cmd);

	if (f)
		*f = cmd.out_fault;
	return rc;
}

static int attach_edu(int obj)
{
	struct guestmem_attach_device cmd = {
		.size = sizeof(cmd), .pci_devfn = 3 << 3,
	};

	return gm_raw(obj, GUESTMEM_ATTACH_DEVICE, &cmd);
}

static int info_of(int obj, struct guestmem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return gm_raw(obj, GUESTMEM_INFO, info);
}

#define EDU_SYSFS "/sys/bus/pci/devices/0000:00:03.0"

static bool have_edu(void)
{
	return access(EDU_SYSFS, F_OK) == 0;
}

/* Write @val to a debugfs/procfs knob: 0 or -1. */
static int write_knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * Let fail-nth reach sleeping allocations, quietly (iommufd_fail_nth.c
 * does the same).  False when the kernel has no fault injection.
 */
static bool fail_nth_setup(void)
{
	if (access("/proc/thread-self/fail-nth", W_OK))
		return false;
	if (write_knob("/sys/kernel/debug/failslab/ignore-gfp-wait", "N") ||
	    write_knob("/sys/kernel/debug/failslab/verbose", "0"))
		return false;
	write_knob("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	write_knob("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	return true;
}

/*
 * Fail the n-th allocation of a lock (then of an attached, DMA-mapped
 * lock), for n = 1, 2, ... until a lock succeeds without any injected
 * failure: every failed lock must leave nothing pinned, charged or
 * recorded (the debug kernel adds KASAN, kmemleak and the DMA-API checks).
 */
TEST(lock_unwinds_under_fault_injection)
{
	static const uint64_t gpns[] = { 0, 1, 2, 3, 1 };
	struct guestmem_info info;
	int dev, obj, pass, n;
	uint8_t *mem;
	long before;

	if (!fail_nth_setup())
		SKIP(return, "no fault injection (fail-nth, failslab)");
	dev = open_dev();
	ASSERT_LE(0, dev);
	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, 4 * PAGE);
	before = vmpin_pages(getpid());
	for (pass = 0; pass < 2; pass++) {
		obj = create_user(dev, mem, 4 * PAGE, "fail");
		ASSERT_LE(0, obj);
		if (pass == 1 && (!have_edu() || attach_edu(obj))) {
			close(obj);
			break;
		}
		for (n = 1; n < 400; n++) {
			char buf[16] = "";
			uint32_t id;
			int fd, rc;

			fd = open("/proc/thread-self/fail-nth", O_RDWR);
			ASSERT_LE(0, fd);
			snprintf(buf, sizeof(buf), "%d", n);
			ASSERT_EQ(strlen(buf), write(fd, buf, strlen(buf)));
			rc = lock_gpns(obj, gpns, 5, NULL, &id, NULL);
			memset(buf, 0, sizeof(buf));
			ASSERT_LT(0, pread(fd, buf, sizeof(buf) - 1, 0));
			ASSERT_EQ(1, write(fd, "0", 1));
			close(fd);
			if (!rc) {
				/* Five entries, four distinct pages. */
				EXPECT_EQ(before + 4, vmpin_pages(getpid()));
				EXPECT_EQ(0, unlock_gpns(obj, id));
				/* Not injected: every allocation was tried. */
				if (atoi(buf) != 0)
					break;
				continue;
			}
			EXPECT_EQ(before, vmpin_pages(getpid()))
				TH_LOG("pass %d, n %d: rc %d", pass, n, rc);
			ASSERT_EQ(0, info_of(obj, &info));
			EXPECT_EQ(0, info.out_locked_pages);
			EXPECT_EQ(0, info.out_lock_count);
		}
		TH_LOG("pass %d: %d injection points", pass, n - 1);
		close(obj);
		EXPECT_EQ(before, vmpin_pages(getpid()));
	}
	munmap(mem, 4 * PAGE);
	close(dev);
}

/* Arm fail-nth for the n-th injection point of the next calls. */
static int fail_nth_arm(int n)
{
	char buf[16];
	int fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%d", n);
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Disarm; true if the armed failure was injected. */
static bool fail_nth_disarm(int fd)
{
	char buf[16] = "";
	bool injected = pread(fd, buf, sizeof(buf) - 1, 0) > 0 && atoi(buf) == 0;

	if (write(fd, "0", 1) != 1)
		injected = true;
	close(fd);
	return injected;
}

/*
 * The other allocating paths of issue 4 under fail-nth: attaching an
 * allocated object (one DMA mapping of all its pages) and making a view
 * with allow_preemptive_locking (a best-effort lock of the whole view).
 */
TEST(attach_and_preemptive_views_unwind_under_fault_injection)
{
	static const uint64_t gpns[] = { 0, 1 };
	struct guestmem_info info;
	long before;
	int dev, n, fd, obj, rc;
	uint64_t iovas[2];
	uint8_t *mem;

	if (!fail_nth_setup())
		SKIP(return, "no fault injection (fail-nth, failslab)");
	dev = open_dev();
	ASSERT_LE(0, dev);
	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, 4 * PAGE);
	before = vmpin_pages(getpid());

	for (n = 1; have_edu() && n < 400; n++) {
		bool injected;

		obj = create_alloc(dev, 2 * PAGE);
		ASSERT_LE(0, obj);
		fd = fail_nth_arm(n);
		ASSERT_LE(0, fd);
		rc = attach_edu(obj);
		injected = fail_nth_disarm(fd);
		ASSERT_EQ(0, info_of(obj, &info));
		if (rc) {
			EXPECT_FALSE(info.out_flags & GUESTMEM_INFO_ATTACHED);
		} else {
			EXPECT_EQ(0, iova_of(obj, gpns, 2, iovas, NULL));
		}
		close(obj);
		if (!rc && !injected)
			break;
	}
	TH_LOG("attach: %d injection points", n - 1);

	obj = create_user(dev, mem, 4 * PAGE, "fail");
	ASSERT_LE(0, obj);
	for (n = 1; n < 400; n++) {
		struct guestmem_subrange s = {
			.size = sizeof(s), .len = 4 * PAGE,
			.flags = GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING,
		};
		bool injected;

		fd = fail_nth_arm(n);
		ASSERT_LE(0, fd);
		rc = gm_raw(obj, GUESTMEM_SUBRANGE, &s);
		injected = fail_nth_disarm(fd);
		if (!rc) {
			ASSERT_EQ(0, info_of(s.out_fd, &info));
			EXPECT_EQ(info.out_flags & GUESTMEM_INFO_PREEMPTIVE ?
				  before + 4 : before, vmpin_pages(getpid()));
			close(s.out_fd);
		}
		EXPECT_EQ(before, vmpin_pages(getpid()))
			TH_LOG("n %d: rc %d", n, rc);
		if (!rc && !injected)
			break;
	}
	TH_LOG("preemptive view: %d injection points", n - 1);
	close(obj);
	munmap(mem, 4 * PAGE);
	close(dev);
}

TEST_HARNESS_MAIN
