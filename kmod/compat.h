/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel version differences, and nothing else: one wrapper per kernel API
 * whose signature changed between the oldest (6.1) and newest (6.12) kernel
 * guestmem supports.  No other file tests LINUX_VERSION_CODE.
 */
#ifndef GUESTMEM_COMPAT_H
#define GUESTMEM_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

/* The one place that reads the kernel version. */
#define GM_KERNEL_AT_LEAST(major, minor) \
	(KERNEL_VERSION(major, minor, 0) <= LINUX_VERSION_CODE)

#if !GM_KERNEL_AT_LEAST(6, 1)
#error "guestmem needs Linux 6.1 or later"
#endif

/*
 * 6.5 removed the vmas argument of pin_user_pages_remote().  The caller
 * holds mmap_read_lock(mm) (locked == NULL: GUP never drops it).
 */
static inline long gm_pin_user_pages_remote(struct mm_struct *mm,
					    unsigned long start,
					    unsigned long nr_pages,
					    unsigned int gup_flags,
					    struct page **pages)
{
#if !GM_KERNEL_AT_LEAST(6, 5)
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#endif
}

/* 6.3 made vma->vm_flags read-only; writers use vm_flags_set(). */
static inline void gm_vm_flags_set(struct vm_area_struct *vma,
				   vm_flags_t flags)
{
#if !GM_KERNEL_AT_LEAST(6, 3)
	vma->vm_flags |= flags;
#else
	vm_flags_set(vma, flags);
#endif
}

/*
 * 6.6 added VM_SHADOW_STACK (x86 user shadow stacks), which GUP refuses to
 * write without FOLL_FORCE; VM_NONE where not configured.
 */
#ifdef VM_SHADOW_STACK
#define GM_VM_SHADOW_STACK	VM_SHADOW_STACK
#else
#define GM_VM_SHADOW_STACK	VM_NONE
#endif

#endif /* GUESTMEM_COMPAT_H */
