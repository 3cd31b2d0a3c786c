// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The data path: byte copies, fills, plain (typed) accesses,
 * compare-exchange and probes, one ioctl each on the object fd.
 *
 * The kernel resolves the address, touches the owner's memory and reports
 * where and why it failed; the library adds what only it knows (which seed
 * operation this was, the requested range) to build the seed's message.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"

static int gm_rw(struct gm *gm, unsigned long cmd, enum gm_op op, uint64_t gpa,
		 const void *buf, size_t len)
{
	struct guestmem_rw a = {
		.size = sizeof(a),
		.gpa = gpa,
		.len = len,
		.buf_uptr = (uintptr_t)buf,
	};
	int ret;

	ret = gm_ioctl(gm->fd, cmd, &a);
	if (ret)
		return gm_fail_ioctl(gm, ret, op, true, gpa, len, &a.out_fault);
	return 0;
}

/* Byte accesses of length 0 succeed before any address check (seed §3.3). */
int gm_write_at(struct gm *gm, uint64_t gpa, const void *src, size_t len)
{
	if (!len)
		return 0;
	return gm_rw(gm, GUESTMEM_WRITE, GM_OP_WRITE, gpa, src, len);
}

int gm_read_at(struct gm *gm, uint64_t gpa, void *dest, size_t len)
{
	if (!len)
		return 0;
	return gm_rw(gm, GUESTMEM_READ, GM_OP_READ, gpa, dest, len);
}

/*
 * The atomic-buffer variants: the kernel's user copies move the caller's
 * buffer byte-safely even while other threads touch it, which is all the
 * seed's &[AtomicU8] promises.
 */
int gm_write_from_atomic(struct gm *gm, uint64_t gpa, const _Atomic uint8_t *src, size_t len)
{
	return gm_write_at(gm, gpa, (const void *)src, len);
}

int gm_read_to_atomic(struct gm *gm, uint64_t gpa, _Atomic uint8_t *dest, size_t len)
{
	return gm_read_at(gm, gpa, (void *)dest, len);
}

int gm_fill_at(struct gm *gm, uint64_t gpa, uint8_t val, size_t len)
{
	struct guestmem_fill a = {
		.size = sizeof(a),
		.gpa = gpa,
		.len = len,
		.val = val,
	};
	int ret;

	if (!len)
		return 0;
	ret = gm_ioctl(gm->fd, GUESTMEM_FILL, &a);
	if (ret)
		return gm_fail_ioctl(gm, ret, GM_OP_FILL, true, gpa, len, &a.out_fault);
	return 0;
}

/*
 * Plain accesses do not short-circuit on size 0: like the seed's
 * read_plain::<()>, they still resolve the address.
 */
int gm_write_plain(struct gm *gm, uint64_t gpa, const void *obj, size_t size)
{
	return gm_rw(gm, GUESTMEM_WRITE_PLAIN, GM_OP_WRITE, gpa, obj, size);
}

int gm_read_plain(struct gm *gm, uint64_t gpa, void *obj, size_t size)
{
	return gm_rw(gm, GUESTMEM_READ_PLAIN, GM_OP_READ, gpa, obj, size);
}

/*
 * The seed checks size and alignment at compile time (T is 1/2/4/8 bytes,
 * align >= size); a C caller can get them wrong at run time, so say how.
 */
static int gm_check_cmpxchg(struct gm *gm, uint64_t gpa, size_t size)
{
	struct gm_fault f = { .errnum = EINVAL, .kind = GM_ERROR_OTHER,
			      .op = GM_OP_COMPARE_EXCHANGE };

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return gm_fail_usage(&f, gm->name, "size %zu is not 1, 2, 4 or 8 bytes", size);
	if (gpa & (size - 1))
		return gm_fail_usage(&f, gm->name,
				     "0x%" PRIx64 " is not aligned to the %zu-byte size",
				     gpa, size);
	return 0;
}

int gm_compare_exchange(struct gm *gm, uint64_t gpa, void *current, const void *new_val,
			size_t size)
{
	struct guestmem_cmpxchg a = { .size = sizeof(a), .gpa = gpa };
	int ret;

	ret = gm_check_cmpxchg(gm, gpa, size);
	if (ret)
		return ret;
	a.len = (uint32_t)size;
	memcpy(&a.current_val, current, size);
	memcpy(&a.new_val, new_val, size);
	ret = gm_ioctl(gm->fd, GUESTMEM_COMPARE_EXCHANGE, &a);
	if (ret == -EINVAL && !(a.out_fault.flags & GUESTMEM_FAULT_VALID)) {
		/* The gpa passed the checks above: the backing's address did not. */
		struct gm_fault f = { .errnum = EINVAL, .kind = GM_ERROR_OTHER,
				      .op = GM_OP_COMPARE_EXCHANGE };

		return gm_fail_usage(&f, gm->name,
				     "the memory backing 0x%" PRIx64
				     " is not aligned to the %zu-byte size", gpa, size);
	}
	if (ret)
		return gm_fail_ioctl(gm, ret, GM_OP_COMPARE_EXCHANGE, true, gpa, size,
				     &a.out_fault);
	if (a.out_exchanged)
		return 1;
	memcpy(current, &a.out_current, size);
	return 0;
}

/*
 * The seed's compare_exchange_bytes took any T, but its only implementation
 * handles 1, 2, 4 and 8 bytes (and panics otherwise), so it is the same
 * operation as compare_exchange here.
 */
int gm_compare_exchange_bytes(struct gm *gm, uint64_t gpa, void *current, const void *new_val,
			      size_t size)
{
	return gm_compare_exchange(gm, gpa, current, new_val, size);
}

int gm_probe_gpns(struct gm *gm, const uint64_t *gpns, size_t count)
{
	struct guestmem_probe_gpns a = {
		.size = sizeof(a),
		.gpns_uptr = (uintptr_t)gpns,
		.gpn_count = count,
	};
	int ret;

	if (!count)
		return 0;
	ret = gm_ioctl(gm->fd, GUESTMEM_PROBE_GPNS, &a);
	if (ret)
		return gm_fail_ioctl(gm, ret, GM_OP_PROBE, false, 0, 0, &a.out_fault);
	return 0;
}

/* A one-byte read that answers yes or no and leaves the error record alone. */
bool gm_check_gpa_readable(struct gm *gm, uint64_t gpa)
{
	uint8_t byte;
	struct guestmem_rw a = {
		.size = sizeof(a),
		.gpa = gpa,
		.len = 1,
		.buf_uptr = (uintptr_t)&byte,
	};

	return gm_ioctl(gm->fd, GUESTMEM_READ, &a) == 0;
}
