/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture the raw-ABI programs (guestmem_abi*.c) share: /dev/guestmem
 * and a user-backed object over MEM_PAGES pages.  The helpers are in
 * guestmem_raw.h.
 */
#ifndef GUESTMEM_SELFTEST_ABI_H
#define GUESTMEM_SELFTEST_ABI_H

#include "guestmem_raw.h"

#define MEM_PAGES 4

/*
 * Fixture: /dev/guestmem, and a user-backed object "abi" over 4 pages of
 * which page 1 is PROT_NONE and page 2 read-only.
 */
FIXTURE(abi) {
	int dev;
	int obj;
	uint8_t *mem;
};

FIXTURE_SETUP(abi)
{
	self->dev = open_dev();
	self->obj = -1;
	self->mem = MAP_FAILED;
	if (self->dev < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_LE(0, self->dev);
	gm_require_4k_pages();
	self->mem = mmap(NULL, MEM_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, 0x5a, MEM_PAGES * PAGE);
	ASSERT_EQ(0, mprotect(self->mem + PAGE, PAGE, PROT_NONE));
	ASSERT_EQ(0, mprotect(self->mem + 2 * PAGE, PAGE, PROT_READ));
	self->obj = raw_create_user(self->dev, self->mem, MEM_PAGES * PAGE, "abi");
	ASSERT_LE(0, self->obj);
}

FIXTURE_TEARDOWN(abi)
{
	if (self->obj >= 0)
		close(self->obj);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM_PAGES * PAGE);
	if (self->dev >= 0)
		close(self->dev);
}

#endif /* GUESTMEM_SELFTEST_ABI_H */
