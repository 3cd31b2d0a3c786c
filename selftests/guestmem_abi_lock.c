// SPDX-License-Identifier: GPL-2.0
/*
 * Locks, accounting, IOVAs and device attach through the raw ioctls:
 * GUESTMEM_LOCK_GPNS/UNLOCK_GPNS pin and charge (VmPin, RLIMIT_MEMLOCK),
 * locks outlive their owner and go with the last fd, GUESTMEM_ATTACH_DEVICE's
 * rules, and the IOVAs GUESTMEM_IOVA and GUESTMEM_IOVA_RUNS report for
 * locked, attached and preemptively pinned memory.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/guestmem.h>
#include <guestmem.h>

#include "guestmem_abi.h"

/*
 * GUESTMEM_LOCK_GPNS without flags, the lock id to @id and the fault report
 * to @f: 0, -errno, or 1 when @iovas were asked for and the object has none
 * to give (no device attached).
 */
static int lock_with_id(int obj, const uint64_t *gpns, uint64_t n,
			uint64_t *iovas, uint32_t *id, struct guestmem_fault *f)
{
	struct guestmem_lock_gpns cmd;
	int rc = lock_gpns(obj, gpns, n, 0, iovas, &cmd);

	if (id)
		*id = cmd.out_lock_id;
	if (f)
		*f = cmd.out_fault;
	if (!rc && iovas && !(cmd.out_flags & GUESTMEM_LOCK_OUT_IOVAS))
		return 1;	/* locked, but no IOVAs (not attached) */
	return rc;
}

TEST_F(abi, lock_pins_charges_and_unlock_releases)
{
	const uint64_t gpns[] = { KGPN(0), KGPN(3), KGPN(0) };
	long before = gm_test_vmpin_pages();
	struct guestmem_info info;
	uint32_t id, id2;
	uint8_t byte;

	ASSERT_LE(0, before);
	ASSERT_EQ(0, lock_with_id(self->obj, gpns, 3, NULL, &id, NULL));
	EXPECT_NE(0, id);
	/* A gpn listed twice is one entry more, not one pin more. */
	EXPECT_EQ(before + 2, gm_test_vmpin_pages());
	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_EQ(3, info.out_locked_pages);
	EXPECT_EQ(2, info.out_pinned_pages);
	EXPECT_EQ(1, info.out_lock_count);
	EXPECT_FALSE(info.out_flags & GUESTMEM_INFO_ATTACHED);

	/* An empty lock is a lock, too. */
	ASSERT_EQ(0, lock_with_id(self->obj, gpns, 0, NULL, &id2, NULL));
	EXPECT_NE(id, id2);
	EXPECT_EQ(0, unlock_gpns(self->obj, id2));

	EXPECT_EQ(0, unlock_gpns(self->obj, id));
	EXPECT_EQ(before, gm_test_vmpin_pages());
	EXPECT_EQ(-ENOENT, unlock_gpns(self->obj, id));
	EXPECT_EQ(-ENOENT, unlock_gpns(self->obj, 0));
	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_EQ(0, info.out_locked_pages);
	EXPECT_EQ(0, info.out_lock_count);

	/* The pinned pages are the ones the owner sees. */
	ASSERT_EQ(0, lock_with_id(self->obj, gpns, 1, NULL, &id, NULL));
	self->mem[5] = 0x77;
	EXPECT_EQ(0, gm_read(self->obj, 5, &byte, 1, NULL));
	EXPECT_EQ(0x77, byte);
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
}

TEST_F(abi, lock_failures_name_the_entry_and_pin_nothing)
{
	long before = gm_test_vmpin_pages();
	const uint64_t wrap[3] = { KGPN(3), UINT64_MAX, 0 };
	struct guestmem_fault f;
	uint64_t gpns[2] = { 0 };
	uint8_t *odd;
	int fd;

	/* PROT_NONE, then read-only: both refuse a write pin. */
	gpns[1] = KGPN(1);
	EXPECT_EQ(-EFAULT, lock_with_id(self->obj, gpns, 2, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_INDEX |
		  GUESTMEM_FAULT_HAS_GPA, f.flags);
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_MAPPED, f.cause);
	EXPECT_EQ(GUESTMEM_KIND_OTHER, f.kind);
	EXPECT_EQ(1, f.index);
	EXPECT_EQ(KGPN(1), f.gpn);
	EXPECT_EQ(HPAGE, f.gpa);
	gpns[1] = KGPN(2);
	EXPECT_EQ(-EFAULT, lock_with_id(self->obj, gpns, 2, NULL, NULL, &f));
	EXPECT_EQ(KGPN(2), f.gpn);
	/* Beyond the object, and a gpn whose address overflows. */
	gpns[1] = KGPN(MEM_PAGES);
	EXPECT_EQ(-ERANGE, lock_with_id(self->obj, gpns, 2, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_CAUSE_NO_MEMORY, f.cause);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, f.kind);
	EXPECT_EQ(1, f.index);
	gpns[1] = 1ULL << 60;
	EXPECT_EQ(-ERANGE, lock_with_id(self->obj, gpns, 2, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_CAUSE_INVALID_GPN, f.cause);
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_INDEX, f.flags);
	/* The last gpn, then 0: not a run that wraps around. */
	EXPECT_EQ(-ERANGE, lock_with_id(self->obj, wrap, 3, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_CAUSE_INVALID_GPN, f.cause);
	EXPECT_EQ(1, f.index);
	EXPECT_EQ(UINT64_MAX, f.gpn);
	EXPECT_EQ(before, gm_test_vmpin_pages());

	/*
	 * A guest page that straddles two host pages cannot be pinned (with
	 * larger kernel pages, neither can one whose page reaches outside).
	 */
	odd = self->mem + 3 * HPAGE + 16;
	fd = raw_create_user(self->dev, odd, 64, "odd");
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, lock_with_id(fd, gpns, 1, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_LOCKABLE, f.cause);
	close(fd);
	/* The empty object has no page 0. */
	fd = raw_create_empty(self->dev);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ERANGE, lock_with_id(fd, gpns, 1, NULL, NULL, &f));
	close(fd);
	EXPECT_EQ(before, gm_test_vmpin_pages());
}

TEST_F(abi, closing_an_object_releases_its_locks)
{
	const uint64_t gpns[] = { KGPN(0), KGPN(3) };
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = 3 * HPAGE, .len = HPAGE,
	};
	long before = gm_test_vmpin_pages();
	int fd;

	fd = raw_create_user(self->dev, self->mem, MEM_LEN, "closing");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lock_with_id(fd, gpns, 2, NULL, NULL, NULL));
	ASSERT_EQ(0, lock_with_id(fd, gpns, 1, NULL, NULL, NULL));
	EXPECT_EQ(before + 3, gm_test_vmpin_pages());
	close(fd);
	EXPECT_EQ(before, gm_test_vmpin_pages());

	/* A view's locks are the view's: they go when the view goes. */
	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	ASSERT_EQ(0, lock_with_id(s.out_fd, gpns, 1, NULL, NULL, NULL));
	ASSERT_EQ(0, lock_with_id(self->obj, gpns + 1, 1, NULL, NULL, NULL));
	EXPECT_EQ(before + 2, gm_test_vmpin_pages());
	close(s.out_fd);
	EXPECT_EQ(before + 1, gm_test_vmpin_pages());
}

TEST_F(abi, lock_over_rlimit_memlock_is_enomem)
{
	const uint64_t gpns[] = { KGPN(0), KGPN(3), KGPN(0) };
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { 2 * HPAGE, 2 * HPAGE };
		long before;
		int fd;

		/* Without CAP_IPC_LOCK when it locks, the caller is limited. */
		if (gm_test_drop_cap(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		fd = raw_create_user(self->dev, self->mem, MEM_LEN, "lim");
		before = gm_test_vmpin_pages();
		if (fd < 0 || before < 0)
			_exit(11);
		/* Two distinct pages: exactly the limit. */
		if (lock_with_id(fd, gpns, 3, NULL, NULL, NULL))
			_exit(12);
		if (gm_test_vmpin_pages() != before + 2)
			_exit(13);
		if (lock_with_id(fd, gpns, 1, NULL, NULL, NULL) != -ENOMEM)
			_exit(14);
		if (gm_test_vmpin_pages() != before + 2)
			_exit(16);
		close(fd);
		_exit(gm_test_vmpin_pages() == before ? 0 : 17);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(abi, locks_from_another_process_pin_the_owners_pages)
{
	const uint64_t gpns[] = { KGPN(0), KGPN(3) };
	long before = gm_test_vmpin_pages();
	int pipefd[2], status;
	uint32_t id = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child inherits the fd; the pins are the owner's. */
		if (lock_with_id(self->obj, gpns, 2, NULL, &id, NULL) ||
		    gm_test_vmpin_pages() != 0)
			id = 0;
		if (write(pipefd[1], &id, sizeof(id)) != sizeof(id))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(sizeof(id), read(pipefd[0], &id, sizeof(id)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_NE(0, id);
	EXPECT_EQ(before + 2, gm_test_vmpin_pages());
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
	EXPECT_EQ(before, gm_test_vmpin_pages());
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * The owner exits with locks held by an object another process keeps.  The
 * lock holds a gpn of each of two kernel pages of the object.
 */
TEST(locks_outlive_their_owner_and_release_cleanly)
{
	const uint64_t gpns[] = { 0, SUBPAGES };
	int sv[2], dev, fd, status;
	pid_t pid;

	dev = open_dev();
	if (dev < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		void *mem = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int obj = raw_create_user(dev, mem, 2 * HPAGE, "owner");

		if (obj < 0 || lock_with_id(obj, gpns, 2, NULL, NULL, NULL) ||
		    gm_test_send_fd(sv[1], obj))
			_exit(1);
		_exit(0);
	}
	/* Only the child's end stays open: a child that fails ends the receive. */
	close(sv[1]);
	fd = gm_test_recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* New locks need the owner; existing ones go with the object. */
	EXPECT_EQ(-ESRCH, lock_with_id(fd, gpns, 1, NULL, NULL, NULL));
	close(fd);
	close(dev);
	close(sv[0]);
}

TEST_F(abi, iovas_need_an_attached_device)
{
	const uint64_t gpns[] = { KGPN(3), KGPN(0) };
	struct guestmem_iova ic;
	struct guestmem_fault f;
	uint64_t iovas[2];
	uint32_t id;

	/* Not attached: the lock works, no IOVA anywhere. */
	ASSERT_EQ(1, lock_with_id(self->obj, gpns, 2, iovas, &id, NULL));
	EXPECT_EQ(-ENOENT, iova_of(self->obj, gpns, 2, iovas, &ic));
	f = ic.out_fault;
	EXPECT_EQ(GUESTMEM_FAULT_HAS_INDEX, f.flags);
	EXPECT_EQ(0, f.index);
	EXPECT_EQ(KGPN(3), f.gpn);
	EXPECT_EQ(0, iova_of(self->obj, gpns, 0, iovas, NULL));
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
}

/* The physical address of @va (root reads PFNs), or 0. */
static uint64_t phys_of(const void *va)
{
	uint64_t pa;

	return gm_test_virt_to_phys(va, &pa) ? 0 : pa;
}

TEST_F(abi, attach_device_rules)
{
	struct guestmem_attach_device ad = { .size = sizeof(ad) };
	static const uint64_t gpns[] = { 0 };
	struct guestmem_info info;
	uint32_t id;
	int fd, status;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	ad.pci_bus = 256;
	test_err(EINVAL, self->obj, GUESTMEM_ATTACH_DEVICE, &ad);
	ad.pci_bus = 0x42;
	test_err(ENODEV, self->obj, GUESTMEM_ATTACH_DEVICE, &ad);

	/* Not after a lock exists, in the object or in a view of it. */
	ASSERT_EQ(0, lock_with_id(self->obj, gpns, 1, NULL, &id, NULL));
	EXPECT_EQ(-EBUSY, attach_edu(self->obj));
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
	EXPECT_EQ(0, attach_edu(self->obj));
	EXPECT_EQ(-EBUSY, attach_edu(self->obj));
	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_ATTACHED);

	/* CAP_SYS_RAWIO is required. */
	fd = raw_create_empty(self->dev);
	ASSERT_LE(0, fd);
	if (fork() == 0)
		_exit(gm_test_drop_cap(CAP_SYS_RAWIO) ? 2 :
		      attach_edu(fd) == -EPERM ? 0 : 1);
	wait(&status);
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(fd);
}

TEST_F(abi, attached_locks_have_iovas)
{
	const uint64_t gpns[] = { KGPN(3), KGPN(0), KGPN(3) };
	uint64_t iovas[3], again[3];
	struct guestmem_info info;
	struct guestmem_iova ic;
	struct guestmem_fault f;
	uint32_t id;
	int i, status;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	ASSERT_EQ(0, attach_edu(self->obj));
	ASSERT_EQ(0, lock_with_id(self->obj, gpns, 3, iovas, &id, NULL));
	ASSERT_EQ(0, iova_of(self->obj, gpns, 3, again, NULL));
	ASSERT_EQ(0, info_of(self->obj, &info));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, iovas[i] % PAGE);
		TH_LOG("gpn %lu: iova %#lx phys %#lx",
		       (unsigned long)gpns[i], (unsigned long)iovas[i],
		       (unsigned long)phys_of(self->mem + gpns[i] * PAGE));
	}
	/* Any lock holding the page answers: same page, same IOVA set. */
	EXPECT_TRUE(again[0] == iovas[0] || again[0] == iovas[2]);
	EXPECT_EQ(iovas[1], again[1]);
	if (info.out_flags & GUESTMEM_INFO_IOVA_PHYS) {
		/* dma-direct: the IOVA is the physical address. */
		EXPECT_EQ(phys_of(self->mem + 3 * HPAGE), iovas[0]);
		EXPECT_EQ(phys_of(self->mem), iovas[1]);
	} else {
		/* IOMMU: one contiguous range of their pages in list order. */
		EXPECT_EQ(iovas[0] + HPAGE, iovas[1]);
		EXPECT_EQ(iovas[0] + 2 * HPAGE, iovas[2]);
		EXPECT_NE(phys_of(self->mem), iovas[1]);
	}
	/* Physical IOVAs are for CAP_SYS_RAWIO only; translated ones not. */
	status = fork();
	if (status == 0) {
		int want = info.out_flags & GUESTMEM_INFO_IOVA_PHYS ? -EPERM : 0;

		_exit(gm_test_drop_cap(CAP_SYS_RAWIO) ? 2 :
		      iova_of(self->obj, gpns, 1, again, NULL) == want ? 0 : 1);
	}
	wait(&status);
	EXPECT_EQ(0, WEXITSTATUS(status));

	EXPECT_EQ(0, unlock_gpns(self->obj, id));
	EXPECT_EQ(-ENOENT, iova_of(self->obj, gpns, 3, again, &ic));
	f = ic.out_fault;
	EXPECT_EQ(0, f.index);
}

TEST_F(abi, attached_allocated_memory_has_iovas_everywhere)
{
	static const uint64_t gpns[] = { 0, 1, 2, 3 };
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = 2 * PAGE, .len = 2 * PAGE,
	};
	struct guestmem_info info;
	uint64_t iovas[4], viovas[2];
	long before = gm_test_vmpin_pages();
	uint8_t *map;
	uint32_t id;
	int fd, i;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	fd = raw_create_alloc(self->dev, 4 * PAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach_edu(fd));
	/* Every page has an IOVA without a lock. */
	ASSERT_EQ(0, iova_of(fd, gpns, 4, iovas, NULL));
	ASSERT_EQ(0, info_of(fd, &info));
	map = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < 4; i++) {
		map[i * PAGE] = i;
		if (info.out_flags & GUESTMEM_INFO_IOVA_PHYS)
			EXPECT_EQ(phys_of(map + i * PAGE), iovas[i]);
	}
	if (!(info.out_flags & GUESTMEM_INFO_IOVA_PHYS)) {
		ASSERT_TRUE(info.out_flags & GUESTMEM_INFO_BASE_IOVA);
		for (i = 0; i < 4; i++)
			EXPECT_EQ(info.out_base_iova + i * PAGE, iovas[i]);
	}
	/* A view answers in its own addresses. */
	ASSERT_EQ(0, gm_raw(fd, GUESTMEM_SUBRANGE, &s));
	ASSERT_EQ(0, iova_of(s.out_fd, gpns, 2, viovas, NULL));
	EXPECT_EQ(iovas[2], viovas[0]);
	EXPECT_EQ(iovas[3], viovas[1]);
	/* Locks of allocated memory pin nothing and give the same IOVAs. */
	ASSERT_EQ(0, lock_with_id(s.out_fd, gpns, 2, viovas, &id, NULL));
	EXPECT_EQ(iovas[2], viovas[0]);
	EXPECT_EQ(before, gm_test_vmpin_pages());
	ASSERT_EQ(0, info_of(s.out_fd, &info));
	EXPECT_EQ(2, info.out_locked_pages);
	EXPECT_EQ(0, info.out_pinned_pages);
	close(s.out_fd);
	munmap(map, 4 * PAGE);
	close(fd);
}

TEST_F(abi, iova_runs_rules)
{
	const uint64_t gpns[] = { KGPN(3), KGPN(0) };
	struct guestmem_iova_run runs[2];
	struct guestmem_iova_runs out;
	uint64_t iovas_scratch[2];
	uint32_t id;

	/* Not attached: the lock works, no IOVA anywhere. */
	ASSERT_EQ(1, lock_with_id(self->obj, gpns, 2, iovas_scratch, &id,
			       NULL));
	EXPECT_EQ(-ENOENT, iova_runs_of(self->obj, gpns[0], 1, runs, 2, &out));
	EXPECT_EQ(GUESTMEM_FAULT_HAS_INDEX, out.out_fault.flags);
	EXPECT_EQ(0, out.out_fault.index);
	EXPECT_EQ(gpns[0], out.out_fault.gpn);
	EXPECT_EQ(0, out.out_nr_runs);
	EXPECT_EQ(0, out.out_gpn_count);
	/* Nothing to describe succeeds; no room for a run does not. */
	EXPECT_EQ(0, iova_runs_of(self->obj, gpns[0], 0, runs, 0, &out));
	EXPECT_EQ(0, out.out_nr_runs);
	EXPECT_EQ(-EINVAL, iova_runs_of(self->obj, gpns[0], 1, runs, 0, NULL));
	/* The range's end must fit in 64 bits. */
	EXPECT_EQ(-EOVERFLOW, iova_runs_of(self->obj, UINT64_MAX - 1, 2, runs,
					   2, NULL));
	EXPECT_EQ(-EOVERFLOW, iova_runs_of(self->obj, UINT64_MAX, 1, runs, 2,
					   NULL));
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
}

/* Runs for an attached object: exactly the page IOVAs, merged. */
static void check_runs(struct __test_metadata *_metadata, int obj,
		       uint64_t gpn, uint64_t n)
{
	struct guestmem_iova_run want[16], got[16];
	struct guestmem_iova_runs out;
	int nr, i;

	ASSERT_GE(16, n);
	nr = expected_runs(obj, gpn, n, want);
	ASSERT_LT(0, nr);
	memset(got, 0xa5, sizeof(got));
	ASSERT_EQ(0, iova_runs_of(obj, gpn, n, got, 16, &out));
	EXPECT_EQ(nr, out.out_nr_runs);
	EXPECT_EQ(n, out.out_gpn_count);
	EXPECT_EQ(0, out.out_fault.flags);
	for (i = 0; i < nr && i < (int)out.out_nr_runs; i++) {
		EXPECT_EQ(want[i].gpn, got[i].gpn);
		EXPECT_EQ(want[i].npages, got[i].npages);
		EXPECT_EQ(want[i].iova, got[i].iova);
	}
	/* Nothing past the runs written is touched. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, got[out.out_nr_runs].gpn);
	/* One run of room at a time: each call describes one run. */
	for (i = 0; i < nr; i++) {
		uint64_t from = want[i].gpn;

		ASSERT_EQ(0, iova_runs_of(obj, from, gpn + n - from, got, 1,
					  &out));
		EXPECT_EQ(1, out.out_nr_runs);
		EXPECT_EQ(want[i].npages, out.out_gpn_count);
		EXPECT_EQ(want[i].iova, got[0].iova);
	}
}

TEST(attached_iova_runs_are_the_page_iovas_merged)
{
	struct guestmem_iova_run runs[4];
	struct guestmem_iova_runs out;
	struct guestmem_info info;
	uint64_t gpns[8], iovas[8];
	uint32_t id[3];
	int dev, obj, i;
	uint8_t *mem;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	dev = open_dev();
	ASSERT_LE(0, dev);
	mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, 16 * PAGE);
	obj = raw_create_user(dev, mem, 16 * PAGE, "runs");
	ASSERT_LE(0, obj);
	ASSERT_EQ(0, attach_edu(obj));
	ASSERT_EQ(0, info_of(obj, &info));

	/* One lock of 2..7: one run through the IOMMU. */
	for (i = 0; i < 6; i++)
		gpns[i] = 2 + i;
	ASSERT_EQ(0, lock_with_id(obj, gpns, 6, iovas, &id[0], NULL));
	check_runs(_metadata, obj, 2, 6);
	/* A runs buffer the caller cannot write. */
	EXPECT_EQ(-EFAULT, iova_runs_of(obj, 2, 6, (void *)8, 4, NULL));
	if (!(info.out_flags & GUESTMEM_INFO_IOVA_PHYS)) {
		ASSERT_EQ(0, iova_runs_of(obj, 2, 6, runs, 4, &out));
		EXPECT_EQ(1, out.out_nr_runs);
		EXPECT_EQ(2, runs[0].gpn);
		EXPECT_EQ(6, runs[0].npages);
		EXPECT_EQ(iovas[0], runs[0].iova);
	}

	/* Two more locks, 8 and 9 in reverse order: three IOVA ranges. */
	gpns[0] = 9;
	ASSERT_EQ(0, lock_with_id(obj, gpns, 1, iovas, &id[1], NULL));
	gpns[0] = 8;
	ASSERT_EQ(0, lock_with_id(obj, gpns, 1, iovas, &id[2], NULL));
	check_runs(_metadata, obj, 2, 8);
	check_runs(_metadata, obj, 5, 5);

	/* The first page without an IOVA ends the call; runs before it stay. */
	EXPECT_EQ(-ENOENT, iova_runs_of(obj, 7, 4, runs, 4, &out));
	EXPECT_EQ(GUESTMEM_FAULT_HAS_INDEX, out.out_fault.flags);
	EXPECT_EQ(3, out.out_fault.index);
	EXPECT_EQ(10, out.out_fault.gpn);
	EXPECT_EQ(3, out.out_gpn_count);
	EXPECT_LE(1, out.out_nr_runs);
	EXPECT_EQ(7, runs[0].gpn);

	/* Unlocked pages lose their runs; the other locks keep theirs. */
	EXPECT_EQ(0, unlock_gpns(obj, id[1]));
	EXPECT_EQ(-ENOENT, iova_runs_of(obj, 8, 2, runs, 4, &out));
	EXPECT_EQ(1, out.out_fault.index);
	check_runs(_metadata, obj, 2, 7);
	EXPECT_EQ(0, unlock_gpns(obj, id[0]));
	EXPECT_EQ(0, unlock_gpns(obj, id[2]));
	EXPECT_EQ(-ENOENT, iova_runs_of(obj, 8, 1, runs, 4, &out));
	EXPECT_EQ(0, out.out_fault.index);
	close(obj);
	close(dev);
	munmap(mem, 16 * PAGE);
}

TEST_F(abi, attached_allocated_memory_is_runs_everywhere)
{
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = 3 * PAGE + 16, .len = 8 * PAGE,
	};
	struct guestmem_iova_run runs[16];
	struct guestmem_iova_runs out;
	struct guestmem_info info;
	int fd;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	fd = raw_create_alloc(self->dev, 12 * PAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach_edu(fd));
	ASSERT_EQ(0, info_of(fd, &info));
	check_runs(_metadata, fd, 0, 12);
	if (info.out_flags & GUESTMEM_INFO_BASE_IOVA) {
		ASSERT_EQ(0, iova_runs_of(fd, 0, 12, runs, 16, &out));
		EXPECT_EQ(1, out.out_nr_runs);
		EXPECT_EQ(12, runs[0].npages);
		EXPECT_EQ(info.out_base_iova, runs[0].iova);
	}
	/* Past the end: no IOVA. */
	EXPECT_EQ(-ENOENT, iova_runs_of(fd, 10, 4, runs, 16, &out));
	EXPECT_EQ(2, out.out_fault.index);
	EXPECT_EQ(2, out.out_gpn_count);
	/* A view inside a page: each page's first byte, as GUESTMEM_IOVA. */
	ASSERT_EQ(0, gm_raw(fd, GUESTMEM_SUBRANGE, &s));
	check_runs(_metadata, s.out_fd, 0, 8);
	ASSERT_EQ(0, iova_runs_of(s.out_fd, 0, 8, runs, 16, &out));
	EXPECT_EQ(16, runs[0].iova % PAGE);
	close(s.out_fd);
	close(fd);
}

TEST_F(abi, preemptive_view_pins_up_front_and_locks_borrow)
{
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = 3 * HPAGE, .len = HPAGE,
		.flags = GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING,
	};
	static const uint64_t gpn0[] = { 0 };
	long before = gm_test_vmpin_pages();
	struct guestmem_info info;
	uint64_t iova;
	uint32_t id;
	int view;

	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	view = s.out_fd;
	ASSERT_EQ(0, info_of(view, &info));
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_PREEMPTIVE);
	EXPECT_EQ(1, info.out_pinned_pages);
	EXPECT_EQ(before + 1, gm_test_vmpin_pages());

	/* A device may still be attached; locks through the view borrow. */
	if (have_edu())
		EXPECT_EQ(0, attach_edu(self->obj));
	ASSERT_EQ(0, mprotect(self->mem + 3 * HPAGE, HPAGE, PROT_NONE));
	EXPECT_LE(0, lock_with_id(view, gpn0, 1, &iova, &id, NULL));
	EXPECT_EQ(before + 1, gm_test_vmpin_pages());
	/* The view's gpns, each an entry of its hidden lock, and one more. */
	ASSERT_EQ(0, info_of(view, &info));
	EXPECT_EQ(SUBPAGES + 1, info.out_locked_pages);
	EXPECT_EQ(1, info.out_pinned_pages);
	/* The base's own locks still need the memory. */
	EXPECT_EQ(-EFAULT, lock_with_id(self->obj, (uint64_t[]){ KGPN(3) },
				     1, NULL, NULL, NULL));
	ASSERT_EQ(0, mprotect(self->mem + 3 * HPAGE, HPAGE,
			      PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, unlock_gpns(view, id));
	close(view);
	EXPECT_EQ(before, gm_test_vmpin_pages());

	/* Best effort: a view with a PROT_NONE page is made without it. */
	s.offset = 0;
	s.len = 2 * HPAGE;
	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	ASSERT_EQ(0, info_of(s.out_fd, &info));
	EXPECT_FALSE(info.out_flags & GUESTMEM_INFO_PREEMPTIVE);
	EXPECT_EQ(before, gm_test_vmpin_pages());
	close(s.out_fd);
}

TEST_HARNESS_MAIN
