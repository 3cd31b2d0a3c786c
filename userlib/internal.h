/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libguestmem internals: the handle, the ioctl wrapper and the error record.
 *
 * A struct gm is one reference-counted handle on one object fd.  Everything
 * the library needs to know about the object (name, region layout, how to
 * reach its full mapping) is read once with GUESTMEM_INFO when the handle
 * is made, so handles made by gm_from_fd() in another process know as much
 * as the creator's.  Where this process can reach the memory itself (the
 * owner's regions, the library's mmap() of allocated memory) the data path
 * touches it directly; direct.c says how and when.
 */
#ifndef GUESTMEM_INTERNAL_H
#define GUESTMEM_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/guestmem.h>

#include "guestmem.h"

#define GM_DEVICE "/dev/guestmem"

/* Room for a debug name in the error record (the module allows 256 by default). */
#define GM_NAME_MAX 1024
/* The seed's INVALID_ERROR_GPA: "no precise address". */
#define GM_INVALID_ERROR_GPA UINT64_MAX

struct gm {
	atomic_long refs;
	int fd;
	char *name;

	/* From GUESTMEM_INFO. */
	uint32_t type;                  /* GUESTMEM_OBJ_* */
	uint32_t info_flags;            /* GUESTMEM_INFO_* */
	uint32_t region_bits;
	uint64_t invalid_mask, region_mask, view_offset;
	uint64_t full_mapping_va, full_mapping_len;
	size_t region_count;
	struct guestmem_region_info *regions;
	int info_pid;                   /* the process the region VAs were reported to */

	/*
	 * Our mmap() of the object fd, for objects reached that way: the
	 * window of GUESTMEM_INFO's out_mmap_size, where each region with
	 * GUESTMEM_REGION_MMAP is mapped at its slot (gm_map_va()) and the
	 * rest is PROT_NONE.
	 */
	void *map;
	size_t map_len;
	uint64_t map_offset;

	/*
	 * Direct access (direct.c).  The window is the whole object when it is
	 * one region this process can reach: guest address a is at
	 * direct_base + a for a < direct_len, while *direct_canary equals
	 * direct_epoch (this is still the process the addresses belong to,
	 * and direct access is on).  direct_end8 is where 8 bytes still fit
	 * (direct_len - 7).  Both are 0 until the handle is set up, and stay 0
	 * for objects of several regions, which use direct_region_va instead.
	 */
	_Atomic uint64_t direct_len;
	_Atomic uint64_t direct_end8;
	uint8_t *direct_base;
	const volatile uint64_t *direct_canary;
	uint64_t direct_epoch;
	uint64_t owner_epoch;           /* gm_direct_epoch() when the VAs were reported */
	_Atomic int direct_state;       /* GM_DIRECT_UNSET or GM_DIRECT_READY */
	uint8_t **direct_region_va;     /* per region: its address 0 here, or NULL */
	bool *direct_region_owned;      /* per region: that address is the owner's */
};

/* What went wrong, before it becomes the thread's struct gm_error. */
struct gm_fault {
	int errnum;
	enum gm_error_kind kind;
	enum gm_op op;
	bool has_range;
	uint64_t range_start, range_end;
	bool has_gpa;
	uint64_t gpa;
};

/* ioctl() retried on EINTR; 0 or -errno. */
int gm_ioctl(int fd, unsigned long cmd, void *arg);

/* Record @f with the seed's message; returns -f->errnum. */
int gm_fail(const struct gm_fault *f, const char *name, const char *cause_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record a failure the seed has no message for: "guest memory 'n': op error: cause". */
int gm_fail_usage(const struct gm_fault *f, const char *name, const char *cause_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record a construction failure whose whole message is @msg_fmt (MultiRegionError). */
int gm_fail_create(int errnum, const char *name, const char *msg_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Turn a failed data-path ioctl into the recorded error: the kernel's
 * report (@kf) says where and why; @op and the range come from the caller.
 */
int gm_fail_ioctl(const struct gm *gm, int ret, enum gm_op op, bool has_range,
		  uint64_t gpa, uint64_t len, const struct guestmem_fault *kf);

/* "dddd:bb:dd.f" into its parts; -EINVAL (not recorded) if it is not one. */
int gm_parse_bdf(const char *bdf, uint32_t *domain, uint32_t *bus, uint32_t *devfn);

/* The seed's region(gpa, len) (spec §2.1): 0, or -ERANGE. */
static inline int gm_resolve(const struct gm *gm, uint64_t gpa, uint64_t len, size_t *index,
			     uint64_t *off)
{
	uint64_t i;

	if ((gpa | len) & gm->invalid_mask)
		return -ERANGE;
	*off = gpa & gm->region_mask;
	if ((*off + len) & ~gm->region_mask)
		return -ERANGE;
	i = gm->region_bits < 64 ? gpa >> gm->region_bits : 0;
	if (i >= gm->region_count || *off + len > gm->regions[i].len)
		return -ERANGE;
	*index = (size_t)i;
	return 0;
}

/* Where byte @off of region @i lies in our mmap() of the object, or NULL. */
static inline uint8_t *gm_map_va(const struct gm *gm, size_t i, uint64_t off)
{
	uint64_t slot = gm->region_bits < 64 ? (uint64_t)i << gm->region_bits : 0;

	if (!gm->map || !(gm->regions[i].flags & GUESTMEM_REGION_MMAP))
		return NULL;
	return (uint8_t *)gm->map + gm->map_offset + slot + off;
}

#endif /* GUESTMEM_INTERNAL_H */
