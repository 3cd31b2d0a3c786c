/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libguestmem internals: the handle, the ioctl wrapper and the error record.
 *
 * A struct gm is one reference-counted handle on one object fd.  Everything
 * the library needs to know about the object (name, region layout, how to
 * reach its full mapping) is read once with GUESTMEM_INFO when the handle
 * is made, so handles made by gm_from_fd() in another process know as much
 * as the creator's.
 */
#ifndef GUESTMEM_INTERNAL_H
#define GUESTMEM_INTERNAL_H

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

	/* Our mmap() of the object fd, for objects reached that way. */
	void *map;
	size_t map_len;
	uint64_t map_offset;
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

const char *gm_op_name(enum gm_op op);
void gm_format_error_message(char *buf, size_t len, const char *name, enum gm_op op,
			     bool has_range, uint64_t start, uint64_t end,
			     bool has_gpa, uint64_t gpa);
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

/* Make a handle for an object fd we own (closed on failure). */
int gm_adopt_fd(int fd, struct gm **out);

int gm_gpn_to_gpa(uint64_t gpn, uint64_t *gpa);

#endif /* GUESTMEM_INTERNAL_H */
