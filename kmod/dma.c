// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem DMA: the attached device, DMA mappings of locks, and IOVAs.
 *
 * A base object may be attached once to a PCI device bound to guestmem's
 * PCI driver (pci.c; GUESTMEM_ATTACH_DEVICE, CAP_SYS_RAWIO), before any
 * lock exists.  From then on:
 *
 *  - every new lock of user memory (through the base or a view) is mapped
 *    with one dma_map_sgtable() over its pages, in list order; with an
 *    IOMMU the DMA layer gives the whole list one contiguous IOVA range,
 *    however scattered the pages are.  The scatterlist segments respect
 *    the device's max segment size (the DMA-API debug checks it);
 *  - an allocated object is mapped as a whole at attach time, so every one
 *    of its pages has an IOVA (the seed's base_iova): one IOVA run, from
 *    the IOMMU, or, without IOMMU translation, because the object is one
 *    physically contiguous block (object.c allocates objects of up to
 *    GM_CONTIG_MAX_BYTES that way; larger ones cannot be attached then);
 *  - mappings use DMA_ATTR_SKIP_CPU_SYNC: the memory is shared with the CPU
 *    for the lock's lifetime, as with VFIO, and the same page may be mapped
 *    by several locks (the DMA-API debug rejects overlapping mappings that
 *    expect CPU syncs).  That needs DMA that neither bounces nor needs
 *    cache maintenance: a device whose DMA would be bounced through swiotlb
 *    (swiotlb=force, a confidential guest, a DMA mask below the memory
 *    without an IOMMU) or is not cache-coherent is refused at attach, and
 *    a mapping that needs syncs anyway is refused (-EOPNOTSUPP): a device
 *    write must never land in a bounce buffer no one copies back.
 *
 * Unmapping always comes before unpinning (pin.c).  The mapped locks of a
 * base (and of its views) are listed in &struct gm_dma, so that the
 * device's removal can unmap them all (gm_dma_revoke(), called by pci.c
 * while the device is still there); the object then keeps its locks, its
 * pins and its data, and never calls the DMA API on that device again.
 * Without IOMMU translation (dma-direct, identity domain) an IOVA is a
 * physical address: only CAP_SYS_RAWIO callers may read one.
 *
 * Lock order: gm_pci.lock -> mem->lock_mutex.  Attach, detach and revoke
 * take both; mapping and unmapping a lock, and IOVA lookups, take only the
 * mem->lock_mutex and check gm_dma.gone under it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>

#include <linux/guestmem_netlink.h>

#include "compat.h"

#include "guestmem_private.h"

/* gpns looked up per batch of GUESTMEM_IOVA, under the mutex. */
#define GM_IOVA_BATCH	16

static struct device *gm_dma_dev(struct gm_mem *mem)
{
	return &mem->dma->gpci->pdev->dev;
}

/**
 * gm_may_read_iovas() - may the caller see the attached device's IOVAs?
 * @mem: attached memory
 *
 * Return: true with an IOMMU, or for CAP_SYS_RAWIO callers.
 */
bool gm_may_read_iovas(struct gm_mem *mem)
{
	/* A refusal is an answer here, not an event worth an audit record. */
	return !mem->dma->iova_phys ||
	       ns_capable_noaudit(&init_user_ns, CAP_SYS_RAWIO);
}

/**
 * gm_dma_iova_is_phys() - is a DMA address for @dev a physical address?
 * @dev: a device bound to guestmem
 *
 * Return: true without IOMMU translation (dma-direct, identity domain).
 */
bool gm_dma_iova_is_phys(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	return !domain || domain->type == IOMMU_DOMAIN_IDENTITY;
}

/**
 * gm_dma_may_query() - may the caller ask for IOVAs of @mem now?
 * @mem: an object's memory
 *
 * Context: mem->lock_mutex is held.
 * Return: 0 (an unattached object simply has none), -ENODEV (the device
 * is gone) or -EPERM (physical IOVAs, without CAP_SYS_RAWIO).
 */
int gm_dma_may_query(struct gm_mem *mem)
{
	lockdep_assert_held(&mem->lock_mutex);
	if (!mem->dma)
		return 0;
	if (mem->dma->gone)
		return -ENODEV;
	return gm_may_read_iovas(mem) ? 0 : -EPERM;
}

/* Would mappings for @dev be bounced, or need CPU syncs? */
static bool gm_dma_would_bounce(struct device *dev, bool iova_phys)
{
	if (!dev_is_dma_coherent(dev))
		return true;
	return iova_phys && (dma_addressing_limited(dev) ||
			     is_swiotlb_force_bounce(dev));
}

/*
 * Does any segment of a fresh dma-direct mapping need CPU syncs (it was
 * bounced)?  Through an IOMMU whole pages are never bounced, and
 * dma_need_sync() answers for the ops, not for the mapping.
 */
static bool gm_dma_needs_sync(struct device *dev, struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;

	if (!gm_dma_iova_is_phys(dev))
		return false;
	for_each_sgtable_dma_sg(sgt, sg, i)
		if (dma_need_sync(dev, sg_dma_address(sg)))
			return true;
	return false;
}

/*
 * The direction of a lock's mapping: a read-only lock's pages are mapped
 * for the device to read only (an IOMMU refuses its writes); everything
 * else is shared both ways.
 */
static enum dma_data_direction gm_lock_dir(const struct guestmem_lock *lock)
{
	return lock->read_only ? DMA_TO_DEVICE : DMA_BIDIRECTIONAL;
}

/* Map @n whole pages for @dev; *@iovasp gets each page's IOVA. */
static int gm_dma_map_pages(struct device *dev, struct sg_table *sgt,
			    struct page **pages, unsigned long n,
			    enum dma_data_direction dir, dma_addr_t **iovasp)
{
	unsigned int max_seg = max_t(unsigned int, PAGE_SIZE,
				     rounddown(dma_get_max_seg_size(dev),
					       PAGE_SIZE));
	struct scatterlist *sg;
	dma_addr_t *iovas;
	unsigned long k = 0;
	unsigned int i;
	int rc;

	if (n > UINT_MAX)
		return -EOVERFLOW;
	iovas = kvmalloc_array(n, sizeof(*iovas), GFP_KERNEL_ACCOUNT);
	if (!iovas)
		return -ENOMEM;
	rc = sg_alloc_table_from_pages_segment(sgt, pages, n, 0,
					       n << PAGE_SHIFT, max_seg,
					       GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_free_iovas;
	rc = dma_map_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (rc)
		goto out_free_table;
	/* Bounced or non-coherent after all: device writes would be lost. */
	if (gm_dma_needs_sync(dev, sgt)) {
		rc = -EOPNOTSUPP;
		goto out_unmap;
	}
	/* Whole pages in, whole pages out: walk the DMA segments in order. */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t addr = sg_dma_address(sg);
		unsigned int off;

		for (off = 0; off < sg_dma_len(sg) && k < n; off += PAGE_SIZE)
			iovas[k++] = addr + off;
	}
	if (WARN_ON_ONCE(k != n)) {
		rc = -EIO;
		goto out_unmap;
	}
	*iovasp = iovas;
	return 0;

out_unmap:
	dma_unmap_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
out_free_table:
	sg_free_table(sgt);
out_free_iovas:
	kvfree(iovas);
	return rc;
}

static void gm_dma_unmap_pages(struct device *dev, struct sg_table *sgt,
			       enum dma_data_direction dir, dma_addr_t *iovas)
{
	dma_unmap_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kvfree(iovas);
}

/*
 * Kernel pages over 4 KiB: each entry's IOVA is its page's (mapped once,
 * see gm_lock_distinct_pages()) plus its piece's offset.
 * Return: the IOVAs (kvfree() them), or NULL.
 */
static dma_addr_t *gm_lock_entry_iovas(struct guestmem_lock *lock,
				       const dma_addr_t *page_iovas)
{
	dma_addr_t *iovas;
	unsigned long i, k = 0;

	iovas = kvmalloc_array(lock->npages, sizeof(*iovas),
			       GFP_KERNEL_ACCOUNT);
	if (!iovas)
		return NULL;
	for (i = 0; i < lock->npages; i++) {
		if (i && lock->pages[i] != lock->pages[i - 1])
			k++;
		iovas[i] = page_iovas[k] +
			   ((dma_addr_t)gm_lock_subpage(lock, i) <<
			    GM_PAGE_SHIFT);
	}
	return iovas;
}

/* Map a lock of kernel pages over 4 KiB: each distinct page once. */
static int gm_dma_map_subpages(struct device *dev, struct guestmem_lock *lock)
{
	dma_addr_t *page_iovas;
	struct page **pages;
	int rc;

	pages = gm_lock_distinct_pages(lock, &lock->nmapped);
	if (!pages)
		return -ENOMEM;
	rc = gm_dma_map_pages(dev, &lock->sgt, pages, lock->nmapped,
			      gm_lock_dir(lock), &page_iovas);
	kvfree(pages);
	if (rc)
		return rc;
	lock->iovas = gm_lock_entry_iovas(lock, page_iovas);
	if (!lock->iovas) {
		gm_dma_unmap_pages(dev, &lock->sgt, gm_lock_dir(lock),
				   page_iovas);
		return -ENOMEM;
	}
	kvfree(page_iovas);
	return 0;
}

/**
 * gm_dma_map_lock() - map a new lock's pages for the attached device
 * @mem: the memory of the lock's object, attached
 * @lock: the lock, pinned, not yet indexed
 *
 * Context: mem->lock_mutex is held.
 * Return: 0 or a negative errno.
 */
int gm_dma_map_lock(struct gm_mem *mem, struct guestmem_lock *lock)
{
	int rc;

	lockdep_assert_held(&mem->lock_mutex);
	if (!lock->npages)
		return 0;
	if (GM_SUBPAGES > 1) {
		rc = gm_dma_map_subpages(gm_dma_dev(mem), lock);
	} else {
		lock->nmapped = lock->npages;
		rc = gm_dma_map_pages(gm_dma_dev(mem), &lock->sgt, lock->pages,
				      lock->npages, gm_lock_dir(lock),
				      &lock->iovas);
	}
	if (rc)
		return rc;
	list_add(&lock->dma_node, &mem->dma->locks);
	mem->mapped_pages += lock->nmapped;
	return 0;
}

/**
 * gm_dma_unmap_lock() - undo gm_dma_map_lock(), if it was done
 * @mem: the memory of the lock's object
 * @lock: the lock, still pinned
 *
 * Context: mem->lock_mutex is held.
 */
void gm_dma_unmap_lock(struct gm_mem *mem, struct guestmem_lock *lock)
{
	lockdep_assert_held(&mem->lock_mutex);
	if (!lock->iovas)
		return;
	gm_dma_unmap_pages(gm_dma_dev(mem), &lock->sgt, gm_lock_dir(lock),
			   lock->iovas);
	list_del(&lock->dma_node);
	lock->iovas = NULL;
	mem->mapped_pages -= lock->nmapped;
}

/**
 * gm_iova_run_len() - how many entries of @iovas continue the first one
 * @iovas: IOVAs of gpns (@step GM_PAGE_SIZE) or of kernel pages (PAGE_SIZE)
 * @n: entries, at least 1
 * @step: the size of what each entry maps
 *
 * Return: the length (1..@n) of the prefix whose IOVAs are @iovas[0] +
 * k * @step: one IOVA range (IOMMU), or a physically contiguous stretch
 * (dma-direct).
 */
static u64 gm_iova_run_len(const dma_addr_t *iovas, u64 n, u64 step)
{
	u64 k = 1;

	while (k < n && iovas[k] == iovas[0] + k * step)
		k++;
	return k;
}

/**
 * gm_alloc_iova_extent() - the IOVA of a page of an attached allocated
 *	object, and how far it runs
 * @obj: the object (or a view of it)
 * @gpn: the first page, in @obj's address space
 * @max: pages wanted, at least 1
 * @iova: the IOVA of @gpn's first byte
 *
 * Return: how many pages from @gpn (1..@max) have IOVAs @iova + k * 4096,
 * or 0 outside the object.
 */
static u64 gm_alloc_iova_extent(struct guestmem *obj, u64 gpn, u64 max,
				dma_addr_t *iova)
{
	struct gm_mem *mem = obj->mem;
	const dma_addr_t *iovas;
	struct gm_loc loc;
	u64 n, off, k;

	if (!mem->dma || !mem->dma->alloc_iovas)
		return 0;
	n = gm_resolve_pages(obj, gpn, max, &loc);
	if (!n || loc.region->type != GM_REGION_ALLOC)
		return 0;
	/*
	 * A view may start inside a page, and a kernel page may hold several
	 * gpns: each gpn's first byte keeps its offset into the object's
	 * page, as for GUESTMEM_IOVA.  The run lasts as long as the pages
	 * holding those first bytes follow one another.
	 */
	off = offset_in_page(loc.off);
	iovas = mem->dma->alloc_iovas + (loc.off >> PAGE_SHIFT);
	*iova = iovas[0] + off;
	k = gm_iova_run_len(iovas,
			    ((off + ((n - 1) << GM_PAGE_SHIFT)) >> PAGE_SHIFT) + 1,
			    PAGE_SIZE);
	return min(n, DIV_ROUND_UP((k << PAGE_SHIFT) - off, GM_PAGE_SIZE));
}

/* Unmap an allocated object's pages (attach mapped them all). */
static void gm_dma_unmap_alloc(struct gm_mem *mem)
{
	struct gm_dma *dma = mem->dma;

	if (!dma->alloc_iovas)
		return;
	gm_dma_unmap_pages(gm_dma_dev(mem), &dma->alloc_sgt, DMA_BIDIRECTIONAL,
			   dma->alloc_iovas);
	dma->alloc_iovas = NULL;
	mem->mapped_pages = 0;
}

/**
 * gm_dma_revoke() - the device is going: unmap everything of one object
 * @dma: an object's attachment
 *
 * Every mapped lock of the base and its views, and an allocated object's
 * own mapping, are unmapped while the device is still there; the locks
 * stay (pinned, unlockable) without IOVAs, and the object never uses the
 * device again.
 *
 * Context: pci.c's remove(), gm_pci.lock held.
 */
void gm_dma_revoke(struct gm_dma *dma)
{
	struct gm_mem *mem = dma->mem;
	struct guestmem_lock *lock, *next;

	mutex_lock(&mem->lock_mutex);
	list_for_each_entry_safe(lock, next, &dma->locks, dma_node)
		gm_dma_unmap_lock(mem, lock);
	gm_dma_unmap_alloc(mem);
	dma->gone = true;
	mutex_unlock(&mem->lock_mutex);
}

/**
 * gm_dma_detach() - unmap an allocated object and drop the device
 * @mem: the memory of a base object being destroyed (all locks already
 *	released)
 */
void gm_dma_detach(struct gm_mem *mem)
{
	struct gm_dma *dma = mem->dma;
	struct gm_pci *gpci;

	if (!dma)
		return;
	gpci = dma->gpci;
	mutex_lock(&gpci->lock);
	list_del(&dma->node);
	/* After a revoke the device may be gone: nothing is mapped then. */
	if (!dma->gone)
		gm_dma_unmap_alloc(mem);
	mutex_unlock(&gpci->lock);
	gm_pci_put(gpci);
	kfree(dma);
	mem->dma = NULL;
}

/*
 * Map a whole allocated object for the device: one IOVA run.  Without
 * IOMMU translation the pages must be one physically contiguous block.
 */
static int gm_dma_map_alloc(struct gm_mem *mem, struct gm_dma *dma,
			    struct device *dev)
{
	unsigned long n = mem->nr_pages;
	int rc;

	if (!n)
		return 0;
	if (dma->iova_phys && !gm_pages_contiguous(mem->pages, n))
		return (u64)n << PAGE_SHIFT > GM_CONTIG_MAX_BYTES ? -E2BIG :
								    -ENOMEM;
	rc = gm_dma_map_pages(dev, &dma->alloc_sgt, mem->pages, n,
			      DMA_BIDIRECTIONAL, &dma->alloc_iovas);
	if (rc)
		return rc;
	dma->alloc_contig = gm_iova_run_len(dma->alloc_iovas, n, PAGE_SIZE) == n;
	mem->mapped_pages = n;
	return 0;
}

/**
 * gm_dma_info() - GUESTMEM_INFO's device flags and base IOVA
 * @obj: the object (base or view)
 * @cmd: the call
 *
 * Context: mem->lock_mutex is held.
 */
void gm_dma_info(struct guestmem *obj, struct guestmem_info *cmd)
{
	struct gm_mem *mem = obj->mem;
	struct gm_dma *dma = mem->dma;

	lockdep_assert_held(&mem->lock_mutex);
	cmd->__reserved = 0;
	cmd->out_base_iova = 0;
	if (!dma)
		return;
	cmd->out_flags |= GUESTMEM_INFO_ATTACHED;
	if (dma->gone)
		cmd->out_flags |= GUESTMEM_INFO_DEVICE_GONE;
	if (dma->iova_phys)
		cmd->out_flags |= GUESTMEM_INFO_IOVA_PHYS;
	if (dma->alloc_iovas && dma->alloc_contig && gm_may_read_iovas(mem)) {
		cmd->out_flags |= GUESTMEM_INFO_BASE_IOVA;
		cmd->out_base_iova = dma->alloc_iovas[0] +
				     (obj->base ? obj->view_offset : 0);
	}
}

int gm_ioctl_attach_device(struct gm_ucmd *ucmd)
{
	struct guestmem_attach_device *cmd = ucmd->cmd;
	struct guestmem *obj = ucmd->obj;
	struct gm_mem *mem = obj->mem;
	struct gm_pci *gpci;
	struct device *dev;
	struct gm_dma *dma;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	if (cmd->pci_domain > INT_MAX || cmd->pci_bus > 0xff ||
	    cmd->pci_devfn > 0xff)
		return -EINVAL;
	gpci = gm_pci_get(cmd->pci_domain, cmd->pci_bus, cmd->pci_devfn);
	if (IS_ERR(gpci))
		return PTR_ERR(gpci);
	dev = &gpci->pdev->dev;
	dma = kzalloc(sizeof(*dma), GFP_KERNEL_ACCOUNT);
	if (!dma) {
		rc = -ENOMEM;
		goto out_put_pci;
	}
	dma->gpci = gpci;
	dma->mem = mem;
	INIT_LIST_HEAD(&dma->locks);

	mutex_lock(&gpci->lock);
	mutex_lock(&mem->lock_mutex);
	if (gpci->gone) {
		rc = -ENODEV;
		goto out_unlock;
	}
	if (mem->dma || mem->nr_locks) {
		rc = -EBUSY;
		goto out_unlock;
	}
	dma->iova_phys = gm_dma_iova_is_phys(dev);
	if (gm_dma_would_bounce(dev, dma->iova_phys)) {
		rc = -EOPNOTSUPP;
		goto out_unlock;
	}
	if (mem->type == GUESTMEM_OBJ_ALLOC) {
		rc = gm_dma_map_alloc(mem, dma, dev);
		if (rc)
			goto out_unlock;
	}
	list_add(&dma->node, &gpci->objects);
	mem->dma = dma;
	mutex_unlock(&mem->lock_mutex);
	mutex_unlock(&gpci->lock);
	gm_nl_notify(gm_obj_base(obj), GUESTMEM_CMD_DEV_ATTACH);
	return 0;

out_unlock:
	mutex_unlock(&mem->lock_mutex);
	mutex_unlock(&gpci->lock);
	kfree(dma);
out_put_pci:
	gm_pci_put(gpci);
	return rc;
}

/**
 * gm_iova_extent() - the IOVA of a guest page, and how far it runs
 * @obj: the object (its own locks are searched)
 * @gpn: the first page, in @obj's address space
 * @max: pages wanted, at least 1
 * @iova: the IOVA of @gpn's first byte
 *
 * Context: mem->lock_mutex is held.
 * Return: how many pages from @gpn (1..@max) have IOVAs @iova + k * 4096,
 * or 0 when @gpn has none (not attached, not locked, or out of range).
 */
u64 gm_iova_extent(struct guestmem *obj, u64 gpn, u64 max, dma_addr_t *iova)
{
	struct gm_mem *mem = obj->mem;
	struct gm_lock_run *run;

	lockdep_assert_held(&mem->lock_mutex);
	if (!mem->dma || mem->dma->gone)
		return 0;
	if (mem->type == GUESTMEM_OBJ_ALLOC)
		return gm_alloc_iova_extent(obj, gpn, max, iova);
	for (run = gm_index_first(obj, gpn); run; run = gm_index_next(run, gpn)) {
		const dma_addr_t *iovas = run->lock->iovas;

		if (!iovas)
			continue;
		iovas += run->index + (gpn - run->start);
		*iova = iovas[0];
		return gm_iova_run_len(iovas, min(max, run->last - gpn + 1),
				       GM_PAGE_SIZE);
	}
	return 0;
}

/**
 * gm_page_iova() - the IOVA of a guest page
 * @obj: the object (its own locks are searched)
 * @gpn: the page, in @obj's address space
 * @iova: the IOVA of the page's first byte
 *
 * Context: mem->lock_mutex is held.
 * Return: 0, or -ENOENT (not attached, not locked, or out of range).
 */
int gm_page_iova(struct guestmem *obj, u64 gpn, dma_addr_t *iova)
{
	return gm_iova_extent(obj, gpn, 1, iova) ? 0 : -ENOENT;
}

/* IOVAs looked up per hold of the mutex, then copied out without it. */
#define GM_LOCK_IOVA_BATCH	64

/**
 * gm_dma_lock_iovas() - LOCK_GPNS's iovas_uptr: every entry's IOVA
 * @lock: a new lock, not reachable by id yet
 * @cmd: the call; its iovas_uptr receives the IOVAs (OUT_IOVAS is set)
 *
 * The mutex guards each batch of lookups; the copy to the caller runs
 * without it, so a fault on the caller's buffer (a FUSE or userfaultfd
 * page) blocks no one else.
 *
 * Return: 0 (nothing to copy without a device), or a negative errno.
 */
int gm_dma_lock_iovas(struct guestmem_lock *lock,
		      struct guestmem_lock_gpns *cmd)
{
	struct gm_mem *mem = lock->obj->mem;
	u64 __user *uiovas = u64_to_user_ptr(cmd->iovas_uptr);
	u64 iovas[GM_LOCK_IOVA_BATCH];
	unsigned long r = 0, i = 0, n;
	u64 gpn = lock->nr_runs ? lock->runs[0].start : 0;
	dma_addr_t iova;
	int rc = 0;

	/* Attached before this lock existed, or never: it cannot change. */
	if (!READ_ONCE(mem->dma))
		return 0;
	while (r < lock->nr_runs) {
		mutex_lock(&mem->lock_mutex);
		rc = gm_dma_may_query(mem);
		for (n = 0; !rc && n < GM_LOCK_IOVA_BATCH && r < lock->nr_runs;
		     n++) {
			if (lock->iovas) {
				iova = lock->iovas[i + n];
			} else {
				rc = gm_page_iova(lock->obj, gpn, &iova);
				if (rc)
					break;
			}
			iovas[n] = iova;
			if (gpn++ == lock->runs[r].last && ++r < lock->nr_runs)
				gpn = lock->runs[r].start;
		}
		mutex_unlock(&mem->lock_mutex);
		if (rc)
			return rc;
		if (copy_to_user(uiovas + i, iovas, n * sizeof(*iovas)))
			return -EFAULT;
		i += n;
		cond_resched();
	}
	cmd->out_flags |= GUESTMEM_LOCK_OUT_IOVAS;
	return 0;
}

int gm_ioctl_iova(struct gm_ucmd *ucmd)
{
	struct guestmem_iova *cmd = ucmd->cmd;
	struct guestmem *obj = ucmd->obj;
	struct gm_mem *mem = obj->mem;
	u64 __user *ugpns = u64_to_user_ptr(cmd->gpns_uptr);
	u64 __user *uiovas = u64_to_user_ptr(cmd->iovas_uptr);
	u64 gpns[GM_IOVA_BATCH], iovas[GM_IOVA_BATCH];
	u64 done = 0;

	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	if (cmd->flags)
		return -EOPNOTSUPP;
	if (cmd->gpn_count > U32_MAX)
		return -EOVERFLOW;
	while (done < cmd->gpn_count) {
		unsigned int n = min_t(u64, GM_IOVA_BATCH,
				       cmd->gpn_count - done);
		unsigned int i;
		int rc = 0;

		if (copy_from_user(gpns, ugpns + done, n * sizeof(u64)))
			return -EFAULT;
		mutex_lock(&mem->lock_mutex);
		rc = gm_dma_may_query(mem);
		for (i = 0; i < n && !rc; i++) {
			dma_addr_t iova = 0;

			rc = gm_page_iova(obj, gpns[i], &iova);
			iovas[i] = iova;
		}
		mutex_unlock(&mem->lock_mutex);
		if (rc == -ENOENT) {
			i--;
			gm_fault_index(&cmd->out_fault, done + i, gpns[i]);
			/* The entries before the failing one are written. */
			n = i;
		} else if (rc) {
			return rc;
		}
		if (copy_to_user(uiovas + done, iovas, n * sizeof(u64)))
			return -EFAULT;
		if (rc)
			return rc;
		done += n;
		if (done < cmd->gpn_count && fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/* Pages looked at per hold of the mutex. */
#define GM_RUNS_SCAN	BIT_ULL(16)
/* Runs built under the mutex, then copied out without it. */
#define GM_RUNS_BATCH	16

/**
 * struct gm_runs_batch - IOVA runs not yet copied to the caller
 * @runs: the runs, in gpn order
 * @n: how many
 */
struct gm_runs_batch {
	struct guestmem_iova_run runs[GM_RUNS_BATCH];
	unsigned int n;
};

/* Why gm_runs_collect() stopped. */
enum gm_runs_stop {
	GM_RUNS_MORE,	/* flush the batch and scan on */
	GM_RUNS_DONE,	/* the range is described, or a page has no IOVA */
	GM_RUNS_FULL,	/* the caller's max_runs are used up */
};

/*
 * Describe up to GM_RUNS_SCAN more pages of the range, from *@done on, in
 * @b: a page whose IOVA continues the last run extends it.  A page without
 * an IOVA sets *@rc to -ENOENT.  Context: mem->lock_mutex is held.
 */
static enum gm_runs_stop gm_runs_collect(struct guestmem *obj,
					 struct guestmem_iova_runs *cmd,
					 struct gm_runs_batch *b, u64 *done,
					 int *rc)
{
	struct guestmem_iova_run *last;
	u64 scanned = 0, n;
	dma_addr_t iova;

	while (*done < cmd->gpn_count) {
		if (scanned == GM_RUNS_SCAN)
			return GM_RUNS_MORE;
		n = gm_iova_extent(obj, cmd->gpn + *done,
				   min(cmd->gpn_count - *done,
				       GM_RUNS_SCAN - scanned), &iova);
		if (!n) {
			*rc = -ENOENT;
			return GM_RUNS_DONE;
		}
		last = b->n ? &b->runs[b->n - 1] : NULL;
		if (last && last->iova + last->npages * GM_PAGE_SIZE == iova) {
			last->npages += n;
		} else {
			/* Out of room: the caller goes on from here. */
			if (cmd->out_nr_runs + b->n == cmd->max_runs)
				return GM_RUNS_FULL;
			if (b->n == GM_RUNS_BATCH)
				return GM_RUNS_MORE;
			b->runs[b->n++] = (struct guestmem_iova_run){
				.gpn = cmd->gpn + *done, .npages = n,
				.iova = iova,
			};
		}
		scanned += n;
		*done += n;
	}
	return GM_RUNS_DONE;
}

/* Copy out the batch's runs but the last @keep, which may still grow. */
static int gm_runs_flush(struct guestmem_iova_runs *cmd,
			 struct gm_runs_batch *b, unsigned int keep)
{
	struct guestmem_iova_run __user *uruns =
		u64_to_user_ptr(cmd->runs_uptr);
	unsigned int n = b->n - keep;

	if (copy_to_user(uruns + cmd->out_nr_runs, b->runs,
			 n * sizeof(*b->runs)))
		return -EFAULT;
	cmd->out_nr_runs += n;
	if (keep)
		b->runs[0] = b->runs[b->n - 1];
	b->n = keep;
	return 0;
}

/**
 * gm_ioctl_iova_runs() - GUESTMEM_IOVA_RUNS: the IOVAs of a range, as runs
 * @ucmd: the call (&struct guestmem_iova_runs)
 *
 * Runs are collected under the mutex, GM_RUNS_SCAN pages at most per hold,
 * and copied out after it is dropped; while the scan goes on, the last run
 * stays behind, as the next page may continue it (iommufd's batch carry).
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int gm_ioctl_iova_runs(struct gm_ucmd *ucmd)
{
	struct guestmem_iova_runs *cmd = ucmd->cmd;
	struct guestmem *obj = ucmd->obj;
	struct gm_mem *mem = obj->mem;
	struct gm_runs_batch b = { .n = 0 };
	enum gm_runs_stop stop;
	u64 done = 0;
	int rc = 0;

	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	cmd->out_nr_runs = 0;
	cmd->out_gpn_count = 0;
	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->gpn + cmd->gpn_count < cmd->gpn)
		return -EOVERFLOW;
	if (!cmd->gpn_count)
		return 0;
	if (!cmd->max_runs)
		return -EINVAL;

	do {
		mutex_lock(&mem->lock_mutex);
		rc = gm_dma_may_query(mem);
		stop = rc ? GM_RUNS_DONE :
			    gm_runs_collect(obj, cmd, &b, &done, &rc);
		mutex_unlock(&mem->lock_mutex);
		if (rc && rc != -ENOENT)
			return rc;
		if (gm_runs_flush(cmd, &b, stop == GM_RUNS_MORE && b.n))
			return -EFAULT;
		cond_resched();
	} while (stop == GM_RUNS_MORE);
	cmd->out_gpn_count = done;
	if (rc == -ENOENT)
		gm_fault_index(&cmd->out_fault, done, cmd->gpn + done);
	return rc;
}
