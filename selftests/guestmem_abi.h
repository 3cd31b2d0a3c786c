/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture the raw-ABI programs (guestmem_abi*.c) share: /dev/guestmem
 * and a user-backed object over MEM_PAGES kernel pages.  The helpers are in
 * guestmem_raw.h.
 */
#ifndef GUESTMEM_SELFTEST_ABI_H
#define GUESTMEM_SELFTEST_ABI_H

#include "guestmem_raw.h"

/*
 * The layout's unit is the kernel page (HPAGE): mprotect() cannot make a
 * 4 KiB PROT_NONE or read-only page with larger ones.  Page i of the
 * fixture is guest addresses [i * HPAGE, (i + 1) * HPAGE), its first gpn
 * KGPN(i); with 4 KiB kernel pages both are the 4 KiB page i.
 */
#define MEM_PAGES 4
#define MEM_LEN (MEM_PAGES * HPAGE)

/*
 * Fixture: /dev/guestmem, and a user-backed object "abi" over 4 kernel
 * pages of which page 1 is PROT_NONE and page 2 read-only.
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
	self->mem = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, 0x5a, MEM_LEN);
	ASSERT_EQ(0, mprotect(self->mem + HPAGE, HPAGE, PROT_NONE));
	ASSERT_EQ(0, mprotect(self->mem + 2 * HPAGE, HPAGE, PROT_READ));
	self->obj = raw_create_user(self->dev, self->mem, MEM_LEN, "abi");
	ASSERT_LE(0, self->obj);
}

FIXTURE_TEARDOWN(abi)
{
	if (self->obj >= 0)
		close(self->obj);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM_LEN);
	if (self->dev >= 0)
		close(self->dev);
}

#endif /* GUESTMEM_SELFTEST_ABI_H */
