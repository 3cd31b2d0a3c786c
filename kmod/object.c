// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem objects: creation, address resolution, views, lifetime.
 *
 * DOC: Data model
 *
 * A guest memory object (&struct guestmem) is the kernel form of the
 * seed's GuestMemory.  It describes a guest physical address space as an
 * array of region slots of 2^region_bits bytes each (one slot of 2^63
 * bytes for single-region objects), exactly as the seed's
 * RegionDefinition does, and a &struct gm_region per slot says what backs
 * it:
 *
 *  - GM_REGION_USER: user memory of the *owner*, the process that created
 *    the object.  The object stores only the owner's mm and a virtual
 *    address; pages are looked up (pinned for the duration of one copy) at
 *    every access, so munmap, mprotect and PROT_NONE reservations behave
 *    as they would for the owner itself.
 *  - GM_REGION_ALLOC: zeroed kernel pages owned by the object (allocate()),
 *    mappable by mmap() of the object fd.
 *  - GM_REGION_FILE: a range of a shmem (memfd, tmpfs) or hugetlbfs file,
 *    which the object holds: no process owns it, every access reaches the
 *    file's pages (access.c), and mmap() of the object fd maps the file
 *    itself (gm_obj_mmap()).  While the object exists it counts as a
 *    writable shared mapping of the file, so F_SEAL_WRITE cannot be added.
 *  - GM_REGION_NONE: the empty object's backing: no mapping.
 *  - GM_REGION_ABSENT: a hole or a padding slot of a multi-region object.
 *
 * The object (&struct guestmem) is the address space one fd sees: the
 * region definition, the locks made through it, its registry entry and
 * counters.  The memory behind it (&struct gm_mem: regions, owner, pages,
 * the device, the mutex of the lock tables) belongs to a *base* object and
 * is shared by its *views* (subranges), as iommufd's iopt_area windows
 * share an iopt_pages.  A view has one slot, a reference on its base
 * (@base) and a window (@view_offset, @view_len) into the base's address
 * space; a view of a view points at the original base with the offsets
 * added, so views never nest.
 *
 * Objects are immutable once published: regions, name, owner and pages
 * are set before the fd exists and never change.  The data path therefore
 * takes no lock of its own; concurrent accesses to one object are as safe
 * as concurrent accesses to the memory behind it.  What does change - the
 * locks of an object and of its views, and the attached device - is
 * guarded by mem->lock_mutex (pin.c, dma.c), which the data path never
 * takes.
 *
 * References: every object fd holds one reference (dropped by release);
 * every view holds one on its base; a kernel consumer holds one per
 * guestmem_get_object() (kapi.c).  An mmap() of an allocated object holds
 * the fd's file, hence the object.  The memory holds mmgrab() on the owner's
 * mm (the mm_struct stays, its pages may go) and a task reference on the
 * owner's thread-group leader.  Each access takes mmget_not_zero() on the
 * owner's mm for its duration and fails with -ESRCH once the owner has
 * exited: when the mm is gone, or when no thread of the owner's group is
 * alive any more (the second test keeps a stream of overlapping accesses
 * from another process from holding a dead owner's mm alive for ever).
 *
 * Every published object also has an id in netlink.c's registry, for
 * introspection only; the registry holds no reference (see netlink.c).
 *
 * Destruction (last reference) never fails and runs in this order: the
 * object leaves the registry (the "destroyed" event); its locks are
 * unmapped from the device, unpinned (dirtied) and uncharged; a view then
 * drops its base; a base unmaps its allocated pages from the device, drops
 * the device, and frees its memory: pages, owner, regions.
 *
 * Lock order: mem->lock_mutex (lock tables, attach; never the data path)
 * -> mmap_lock of the owner's mm (GUP) or of the caller's mm (uaccess).
 * The data path takes only the owner's mmap_lock (read, while pinning
 * pages of another process); copies to and from the caller's buffer run
 * with no lock held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/hugetlb.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "guestmem_private.h"

static const struct gm_region gm_absent_region = {
	.type = GM_REGION_ABSENT,
};

/*
 * A new object: a base with @nr_regions region slots and memory of its
 * own when @base is NULL, else a view of @base (referenced) sharing its
 * memory.
 */
static struct guestmem *gm_obj_alloc(struct guestmem *base, u32 nr_regions)
{
	struct guestmem *obj;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL_ACCOUNT);
	if (!obj)
		return NULL;
	obj->stats = alloc_percpu_gfp(struct gm_obj_stats, GFP_KERNEL_ACCOUNT);
	if (!obj->stats)
		goto out_free_obj;
	if (base) {
		kref_get(&base->ref);
		atomic_inc(&base->mem->nr_views);
		obj->base = base;
		obj->mem = base->mem;
	} else {
		obj->mem = kzalloc(sizeof(*obj->mem), GFP_KERNEL_ACCOUNT);
		if (!obj->mem)
			goto out_free_stats;
		obj->mem->regions = kvcalloc(nr_regions,
					     sizeof(*obj->mem->regions),
					     GFP_KERNEL_ACCOUNT);
		if (!obj->mem->regions)
			goto out_free_mem;
		obj->mem->nr_regions = nr_regions;
		mutex_init(&obj->mem->lock_mutex);
	}
	kref_init(&obj->ref);
	xa_init_flags(&obj->locks, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	obj->gpn_index = RB_ROOT_CACHED;
	/* "Lock failed" events: a burst of 10, then 2 a second. */
	ratelimit_state_init(&obj->lock_fail_rs, HZ / 2, 10);
	ratelimit_set_flags(&obj->lock_fail_rs, RATELIMIT_MSG_ON_RELEASE);
	return obj;

out_free_mem:
	kfree(obj->mem);
out_free_stats:
	free_percpu(obj->stats);
out_free_obj:
	kfree(obj);
	return NULL;
}

/* The seed's single-region RegionDefinition: addresses below 2^63. */
static void gm_obj_set_single_region(struct guestmem *obj)
{
	obj->invalid_mask = 1ULL << 63;
	obj->region_mask = ~0ULL >> 1;
	obj->region_bits = 63;
	obj->region_count = 1;
}

/*
 * The seals of a shmem or hugetlbfs file: F_SEAL_* bits (only memfds can
 * have any).
 */
static unsigned int gm_file_seals(struct file *file)
{
#ifdef CONFIG_HUGETLBFS
	if (gm_file_is_hugetlb(file))
		return HUGETLBFS_I(file_inode(file))->seals;
#endif
	return SHMEM_I(file_inode(file))->seals;
}

/*
 * Take [@offset, @offset + @len) of the file @fd as the backing of
 * @region: a shmem or hugetlbfs file, open for reading and writing, not
 * sealed against writing, long enough.  The object then counts as a
 * writable shared mapping of it (mapping_map_writable(), as mmap() does),
 * so that F_SEAL_WRITE, which would forbid the writes the object makes,
 * cannot be added while it exists.
 */
static int gm_take_file(struct gm_region *region, int fd, u64 offset,
			u64 len)
{
	struct file *file;
	u64 end;
	int rc;

	file = fget(fd);
	if (!file)
		return -EBADF;
	rc = -EINVAL;
	if (!shmem_file(file) && !gm_file_is_hugetlb(file))
		goto out_put;
	if (!IS_ALIGNED(offset | len, GM_PAGE_SIZE) ||
	    check_add_overflow(offset, len, &end) ||
	    end > i_size_read(file_inode(file)))
		goto out_put;
	rc = -EOPNOTSUPP;
	if (gm_file_is_hugetlb(file) && !GM_HAVE_FILE_PIN)
		goto out_put;
	rc = -EACCES;
	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE))
		goto out_put;
	rc = -EPERM;
	if (gm_file_seals(file) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		goto out_put;
	rc = mapping_map_writable(file->f_mapping);
	if (rc)
		goto out_put;
	region->type = GM_REGION_FILE;
	region->len = len;
	region->file = file;
	region->file_off = offset;
	return 0;

out_put:
	fput(file);
	return rc;
}

/* Undo gm_take_file(); nothing for other regions. */
static void gm_put_file(struct gm_region *region)
{
	if (region->type != GM_REGION_FILE)
		return;
	mapping_unmap_writable(region->file->f_mapping);
	fput(region->file);
}

/* A base's memory, once nothing refers to it any more. */
static void gm_mem_free(struct gm_mem *mem)
{
	unsigned long i;

	mutex_destroy(&mem->lock_mutex);
	for (i = 0; i < mem->nr_regions; i++)
		gm_put_file(&mem->regions[i]);
	for (i = 0; i < mem->nr_pages; i++)
		if (mem->pages[i])
			__free_page(mem->pages[i]);
	kvfree(mem->pages);
	gm_acct_uncharge(mem->alloc_user, mem->alloc_charged);
	free_uid(mem->alloc_user);
	if (mem->owner)
		put_task_struct(mem->owner);
	if (mem->mm)
		mmdrop(mem->mm);
	kvfree(mem->regions);
	kfree(mem->name);
	kfree(mem);
}

static void gm_obj_kref_release(struct kref *ref)
{
	struct guestmem *obj = container_of(ref, struct guestmem, ref);

	/* Announced and unregistered first: a dump no longer finds it. */
	gm_registry_del(obj);
	/* Unmap and unpin before anything they point into goes away. */
	gm_obj_release_locks(obj);
	if (obj->base) {
		atomic_dec(&obj->mem->nr_views);
		gm_obj_put(obj->base);
	} else {
		gm_dma_detach(obj->mem);
		gm_mem_free(obj->mem);
	}
	free_percpu(obj->stats);
	kfree(obj);
}

/**
 * gm_obj_put() - drop one reference to an object
 * @obj: the object
 */
void gm_obj_put(struct guestmem *obj)
{
	kref_put(&obj->ref, gm_obj_kref_release);
}

/* Record the calling process as the owner of a user-backed object. */
static void gm_obj_set_owner(struct guestmem *obj)
{
	obj->mem->mm = current->mm;
	mmgrab(obj->mem->mm);
	obj->mem->owner = get_task_struct(current->group_leader);
}

/**
 * gm_owner_exited() - has the owner of a user-backed object exited?
 * @base: a base object with an owner
 *
 * True once every thread of the owner's thread group has passed
 * do_exit()'s group-dead point, or its mm has no users.  The owner's
 * signal_struct lives as long as our reference on its group leader.
 *
 * Return: true if accesses must fail with -ESRCH.
 */
bool gm_owner_exited(struct gm_mem *mem)
{
	return !atomic_read(&mem->owner->signal->live) ||
	       !atomic_read(&mem->mm->mm_users);
}

static int gm_obj_set_name_kernel(struct guestmem *obj, const char *name)
{
	obj->mem->name = kstrdup(name, GFP_KERNEL_ACCOUNT);
	if (!obj->mem->name)
		return -ENOMEM;
	obj->mem->name_len = strlen(name);
	return 0;
}

static int gm_obj_set_name_user(struct guestmem *obj, u64 name_uptr,
				u32 name_len)
{
	char *name;

	if (name_len > gm_limit(gm_max_name_len))
		return -ENAMETOOLONG;
	name = kmalloc((size_t)name_len + 1, GFP_KERNEL_ACCOUNT);
	if (!name)
		return -ENOMEM;
	if (copy_from_user(name, u64_to_user_ptr(name_uptr), name_len)) {
		kfree(name);
		return -EFAULT;
	}
	if (memchr(name, 0, name_len)) {
		kfree(name);
		return -EINVAL;
	}
	name[name_len] = 0;
	obj->mem->name = name;
	obj->mem->name_len = name_len;
	return 0;
}

/**
 * DOC: Fault reports
 *
 * A failure caused by a guest address is reported in the ioctl's
 * &struct guestmem_fault (the uapi's DOC: Error report): gm_fault_kind()
 * says what (GUESTMEM_FAULT_VALID, kind, cause), gm_fault_set() also
 * where (the first failing guest byte), gm_fault_index() which entry of
 * the caller's gpn list.  IOVA queries report the page without an IOVA
 * with gm_fault_index() alone: that is not a guest-side failure.
 */

/**
 * gm_fault_kind() - record a guest-side failure
 * @fault: the ioctl's out_fault
 * @kind: GUESTMEM_KIND_*
 * @cause: GUESTMEM_CAUSE_*
 */
void gm_fault_kind(struct guestmem_fault *fault, u32 kind, u32 cause)
{
	fault->flags |= GUESTMEM_FAULT_VALID;
	fault->kind = kind;
	fault->cause = cause;
}

/**
 * gm_fault_set() - record a guest-side failure at a guest address
 * @fault: the ioctl's out_fault
 * @kind: GUESTMEM_KIND_*
 * @cause: GUESTMEM_CAUSE_*
 * @gpa: the first failing guest address
 */
void gm_fault_set(struct guestmem_fault *fault, u32 kind, u32 cause, u64 gpa)
{
	gm_fault_kind(fault, kind, cause);
	fault->flags |= GUESTMEM_FAULT_HAS_GPA;
	fault->gpa = gpa;
}

/**
 * gm_fault_index() - name the entry of the caller's gpn list that failed
 * @fault: the ioctl's out_fault
 * @index: the entry
 * @gpn: its value
 */
void gm_fault_index(struct guestmem_fault *fault, u64 index, u64 gpn)
{
	fault->flags |= GUESTMEM_FAULT_HAS_INDEX;
	fault->index = index;
	fault->gpn = gpn;
}

/*
 * A user backing must be a range of user addresses that does not wrap; a
 * NULL base is a caller's mistake, not memory anyone maps.
 */
static int gm_check_user_range(u64 base, u64 len)
{
	u64 end;

	if (!base)
		return -EINVAL;
	if (check_add_overflow(base, len, &end))
		return -EOVERFLOW;
	if (!access_ok(u64_to_user_ptr(base), len))
		return -EFAULT;
	return 0;
}

/**
 * gm_resolve() - the seed's region(gpa, len)
 * @obj: the object (possibly a view)
 * @gpa: guest address of the first byte, in @obj's address space
 * @len: length of the access
 * @loc: filled with the region and offset on success
 *
 * Rules (seed §2.1): (@gpa | @len) must have no bit of invalid_mask set;
 * the access may not touch or cross the end of its region slot (off + len
 * must stay below the slot size: strict); it must fit in the slot's backing
 * length.  A view checks against its own single slot, then translates into
 * its base.  The region's type is not checked here: a zero-length access
 * at offset 0 of a hole resolves.
 *
 * Return: 0, or -ERANGE (the seed's OutOfRange at @gpa).
 */
int gm_resolve(struct guestmem *obj, u64 gpa, u64 len, struct gm_loc *loc)
{
	struct guestmem *base = obj;
	u64 off, idx;

	if ((gpa | len) & obj->invalid_mask)
		return -ERANGE;
	off = gpa & obj->region_mask;
	if ((off + len) & ~obj->region_mask)
		return -ERANGE;
	if (obj->base) {
		if (off + len > obj->view_len)
			return -ERANGE;
		base = obj->base;
		gpa = obj->view_offset + off;
		off = gpa & base->region_mask;
	}
	idx = gpa >> base->region_bits;
	loc->base = base;
	loc->off = off;
	loc->region = idx < obj->mem->nr_regions ? &obj->mem->regions[idx] :
					       &gm_absent_region;
	if (off + len > loc->region->len)
		return -ERANGE;
	return 0;
}

/* Do pages @gpn .. @gpn + @n - 1 resolve, each by its first byte? */
static bool gm_pages_resolve(struct guestmem *obj, u64 gpn, u64 n,
			     struct gm_loc *loc)
{
	return !gm_resolve(obj, gpn << GM_PAGE_SHIFT,
			   ((n - 1) << GM_PAGE_SHIFT) + 1, loc);
}

/**
 * gm_resolve_pages() - how many pages from @gpn resolve as one run
 * @obj: the object (possibly a view)
 * @gpn: the first page, at most GM_MAX_GPN
 * @max: pages wanted, at least 1
 * @loc: filled for @gpn on success
 *
 * Each page counts by its first byte, as the seed's lock probe does
 * (region(gpa, 1)).  The pages found lie in one region at consecutive
 * offsets from @loc->off, so a caller looks up a run once instead of page
 * by page.  A range that resolves lies in one region slot, and so does
 * every part of it: the longest prefix is found with one gm_resolve() when
 * the whole run resolves (the usual case) and by bisection when it crosses
 * the end of a region or view.
 *
 * Return: the number of pages (1..@max), or 0 when @gpn does not resolve.
 */
u64 gm_resolve_pages(struct guestmem *obj, u64 gpn, u64 max,
		     struct gm_loc *loc)
{
	struct gm_loc tmp;
	u64 lo = 1, hi;

	if (gpn > GM_MAX_GPN || !gm_pages_resolve(obj, gpn, 1, loc))
		return 0;
	hi = clamp(max, 1ULL, GM_MAX_GPN - gpn + 1);
	if (hi == 1 || gm_pages_resolve(obj, gpn, hi, &tmp))
		return hi;
	/* lo pages resolve, hi pages do not. */
	while (hi - lo > 1) {
		u64 mid = lo + (hi - lo) / 2;

		if (gm_pages_resolve(obj, gpn, mid, &tmp))
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int gm_ioctl_create_user(struct gm_ucmd *ucmd)
{
	struct guestmem_create_user *cmd = ucmd->cmd;
	struct guestmem *obj;
	int rc;

	if (cmd->flags || cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	rc = gm_check_user_range(cmd->base_uptr, cmd->len);
	if (rc)
		return rc;

	obj = gm_obj_alloc(NULL, 1);
	if (!obj)
		return -ENOMEM;
	rc = gm_obj_set_name_user(obj, cmd->name_uptr, cmd->name_len);
	if (rc)
		goto out_put_obj;
	obj->mem->type = GUESTMEM_OBJ_USER;
	gm_obj_set_single_region(obj);
	obj->mem->regions[0].type = GM_REGION_USER;
	obj->mem->regions[0].len = cmd->len;
	obj->mem->regions[0].uaddr = cmd->base_uptr;
	gm_obj_set_owner(obj);
	return gm_obj_publish(ucmd, obj, &cmd->out_fd);

out_put_obj:
	gm_obj_put(obj);
	return rc;
}

/* Copy, check and install backing @i of a multi-region object. */
static int gm_multi_take_backing(struct guestmem_create_multi *cmd,
				 struct guestmem *obj, u32 i)
{
	struct guestmem_backing __user *ubackings =
		u64_to_user_ptr(cmd->backings_uptr);
	struct guestmem_backing b;
	int rc;

	if (copy_from_user(&b, &ubackings[i], sizeof(b)))
		return -EFAULT;
	if (b.flags & ~(GUESTMEM_BACKING_PRESENT | GUESTMEM_BACKING_FILE))
		return -EOPNOTSUPP;
	if (!(b.flags & GUESTMEM_BACKING_FILE) && b.fd)
		return -EOPNOTSUPP;
	if (!(b.flags & GUESTMEM_BACKING_PRESENT)) {
		if (b.base_uptr || b.len || b.flags)
			return -EINVAL;
		obj->mem->regions[i].type = GM_REGION_ABSENT;
		return 0;
	}
	if (b.len > cmd->region_size) {
		cmd->out_reason = GUESTMEM_MR_BACKING_TOO_LARGE;
		cmd->out_bad_index = i;
		return -EINVAL;
	}
	if (b.flags & GUESTMEM_BACKING_FILE)
		return gm_take_file(&obj->mem->regions[i], b.fd, b.offset,
				    b.len);
	rc = gm_check_user_range(b.base_uptr, b.len);
	if (rc)
		return rc;
	obj->mem->regions[i].type = GM_REGION_USER;
	obj->mem->regions[i].len = b.len;
	obj->mem->regions[i].uaddr = b.base_uptr;
	return 0;
}

/**
 * gm_ioctl_create_multi() - GUESTMEM_CREATE_MULTI
 * @ucmd: the call (&struct guestmem_create_multi)
 *
 * The checks follow new_multi_region() in order; out_reason names the one
 * that failed.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int gm_ioctl_create_multi(struct gm_ucmd *ucmd)
{
	struct guestmem_create_multi *cmd = ucmd->cmd;
	u64 rs = cmd->region_size;
	u64 region_count, max_region_count;
	struct guestmem *obj;
	u32 region_bits, i;
	int rc;

	cmd->out_reason = GUESTMEM_MR_OK;
	cmd->out_bad_index = 0;
	cmd->out_region_count = 0;
	cmd->out_max_region_count = 0;
	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;

	if (!is_power_of_2(rs)) {
		cmd->out_reason = GUESTMEM_MR_NOT_POWER_OF_TWO;
		return -EINVAL;
	}
	if (rs < GM_PAGE_SIZE) {
		cmd->out_reason = GUESTMEM_MR_REGION_TOO_SMALL;
		return -EINVAL;
	}
	region_bits = ilog2(rs);
	max_region_count = 1ULL << (63 - region_bits);
	region_count = cmd->backing_count <= 1 ? 1 :
		roundup_pow_of_two((u64)cmd->backing_count);
	cmd->out_region_count = region_count;
	cmd->out_max_region_count = max_region_count;
	if (region_count > max_region_count) {
		cmd->out_reason = GUESTMEM_MR_TOO_MANY_REGIONS;
		return -EINVAL;
	}
	if (cmd->backing_count > gm_limit(gm_max_regions))
		return -ENOSPC;

	obj = gm_obj_alloc(NULL, cmd->backing_count);
	if (!obj)
		return -ENOMEM;
	rc = gm_obj_set_name_user(obj, cmd->name_uptr, cmd->name_len);
	if (rc)
		goto out_put_obj;
	for (i = 0; i < cmd->backing_count; i++) {
		rc = gm_multi_take_backing(cmd, obj, i);
		if (rc)
			goto out_put_obj;
	}
	obj->mem->type = GUESTMEM_OBJ_MULTI;
	obj->region_bits = region_bits;
	obj->region_mask = rs - 1;
	obj->invalid_mask = ~0ULL << (region_bits + ilog2(region_count));
	obj->region_count = region_count;
	/* User memory is the creator's; files need no owner. */
	for (i = 0; i < cmd->backing_count; i++) {
		if (obj->mem->regions[i].type == GM_REGION_USER) {
			gm_obj_set_owner(obj);
			break;
		}
	}
	return gm_obj_publish(ucmd, obj, &cmd->out_fd);

out_put_obj:
	gm_obj_put(obj);
	return rc;
}

/*
 * Up to GM_CONTIG_MAX_BYTES: one physically contiguous block, split into
 * pages, so that the object is one DMA range without an IOMMU too (dma.c);
 * the pages past @n go back at once.  NULL when no such block is free.
 */
static struct page *gm_alloc_contig(struct page **pages, unsigned long n)
{
	unsigned int order = get_order(n << PAGE_SHIFT);
	struct page *block;
	unsigned long i;

	if ((u64)n << PAGE_SHIFT > GM_CONTIG_MAX_BYTES)
		return NULL;
	block = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
			    __GFP_NORETRY, order);
	if (!block)
		return NULL;
	split_page(block, order);
	for (i = 0; i < n; i++)
		pages[i] = block + i;
	for (; i < 1UL << order; i++)
		__free_page(block + i);
	return block;
}

/* Fill @pages with @n zeroed pages; the caller frees what was set. */
static int gm_alloc_pages(struct page **pages, unsigned long n)
{
	unsigned long i;

	if (n && gm_alloc_contig(pages, n))
		return 0;
	for (i = 0; i < n; i++) {
		pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!pages[i])
			return -ENOMEM;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

int gm_ioctl_create_alloc(struct gm_ucmd *ucmd)
{
	struct guestmem_create_alloc *cmd = ucmd->cmd;
	unsigned long nr_pages;
	struct guestmem *obj;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	/* The second test keeps the rounding below from wrapping. */
	if (cmd->len > gm_limit(gm_max_alloc_bytes) ||
	    cmd->len > U64_MAX - GM_PAGE_SIZE)
		return -ENOSPC;

	obj = gm_obj_alloc(NULL, 1);
	if (!obj)
		return -ENOMEM;
	rc = gm_obj_set_name_kernel(obj, "heap");
	if (rc)
		goto out_put_obj;
	nr_pages = DIV_ROUND_UP(cmd->len, PAGE_SIZE);
	/* Unevictable memory: charged like pins, before it exists. */
	obj->mem->alloc_user = gm_acct_payer();
	rc = gm_acct_charge(obj->mem->alloc_user, nr_pages);
	if (rc)
		goto out_put_obj;
	obj->mem->alloc_charged = nr_pages;
	if (nr_pages) {
		obj->mem->pages = kvcalloc(nr_pages, sizeof(*obj->mem->pages),
					   GFP_KERNEL_ACCOUNT);
		if (!obj->mem->pages) {
			rc = -ENOMEM;
			goto out_put_obj;
		}
	}
	/* Only now: release walks nr_pages entries of the array. */
	obj->mem->nr_pages = nr_pages;
	rc = gm_alloc_pages(obj->mem->pages, nr_pages);
	if (rc)
		goto out_put_obj;
	obj->mem->type = GUESTMEM_OBJ_ALLOC;
	gm_obj_set_single_region(obj);
	obj->mem->regions[0].type = GM_REGION_ALLOC;
	obj->mem->regions[0].len = round_up(cmd->len, GM_PAGE_SIZE);
	cmd->out_alloc_size = obj->mem->regions[0].len;
	return gm_obj_publish(ucmd, obj, &cmd->out_fd);

out_put_obj:
	gm_obj_put(obj);
	return rc;
}

int gm_ioctl_create_empty(struct gm_ucmd *ucmd)
{
	struct guestmem_create_empty *cmd = ucmd->cmd;
	struct guestmem *obj;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	obj = gm_obj_alloc(NULL, 1);
	if (!obj)
		return -ENOMEM;
	rc = gm_obj_set_name_kernel(obj, "empty");
	if (rc)
		goto out_put_obj;
	obj->mem->type = GUESTMEM_OBJ_EMPTY;
	gm_obj_set_single_region(obj);
	obj->mem->regions[0].type = GM_REGION_NONE;
	return gm_obj_publish(ucmd, obj, &cmd->out_fd);

out_put_obj:
	gm_obj_put(obj);
	return rc;
}

/**
 * gm_ioctl_create_file() - GUESTMEM_CREATE_FILE
 * @ucmd: the call (&struct guestmem_create_file)
 *
 * One region: a range of a shmem or hugetlbfs file (gm_take_file()).
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int gm_ioctl_create_file(struct gm_ucmd *ucmd)
{
	struct guestmem_create_file *cmd = ucmd->cmd;
	struct guestmem *obj;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	obj = gm_obj_alloc(NULL, 1);
	if (!obj)
		return -ENOMEM;
	rc = gm_obj_set_name_user(obj, cmd->name_uptr, cmd->name_len);
	if (rc)
		goto out_put_obj;
	rc = gm_take_file(&obj->mem->regions[0], cmd->fd, cmd->offset,
			  cmd->len);
	if (rc)
		goto out_put_obj;
	obj->mem->type = GUESTMEM_OBJ_FILE;
	gm_obj_set_single_region(obj);
	return gm_obj_publish(ucmd, obj, &cmd->out_fd);

out_put_obj:
	gm_obj_put(obj);
	return rc;
}

/**
 * gm_ioctl_subrange() - GUESTMEM_SUBRANGE
 * @ucmd: the call (&struct guestmem_subrange)
 *
 * The seed's generic subrange: the range must resolve in one region; for a
 * multi-region object the region must also have a backing (the seed asks
 * the missing backing and gets OutOfRange).
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int gm_ioctl_subrange(struct gm_ucmd *ucmd)
{
	struct guestmem_subrange *cmd = ucmd->cmd;
	struct guestmem *obj = ucmd->obj;
	struct guestmem *view;
	struct gm_loc loc;

	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	if ((cmd->flags & ~GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	if (gm_resolve(obj, cmd->offset, cmd->len, &loc) ||
	    (!obj->base && loc.region->type == GM_REGION_ABSENT)) {
		gm_fault_set(&cmd->out_fault, GUESTMEM_KIND_OUT_OF_RANGE,
			     GUESTMEM_CAUSE_NO_MEMORY, cmd->offset);
		return -ERANGE;
	}

	view = gm_obj_alloc(loc.base, 0);
	if (!view)
		return -ENOMEM;
	view->view_offset = (obj->base ? obj->view_offset : 0) + cmd->offset;
	view->view_len = cmd->len;
	gm_obj_set_single_region(view);
	if ((cmd->flags & GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING) &&
	    view->mem->type != GUESTMEM_OBJ_ALLOC)
		gm_view_preempt(view);
	return gm_obj_publish(ucmd, view, &cmd->out_fd);
}

/* Can mmap() of the object fd reach this region's memory? */
static bool gm_region_mmappable(const struct gm_region *region)
{
	/*
	 * A hugetlbfs mapping must be aligned to its huge page size, which
	 * the address chosen for the object fd is not.  A mapping maps whole
	 * kernel pages: with pages over 4 KiB, a region that is not made of
	 * whole pages of its file would show the file's data around it.
	 */
	return region->type == GM_REGION_ALLOC ||
	       (region->type == GM_REGION_FILE &&
		!gm_file_is_hugetlb(region->file) &&
		IS_ALIGNED(region->file_off | region->len, PAGE_SIZE));
}

/*
 * The mmap window of an object: mmap offset 0 is the base page @first,
 * which holds the object's address 0 at @offset, and @count pages reach
 * the end of the last region that mmap() can map.  A view sees the pages
 * that hold its bytes, a base object its whole address space.
 *
 * Return: false when mmap() can map no region of the object (@count 0).
 */
static bool gm_mmap_window(struct guestmem *obj, u64 *first, u64 *count,
			   u64 *offset)
{
	struct gm_mem *mem = obj->mem;
	u64 start = obj->base ? obj->view_offset : 0;
	bool any = false;
	struct gm_loc loc;
	u64 len = 0;
	u32 i;

	if (obj->base) {
		any = !gm_resolve(obj, 0, 0, &loc) &&
		      gm_region_mmappable(loc.region);
		len = obj->view_len;
	} else {
		for (i = 0; i < mem->nr_regions; i++) {
			if (!gm_region_mmappable(&mem->regions[i]))
				continue;
			any = true;
			len = ((u64)i << obj->region_bits) +
			      mem->regions[i].len;
		}
	}
	*first = start >> PAGE_SHIFT;
	*offset = start & ~PAGE_MASK;
	*count = any ? DIV_ROUND_UP(*offset + len, PAGE_SIZE) : 0;
	return any;
}

static vm_fault_t gm_vm_fault(struct vm_fault *vmf)
{
	struct guestmem *obj = vmf->vma->vm_private_data;
	struct gm_mem *mem = obj->mem;
	u64 first, count, offset;
	struct page *page;

	gm_mmap_window(obj, &first, &count, &offset);
	if (vmf->pgoff >= count)
		return VM_FAULT_SIGBUS;
	page = mem->pages[first + vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct gm_vm_ops = {
	.fault = gm_vm_fault,
};

/*
 * mmap() of a window of a file-backed region: the VMA becomes a mapping of
 * the file itself (as dma_buf_mmap() hands a mapping to its exporter), so
 * faults, reclaim, truncation and seals are the file's business.  The
 * window must lie inside one region: a VMA maps one file.
 */
static int gm_obj_mmap_file(struct guestmem *obj, struct vm_area_struct *vma,
			    u64 first)
{
	struct guestmem *base = obj->base ? obj->base : obj;
	u64 addr = (first + vma->vm_pgoff) << PAGE_SHIFT;
	u64 len = (u64)vma_pages(vma) << PAGE_SHIFT;
	const struct gm_region *region;
	u64 slot, off;

	slot = base->region_bits < 64 ? addr >> base->region_bits : 0;
	off = addr & base->region_mask;
	if (slot >= base->mem->nr_regions)
		return -EINVAL;
	region = &base->mem->regions[slot];
	if (region->type != GM_REGION_FILE || !gm_region_mmappable(region) ||
	    off + len > region->len)
		return -EINVAL;
	/*
	 * The file's seals, as an mmap() of the file itself meets them
	 * (memfd_check_seals_mmap(), which checks the file mmap() was called
	 * on: ours): F_SEAL_FUTURE_WRITE, added since the object was made,
	 * allows no new writable mapping.
	 */
	if (gm_file_seals(region->file) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		gm_vm_flags_clear(vma, VM_MAYWRITE);
	}
	vma->vm_pgoff = (region->file_off + off) >> PAGE_SHIFT;
	vma_set_file(vma, region->file);
	return gm_vfs_mmap(region->file, vma);
}

/**
 * gm_obj_mmap() - mmap() of an object fd
 * @obj: the object
 * @vma: the new mapping
 *
 * Allocated memory and file-backed regions (but for hugetlbfs) can be
 * mapped, only shared, and only inside the object's window (mmap offset 0
 * is the page that holds the object's address 0; for a base object, mmap
 * offset a is guest address a).  One mapping reaches one region.
 *
 * Return: 0, -ENODEV (nothing mappable), -EINVAL (private, outside the
 * window, across regions or over a hole), -EPERM (writable, and the file
 * is sealed against new writers), or the file's mmap() errors.
 */
int gm_obj_mmap(struct guestmem *obj, struct vm_area_struct *vma)
{
	u64 first, count, offset, end;

	if (!gm_mmap_window(obj, &first, &count, &offset))
		return -ENODEV;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (check_add_overflow((u64)vma->vm_pgoff, (u64)vma_pages(vma), &end) ||
	    end > count)
		return -EINVAL;
	if (obj->mem->type != GUESTMEM_OBJ_ALLOC)
		return gm_obj_mmap_file(obj, vma, first);
	gm_vm_flags_set(vma, VM_DONTEXPAND);
	vma->vm_ops = &gm_vm_ops;
	vma->vm_private_data = obj;
	return 0;
}

static bool gm_region_mapped(const struct gm_region *region)
{
	return region->type == GM_REGION_USER ||
	       region->type == GM_REGION_ALLOC ||
	       region->type == GM_REGION_FILE;
}

/* One region slot as GUESTMEM_INFO reports it. */
static void gm_region_info(struct guestmem *obj, u64 slot, bool owner,
			   struct guestmem_region_info *ri)
{
	const struct gm_region *region;
	struct gm_loc loc;
	u64 va_off = 0;

	memset(ri, 0, sizeof(*ri));
	if (obj->base) {
		/* A view of length 0 at offset 0 of its base always resolves. */
		if (gm_resolve(obj, 0, 0, &loc))
			return;
		region = loc.region;
		va_off = loc.off;
		ri->len = obj->view_len;
	} else {
		region = slot < obj->mem->nr_regions ? &obj->mem->regions[slot] :
						  &gm_absent_region;
		ri->len = region->len;
	}
	if (region->type == GM_REGION_ABSENT)
		return;
	ri->flags |= GUESTMEM_REGION_PRESENT;
	if (!gm_region_mapped(region))
		return;
	ri->flags |= GUESTMEM_REGION_MAPPED;
	if (region->type == GM_REGION_FILE)
		ri->flags |= GUESTMEM_REGION_FILE;
	if (gm_region_mmappable(region))
		ri->flags |= GUESTMEM_REGION_MMAP;
	if (region->type == GM_REGION_USER && owner) {
		ri->flags |= GUESTMEM_REGION_HAS_VA;
		ri->va = region->uaddr + va_off;
	}
}

static bool gm_obj_supports_locking(struct guestmem *obj)
{
	struct guestmem_region_info ri;
	u64 i;

	/* The empty object has nothing to lock; a view of it has no mapping. */
	if (obj->mem->type == GUESTMEM_OBJ_EMPTY)
		return !obj->base;
	for (i = 0; i < obj->region_count; i++) {
		gm_region_info(obj, i, false, &ri);
		if ((ri.flags & GUESTMEM_REGION_PRESENT) &&
		    !(ri.flags & GUESTMEM_REGION_MAPPED))
			return false;
		/* Files can be pinned from 6.11 on (compat.h). */
		if ((ri.flags & GUESTMEM_REGION_FILE) && !GM_HAVE_FILE_PIN)
			return false;
	}
	return true;
}

static int gm_info_copy_regions(struct guestmem *obj,
				struct guestmem_info *cmd, bool owner)
{
	struct guestmem_region_info __user *uri =
		u64_to_user_ptr(cmd->regions_uptr);
	struct guestmem_region_info ri;
	u64 i;

	for (i = 0; i < obj->region_count; i++) {
		gm_region_info(obj, i, owner, &ri);
		if (copy_to_user(&uri[i], &ri, sizeof(ri)))
			return -EFAULT;
		cond_resched();
	}
	return 0;
}

/* GUESTMEM_INFO's view of the locks, and of the device (dma.c). */
static void gm_info_locks(struct guestmem *obj, struct guestmem_info *cmd)
{
	struct gm_mem *mem = obj->mem;

	mutex_lock(&mem->lock_mutex);
	cmd->out_locked_pages = obj->locked_pages;
	cmd->out_pinned_pages = obj->pinned_pages;
	cmd->out_lock_count = obj->lock_count;
	if (obj->preempt)
		cmd->out_flags |= GUESTMEM_INFO_PREEMPTIVE;
	gm_dma_info(obj, cmd);
	mutex_unlock(&mem->lock_mutex);
}

/**
 * gm_ioctl_info() - GUESTMEM_INFO
 * @ucmd: the call (&struct guestmem_info)
 *
 * Return: 0, -EMSGSIZE (a buffer is too small; sizes written back), or
 * another negative errno (see the uapi header).
 */
int gm_ioctl_info(struct gm_ucmd *ucmd)
{
	struct guestmem_info *cmd = ucmd->cmd;
	struct guestmem *obj = ucmd->obj;
	struct gm_mem *mem = obj->mem;
	struct guestmem_region_info ri;
	bool owner = mem->mm && mem->mm == current->mm;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	cmd->out_name_len = obj->mem->name_len;
	cmd->out_type = obj->mem->type;
	cmd->out_region_count = obj->region_count;
	cmd->out_region_bits = obj->region_bits;
	cmd->out_invalid_mask = obj->invalid_mask;
	cmd->out_region_mask = obj->region_mask;
	cmd->out_subrange_offset = obj->base ? obj->view_offset : 0;
	cmd->out_full_mapping_va = 0;
	cmd->out_full_mapping_len = 0;
	cmd->out_mmap_size = 0;
	cmd->out_mmap_offset = 0;
	cmd->out_flags = 0;
	if (obj->base)
		cmd->out_flags |= GUESTMEM_INFO_SUBRANGE;
	if (owner)
		cmd->out_flags |= GUESTMEM_INFO_OWNER;
	if (mem->mm && gm_owner_exited(mem))
		cmd->out_flags |= GUESTMEM_INFO_OWNER_EXITED;
	if (gm_obj_supports_locking(obj))
		cmd->out_flags |= GUESTMEM_INFO_SUPPORTS_LOCKING;

	/* The seed's full_mapping(): exactly one slot, and it is mapped. */
	if (obj->region_count == 1) {
		gm_region_info(obj, 0, owner, &ri);
		if (ri.flags & GUESTMEM_REGION_MAPPED) {
			cmd->out_flags |= GUESTMEM_INFO_FULL_MAPPING;
			cmd->out_full_mapping_len = ri.len;
		}
		if (ri.flags & GUESTMEM_REGION_HAS_VA) {
			cmd->out_flags |= GUESTMEM_INFO_FULL_MAPPING_VA;
			cmd->out_full_mapping_va = ri.va;
		}
	}
	{
		u64 first, count, offset;

		if (gm_mmap_window(obj, &first, &count, &offset)) {
			cmd->out_mmap_size = count << PAGE_SHIFT;
			cmd->out_mmap_offset = offset;
			cmd->out_flags |= GUESTMEM_INFO_MMAP;
		}
	}

	gm_info_locks(obj, cmd);

	if (cmd->name_uptr && cmd->name_capacity <= obj->mem->name_len)
		return -EMSGSIZE;
	if (cmd->regions_uptr && cmd->region_capacity < obj->region_count)
		return -EMSGSIZE;
	if (cmd->name_uptr &&
	    copy_to_user(u64_to_user_ptr(cmd->name_uptr), obj->mem->name,
			 obj->mem->name_len + 1))
		return -EFAULT;
	if (cmd->regions_uptr) {
		rc = gm_info_copy_regions(obj, cmd, owner);
		if (rc)
			return rc;
	}
	return 0;
}
