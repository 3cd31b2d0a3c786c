// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The data path: byte copies, fills, plain (typed) accesses,
 * compare-exchange and probes.
 *
 * Each access first tries the memory directly (direct.h: when this process
 * maps it and may take faults on it); when it cannot, or when the direct
 * attempt faults, it is one ioctl on the object fd, made from the start.
 * The kernel resolves the address, touches the owner's memory and reports
 * where and why it failed; the library adds what only it knows (which seed
 * operation this was, the requested range) to build the seed's message.
 * Probes always ask the kernel: they are about what the kernel can reach.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "direct.h"

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

/*
 * The shape of the calls below: an inline fast part for the hottest case,
 * an 8-byte access inside the handle's one window, done with one
 * fault-tolerant instruction and no stack frame; with direct access off,
 * straight to the ioctl; and a slow part, tail-called, for everything
 * else: other sizes directly, or the ioctl.  @direct false: the fast part
 * faulted, go to the kernel at once.
 */

/* Byte accesses of length 0 succeed before any address check (seed §3.3). */
static __attribute__((noinline)) int gm_write_at_slow(struct gm *gm, uint64_t gpa,
						      const void *src, size_t len, bool direct)
{
	uint8_t *va;

	if (!len)
		return 0;
	va = direct ? gm_direct_va(gm, gpa, len) : NULL;
	if (va && !gm_ft_copy(va, src, len))
		return 0;
	return gm_rw(gm, GUESTMEM_WRITE, GM_OP_WRITE, gpa, src, len);
}

int gm_write_at(struct gm *gm, uint64_t gpa, const void *src, size_t len)
{
	uint8_t *va;

	if (len == 8 && gm_direct_window8(gm, gpa, &va))
		return gm_ft_store8(va, src) ? 0 : gm_write_at_slow(gm, gpa, src, len, false);
	if (gm_direct_off())
		return len ? gm_rw(gm, GUESTMEM_WRITE, GM_OP_WRITE, gpa, src, len) : 0;
	return gm_write_at_slow(gm, gpa, src, len, true);
}

static __attribute__((noinline)) int gm_read_at_slow(struct gm *gm, uint64_t gpa, void *dest,
						     size_t len, bool direct)
{
	uint8_t *va;

	if (!len)
		return 0;
	va = direct ? gm_direct_va(gm, gpa, len) : NULL;
	if (va && !gm_ft_copy(dest, va, len))
		return 0;
	return gm_rw(gm, GUESTMEM_READ, GM_OP_READ, gpa, dest, len);
}

int gm_read_at(struct gm *gm, uint64_t gpa, void *dest, size_t len)
{
	uint8_t *va;

	if (len == 8 && gm_direct_window8(gm, gpa, &va))
		return gm_ft_load8(dest, va) ? 0 : gm_read_at_slow(gm, gpa, dest, len, false);
	if (gm_direct_off())
		return len ? gm_rw(gm, GUESTMEM_READ, GM_OP_READ, gpa, dest, len) : 0;
	return gm_read_at_slow(gm, gpa, dest, len, true);
}

/*
 * The atomic-buffer variants: both the direct copy and the kernel's user
 * copies read and write each byte of the caller's buffer whole (with
 * loads and stores of 1 to 16 bytes), even while other threads touch it,
 * which is all the seed's &[AtomicU8] promises.
 */
int gm_write_from_atomic(struct gm *gm, uint64_t gpa, const _Atomic uint8_t *src, size_t len)
{
	return gm_write_at(gm, gpa, (const void *)src, len);
}

int gm_read_to_atomic(struct gm *gm, uint64_t gpa, _Atomic uint8_t *dest, size_t len)
{
	return gm_read_at(gm, gpa, (void *)dest, len);
}

static int gm_fill_kernel(struct gm *gm, uint64_t gpa, uint8_t val, size_t len)
{
	struct guestmem_fill a = {
		.size = sizeof(a),
		.gpa = gpa,
		.len = len,
		.val = val,
	};
	int ret;

	ret = gm_ioctl(gm->fd, GUESTMEM_FILL, &a);
	if (ret)
		return gm_fail_ioctl(gm, ret, GM_OP_FILL, true, gpa, len, &a.out_fault);
	return 0;
}

int gm_fill_at(struct gm *gm, uint64_t gpa, uint8_t val, size_t len)
{
	uint8_t *va;

	if (!len)
		return 0;
	va = gm_direct_va(gm, gpa, len);
	if (va && !gm_ft_set(va, val, len))
		return 0;
	return gm_fill_kernel(gm, gpa, val, len);
}

/*
 * Direct plain accesses: 1, 2, 4 or 8 bytes are one load or store, which
 * cannot tear when it is naturally aligned (and is no worse than the
 * kernel's byte copy when it is not); other sizes are a copy, as in the
 * seed.  0, or -1 after a fault.
 */
static inline int gm_direct_load(void *obj, const uint8_t *va, size_t size)
{
	switch (size) {
	case 8:
		return gm_ft_load8(obj, va) ? 0 : -1;
	case 4:
		return gm_ft_load4(obj, va) ? 0 : -1;
	case 2:
		return gm_ft_load2(obj, va) ? 0 : -1;
	case 1:
		return gm_ft_load1(obj, va) ? 0 : -1;
	default:
		return gm_ft_copy(obj, va, size);
	}
}

static inline int gm_direct_store(uint8_t *va, const void *obj, size_t size)
{
	switch (size) {
	case 8:
		return gm_ft_store8(va, obj) ? 0 : -1;
	case 4:
		return gm_ft_store4(va, obj) ? 0 : -1;
	case 2:
		return gm_ft_store2(va, obj) ? 0 : -1;
	case 1:
		return gm_ft_store1(va, obj) ? 0 : -1;
	default:
		return gm_ft_copy(va, obj, size);
	}
}

/*
 * Plain accesses do not short-circuit on size 0: like the seed's
 * read_plain::<()>, they still resolve the address (in the kernel).
 */
static __attribute__((noinline)) int gm_write_plain_slow(struct gm *gm, uint64_t gpa,
							 const void *obj, size_t size, bool direct)
{
	uint8_t *va = direct && size ? gm_direct_va(gm, gpa, size) : NULL;

	if (va && !gm_direct_store(va, obj, size))
		return 0;
	return gm_rw(gm, GUESTMEM_WRITE_PLAIN, GM_OP_WRITE, gpa, obj, size);
}

int gm_write_plain(struct gm *gm, uint64_t gpa, const void *obj, size_t size)
{
	uint8_t *va;

	if (size == 8 && gm_direct_window8(gm, gpa, &va))
		return gm_ft_store8(va, obj) ? 0 : gm_write_plain_slow(gm, gpa, obj, size, false);
	if (gm_direct_off())
		return gm_rw(gm, GUESTMEM_WRITE_PLAIN, GM_OP_WRITE, gpa, obj, size);
	return gm_write_plain_slow(gm, gpa, obj, size, true);
}

static __attribute__((noinline)) int gm_read_plain_slow(struct gm *gm, uint64_t gpa, void *obj,
							size_t size, bool direct)
{
	uint8_t *va = direct && size ? gm_direct_va(gm, gpa, size) : NULL;

	if (va && !gm_direct_load(obj, va, size))
		return 0;
	return gm_rw(gm, GUESTMEM_READ_PLAIN, GM_OP_READ, gpa, obj, size);
}

int gm_read_plain(struct gm *gm, uint64_t gpa, void *obj, size_t size)
{
	uint8_t *va;

	if (size == 8 && gm_direct_window8(gm, gpa, &va))
		return gm_ft_load8(obj, va) ? 0 : gm_read_plain_slow(gm, gpa, obj, size, false);
	if (gm_direct_off())
		return gm_rw(gm, GUESTMEM_READ_PLAIN, GM_OP_READ, gpa, obj, size);
	return gm_read_plain_slow(gm, gpa, obj, size, true);
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

/*
 * One fault-tolerant lock cmpxchg (aarch64: an exclusive pair that always
 * stores); -1 after a fault, which stored nothing.  An unaligned host
 * address is left to the kernel, whose answer is -EINVAL.
 */
static inline int gm_direct_cmpxchg(uint8_t *va, void *current, const void *new_val,
				    size_t size)
{
	if ((uintptr_t)va & (size - 1))
		return -1;
	switch (size) {
	case 8:
		return gm_ft_cmpxchg8(va, current, new_val);
	case 4:
		return gm_ft_cmpxchg4(va, current, new_val);
	case 2:
		return gm_ft_cmpxchg2(va, current, new_val);
	default:
		return gm_ft_cmpxchg1(va, current, new_val);
	}
}

static __attribute__((noinline)) int gm_compare_exchange_slow(struct gm *gm, uint64_t gpa,
							       void *current, const void *new_val,
							       size_t size, bool direct)
{
	struct guestmem_cmpxchg a = { .size = sizeof(a), .gpa = gpa };
	uint8_t *va;
	int ret;

	ret = gm_check_cmpxchg(gm, gpa, size);
	if (ret)
		return ret;
	va = direct ? gm_direct_va(gm, gpa, size) : NULL;
	if (va) {
		ret = gm_direct_cmpxchg(va, current, new_val, size);
		if (ret >= 0)
			return ret;
	}
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

int gm_compare_exchange(struct gm *gm, uint64_t gpa, void *current, const void *new_val,
			size_t size)
{
	uint8_t *va;
	int ret;

	if (size == 8 && !(gpa & 7) && gm_direct_window8(gm, gpa, &va) && !((uintptr_t)va & 7)) {
		ret = gm_ft_cmpxchg8(va, current, new_val);
		return ret >= 0 ? ret :
		       gm_compare_exchange_slow(gm, gpa, current, new_val, size, false);
	}
	return gm_compare_exchange_slow(gm, gpa, current, new_val, size, !gm_direct_off());
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
