/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the selftests of the raw ioctl ABI (no libguestmem in the
 * way), in the three layers of tools/testing/selftests/iommu/iommufd_utils.h:
 *
 *  1. the raw call: gm_raw(), and one function per ioctl below, each
 *     returning 0 (or a new fd) or -errno;
 *  2. test_ioctl(fd, cmd, arg): assert that the call succeeds;
 *  3. test_err(errno, fd, cmd, arg): expect exactly that errno.
 *
 * The per-ioctl helpers copy the whole command struct out through @out
 * (when not NULL), so a test can check every output field, out_fault
 * included.  guestmem_utils.h, included here, has the library layer and
 * the helpers that are not about ioctls.
 */
#ifndef GUESTMEM_SELFTEST_RAW_H
#define GUESTMEM_SELFTEST_RAW_H

#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/guestmem.h>

#include "guestmem_utils.h"

/* Layer 1: the raw call, 0 or -errno. */
static inline int gm_raw(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* Layer 2: the call succeeds. */
#define test_ioctl(fd, cmd, arg) \
	ASSERT_EQ(0, gm_raw(fd, cmd, arg)) TH_LOG("%s", #cmd)

/* Layer 3: the call fails with exactly this errno. */
#define test_err(_errno, fd, cmd, arg) \
	EXPECT_EQ(-(_errno), gm_raw(fd, cmd, arg)) TH_LOG("%s", #cmd)

/* /dev/guestmem, or -1 with errno set. */
static inline int open_dev(void)
{
	return open("/dev/guestmem", O_RDWR | O_CLOEXEC);
}

/* The create ioctls: the new object fd, or -errno. */
static inline int raw_create_user(int dev, void *base, uint64_t len, const char *name)
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

static inline int raw_create_alloc(int dev, uint64_t len)
{
	struct guestmem_create_alloc cmd = { .size = sizeof(cmd), .len = len };
	int rc = gm_raw(dev, GUESTMEM_CREATE_ALLOC, &cmd);

	return rc ? rc : (int)cmd.out_fd;
}

static inline int raw_create_empty(int dev)
{
	struct guestmem_create_empty cmd = { .size = sizeof(cmd) };
	int rc = gm_raw(dev, GUESTMEM_CREATE_EMPTY, &cmd);

	return rc ? rc : (int)cmd.out_fd;
}

/* GUESTMEM_READ and GUESTMEM_WRITE; the fault report goes to @fault. */
static inline int gm_read(int obj, uint64_t gpa, void *buf, uint64_t len,
			  struct guestmem_fault *fault)
{
	struct guestmem_rw cmd = {
		.size = sizeof(cmd), .gpa = gpa, .len = len,
		.buf_uptr = (uintptr_t)buf,
	};
	int rc = gm_raw(obj, GUESTMEM_READ, &cmd);

	if (fault)
		*fault = cmd.out_fault;
	return rc;
}

static inline int gm_write(int obj, uint64_t gpa, const void *buf, uint64_t len,
			   struct guestmem_fault *fault)
{
	struct guestmem_rw cmd = {
		.size = sizeof(cmd), .gpa = gpa, .len = len,
		.buf_uptr = (uintptr_t)buf,
	};
	int rc = gm_raw(obj, GUESTMEM_WRITE, &cmd);

	if (fault)
		*fault = cmd.out_fault;
	return rc;
}

/* GUESTMEM_INFO of an object fd, the current (largest) version. */
static inline int info_of(int obj, struct guestmem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return gm_raw(obj, GUESTMEM_INFO, info);
}

/* The object's GUESTMEM_INFO_* flags (out_flags of GUESTMEM_INFO), or 0. */
static inline uint32_t info_flags_of(int obj)
{
	struct guestmem_info info;

	return info_of(obj, &info) ? 0 : info.out_flags;
}

/* GUESTMEM_LOCK_GPNS: 0 or -errno; the lock id is out->out_lock_id. */
static inline int lock_gpns(int obj, const uint64_t *gpns, uint64_t n, uint32_t flags,
			    uint64_t *iovas, struct guestmem_lock_gpns *out)
{
	struct guestmem_lock_gpns cmd = {
		.size = sizeof(cmd), .flags = flags,
		.gpns_uptr = (uintptr_t)gpns, .gpn_count = n,
		.iovas_uptr = (uintptr_t)iovas,
	};
	int rc = gm_raw(obj, GUESTMEM_LOCK_GPNS, &cmd);

	if (out)
		*out = cmd;
	return rc;
}

static inline int unlock_gpns(int obj, uint32_t id)
{
	struct guestmem_unlock_gpns cmd = { .size = sizeof(cmd), .lock_id = id };

	return gm_raw(obj, GUESTMEM_UNLOCK_GPNS, &cmd);
}

/* GUESTMEM_IOVA: the IOVA of each of @n gpns into @iovas. */
static inline int iova_of(int obj, const uint64_t *gpns, uint64_t n, uint64_t *iovas,
			  struct guestmem_iova *out)
{
	struct guestmem_iova cmd = {
		.size = sizeof(cmd), .gpns_uptr = (uintptr_t)gpns,
		.gpn_count = n, .iovas_uptr = (uintptr_t)iovas,
	};
	int rc = gm_raw(obj, GUESTMEM_IOVA, &cmd);

	if (out)
		*out = cmd;
	return rc;
}

/* GUESTMEM_IOVA_RUNS: at most @max runs for gpns @gpn .. @gpn + @n - 1. */
static inline int iova_runs_of(int obj, uint64_t gpn, uint64_t n,
			       struct guestmem_iova_run *runs, uint32_t max,
			       struct guestmem_iova_runs *out)
{
	struct guestmem_iova_runs cmd = {
		.size = sizeof(cmd), .gpn = gpn, .gpn_count = n,
		.runs_uptr = (uintptr_t)runs, .max_runs = max,
	};
	int rc = gm_raw(obj, GUESTMEM_IOVA_RUNS, &cmd);

	if (out)
		*out = cmd;
	return rc;
}

/*
 * The runs GUESTMEM_IOVA_RUNS must return for pages gpn .. gpn + n - 1,
 * built from their page IOVAs (GUESTMEM_IOVA), merged where they follow
 * each other: the number of runs, or 0 when an IOVA cannot be read.
 */
static inline unsigned int expected_runs(int obj, uint64_t gpn, uint64_t n,
					 struct guestmem_iova_run *runs)
{
	unsigned int nr = 0;
	uint64_t i, iova;

	for (i = 0; i < n; i++) {
		uint64_t g = gpn + i;

		if (iova_of(obj, &g, 1, &iova, NULL))
			return 0;
		if (nr && runs[nr - 1].iova + runs[nr - 1].npages * PAGE == iova) {
			runs[nr - 1].npages++;
			continue;
		}
		runs[nr++] = (struct guestmem_iova_run){
			.gpn = g, .npages = 1, .iova = iova,
		};
	}
	return nr;
}

/* GUESTMEM_ATTACH_DEVICE of the test VM's edu device (devfn 00:03.0). */
static inline int attach_edu(int obj)
{
	struct guestmem_attach_device cmd = {
		.size = sizeof(cmd), .pci_devfn = 3 << 3,
	};

	return gm_raw(obj, GUESTMEM_ATTACH_DEVICE, &cmd);
}

/* The edu device exists, and is bound to guestmem (attach needs that). */
static inline bool have_edu(void)
{
	return access(GM_TEST_PCI_DEVICES "/" GM_TEST_EDU, F_OK) == 0 &&
	       gm_test_bind(GM_TEST_EDU) == 0;
}

#endif /* GUESTMEM_SELFTEST_RAW_H */
