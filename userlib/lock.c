// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Locking (lock_gpns, lock_range) and the handles they return.
 *
 * The kernel reserves GUESTMEM_LOCK_GPNS / GUESTMEM_LOCK_RANGE for the next
 * version (device attach and IOVAs, issue 4).  Until then every object
 * behaves like seed memory whose supports_locking() is false: the lock fails
 * without touching a page, kind Other, cause "memory not lockable", at the
 * first page's address (gpns[0] * 4096, wrapping, or 0 for an empty list).
 * The accessors below are complete so callers can be written today.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

struct gm_locked_pages {
	struct gm *gm;          /* holds a reference, as the seed's LockedPages does */
	size_t count;
	void **pages;
};

struct gm_locked_range {
	struct gm *gm;
	size_t count;
	struct gm_segment *segments;
};

static int gm_not_lockable(struct gm *gm, uint64_t first_gpn)
{
	struct gm_fault f = {
		.errnum = EOPNOTSUPP,
		.kind = GM_ERROR_OTHER,
		.op = GM_OP_LOCK,
		.has_gpa = true,
		.gpa = first_gpn * GM_PAGE_SIZE,
	};

	return gm_fail(&f, gm->name, "memory not lockable");
}

int gm_lock_gpns(struct gm *gm, bool with_kernel_access, const uint64_t *gpns, size_t count,
		 struct gm_locked_pages **out)
{
	(void)with_kernel_access;
	*out = NULL;
	return gm_not_lockable(gm, count ? gpns[0] : 0);
}

size_t gm_locked_pages_count(const struct gm_locked_pages *lp)
{
	return lp ? lp->count : 0;
}

void *gm_locked_pages_page(const struct gm_locked_pages *lp, size_t i)
{
	return lp && i < lp->count ? lp->pages[i] : NULL;
}

void gm_locked_pages_release(struct gm_locked_pages *lp)
{
	if (!lp)
		return;
	gm_release(lp->gm);
	free(lp->pages);
	free(lp);
}

int gm_lock_range(struct gm *gm, const struct gm_paged_range *r, struct gm_locked_range **out)
{
	const uint64_t *gpns;
	size_t n;

	*out = NULL;
	gpns = gm_paged_range_gpns(r, &n);
	return gm_not_lockable(gm, n ? gpns[0] : 0);
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
	gm_release(lr->gm);
	free(lr->segments);
	free(lr);
}
