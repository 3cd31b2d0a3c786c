// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The public structs of <guestmem.h> as libguestmem.so.1 released them
 * (LIBGUESTMEM_1.0, LP64).  A program compiled against that header holds
 * these layouts, so none may change silently: a struct changes only
 * together with a new version node (libguestmem.map) for every function
 * that takes it, the old node keeping the old layout; struct gm_error,
 * which only the library allocates, may grow at its end.  When that
 * happens, update the size here in the same commit.
 */
#include <stddef.h>

#include "guestmem.h"

#define GM_ABI_SIZE(type, bytes) \
	_Static_assert(sizeof(type) == (bytes), #type " changed size: see abi.c")

#if defined(__LP64__)
GM_ABI_SIZE(struct gm_error, 72);
/* 16 in 1.0; 32 since 1.1 (files), gm_new_multi_region@LIBGUESTMEM_1.1. */
GM_ABI_SIZE(struct gm_backing, 32);
GM_ABI_SIZE(struct gm_paged_range, 32);
GM_ABI_SIZE(struct gm_paged_ranges, 40);
GM_ABI_SIZE(struct gm_address_range, 16);
GM_ABI_SIZE(struct gm_segment, 32);
GM_ABI_SIZE(struct gm_iova_run, 24);
GM_ABI_SIZE(struct gm_pci_info, 24);
GM_ABI_SIZE(struct gm_stats, 192);
#endif
GM_ABI_SIZE(gm_atomic_u8, 1);
