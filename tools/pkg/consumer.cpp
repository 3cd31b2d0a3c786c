// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The C++ consumer: <guestmem.h> compiles as C++ (gm_atomic_u8 is
 * std::atomic<uint8_t>) and links by pkg-config; see consumer.c.
 */
#include <guestmem.h>
#include <linux/guestmem_netlink.h>

#include <cstdio>
#include <cstring>

int main()
{
	static const uint64_t gpns[] = { 1, 2 };
	int (*read_atomic)(struct gm *, uint64_t, gm_atomic_u8 *, size_t) = gm_read_to_atomic;
	int (*write_atomic)(struct gm *, uint64_t, const gm_atomic_u8 *, size_t) =
		gm_write_from_atomic;
	gm_atomic_u8 buf[4];
	struct gm_paged_range r;
	struct gm *gm = nullptr;

	buf[0].store(1);
	if (!read_atomic || !write_atomic || buf[0].load() != 1)
		return 1;
	if (gm_paged_range_init(&r, 4000, 200, gpns, 2) || gm_paged_range_offset(&r) != 4000)
		return 1;
	if (gm_empty(&gm) == 0) {
		std::printf("consumer (C++): created an empty object\n");
		gm_release(gm);
	} else {
		std::printf("consumer (C++): no module here: %s\n", gm_last_error()->message);
	}
	return 0;
}
