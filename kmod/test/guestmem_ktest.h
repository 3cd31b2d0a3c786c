/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The test-only interface of guestmem_ktest.ko (/dev/guestmem_ktest),
 * shared with selftests/guestmem_ktest.c.  Not an ABI.
 */
#ifndef GUESTMEM_KTEST_H
#define GUESTMEM_KTEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * enum gm_ktest_op - what GM_KTEST_RUN does with the object
 * @GM_KTEST_WRITE_PATTERN: guestmem_write() of the pattern at @gpa
 * @GM_KTEST_CHECK_PATTERN: guestmem_read() at @gpa; -EBADMSG on mismatch
 * @GM_KTEST_LOCK_WRITE: lock the pages of [@gpa, @gpa + @len) with kernel
 *	access, write the pattern through the kernel mapping, unlock;
 *	@out_value: the pages' pinned count seen by the test module
 * @GM_KTEST_IOVA: guestmem_gpa_to_iova(@gpa) into @out_value
 * @GM_KTEST_LOCK_IOVA: lock the pages with kernel access, put the first
 *	page's IOVA in @out_value, unlock
 * @GM_KTEST_LOCK_FORGET: lock the pages and drop the object reference
 *	without unlocking (a consumer that breaks its contract);
 *	@out_value: the lock's entry count
 */
enum gm_ktest_op {
	GM_KTEST_WRITE_PATTERN = 1,
	GM_KTEST_CHECK_PATTERN = 2,
	GM_KTEST_LOCK_WRITE = 3,
	GM_KTEST_IOVA = 4,
	GM_KTEST_LOCK_IOVA = 5,
	GM_KTEST_LOCK_FORGET = 6,
};

/* Run the operation from a workqueue (a kernel thread, no user mm). */
#define GM_KTEST_IN_WORKER	0x1U

/**
 * struct gm_ktest_cmd - argument of GM_KTEST_RUN
 * @op: enum gm_ktest_op
 * @flags: GM_KTEST_IN_WORKER or 0
 * @fd: a guestmem object fd of the caller
 * @seed: pattern byte i is (@seed + i) & 0xff
 * @gpa: guest address
 * @len: bytes (at most 1 MiB)
 * @out_value: result of the operation, see enum gm_ktest_op
 */
struct gm_ktest_cmd {
	__u32 op;
	__u32 flags;
	__s32 fd;
	__u32 seed;
	__aligned_u64 gpa;
	__aligned_u64 len;
	__aligned_u64 out_value;
};

#define GM_KTEST_RUN	_IOWR(0xBA, 0xf0, struct gm_ktest_cmd)

#endif /* GUESTMEM_KTEST_H */
