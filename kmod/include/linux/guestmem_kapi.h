/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem's in-kernel API: what a kernel consumer - a driver that was
 * handed an object fd - may do with a guest memory object.
 *
 * A consumer takes a reference from an fd (guestmem_get_object()), reads
 * and writes guest memory into kernel buffers, locks guest pages (pinned,
 * DMA-mapped for an attached device, optionally mapped into the kernel),
 * asks for IOVAs, unlocks, and drops the reference.  It must unlock every
 * lock and put every reference before it is unloaded; a lock it forgets
 * goes when the object does.  The rules, errors and accounting are the
 * ioctls' (kmod/kapi.c has the kernel-doc of every function).
 *
 * The symbols are exported in the namespace GUESTMEM, GPL only: a consumer
 * says GUESTMEM_IMPORT_NS(); once, builds with -I<guestmem>/kmod/include,
 * and names guestmem's Module.symvers in KBUILD_EXTRA_SYMBOLS.
 */
#ifndef _LINUX_GUESTMEM_KAPI_H
#define _LINUX_GUESTMEM_KAPI_H

#include <linux/module.h>
#include <linux/types.h>
#include <linux/version.h>

struct guestmem;		/* a guest memory object (opaque) */
struct guestmem_lock;		/* a lock of some of its pages (opaque) */
struct page;

/* 6.13 made the namespace a string (the consumer's kernel decides). */
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
#define GUESTMEM_IMPORT_NS()	MODULE_IMPORT_NS("GUESTMEM")
#else
#define GUESTMEM_IMPORT_NS()	MODULE_IMPORT_NS(GUESTMEM)
#endif

struct guestmem *guestmem_get_object(int fd);
void guestmem_put_object(struct guestmem *gm);

int guestmem_read(struct guestmem *gm, u64 gpa, void *buf, size_t len);
int guestmem_write(struct guestmem *gm, u64 gpa, const void *buf, size_t len);

struct guestmem_lock *guestmem_lock_pages(struct guestmem *gm,
					  bool kernel_access, const u64 *gpns,
					  unsigned long count);
unsigned long guestmem_lock_count(struct guestmem_lock *lock);
struct page *guestmem_lock_page(struct guestmem_lock *lock, unsigned long i);
unsigned long guestmem_lock_offset(struct guestmem_lock *lock,
				   unsigned long i);
void *guestmem_lock_vaddr(struct guestmem_lock *lock);
void guestmem_unlock(struct guestmem_lock *lock);

int guestmem_gpa_to_iova(struct guestmem *gm, u64 gpa, u64 *iova);

#endif /* _LINUX_GUESTMEM_KAPI_H */
