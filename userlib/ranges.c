// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PagedRange, PagedRanges and the *_range accesses (ranges.rs, spec §3.5, §5).
 *
 * A PagedRange is a byte window [start, end) into the flat space made by
 * laying its gpns end to end, page k covering [k*4096, (k+1)*4096).  Only the
 * first and last pages may be partial.  The helpers are arithmetic on the
 * caller's arrays; the *_range accesses walk the range chunk by chunk as
 * the seed's op_range does - directly where every chunk can be touched
 * directly (direct.h), else, or after a fault, all of it again in one ioctl.
 */
#include <errno.h>
#include <inttypes.h>

#include "direct.h"

static uint64_t div_ceil_page(uint64_t x)
{
	return x / GM_PAGE_SIZE + (x % GM_PAGE_SIZE != 0);
}

int gm_paged_range_init(struct gm_paged_range *r, uint64_t offset, uint64_t len,
			const uint64_t *gpns, size_t count)
{
	uint64_t maxlen;

	if (count > UINT64_MAX / GM_PAGE_SIZE)
		return -EINVAL;
	maxlen = (uint64_t)count * GM_PAGE_SIZE;
	if (maxlen < offset || maxlen - offset < len)
		return -EINVAL;
	r->start = offset;
	r->end = offset + len;
	r->gpns = gpns;
	r->count = count;
	return 0;
}

uint64_t gm_paged_range_len(const struct gm_paged_range *r)
{
	return r->end - r->start;
}

bool gm_paged_range_is_empty(const struct gm_paged_range *r)
{
	return r->end == r->start;
}

uint64_t gm_paged_range_offset(const struct gm_paged_range *r)
{
	return r->start % GM_PAGE_SIZE;
}

const uint64_t *gm_paged_range_gpns(const struct gm_paged_range *r, size_t *count)
{
	uint64_t first = r->start / GM_PAGE_SIZE;

	/* Quirk kept from the seed: an empty, unaligned range still has 1 gpn. */
	*count = div_ceil_page(r->end) - first;
	return r->gpns ? r->gpns + first : r->gpns;
}

int gm_paged_range_subrange(const struct gm_paged_range *r, uint64_t offset, uint64_t len,
			    struct gm_paged_range *out)
{
	uint64_t have = gm_paged_range_len(r);

	if (offset > have || len > have - offset)
		return -EINVAL;
	*out = *r;
	out->start = r->start + offset;
	out->end = out->start + len;
	return 0;
}

int gm_paged_range_skip(struct gm_paged_range *r, uint64_t len)
{
	if (len > gm_paged_range_len(r))
		return -EINVAL;
	r->start += len;
	return 0;
}

int gm_paged_range_truncate(struct gm_paged_range *r, uint64_t len)
{
	if (len > gm_paged_range_len(r))
		return -EINVAL;
	r->end = r->start + len;
	return 0;
}

int gm_paged_range_split(const struct gm_paged_range *r, uint64_t at,
			 struct gm_paged_range *head, struct gm_paged_range *tail)
{
	struct gm_paged_range h = *r, t = *r;

	if (at > gm_paged_range_len(r))
		return -EINVAL;
	h.end = r->start + at;
	t.start = r->start + at;
	*head = h;
	*tail = t;
	return 0;
}

static int gm_gpn_to_gpa(uint64_t gpn, uint64_t *gpa)
{
	if (gpn > UINT64_MAX / GM_PAGE_SIZE)
		return -ERANGE;
	*gpa = gpn * GM_PAGE_SIZE;
	return 0;
}

int gm_paged_range_pop_front(struct gm_paged_range *r, struct gm_address_range *out)
{
	uint64_t start_page, end_page, page, end, gpa;

	if (r->start == r->end)
		return 0;
	start_page = r->start / GM_PAGE_SIZE;
	end_page = div_ceil_page(r->end);
	page = start_page + 1;
	/* Merge neighbours whose gpns are consecutive (the seed's +1 is unchecked). */
	while (page < end_page && r->gpns[page - 1] + 1 == r->gpns[page])
		page++;
	end = page * GM_PAGE_SIZE < r->end ? page * GM_PAGE_SIZE : r->end;
	if (gm_gpn_to_gpa(r->gpns[start_page], &gpa))
		return -ERANGE;
	out->start = gpa + r->start % GM_PAGE_SIZE;
	out->end = out->start + (end - r->start);
	r->start = end;
	return 1;
}

void gm_paged_ranges_init(struct gm_paged_ranges *pr, const struct gm_paged_range *ranges,
			  size_t count)
{
	size_t i;

	pr->ranges = ranges;
	pr->count = count;
	pr->current = 0;
	pr->start = 0;
	pr->end = 0;
	for (i = 0; i < count; i++)
		pr->end += gm_paged_range_len(&ranges[i]);
}

uint64_t gm_paged_ranges_len(const struct gm_paged_ranges *pr)
{
	return pr->end - pr->start;
}

bool gm_paged_ranges_is_empty(const struct gm_paged_ranges *pr)
{
	return gm_paged_ranges_len(pr) == 0;
}

int gm_paged_ranges_skip(struct gm_paged_ranges *pr, uint64_t len)
{
	if (len > gm_paged_ranges_len(pr))
		return -EINVAL;
	while (len > 0) {
		uint64_t cur = gm_paged_range_len(&pr->ranges[pr->current]);
		uint64_t n = cur - pr->start < len ? cur - pr->start : len;

		pr->start += n;
		len -= n;
		if (pr->start == cur) {
			/* Move on: @end stays measured from the new current range. */
			pr->end -= pr->start;
			pr->start = 0;
			pr->current++;
		}
	}
	return 0;
}

int gm_paged_ranges_truncate(struct gm_paged_ranges *pr, uint64_t len)
{
	if (len > gm_paged_ranges_len(pr))
		return -EINVAL;
	pr->end = pr->start + len;
	return 0;
}

int gm_paged_ranges_next(struct gm_paged_ranges *pr, struct gm_paged_range *out)
{
	const struct gm_paged_range *cur;
	uint64_t cur_len, len;

	if (pr->start == pr->end || pr->current >= pr->count)
		return 0;
	cur = &pr->ranges[pr->current];
	cur_len = gm_paged_range_len(cur);
	len = (pr->end < cur_len ? pr->end : cur_len) - pr->start;
	gm_paged_range_subrange(cur, pr->start, len, out);
	pr->end -= pr->start + len;
	pr->start = 0;
	pr->current++;
	return 1;
}

enum gm_range_op { GM_RANGE_READ, GM_RANGE_WRITE, GM_RANGE_FILL };

/*
 * The seed's op_range over memory this process maps: a head chunk to the
 * end of the first page, whole pages, a tail; one access per gpn, in order.
 * 0 when all of it is done; -1 when a chunk cannot be done directly (a gpn
 * that is invalid, out of range or not mapped here, or a fault): then the
 * kernel does the whole range again and reports what it finds, the chunks
 * before that one done twice, with the same bytes.  The gpn list is read
 * fault-tolerantly, as the kernel reads it.
 */
static int gm_range_direct(struct gm *gm, const struct gm_paged_range *r, enum gm_range_op op,
			   uint8_t *buf, uint8_t val)
{
	uint64_t len = r->end - r->start, index, pgoff, done = 0, gpn;
	uint8_t *va;
	int rc;

	if (!GM_DIRECT_ARCH || !len || r->start > r->end || r->count > UINT32_MAX ||
	    r->end > (uint64_t)r->count * GM_PAGE_SIZE)
		return -1;
	index = r->start / GM_PAGE_SIZE;
	pgoff = r->start % GM_PAGE_SIZE;
	while (done < len) {
		uint64_t n = len - done < GM_PAGE_SIZE - pgoff ? len - done : GM_PAGE_SIZE - pgoff;

		if (!gm_ft_load8(&gpn, &r->gpns[index]) || gpn > UINT64_MAX / GM_PAGE_SIZE)
			return -1;
		va = gm_direct_va(gm, gpn * GM_PAGE_SIZE + pgoff, n);
		if (!va)
			return -1;
		if (op == GM_RANGE_READ)
			rc = gm_ft_copy(buf + done, va, n);
		else if (op == GM_RANGE_WRITE)
			rc = gm_ft_copy(va, buf + done, n);
		else
			rc = gm_ft_set(va, val, n);
		if (rc)
			return -1;
		done += n;
		index++;
		pgoff = 0;
	}
	return 0;
}

/*
 * The kernel's walk: one GUESTMEM_RANGE_* ioctl, which splits the range as
 * the seed's op_range does (head chunk, whole pages, tail; neighbouring gpns
 * not merged; stop at the first failing chunk).  Range-style errors carry no
 * range, only the failing GPA.
 */
static int gm_range_ioctl(struct gm *gm, const struct gm_paged_range *r, unsigned long cmd,
			  enum gm_op op, void *buf, uint8_t val)
{
	struct guestmem_range a = {
		.size = sizeof(a),
		.gpns_uptr = (uintptr_t)r->gpns,
		.gpn_count = r->count,
		.offset = r->start,
		.len = r->end - r->start,
		.buf_uptr = (uintptr_t)buf,
		.val = val,
	};
	int ret;

	ret = gm_ioctl(gm->fd, cmd, &a);
	if (ret)
		return gm_fail_ioctl(gm, ret, op, false, 0, 0, &a.out_fault);
	return 0;
}

/* The seed panics on a length mismatch; we refuse it. */
static int gm_range_check_len(struct gm *gm, enum gm_op op, const struct gm_paged_range *r,
			      size_t len)
{
	struct gm_fault f = { .errnum = EINVAL, .kind = GM_ERROR_OTHER, .op = op };

	if (len == gm_paged_range_len(r))
		return 0;
	return gm_fail_usage(&f, gm->name,
			     "buffer length 0x%zx does not match range length 0x%" PRIx64,
			     len, gm_paged_range_len(r));
}

int gm_write_range(struct gm *gm, const struct gm_paged_range *r, const void *src, size_t len)
{
	int ret = gm_range_check_len(gm, GM_OP_WRITE, r, len);

	if (ret || !gm_range_direct(gm, r, GM_RANGE_WRITE, (uint8_t *)src, 0))
		return ret;
	return gm_range_ioctl(gm, r, GUESTMEM_RANGE_WRITE, GM_OP_WRITE, (void *)src, 0);
}

int gm_read_range(struct gm *gm, const struct gm_paged_range *r, void *dest, size_t len)
{
	int ret = gm_range_check_len(gm, GM_OP_READ, r, len);

	if (ret || !gm_range_direct(gm, r, GM_RANGE_READ, dest, 0))
		return ret;
	return gm_range_ioctl(gm, r, GUESTMEM_RANGE_READ, GM_OP_READ, dest, 0);
}

int gm_write_range_from_atomic(struct gm *gm, const struct gm_paged_range *r,
			       const _Atomic uint8_t *src, size_t len)
{
	/* Either copy reads each byte whole: safe against racing writers. */
	return gm_write_range(gm, r, (const void *)src, len);
}

int gm_read_range_to_atomic(struct gm *gm, const struct gm_paged_range *r,
			    _Atomic uint8_t *dest, size_t len)
{
	return gm_read_range(gm, r, (void *)dest, len);
}

int gm_fill_range(struct gm *gm, const struct gm_paged_range *r, uint8_t val)
{
	if (!gm_range_direct(gm, r, GM_RANGE_FILL, NULL, val))
		return 0;
	return gm_range_ioctl(gm, r, GUESTMEM_RANGE_FILL, GM_OP_FILL, NULL, val);
}

int gm_zero_range(struct gm *gm, const struct gm_paged_range *r)
{
	return gm_fill_range(gm, r, 0);
}
