// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Locking (lock_gpns, lock_range), IOVAs and device attach.
 *
 * A lock is the kernel's: GUESTMEM_LOCK_GPNS pins every listed page
 * long-term in the owner's address space (writable, or with
 * GUESTMEM_LOCK_READ_ONLY readable, as the seed's lock probes by reading),
 * or takes the object's own pages for allocated memory, and returns an id
 * that GUESTMEM_UNLOCK_GPNS gives back.  Closing the object fd releases whatever is still locked.
 * When a device is attached, the locked pages are DMA-mapped for it and
 * the kernel reports each page's IOVA with the lock.
 *
 * What the library adds is what the seed's LockedPages and LockedRange
 * hold: the page addresses in the caller's address space, computed from
 * the region layout GUESTMEM_INFO reported (the owner's mapping of
 * user-backed regions, the library's mmap() of allocated memory; NULL
 * where this process has no mapping) - for LockedPages on demand, from a
 * copy of the gpn list, so that a lock costs the library a memcpy rather
 * than an address lookup per page - and for lock_range the segments:
 * runs of pages whose gpns are consecutive, merged exactly as the seed's
 * PagedRange::ranges() merges them, and split further where the IOVAs of
 * neighbouring pages are not consecutive, so that every segment is one
 * virtual run and one IOVA run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct gm_locked_pages {
	struct gm *gm;          /* holds a reference, as the seed's LockedPages does */
	atomic_uint refs;       /* gm_locked_pages_clone() */
	uint32_t lock_id;
	bool owner_va;          /* gm_sees_owner_va() when the lock was made */
	size_t count;
	uint64_t *gpns;         /* the locked gpns, in order */
};

struct gm_locked_range {
	struct gm *gm;
	uint32_t lock_id;
	size_t count;
	struct gm_segment *segments;
};

/* ------------------------------------------------------------------------ */
/* The kernel calls. */

/*
 * Lock @count pages; on success *@lock_id names the lock and, when @iovas
 * is not NULL and a device is attached, @iovas[i] is the IOVA of page i and
 * *@has_iova is true.  Nothing stays locked on failure.  Returns 0 or the
 * ioctl's -errno with @kf filled in; the caller records the error.
 */
static int gm_kernel_lock(struct gm *gm, uint32_t flags, const uint64_t *gpns,
			  size_t count, uint32_t *lock_id, uint64_t *iovas, bool *has_iova,
			  struct guestmem_fault *kf)
{
	struct guestmem_lock_gpns a = {
		.size = sizeof(a),
		.flags = flags,
		.gpns_uptr = (uintptr_t)gpns,
		.gpn_count = count,
		.iovas_uptr = (uintptr_t)iovas,
	};
	int ret;

	ret = gm_ioctl(gm->fd, GUESTMEM_LOCK_GPNS, &a);
	*kf = a.out_fault;
	if (ret)
		return ret;
	*lock_id = a.out_lock_id;
	if (has_iova)
		*has_iova = iovas && (a.out_flags & GUESTMEM_LOCK_OUT_IOVAS);
	return 0;
}

static void gm_kernel_unlock(struct gm *gm, uint32_t lock_id)
{
	struct guestmem_unlock_gpns a = { .size = sizeof(a), .lock_id = lock_id };

	/* Unlocking a lock we hold cannot fail; closing the fd would undo it anyway. */
	gm_ioctl(gm->fd, GUESTMEM_UNLOCK_GPNS, &a);
}

/* ------------------------------------------------------------------------ */
/* Addresses. */

/*
 * Does this process see the owner's addresses that GUESTMEM_INFO reported?
 * Only the process that asked does (not a fork child).  Asked once per
 * call, not per page: getpid() is a system call.
 */
static bool gm_sees_owner_va(const struct gm *gm)
{
	return gm->info_pid == getpid();
}

/*
 * Where guest address @gpa lies in this process: the owner's mapping of a
 * user-backed region (when @owner_va, from gm_sees_owner_va()), or the
 * library's mapping of allocated memory.  NULL when this process has none.
 */
static void *gm_gpa_to_va(const struct gm *gm, uint64_t gpa, bool owner_va)
{
	const struct guestmem_region_info *ri;
	uint64_t off;
	size_t i;

	if (gm_resolve(gm, gpa, 1, &i, &off))
		return NULL;
	ri = &gm->regions[i];
	if ((ri->flags & GUESTMEM_REGION_HAS_VA) && owner_va)
		return (void *)(uintptr_t)(ri->va + off);
	return gm_map_va(gm, i, off);
}

static int gm_fail_not_lockable(struct gm *gm, uint64_t first_gpn)
{
	struct gm_fault f = {
		.errnum = EFAULT,
		.kind = GM_ERROR_OTHER,
		.op = GM_OP_LOCK,
		.has_gpa = true,
		.gpa = first_gpn * GM_PAGE_SIZE,        /* wrapping, as the seed does */
	};

	return gm_fail(&f, gm->name, "memory not lockable");
}

bool gm_supports_locking(const struct gm *gm)
{
	return gm->info_flags & GUESTMEM_INFO_SUPPORTS_LOCKING;
}

/* ------------------------------------------------------------------------ */
/* lock_gpns */

/* GUESTMEM_LOCK_* */
static uint32_t gm_lock_flags(bool with_kernel_access, bool read_only)
{
	return (with_kernel_access ? GUESTMEM_LOCK_KERNEL_ACCESS : 0) |
	       (read_only ? GUESTMEM_LOCK_READ_ONLY : 0);
}

static int gm_lock_gpns_flags(struct gm *gm, uint32_t flags, const uint64_t *gpns,
			      size_t count, struct gm_locked_pages **out)
{
	struct guestmem_fault kf;
	struct gm_locked_pages *lp;
	int ret;

	*out = NULL;
	/* The seed's supports_locking() gate comes before any page is looked at. */
	if (!(gm->info_flags & GUESTMEM_INFO_SUPPORTS_LOCKING))
		return gm_fail_not_lockable(gm, count ? gpns[0] : 0);

	lp = calloc(1, sizeof(*lp));
	if (!lp || !(lp->gpns = malloc((count ? count : 1) * sizeof(*lp->gpns)))) {
		struct gm_fault f = { .errnum = ENOMEM, .kind = GM_ERROR_OTHER, .op = GM_OP_LOCK };

		free(lp);
		return gm_fail_usage(&f, gm->name, "%s", strerror(ENOMEM));
	}
	/* The seed calls the backing's lock_gpns even for an empty list. */
	ret = gm_kernel_lock(gm, flags, gpns, count, &lp->lock_id, NULL, NULL, &kf);
	if (ret) {
		free(lp->gpns);
		free(lp);
		return gm_fail_ioctl(gm, ret, GM_OP_LOCK, false, 0, 0, &kf);
	}
	/* The kernel checked every gpn: each one is a valid, mapped page. */
	memcpy(lp->gpns, gpns, count * sizeof(*gpns));
	lp->owner_va = gm_sees_owner_va(gm);
	lp->count = count;
	lp->gm = gm_clone(gm);
	atomic_init(&lp->refs, 1);
	*out = lp;
	return 0;
}

int gm_lock_gpns(struct gm *gm, bool with_kernel_access, const uint64_t *gpns, size_t count,
		 struct gm_locked_pages **out)
{
	return gm_lock_gpns_flags(gm, gm_lock_flags(with_kernel_access, false), gpns, count, out);
}

int gm_lock_gpns_read_only(struct gm *gm, bool with_kernel_access, const uint64_t *gpns,
			   size_t count, struct gm_locked_pages **out)
{
	return gm_lock_gpns_flags(gm, gm_lock_flags(with_kernel_access, true), gpns, count, out);
}

/* The seed's LockedPages is Clone: the copies share the one lock. */
struct gm_locked_pages *gm_locked_pages_clone(struct gm_locked_pages *lp)
{
	if (lp)
		atomic_fetch_add_explicit(&lp->refs, 1, memory_order_relaxed);
	return lp;
}

size_t gm_locked_pages_count(const struct gm_locked_pages *lp)
{
	return lp ? lp->count : 0;
}

void *gm_locked_pages_page(const struct gm_locked_pages *lp, size_t i)
{
	if (!lp || i >= lp->count)
		return NULL;
	return gm_gpa_to_va(lp->gm, lp->gpns[i] * GM_PAGE_SIZE, lp->owner_va);
}

void gm_locked_pages_release(struct gm_locked_pages *lp)
{
	if (!lp || atomic_fetch_sub_explicit(&lp->refs, 1, memory_order_acq_rel) != 1)
		return;
	gm_kernel_unlock(lp->gm, lp->lock_id);
	gm_release(lp->gm);
	free(lp->gpns);
	free(lp);
}

/* ------------------------------------------------------------------------ */
/* lock_range */

/*
 * Cut the locked pages of @r into segments.  A page joins the segment
 * before it when its gpn follows the previous one (the seed's
 * pop_front_range) and, with IOVAs, its IOVA follows too.  Each GPN run must
 * lie in one region, short of the region's end: the seed panics there, we
 * report OutOfRange at the run's first byte.
 */
static int gm_range_segments(struct gm *gm, const struct gm_paged_range *r,
			     const uint64_t *iovas, bool has_iova, struct gm_locked_range *lr)
{
	uint64_t first = r->start / GM_PAGE_SIZE, pos = r->start, run_gpa = 0, run_len = 0;
	bool owner_va = gm_sees_owner_va(gm);
	size_t n, i, idx;
	uint64_t off;

	gm_paged_range_gpns(r, &n);
	lr->segments = calloc(n ? n : 1, sizeof(*lr->segments));
	if (!lr->segments)
		return -ENOMEM;
	for (i = 0; pos < r->end; i++) {
		uint64_t page_end = (first + i + 1) * GM_PAGE_SIZE;
		uint64_t len = (page_end < r->end ? page_end : r->end) - pos;
		uint64_t gpa = r->gpns[first + i] * GM_PAGE_SIZE + pos % GM_PAGE_SIZE;
		bool gpn_next = i && r->gpns[first + i - 1] + 1 == r->gpns[first + i];
		struct gm_segment *seg;

		/* A GPN run ends: check it against the region rules. */
		if (i && !gpn_next) {
			if (gm_resolve(gm, run_gpa, run_len, &idx, &off))
				goto out_of_range;
			run_len = 0;
		}
		if (!run_len)
			run_gpa = gpa;
		run_len += len;

		if (gpn_next && (!has_iova || iovas[i] == iovas[i - 1] + GM_PAGE_SIZE)) {
			lr->segments[lr->count - 1].len += len;
		} else {
			seg = &lr->segments[lr->count++];
			seg->va = gm_gpa_to_va(gm, gpa, owner_va);
			seg->len = len;
			seg->has_iova = has_iova;
			seg->iova = has_iova ? iovas[i] + pos % GM_PAGE_SIZE : 0;
		}
		pos += len;
	}
	if (run_len && gm_resolve(gm, run_gpa, run_len, &idx, &off))
		goto out_of_range;
	return 0;

out_of_range:
	{
		struct gm_fault f = {
			.errnum = ERANGE, .kind = GM_ERROR_OUT_OF_RANGE, .op = GM_OP_LOCK,
			.has_gpa = true, .gpa = run_gpa,
		};

		return gm_fail(&f, gm->name, "no memory at address");
	}
}

static int gm_lock_range_flags(struct gm *gm, uint32_t flags, const struct gm_paged_range *r,
			       struct gm_locked_range **out)
{
	struct gm_fault f = { .errnum = ENOMEM, .kind = GM_ERROR_OTHER, .op = GM_OP_LOCK };
	struct guestmem_fault kf;
	struct gm_locked_range *lr;
	uint64_t *iovas = NULL;
	bool has_iova = false;
	const uint64_t *gpns;
	size_t n;
	int ret;

	*out = NULL;
	gpns = gm_paged_range_gpns(r, &n);
	if (!(gm->info_flags & GUESTMEM_INFO_SUPPORTS_LOCKING))
		return gm_fail_not_lockable(gm, n ? gpns[0] : 0);

	lr = calloc(1, sizeof(*lr));
	iovas = calloc(n ? n : 1, sizeof(*iovas));
	if (!lr || !iovas) {
		ret = gm_fail_usage(&f, gm->name, "%s", strerror(ENOMEM));
		goto out_free;
	}
	/*
	 * The seed probes every page of a range with kernel access.  IOVAs come
	 * with the lock when a device is attached; physical ones only for
	 * CAP_SYS_RAWIO, so an -EPERM for them means: lock without.
	 */
	ret = gm_kernel_lock(gm, flags, gpns, n, &lr->lock_id, iovas, &has_iova, &kf);
	if (ret == -EPERM && !(kf.flags & GUESTMEM_FAULT_VALID))
		ret = gm_kernel_lock(gm, flags, gpns, n, &lr->lock_id, NULL, &has_iova, &kf);
	if (ret) {
		ret = gm_fail_ioctl(gm, ret, GM_OP_LOCK, false, 0, 0, &kf);
		goto out_free;
	}
	ret = gm_range_segments(gm, r, iovas, has_iova, lr);
	if (ret) {
		if (ret == -ENOMEM)
			ret = gm_fail_usage(&f, gm->name, "%s", strerror(ENOMEM));
		gm_kernel_unlock(gm, lr->lock_id);
		goto out_free;
	}
	free(iovas);
	lr->gm = gm_clone(gm);
	*out = lr;
	return 0;

out_free:
	if (lr)
		free(lr->segments);
	free(lr);
	free(iovas);
	return ret;
}

int gm_lock_range(struct gm *gm, const struct gm_paged_range *r, struct gm_locked_range **out)
{
	return gm_lock_range_flags(gm, gm_lock_flags(true, false), r, out);
}

int gm_lock_range_read_only(struct gm *gm, const struct gm_paged_range *r,
			    struct gm_locked_range **out)
{
	return gm_lock_range_flags(gm, gm_lock_flags(true, true), r, out);
}

size_t gm_locked_range_count(const struct gm_locked_range *lr)
{
	return lr ? lr->count : 0;
}

int gm_locked_range_segment(const struct gm_locked_range *lr, size_t i, struct gm_segment *seg)
{
	if (!lr || i >= lr->count)
		return -EINVAL;
	*seg = lr->segments[i];
	return 0;
}

void gm_locked_range_release(struct gm_locked_range *lr)
{
	if (!lr)
		return;
	gm_kernel_unlock(lr->gm, lr->lock_id);
	gm_release(lr->gm);
	free(lr->segments);
	free(lr);
}
