// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem in-kernel API (declared in include/linux/guestmem_kapi.h).
 *
 * Thin wrappers over the same code the ioctls use: the address rules, the
 * owner's-mm access and the locks are exactly the user-space ones.  Locks
 * made here are marked "kernel": they sit in the object's lock table, but
 * GUESTMEM_UNLOCK_GPNS does not see them, so user space cannot pull pages
 * from under a kernel consumer.  The consumer's object reference keeps the
 * object, hence its locks, alive until guestmem_unlock() and
 * guestmem_put_object(); a consumer that drops its reference first leaves
 * its locks to the object's destruction, which releases them.  Pins are
 * charged to the user of the calling context, as for ioctls (a kernel
 * thread's is root's, with CAP_IPC_LOCK: not limited).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/module.h>

#include "guestmem_private.h"
#include <linux/guestmem_kapi.h>

#include "compat.h"

/**
 * guestmem_get_object() - take a reference to the object behind an fd
 * @fd: an object fd of the calling process
 *
 * Return: the object, or ERR_PTR(-EBADF) (not an fd) or ERR_PTR(-EINVAL)
 * (not a guestmem object fd).
 */
struct guestmem *guestmem_get_object(int fd)
{
	return gm_obj_get_fd(fd);
}
EXPORT_SYMBOL_NS_GPL(guestmem_get_object, GM_NS);

/**
 * guestmem_put_object() - drop a reference from guestmem_get_object()
 * @obj: the object
 */
void guestmem_put_object(struct guestmem *obj)
{
	gm_obj_put(obj);
}
EXPORT_SYMBOL_NS_GPL(guestmem_put_object, GM_NS);

/**
 * guestmem_read() - read_at() into a kernel buffer
 * @obj: the object
 * @gpa: guest address of the first byte
 * @buf: destination, @len bytes
 * @len: bytes to read
 *
 * Return: 0 or a negative errno, as GUESTMEM_READ.
 */
int guestmem_read(struct guestmem *obj, u64 gpa, void *buf, size_t len)
{
	struct guestmem_fault fault;

	return gm_kernel_rw(obj, gpa, buf, len, false, &fault);
}
EXPORT_SYMBOL_NS_GPL(guestmem_read, GM_NS);

/**
 * guestmem_write() - write_at() from a kernel buffer
 * @obj: the object
 * @gpa: guest address of the first byte
 * @buf: source, @len bytes
 * @len: bytes to write
 *
 * Return: 0 or a negative errno, as GUESTMEM_WRITE.
 */
int guestmem_write(struct guestmem *obj, u64 gpa, const void *buf,
		   size_t len)
{
	struct guestmem_fault fault;

	return gm_kernel_rw(obj, gpa, (void *)buf, len, true, &fault);
}
EXPORT_SYMBOL_NS_GPL(guestmem_write, GM_NS);

/**
 * guestmem_lock_pages() - lock_gpns() for a kernel consumer
 * @obj: the object
 * @kernel_access: also map the pages, contiguously, at guestmem_lock_vaddr();
 *	with kernel pages over 4 KiB the gpns must then be consecutive
 *	(-EINVAL): a page table maps whole pages
 * @gpns: @count guest page numbers
 * @count: entries
 *
 * Same pinning, accounting and DMA mapping as GUESTMEM_LOCK_GPNS.
 *
 * Return: the lock, or an ERR_PTR.
 */
struct guestmem_lock *guestmem_lock_pages(struct guestmem *obj,
					  bool kernel_access, const u64 *gpns,
					  unsigned long count)
{
	struct guestmem_fault fault;
	struct guestmem_lock *lock;

	lock = gm_lock_create(obj, gpns, count,
			      GM_LOCK_KERNEL |
			      (kernel_access ? GM_LOCK_KERNEL_ACCESS : 0),
			      &fault);
	if (IS_ERR(lock))
		return lock;
	/* In the table, so that the object's destruction finds it. */
	if (gm_lock_publish(lock)) {
		gm_lock_destroy(lock);
		return ERR_PTR(-ENOMEM);
	}
	return lock;
}
EXPORT_SYMBOL_NS_GPL(guestmem_lock_pages, GM_NS);

/**
 * guestmem_lock_count() - number of entries of a lock
 * @lock: the lock
 *
 * Return: the count passed to guestmem_lock_pages().
 */
unsigned long guestmem_lock_count(struct guestmem_lock *lock)
{
	return lock->npages;
}
EXPORT_SYMBOL_NS_GPL(guestmem_lock_count, GM_NS);

/**
 * guestmem_lock_page() - the page of one entry
 * @lock: the lock
 * @i: the entry, below guestmem_lock_count()
 *
 * With kernel pages over 4 KiB, several entries share a page: each is the
 * 4 KiB at guestmem_lock_offset() in it.
 *
 * Return: the page that holds the entry (valid until guestmem_unlock()), or
 * NULL if @i is out of range.
 */
struct page *guestmem_lock_page(struct guestmem_lock *lock, unsigned long i)
{
	return i < lock->npages ? lock->pages[i] : NULL;
}
EXPORT_SYMBOL_NS_GPL(guestmem_lock_page, GM_NS);

/**
 * guestmem_lock_offset() - where one entry lies in its page
 * @lock: the lock
 * @i: the entry, below guestmem_lock_count()
 *
 * Return: the entry's offset in guestmem_lock_page(): 0 with 4 KiB kernel
 * pages, a multiple of 4096 below PAGE_SIZE with larger ones; 0 if @i is
 * out of range.
 */
unsigned long guestmem_lock_offset(struct guestmem_lock *lock,
				   unsigned long i)
{
	return i < lock->npages ?
	       (unsigned long)gm_lock_subpage(lock, i) << GM_PAGE_SHIFT : 0;
}
EXPORT_SYMBOL_NS_GPL(guestmem_lock_offset, GM_NS);

/**
 * guestmem_lock_vaddr() - the kernel mapping of a lock's pages
 * @lock: a lock made with @kernel_access
 *
 * Return: entry i lies at vaddr + i * 4096 (i * PAGE_SIZE on 4 KiB kernel
 * pages); NULL without kernel access (or for an empty lock).
 */
void *guestmem_lock_vaddr(struct guestmem_lock *lock)
{
	return lock->vaddr;
}
EXPORT_SYMBOL_NS_GPL(guestmem_lock_vaddr, GM_NS);

/**
 * guestmem_unlock() - release a lock from guestmem_lock_pages()
 * @lock: the lock; invalid afterwards
 */
void guestmem_unlock(struct guestmem_lock *lock)
{
	gm_lock_destroy(lock);
}
EXPORT_SYMBOL_NS_GPL(guestmem_unlock, GM_NS);

/**
 * guestmem_gpa_to_iova() - iova() of one guest address
 * @obj: the object
 * @gpa: the guest address
 * @iova: its IOVA for the attached device
 *
 * Kernel callers may always see IOVAs, physical or not.
 *
 * Return: 0, or -ENOENT (not attached, not locked through @obj).
 */
int guestmem_gpa_to_iova(struct guestmem *obj, u64 gpa, u64 *iova)
{
	struct gm_mem *mem = obj->mem;
	dma_addr_t addr;
	int rc;

	mutex_lock(&mem->lock_mutex);
	rc = gm_page_iova(obj, gpa >> GM_PAGE_SHIFT, &addr);
	mutex_unlock(&mem->lock_mutex);
	if (!rc)
		*iova = addr + (gpa & (GM_PAGE_SIZE - 1));
	return rc;
}
EXPORT_SYMBOL_NS_GPL(guestmem_gpa_to_iova, GM_NS);
