/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem in-kernel API: what a kernel consumer (a driver that was handed
 * an object fd) may do with a guest memory object.  Every function is
 * EXPORT_SYMBOL_GPL; see kmod/kapi.c.
 *
 * A consumer takes an object reference from an fd, reads and writes guest
 * memory into kernel buffers, locks pages (optionally mapped into the
 * kernel), asks for IOVAs, unlocks, and drops the reference.  It must
 * unlock every lock and put every reference before it is unloaded.
 */
#ifndef GUESTMEM_KAPI_H
#define GUESTMEM_KAPI_H

#include <linux/types.h>

struct gm_object;
struct gm_lock;
struct page;

struct gm_object *guestmem_get_object(int fd);
void guestmem_put_object(struct gm_object *obj);
int guestmem_read(struct gm_object *obj, u64 gpa, void *buf, size_t len);
int guestmem_write(struct gm_object *obj, u64 gpa, const void *buf,
		   size_t len);
struct gm_lock *guestmem_lock_gpns(struct gm_object *obj, bool kernel_access,
				   const u64 *gpns, unsigned long count);
unsigned long guestmem_lock_count(struct gm_lock *lock);
struct page *guestmem_lock_page(struct gm_lock *lock, unsigned long i);
void *guestmem_lock_vaddr(struct gm_lock *lock);
void guestmem_unlock(struct gm_lock *lock);
int guestmem_iova(struct gm_object *obj, u64 gpa, u64 *iova);

#endif /* GUESTMEM_KAPI_H */
