// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A program that uses libguestmem the way a distribution's user would:
 * built by tools/pkg/check.sh with nothing but
 * `pkg-config --cflags --libs guestmem` against the installed tree.  It
 * needs no module: the paged-range helpers are arithmetic, and creating an
 * object either works (the module is loaded) or fails with a recorded
 * error.
 */
#include <guestmem.h>
#include <linux/guestmem.h>
#include <linux/guestmem_netlink.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	static const uint64_t gpns[] = { 7, 8, 3 };
	struct gm_paged_range r;
	struct gm_address_range a;
	const struct gm_error *e;
	struct gm *gm;
	int ret, runs = 0;

	if (gm_paged_range_init(&r, 100, 9000, gpns, 3) || gm_paged_range_len(&r) != 9000)
		return 1;
	while (gm_paged_range_pop_front(&r, &a) == 1)
		runs++;
	if (runs != 2)
		return 1;

	e = gm_last_error();
	if (!e || e->errnum || !e->message)
		return 1;
	ret = gm_empty(&gm);
	if (ret == 0) {
		printf("consumer (C): created an empty object\n");
		gm_release(gm);
	} else if (ret < 0 && gm_last_error()->errnum == -ret &&
		   strstr(gm_last_error()->message, "create error")) {
		printf("consumer (C): no module here: %s\n", gm_last_error()->message);
	} else {
		return 1;
	}
	return GUESTMEM_NL_KIND_USER == 1 && GUESTMEM_TYPE == 0xBA ? 0 : 1;
}
