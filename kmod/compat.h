/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel version differences, and nothing else: one wrapper per kernel API
 * whose signature changed between the oldest (6.1) and newest (7.3) kernel
 * guestmem supports.  No other file tests LINUX_VERSION_CODE.  The one
 * architecture-only helper the data path uses lives here too, with the
 * answer that the other architectures get.
 */
#ifndef GUESTMEM_COMPAT_H
#define GUESTMEM_COMPAT_H

#include <linux/backing-dev.h>
#include <linux/eventfd.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <uapi/linux/magic.h>

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

/*
 * 6.5 made GUP refuse long-term write pins of shared file mappings that
 * writeback cleans (writable_file_mapping_allowed(), -EFAULT): a device
 * may still write into a page after writeback has write-protected and
 * cleaned it.  Before 6.5 only fsdax was refused; guestmem applies the 6.5
 * rule itself, on the VMAs under the pages, under mmap_read_lock.
 */
#if GM_KERNEL_AT_LEAST(6, 5)
static inline bool gm_gup_needs_vma_check(unsigned int gup_flags)
{
	return false;
}

static inline unsigned long gm_longterm_pinnable(struct mm_struct *mm,
						 unsigned long start,
						 unsigned long nr,
						 unsigned int gup_flags)
{
	return nr;
}
#else
static inline bool gm_gup_needs_vma_check(unsigned int gup_flags)
{
	return (gup_flags & (FOLL_LONGTERM | FOLL_WRITE)) ==
	       (FOLL_LONGTERM | FOLL_WRITE);
}

/* 6.5's vma_needs_dirty_tracking(). */
static inline bool gm_vma_needs_dirty_tracking(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = vma->vm_ops;

	if ((vma->vm_flags & (VM_SHARED | VM_WRITE)) != (VM_SHARED | VM_WRITE))
		return false;
	if (ops && (ops->page_mkwrite || ops->pfn_mkwrite))
		return true;
	if (vma->vm_flags & VM_PFNMAP)
		return false;
	return vma->vm_file && vma->vm_file->f_mapping &&
	       mapping_can_writeback(vma->vm_file->f_mapping);
}

/*
 * How many of the @nr pages from @start GUP may pin with @gup_flags: up to
 * the first VMA that 6.5 would refuse.  Missing VMAs are GUP's to report.
 * The caller holds mmap_read_lock(mm).
 */
static inline unsigned long gm_longterm_pinnable(struct mm_struct *mm,
						 unsigned long start,
						 unsigned long nr,
						 unsigned int gup_flags)
{
	unsigned long addr = start, end = start + (nr << PAGE_SHIFT);
	struct vm_area_struct *vma;

	if (!gm_gup_needs_vma_check(gup_flags))
		return nr;
	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma)
			break;
		if (gm_vma_needs_dirty_tracking(vma))
			return (addr - start) >> PAGE_SHIFT;
		addr = vma->vm_end;
	}
	return nr;
}
#endif

/* 6.8 dropped the count argument of eventfd_signal() (always 1). */
static inline void gm_eventfd_signal(struct eventfd_ctx *ctx)
{
#if !GM_KERNEL_AT_LEAST(6, 8)
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/* 6.8 renamed PCI_IRQ_LEGACY to PCI_IRQ_INTX. */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX	PCI_IRQ_LEGACY
#endif

/*
 * The export namespace: 6.13 made the namespace argument of
 * EXPORT_SYMBOL_NS_GPL() a string; before, it was a token the macro
 * stringified.
 */
#if GM_KERNEL_AT_LEAST(6, 13)
#define GM_NS	"GUESTMEM"
#else
#define GM_NS	GUESTMEM
#endif

/* 6.3 made vma->vm_flags read-only; writers use vm_flags_set/clear(). */
static inline void gm_vm_flags_set(struct vm_area_struct *vma,
				   vm_flags_t flags)
{
#if !GM_KERNEL_AT_LEAST(6, 3)
	vma->vm_flags |= flags;
#else
	vm_flags_set(vma, flags);
#endif
}

static inline void gm_vm_flags_clear(struct vm_area_struct *vma,
				     vm_flags_t flags)
{
#if !GM_KERNEL_AT_LEAST(6, 3)
	vma->vm_flags &= ~flags;
#else
	vm_flags_clear(vma, flags);
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

/**
 * gm_cmpxchg_user() - one locked compare-exchange on a user address
 * @p: the address, aligned to @len and checked with access_ok()
 * @old: @len bytes, the value expected; replaced by the value found when
 *	that differs
 * @new: @len bytes, the value to store
 * @len: 1, 2, 4 or 8
 *
 * x86's __try_cmpxchg_user() (since 5.19), which answers 0 when it
 * exchanged, 1 when it found another value (stored in @old) and -EFAULT
 * when the access faulted.  Elsewhere there is no such helper: the caller
 * takes its GUP path.
 *
 * Return: true when the compare-exchange ran, whether or not it exchanged;
 * false on a fault (nothing stored, @old untouched).
 */
#ifdef CONFIG_X86
static __always_inline bool gm_cmpxchg_user(void __user *p, void *old,
					    const void *new, size_t len)
{
	switch (len) {
	case 1:
		return __try_cmpxchg_user((u8 __user *)p, (u8 *)old,
					  *(const u8 *)new, gm_fault1) >= 0;
	case 2:
		return __try_cmpxchg_user((u16 __user *)p, (u16 *)old,
					  *(const u16 *)new, gm_fault2) >= 0;
	case 4:
		return __try_cmpxchg_user((u32 __user *)p, (u32 *)old,
					  *(const u32 *)new, gm_fault4) >= 0;
	case 8:
		return __try_cmpxchg_user((u64 __user *)p, (u64 *)old,
					  *(const u64 *)new, gm_fault8) >= 0;
	default:
		return false;
	}
}
#else
static inline bool gm_cmpxchg_user(void __user *p, void *old,
				   const void *new, size_t len)
{
	return false;
}
#endif

/*
 * 6.11 added memfd_pin_folios(): a FOLL_PIN pin of a shmem or hugetlbfs
 * file's folio, allocating it if needed, migrated out of movable memory
 * first - the long-term pin a lock needs.  Before it, the file's pages can
 * only be referenced, which is not a DMA pin (page_maybe_dma_pinned() does
 * not see it), so file-backed regions are not lockable there and
 * hugetlbfs files, whose pages need it to be reached at all, are refused.
 */
#define GM_HAVE_FILE_PIN	GM_KERNEL_AT_LEAST(6, 11)

/* is_file_hugepages() reads symbols that are not exported. */
static inline bool gm_file_is_hugetlb(struct file *file)
{
	return file_inode(file)->i_sb->s_magic == HUGETLBFS_MAGIC;
}

/**
 * gm_file_pin_page() - pin the page at @index of a shmem or hugetlbfs file
 * @file: the file
 * @index: the page, below the file's size
 *
 * Release with unpin_user_page() (or unpin_user_pages_dirty_lock()).
 *
 * Return: the page (of a folio pinned once), or an ERR_PTR: -EOPNOTSUPP
 * before 6.11, else what memfd_pin_folios() answered.
 */
static inline struct page *gm_file_pin_page(struct file *file, pgoff_t index)
{
#if GM_HAVE_FILE_PIN
	loff_t pos = (loff_t)index << PAGE_SHIFT;
	struct folio *folio;
	pgoff_t off;
	long n;

	n = memfd_pin_folios(file, pos, pos + PAGE_SIZE - 1, &folio, 1, &off);
	if (n < 0)
		return ERR_PTR(n);
	if (!n)
		return ERR_PTR(-EFAULT);
	return folio_page(folio, off >> PAGE_SHIFT);
#else
	return ERR_PTR(-EOPNOTSUPP);
#endif
}

/*
 * mmap() of another file into a new VMA (its vm_file already set with
 * vma_set_file()): 6.17 renamed call_mmap() to vfs_mmap(), which also
 * runs the newer ->mmap_prepare() hooks (shmem uses one since 6.17).
 */
static inline int gm_vfs_mmap(struct file *file, struct vm_area_struct *vma)
{
#if GM_KERNEL_AT_LEAST(6, 17)
	return vfs_mmap(file, vma);
#else
	return call_mmap(file, vma);
#endif
}

#endif /* GUESTMEM_COMPAT_H */
