// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem locks: long-term pins of guest pages, their accounting, and the
 * per-object lock tables.
 *
 * DOC: Locks
 *
 * A lock (&struct guestmem_lock) is the kernel side of the seed's LockedPages:
 * the caller's gpn list, in order, duplicates included, and the page behind
 * each entry.  It belongs to the object it was made through - a base
 * object or a view - and lives in that object's @locks xarray under an id
 * (xa_alloc, never 0) until it is unlocked or the object is destroyed.
 * Lock ids are therefore per object fd: a view's locks die with the view.
 *
 * Pages.  User memory is pinned long-term with FOLL_WRITE | FOLL_LONGTERM
 * (a lock is for DMA, which may write; a read-only lock's device only
 * reads, and FOLL_WRITE is left out) in the owner's mm, whoever calls:
 * pin_user_pages_fast() when the caller is the owner, else
 * pin_user_pages_remote() under mmap_read_lock (locked == NULL: 6.1 refuses
 * FOLL_LONGTERM with a "locked" pointer).  Entries are handled in runs, the
 * way iommufd handles pfn batches rather than pages: the gpn list is cut
 * once into runs of consecutive gpns (&struct gm_lock_run), each run is
 * resolved with one gm_resolve_pages() per region it touches, and its pages
 * go to GUP GM_PIN_BATCH at a time; a short pin continues at the next page,
 * so a failure names the exact entry.  A lock of a view is resolved in the
 * view's address space and translated to the base's backing; a guest page
 * whose backing does not start on a 4 KiB boundary is "not lockable".
 * Pages of an allocated object belong to the object and are simply
 * referenced: the object outlives its locks.  Pages of a
 * file-backed region are pinned in the file with memfd_pin_folios() (one
 * pin per page, so that each entry is unpinned alone), charged as user
 * pins are, but counted in no mm's pinned_vm: no process maps them for
 * the object.  Kernels before 6.11 cannot pin them: "not lockable".
 *
 * A page is pinned once per lock, however often its gpn is listed: the
 * runs already handled form a small interval tree while the lock is built,
 * and a stretch of gpns that an earlier run covers takes that run's pages
 * without a new pin.  Without repeats the pins sit in entries 0..npinned-1;
 * the first pin after a repeat starts a bitmap of the entries that hold
 * them (@pinned_map), which unpin walks.
 *
 * Kernel pages over 4 KiB (arm64 with 16 or 64 KiB pages): a gpn is a
 * 4 KiB piece of a kernel page, and GUP, the DMA API and the accounting
 * know only whole pages.  A lock pins the page that holds a gpn once,
 * whichever of its gpns are listed and in whatever order (the entry before
 * in the same run, or an earlier run with a gpn of that page, already
 * holds it); each entry records its piece (@subpage), so that its IOVA is
 * the page's plus the piece's offset (dma.c).  Since the whole page is
 * pinned and mapped for the device, a gpn is lockable only if its page
 * lies wholly inside the lock's object - in its region, in a view's
 * window - else "not lockable": a lock never pins or maps memory outside
 * the object.  Pins, charges and the counters are in kernel pages, what is
 * really pinned.  Allocated objects are whole kernel pages (their last one
 * the object's own to its end) and are locked as before.
 *
 * Accounting (io_uring's and iommufd's model, per user).  Every pinned page
 * is charged to the *user* of the process that makes the lock:
 * user_struct->locked_vm, held with get_uid() by the lock, against that
 * process's RLIMIT_MEMLOCK, unless it has CAP_IPC_LOCK at that moment (then
 * nothing is charged, as in iommufd's ACCOUNT_NONE).  The charge is taken
 * before each GUP batch, so a lock never pins more than the budget left,
 * and is returned exactly once, when the pins go, whatever has become of
 * the owner's or the caller's mm: exec, exit, fork and fd passing neither
 * free nor duplicate a budget.  Allocated objects charge their pages the
 * same way (object.c).  Over the limit nothing stays pinned and the lock
 * fails with -ENOMEM.  The owner's mm->pinned_vm (VmPin in
 * /proc/PID/status) counts the pages pinned in that mm, as iommufd's
 * source_mm does: it tells where pinned memory lies, not who pays for it.
 *
 * allow_preemptive_locking: a view made with it pins its whole range at
 * creation, as one hidden lock (best effort, see gm_view_preempt()); locks
 * through the view then borrow those pages instead of pinning them again.
 *
 * A published lock's runs are in its object's gpn index (index.c), which
 * dma.c asks which lock holds a page.
 *
 * Lock order: mem->lock_mutex -> owner's mmap_lock (GUP) -> nothing of
 * guestmem.  The mutex guards the lock tables of a base object
 * and of all its views, and the attached device; it is never taken on the
 * data path (read, write, ...).  Pinning runs without it; a new lock takes
 * it to be DMA-mapped and indexed, unlock and destroy take it to unmap
 * (before any unpin) and unindex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/sched/user.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include <linux/guestmem_netlink.h>

#include "guestmem_private.h"

/* Pages per GUP call: bounds the time between fatal-signal checks. */
#define GM_PIN_BATCH	512

/**
 * gm_acct_payer() - who pays for pages the calling process pins or allocates
 *
 * Return: the caller's user, referenced (release with free_uid()), or NULL
 * when the caller has CAP_IPC_LOCK: such pins and allocations are neither
 * limited nor counted.
 */
struct user_struct *gm_acct_payer(void)
{
	/* Without it, locking is simply limited: no audit record. */
	if (ns_capable_noaudit(&init_user_ns, CAP_IPC_LOCK))
		return NULL;
	return get_uid(current_user());
}

/**
 * gm_acct_charge() - charge pages to a user, within the caller's limit
 * @user: from gm_acct_payer(); NULL charges nothing
 * @npages: pages to charge
 *
 * The limit is the calling process's RLIMIT_MEMLOCK; everything the user
 * has charged counts, whichever process charged it (io_uring's and
 * iommufd's check).
 *
 * Return: 0, or -ENOMEM when the charge would pass the limit.
 */
int gm_acct_charge(struct user_struct *user, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	long cur;

	if (!user || !npages)
		return 0;
	cur = atomic_long_read(&user->locked_vm);
	do {
		if (npages > limit || cur > limit - npages)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur,
					  cur + npages));
	return 0;
}

/**
 * gm_acct_uncharge() - return pages charged with gm_acct_charge()
 * @user: the user charged, or NULL
 * @npages: pages to return
 */
void gm_acct_uncharge(struct user_struct *user, unsigned long npages)
{
	if (user && npages)
		atomic_long_sub(npages, &user->locked_vm);
}

/**
 * gm_gup_errno() - GUP's answer for a guest page, as guestmem reports it
 * @rc: a negative return of pin_user_pages*()
 *
 * Return: -EINTR, -ENOMEM, or -EFAULT for everything that means "this page
 * cannot be had" (unmapped, PROT_NONE, read-only for a write, refused).
 */
int gm_gup_errno(long rc)
{
	if (rc == -EINTR || rc == -ERESTARTSYS)
		return -EINTR;
	if (rc == -ENOMEM)
		return -ENOMEM;
	return -EFAULT;
}

/**
 * gm_pin_user() - pin pages of the owner's address space
 * @mm: the owner's mm, held with mmget by the caller
 * @start: page-aligned user address
 * @nr: number of pages
 * @gup_flags: FOLL_WRITE, FOLL_LONGTERM
 * @pages: receives the pages
 *
 * The fast path when the caller is the owner, else the remote path under
 * the owner's mmap_read_lock.  Long-term write pins of shared file
 * mappings that writeback cleans are refused on every kernel (see
 * gm_longterm_pinnable() in compat.h).
 *
 * Return: the number of pages pinned (maybe fewer than @nr), or a
 * negative errno.
 */
long gm_pin_user(struct mm_struct *mm, unsigned long start, unsigned long nr,
		 unsigned int gup_flags, struct page **pages)
{
	long pinned;

	if (mm == current->mm && !gm_gup_needs_vma_check(gup_flags))
		return pin_user_pages_fast(start, nr, gup_flags, pages);
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	nr = gm_longterm_pinnable(mm, start, nr, gup_flags);
	pinned = nr ? gm_pin_user_pages_remote(mm, start, nr, gup_flags,
					       pages) : -EFAULT;
	mmap_read_unlock(mm);
	return pinned;
}

/*
 * What a run of entries is: user addresses to pin (@uaddr), pages of a
 * file to pin (@file at byte @pos), pages to take (@pages: kernel pages,
 * the first holding the first entry as its piece @sub) or entries to
 * borrow (@pages and @subpage: one per entry, a preemptive lock's).
 * @sub is the first entry's 4 KiB piece of its kernel page.
 */
struct gm_lock_target {
	unsigned long uaddr;
	struct file *file;
	u64 pos;
	struct page **pages;
	const u8 *subpage;
	unsigned int sub;
};

/*
 * With kernel pages over 4 KiB: is the page that holds gpn @gpn (its
 * 4 KiB piece @sub) wholly inside @obj, in @region?  A lock pins and maps
 * whole kernel pages; one that reached past the object (another mapping
 * of the owner, a view's neighbours, a file's other data) would hand the
 * device memory that is not this object's.
 */
static bool gm_page_inside(struct guestmem *obj, u64 gpn, unsigned int sub,
			   const struct gm_region *region)
{
	struct gm_loc head;

	/* Its last byte, not its end: the end of a full slot is outside it. */
	return gpn >= sub &&
	       !gm_resolve(obj, (gpn - sub) << GM_PAGE_SHIFT, PAGE_SIZE - 1,
			   &head) &&
	       head.region == region && head.off + PAGE_SIZE <= region->len;
}

/*
 * The @n entries from @gpn, at backing address @addr of @region, are
 * pinned as whole kernel pages: how many of them lie in pages wholly
 * inside @obj (0 when @gpn's does not)?  Sets t->sub.
 */
static u64 gm_lock_whole_pages(struct guestmem *obj, u64 gpn, u64 n,
			       u64 addr, const struct gm_region *region,
			       struct gm_lock_target *t)
{
	unsigned int last_sub;

	t->sub = (addr >> GM_PAGE_SHIFT) & (GM_SUBPAGES - 1);
	if (GM_SUBPAGES == 1)
		return n;
	if (!gm_page_inside(obj, gpn, t->sub, region))
		return 0;
	/* The pages between the first and the last are inside if they are. */
	last_sub = (t->sub + n - 1) & (GM_SUBPAGES - 1);
	if (!gm_page_inside(obj, gpn + n - 1, last_sub, region))
		n -= last_sub + 1;
	return n;
}

/*
 * Resolve entries @gpn .. @gpn + @max - 1 of a lock made through @obj.
 * Return: how many of them (from 1) resolve alike into @t, or a negative
 * errno with GUESTMEM_CAUSE_* in @cause for @gpn itself.
 */
static long gm_lock_locate(struct guestmem *obj, u64 gpn, u64 max,
			   struct gm_lock_target *t, u32 *cause)
{
	struct guestmem_lock *preempt = obj->preempt;
	struct gm_loc loc;
	u64 n;

	if (gpn > GM_MAX_GPN) {
		*cause = GUESTMEM_CAUSE_INVALID_GPN;
		return -ERANGE;
	}
	n = gm_resolve_pages(obj, gpn, max, &loc);
	if (!n) {
		*cause = GUESTMEM_CAUSE_NO_MEMORY;
		return -ERANGE;
	}
	memset(t, 0, sizeof(*t));
	switch (loc.region->type) {
	case GM_REGION_USER:
		t->uaddr = loc.region->uaddr + loc.off;
		if (!IS_ALIGNED(t->uaddr, GM_PAGE_SIZE))
			break;
		/* Pinned since the view was made: borrow the pages. */
		if (preempt && gpn < preempt->npages)
			goto borrow;
		n = gm_lock_whole_pages(obj, gpn, n, t->uaddr, loc.region, t);
		if (!n)
			break;
		return n;
	case GM_REGION_ALLOC:
		/* The object's own pages: nothing outside it is pinned. */
		if (!IS_ALIGNED(loc.off, GM_PAGE_SIZE))
			break;
		t->pages = loc.base->mem->pages + (loc.off >> PAGE_SHIFT);
		t->sub = (loc.off >> GM_PAGE_SHIFT) & (GM_SUBPAGES - 1);
		return n;
	case GM_REGION_FILE:
		if (!IS_ALIGNED(loc.off, GM_PAGE_SIZE) || !GM_HAVE_FILE_PIN)
			break;
		t->file = loc.region->file;
		t->pos = loc.region->file_off + loc.off;
		if (preempt && gpn < preempt->npages)
			goto borrow;
		n = gm_lock_whole_pages(obj, gpn, n, t->pos, loc.region, t);
		if (!n)
			break;
		return n;
	case GM_REGION_NONE:
		break;
	default:
		*cause = GUESTMEM_CAUSE_NO_MEMORY;
		return -ERANGE;
	}
	*cause = GUESTMEM_CAUSE_NOT_LOCKABLE;
	return -EFAULT;

borrow:
	t->pages = preempt->pages + gpn;
	if (GM_SUBPAGES > 1)
		t->subpage = preempt->subpage + gpn;
	return min(n, preempt->npages - gpn);
}

/* Entry @index (gpn @gpn) failed with @rc for @cause. */
static void gm_lock_fault(struct guestmem_fault *fault, int rc, u32 cause,
			  unsigned long index, u64 gpn)
{
	u32 kind = rc == -ERANGE ? GUESTMEM_KIND_OUT_OF_RANGE :
				   GUESTMEM_KIND_OTHER;

	/* An invalid gpn has no address. */
	if (cause == GUESTMEM_CAUSE_INVALID_GPN)
		gm_fault_kind(fault, kind, cause);
	else
		gm_fault_set(fault, kind, cause, gpn << GM_PAGE_SHIFT);
	gm_fault_index(fault, index, gpn);
}

/* Does entry @i of @gpns start a run (not the gpn after its predecessor)? */
static bool gm_run_starts(const u64 *gpns, unsigned long i)
{
	return !i || !gpns[i] || gpns[i] - 1 != gpns[i - 1];
}

/* Cut @count gpns into runs of consecutive gpns: lock->runs. */
static int gm_lock_make_runs(struct guestmem_lock *lock, const u64 *gpns,
			     unsigned long count)
{
	struct gm_lock_run *run;
	unsigned long i, n = 0;

	for (i = 0; i < count; i++)
		n += gm_run_starts(gpns, i);
	if (!n)
		return 0;
	lock->runs = kvcalloc(n, sizeof(*lock->runs), GFP_KERNEL_ACCOUNT);
	if (!lock->runs)
		return -ENOMEM;
	lock->nr_runs = n;
	run = NULL;
	for (i = 0; i < count; i++) {
		if (gm_run_starts(gpns, i)) {
			run = run ? run + 1 : lock->runs;
			run->lock = lock;
			run->start = gpns[i];
			run->index = i;
		}
		run->last = gpns[i];
	}
	return 0;
}

/*
 * Entries from @i on are about to hold new pins.  Until now the pins sat
 * in entries 0..npinned-1; if these do not continue them (a repeated gpn
 * came between), switch to a bitmap of the entries that hold pins.
 */
static int gm_lock_prepare_pins(struct guestmem_lock *lock, unsigned long i)
{
	/* Kernel pages over 4 KiB: each page's first entry holds its pin. */
	if (lock->pinned_map || (GM_SUBPAGES == 1 && i == lock->npinned))
		return 0;
	lock->pinned_map = kvcalloc(BITS_TO_LONGS(lock->npages),
				    sizeof(unsigned long), GFP_KERNEL_ACCOUNT);
	if (!lock->pinned_map)
		return -ENOMEM;
	bitmap_set(lock->pinned_map, 0, lock->npinned);
	return 0;
}

/*
 * Pin up to @nr pages of @file from byte @pos (memfd_pin_folios(), one page
 * at a time so that each is unpinned alone).  Return: pages pinned, or, if
 * the first one cannot be, a negative errno (-EFAULT: past the file's end).
 */
static long gm_pin_file(struct file *file, u64 pos, long nr,
			struct page **pages)
{
	struct page *page;
	long pinned;

	for (pinned = 0; pinned < nr; pinned++, pos += PAGE_SIZE) {
		if (pos >= i_size_read(file_inode(file)))
			return pinned ?: -EFAULT;
		page = gm_file_pin_page(file, pos >> PAGE_SHIFT);
		if (IS_ERR(page))
			return pinned ?: PTR_ERR(page);
		pages[pinned] = page;
	}
	return pinned;
}

/*
 * Entries @i..@i+@n-1 are the 4 KiB pieces, from piece @sub on, of the
 * consecutive kernel pages @pages.  @pages may be lock->pages + @i itself
 * (pages just pinned there, never more than the entries): it is read from
 * the end, so each page is read before its slot is overwritten.
 */
static void gm_lock_spread(struct guestmem_lock *lock, unsigned long i,
			   struct page **pages, unsigned int sub,
			   unsigned long n)
{
	unsigned long k;

	if (GM_SUBPAGES == 1) {
		if (pages != lock->pages + i)
			memcpy(lock->pages + i, pages, n * sizeof(*pages));
		return;
	}
	for (k = n; k-- > 0;) {
		lock->pages[i + k] = pages[(sub + k) >> GM_SUBPAGE_SHIFT];
		lock->subpage[i + k] = (sub + k) & (GM_SUBPAGES - 1);
	}
}

/* Entries @i.. are copies of @n entries: @pages, @subpage (NULL on 4 KiB). */
static void gm_lock_copy(struct guestmem_lock *lock, unsigned long i,
			 struct page **pages, const u8 *subpage,
			 unsigned long n)
{
	memcpy(lock->pages + i, pages, n * sizeof(*pages));
	if (GM_SUBPAGES > 1)
		memcpy(lock->subpage + i, subpage, n);
}

/*
 * Pin the kernel pages that hold up to @n entries of @t (user addresses of
 * @mm, or a file), from the start of the first to the end of the last,
 * into entries @i.. of the lock, charged before they are pinned (never
 * more than the budget left).  Return: entries filled (at least 1), or a
 * negative errno.
 */
static long gm_lock_pin_batch(struct guestmem_lock *lock, struct mm_struct *mm,
			      const struct gm_lock_target *t, unsigned long i,
			      long n)
{
	u64 back = (u64)t->sub << GM_PAGE_SHIFT;
	long nr, pinned, k;
	int rc;

	nr = min_t(long, DIV_ROUND_UP(t->sub + n, GM_SUBPAGES), GM_PIN_BATCH);
	rc = gm_lock_prepare_pins(lock, i);
	if (rc)
		return rc;
	/* -EDQUOT: over the limit (gm_lock_create() reports -ENOMEM). */
	if (gm_acct_charge(lock->user, nr))
		return -EDQUOT;
	if (t->file)
		pinned = gm_pin_file(t->file, t->pos - back, nr, lock->pages + i);
	else
		pinned = gm_pin_user(mm, t->uaddr - back, nr,
				     FOLL_LONGTERM |
				     (lock->read_only ? 0 : FOLL_WRITE),
				     lock->pages + i);
	gm_acct_uncharge(lock->user, nr - max(pinned, 0L));
	if (pinned <= 0)
		return pinned ? gm_gup_errno(pinned) : -EFAULT;
	lock->npinned += pinned;
	/* A file's pages are in no mm's pinned_vm: no process maps them for us. */
	if (!t->file) {
		lock->npinned_vm += pinned;
		atomic64_add(pinned, &mm->pinned_vm);
	}
	n = min_t(long, n, pinned * GM_SUBPAGES - t->sub);
	gm_lock_spread(lock, i, lock->pages + i, t->sub, n);
	if (lock->pinned_map && GM_SUBPAGES == 1)
		bitmap_set(lock->pinned_map, i, pinned);
	else if (lock->pinned_map)
		for (k = 0; k < pinned; k++)
			__set_bit(i + (k ? k * GM_SUBPAGES - t->sub : 0),
				  lock->pinned_map);
	return n;
}

/*
 * Kernel pages over 4 KiB: the page that holds gpn @gpn (entry @i, its
 * piece @sub) if an entry before holds it - the one before in the same run,
 * or one of an earlier run - else NULL.  Every gpn of that page resolves
 * like @gpn (gm_lock_whole_pages()), so any entry for one of them has it.
 */
static struct page *gm_lock_held_page(struct guestmem_lock *lock,
				      const struct gm_lock_run *run,
				      struct rb_root_cached *seen, u64 gpn,
				      unsigned long i, unsigned int sub)
{
	u64 first = gpn - sub;
	struct gm_lock_run *prev;

	if (sub && i > run->index)
		return lock->pages[i - 1];
	prev = gm_run_first(seen, first, first + GM_SUBPAGES - 1);
	if (!prev)
		return NULL;
	return lock->pages[prev->index + max(prev->start, first) - prev->start];
}

/*
 * ... and of the @n entries from @gpn, whose page no entry before holds,
 * how many come before the first page an earlier run has an entry in.
 */
static long gm_lock_new_pages(struct rb_root_cached *seen, u64 gpn,
			      unsigned int sub, long n)
{
	u64 first = gpn - sub;
	struct gm_lock_run *prev;

	prev = gm_run_first(seen, first,
			    first + round_up(sub + n, GM_SUBPAGES) - 1);
	/* Not in @gpn's page: prev->start is at least a page further. */
	if (prev)
		n = min_t(long, n,
			  round_down(prev->start - first, GM_SUBPAGES) - sub);
	return n;
}

/*
 * Fill lock->pages for one run.  User pages are pinned (lock->npinned
 * counts them); the caller unpins on failure.  @seen holds the runs of
 * this lock handled before: gpns they cover take their pages.  *@mmp is
 * the owner's mm, mmget'ed on first use (the caller mmputs it).
 */
static int gm_lock_pin_run(struct guestmem_lock *lock, const struct gm_lock_run *run,
			   struct rb_root_cached *seen, struct mm_struct **mmp,
			   struct guestmem_fault *fault)
{
	struct guestmem *obj = lock->obj;
	struct gm_mem *mem = obj->mem;
	unsigned long i = run->index;
	u64 gpn = run->start;
	u32 cause;

	while (gpn <= run->last) {
		struct gm_lock_run *prev;
		struct gm_lock_target t;
		u64 last = run->last;
		long n;

		prev = gm_run_first(seen, gpn, last);
		if (prev && prev->start <= gpn) {
			/* Listed before: the same pages, no second pin. */
			unsigned long j = prev->index + (gpn - prev->start);

			n = min(prev->last, last) - gpn + 1;
			gm_lock_copy(lock, i, lock->pages + j,
				     GM_SUBPAGES > 1 ? lock->subpage + j : NULL,
				     n);
			i += n;
			gpn += n;
			continue;
		}
		if (prev)
			last = prev->start - 1;
		n = gm_lock_locate(obj, gpn, last - gpn + 1, &t, &cause);
		if (n < 0) {
			gm_lock_fault(fault, n, cause, i, gpn);
			return n;
		}
		if (t.pages) {
			/* Allocated memory, or borrowed: not pinned again. */
			if (t.subpage)
				gm_lock_copy(lock, i, t.pages, t.subpage, n);
			else
				gm_lock_spread(lock, i, t.pages, t.sub, n);
			i += n;
			gpn += n;
			continue;
		}
		if (GM_SUBPAGES > 1) {
			struct page *page = gm_lock_held_page(lock, run, seen,
							      gpn, i, t.sub);

			if (page) {
				/* Its page is pinned already: not again. */
				n = min_t(long, n, GM_SUBPAGES - t.sub);
				gm_lock_spread(lock, i, &page, t.sub, n);
				i += n;
				gpn += n;
				continue;
			}
			n = gm_lock_new_pages(seen, gpn, t.sub, n);
		}
		if (!t.file && !*mmp) {
			if (gm_owner_exited(mem) ||
			    !mmget_not_zero(mem->mm)) {
				gm_lock_fault(fault, -ESRCH,
					      GUESTMEM_CAUSE_OWNER_EXITED, i,
					      gpn);
				return -ESRCH;
			}
			*mmp = mem->mm;
		}
		n = gm_lock_pin_batch(lock, *mmp, &t, i, n);
		if (n < 0) {
			if (n == -EFAULT)
				gm_lock_fault(fault, n,
					      GUESTMEM_CAUSE_NOT_MAPPED, i,
					      gpn);
			return n;
		}
		i += n;
		gpn += n;
		if (i < lock->npages) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

/* Pages from @i on that follow one another in the memory map. */
static unsigned long gm_contig_pages(struct page **pages, unsigned long n,
				     unsigned long i)
{
	unsigned long k = 1;

	/* By pfn: nth_page() is gone in later kernels (7.3). */
	while (i + k < n && page_to_pfn(pages[i + k]) == page_to_pfn(pages[i]) + k)
		k++;
	return k;
}

/*
 * Unpin @n pinned pages, dirtied: the device may have written them.
 * Stretches of consecutive pages (a huge page: 512 of them) go to
 * unpin_user_page_range_dirty_lock(), which handles a folio in one step
 * without reading each page; the pages between go in batches to
 * unpin_user_pages_dirty_lock().
 */
static void gm_unpin_dirty(struct page **pages, unsigned long n)
{
	unsigned long i = 0, j, k;

	while (i < n) {
		k = gm_contig_pages(pages, n, i);
		if (k > 1) {
			unpin_user_page_range_dirty_lock(pages[i], k, true);
			i += k;
			continue;
		}
		for (j = i + 1; j < n && gm_contig_pages(pages, n, j) == 1; j++)
			;
		unpin_user_pages_dirty_lock(pages + i, j - i, true);
		i = j;
	}
}

/* Unpin @n pinned pages, dirtied or not. */
static void gm_unpin_pages(struct page **pages, unsigned long n, bool dirty)
{
	if (dirty)
		gm_unpin_dirty(pages, n);
	else
		unpin_user_pages(pages, n);
}

/**
 * gm_lock_distinct_pages() - a lock's pages, each piece's page once
 * @lock: the lock
 * @n: receives the number of pages
 *
 * With kernel pages over 4 KiB the entries that share a page follow one
 * another (the pieces of one page): DMA and kernel mappings map each page
 * once.
 *
 * Return: the lock's pages without consecutive repeats (kvfree() them), or
 * NULL.
 */
struct page **gm_lock_distinct_pages(struct guestmem_lock *lock,
				     unsigned long *n)
{
	struct page **pages;
	unsigned long i, k = 0;

	pages = kvmalloc_array(lock->npages, sizeof(*pages),
			       GFP_KERNEL_ACCOUNT);
	if (!pages)
		return NULL;
	for (i = 0; i < lock->npages; i++)
		if (!i || lock->pages[i] != lock->pages[i - 1])
			pages[k++] = lock->pages[i];
	*n = k;
	return pages;
}

/* Unpin and uncharge everything the lock pinned. */
static void gm_lock_unpin(struct guestmem_lock *lock, bool dirty)
{
	struct mm_struct *mm = lock->obj->mem->mm;
	unsigned long start, end;

	if (!lock->npinned)
		return;
	if (!lock->pinned_map) {
		gm_unpin_pages(lock->pages, lock->npinned, dirty);
	} else {
		for_each_set_bitrange(start, end, lock->pinned_map,
				      lock->npages)
			gm_unpin_pages(lock->pages + start, end - start, dirty);
	}
	gm_acct_uncharge(lock->user, lock->npinned);
	if (lock->npinned_vm)
		atomic64_sub(lock->npinned_vm, &mm->pinned_vm);
	lock->npinned = 0;
	lock->npinned_vm = 0;
}

/* Fill lock->pages, run by run; on failure nothing stays pinned. */
static int gm_lock_pin(struct guestmem_lock *lock, struct mm_struct **mmp,
		       struct guestmem_fault *fault)
{
	struct rb_root_cached seen = RB_ROOT_CACHED;
	unsigned long r;
	int rc = 0;

	for (r = 0; r < lock->nr_runs && !rc; r++) {
		rc = gm_lock_pin_run(lock, &lock->runs[r], &seen, mmp, fault);
		gm_run_insert(&lock->runs[r], &seen);
	}
	/* @seen is dropped as it is: indexing the lock relinks every node. */
	if (rc)
		gm_lock_unpin(lock, false);
	return rc;
}

/* Would one more lock of @count entries pass the object's limits? */
static bool gm_lock_over_limits(struct guestmem *obj, unsigned long count)
{
	return obj->lock_count >= gm_limit(gm_max_locks) ||
	       count > gm_limit(gm_max_object_lock_pages) -
		       min(obj->locked_pages,
			   gm_limit(gm_max_object_lock_pages));
}

/* Map, index and reserve an id for a new lock. */
static int gm_lock_insert(struct guestmem_lock *lock)
{
	struct guestmem *obj = lock->obj;
	struct gm_mem *mem = obj->mem;
	u32 id;
	int rc;

	mutex_lock(&mem->lock_mutex);
	if (gm_lock_over_limits(obj, lock->npages)) {
		rc = -ENOSPC;
		goto out_unlock;
	}
	/* The device was removed: no new lock can be what it is for. */
	if (mem->dma && mem->dma->gone) {
		rc = -ENODEV;
		goto out_unlock;
	}
	if (mem->dma && mem->type != GUESTMEM_OBJ_ALLOC && !lock->preempt) {
		rc = gm_dma_map_lock(mem, lock);
		if (rc)
			goto out_unlock;
	}
	/* A NULL entry reserves the id: unlock cannot find it yet. */
	rc = xa_alloc(&obj->locks, &id, NULL, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_unmap;
	gm_index_insert(lock);
	lock->id = id;
	obj->lock_count++;
	obj->locked_pages += lock->npages;
	obj->pinned_pages += lock->npinned;
	if (!lock->preempt)
		mem->nr_locks++;
	mutex_unlock(&mem->lock_mutex);
	return 0;

out_unmap:
	gm_dma_unmap_lock(mem, lock);
out_unlock:
	mutex_unlock(&mem->lock_mutex);
	return rc;
}

/* Undo gm_lock_insert(): unmap (before any unpin), unindex, free the id. */
static void gm_lock_unlink_locked(struct guestmem_lock *lock)
{
	struct guestmem *obj = lock->obj;
	struct gm_mem *mem = obj->mem;

	lockdep_assert_held(&mem->lock_mutex);
	gm_dma_unmap_lock(mem, lock);
	gm_index_remove(lock);
	xa_erase(&obj->locks, lock->id);
	obj->lock_count--;
	obj->locked_pages -= lock->npages;
	obj->pinned_pages -= lock->npinned;
	if (!lock->preempt)
		mem->nr_locks--;
}

/* Free the lock's memory (nothing pinned any more). */
static void gm_lock_free_mem(struct guestmem_lock *lock)
{
	free_uid(lock->user);
	kvfree(lock->pinned_map);
	kvfree(lock->subpage);
	kvfree(lock->runs);
	kvfree(lock->pages);
	kfree(lock);
}

/*
 * GM_LOCK_KERNEL_ACCESS: map the lock's pages into the kernel, entry i at
 * lock->vaddr + i * 4096.  With kernel pages over 4 KiB a page table maps
 * whole pages: the entries must be the pieces of their pages in order
 * (consecutive gpns), else -EINVAL.
 */
static int gm_lock_vmap(struct guestmem_lock *lock)
{
	struct page **pages = lock->pages;
	unsigned long i, n = lock->npages;
	void *vaddr;

	if (GM_SUBPAGES > 1) {
		for (i = 1; i < lock->npages; i++) {
			unsigned int sub = gm_lock_subpage(lock, i);
			bool same = lock->pages[i] == lock->pages[i - 1];

			/* The next piece: of the same page, or a new page's first. */
			if (sub != ((gm_lock_subpage(lock, i - 1) + 1) &
				    (GM_SUBPAGES - 1)) || same != !!sub)
				return -EINVAL;
		}
		pages = gm_lock_distinct_pages(lock, &n);
		if (!pages)
			return -ENOMEM;
	}
	vaddr = vmap(pages, n, VM_MAP, PAGE_KERNEL);
	if (pages != lock->pages)
		kvfree(pages);
	if (!vaddr)
		return -ENOMEM;
	lock->vaddr = vaddr + (gm_lock_subpage(lock, 0) << GM_PAGE_SHIFT);
	return 0;
}

static void gm_lock_vunmap(struct guestmem_lock *lock)
{
	/* vmap()'s address: the start of the page of entry 0. */
	if (lock->vaddr)
		vunmap(PTR_ALIGN_DOWN(lock->vaddr, PAGE_SIZE));
	lock->vaddr = NULL;
}

/* Release what gm_lock_create() took; the lock is unmapped and unlinked. */
static void gm_lock_free(struct guestmem_lock *lock)
{
	gm_lock_vunmap(lock);
	/* Dirtied, unless the device could only read them. */
	gm_lock_unpin(lock, !lock->read_only);
	gm_lock_free_mem(lock);
}

/**
 * gm_lock_create() - lock a list of guest pages
 * @obj: the object the lock is made through (base or view)
 * @gpns: @count guest page numbers in @obj's address space
 * @count: entries; may be 0
 * @flags: GM_LOCK_* flags
 * @fault: error report for guest-side failures (HAS_INDEX)
 *
 * Pins (or references) every page, charges the pins, maps them for the
 * attached device and indexes them.  The lock is not yet visible by id:
 * gm_lock_publish() makes it so, gm_lock_destroy() undoes everything.
 * On failure nothing stays pinned, charged or mapped.
 *
 * Return: the lock, or an ERR_PTR (see the uapi header, GUESTMEM_LOCK_GPNS).
 */
struct guestmem_lock *gm_lock_create(struct guestmem *obj, const u64 *gpns,
				     unsigned long count, unsigned int flags,
				     struct guestmem_fault *fault)
{
	struct mm_struct *mm = NULL;
	struct guestmem_lock *lock;
	int rc = -ENOMEM;

	memset(fault, 0, sizeof(*fault));
	/* Checked again, under the mutex, before the lock is indexed. */
	if (gm_lock_over_limits(obj, count))
		return ERR_PTR(-ENOSPC);
	lock = kzalloc(sizeof(*lock), GFP_KERNEL_ACCOUNT);
	if (!lock)
		return ERR_PTR(-ENOMEM);
	lock->obj = obj;
	lock->npages = count;
	lock->kernel = flags & (GM_LOCK_KERNEL | GM_LOCK_PREEMPT);
	lock->preempt = flags & GM_LOCK_PREEMPT;
	lock->read_only = flags & GM_LOCK_READ_ONLY;
	lock->user = gm_acct_payer();
	if (count) {
		/* Every entry is written before it is read: no zeroing. */
		lock->pages = kvmalloc_array(count, sizeof(*lock->pages),
					     GFP_KERNEL_ACCOUNT);
		if (!lock->pages || gm_lock_make_runs(lock, gpns, count))
			goto out_free;
		if (GM_SUBPAGES > 1) {
			lock->subpage = kvmalloc(count, GFP_KERNEL_ACCOUNT);
			if (!lock->subpage)
				goto out_free;
		}
	}

	rc = gm_lock_pin(lock, &mm, fault);
	if (mm)
		mmput(mm);
	if (rc == -EDQUOT) {
		/* Over RLIMIT_MEMLOCK: the contract's -ENOMEM, and an event. */
		rc = -ENOMEM;
		if (__ratelimit(&obj->lock_fail_rs))
			gm_nl_notify(obj, GUESTMEM_CMD_LOCK_FAIL);
	}
	if (rc)
		goto out_free;
	/* In-kernel consumers only: user space has no use for a vmap. */
	if ((flags & GM_LOCK_KERNEL_ACCESS) && count) {
		rc = gm_lock_vmap(lock);
		if (rc)
			goto out_unpin;
	}
	rc = gm_lock_insert(lock);
	if (rc)
		goto out_vunmap;
	return lock;

out_vunmap:
	gm_lock_vunmap(lock);
out_unpin:
	gm_lock_unpin(lock, false);
out_free:
	gm_lock_free_mem(lock);
	return ERR_PTR(rc);
}

/**
 * gm_lock_publish() - make a new lock reachable by its id
 * @lock: from gm_lock_create()
 *
 * Return: 0 (replacing the reserved entry does not allocate).
 */
int gm_lock_publish(struct guestmem_lock *lock)
{
	struct gm_mem *mem = lock->obj->mem;
	void *old;

	mutex_lock(&mem->lock_mutex);
	old = xa_store(&lock->obj->locks, lock->id, lock, GFP_KERNEL_ACCOUNT);
	mutex_unlock(&mem->lock_mutex);
	return xa_err(old);
}

/**
 * gm_lock_destroy() - release a lock: unmap, unpin (dirty), uncharge
 * @lock: a lock from gm_lock_create(), published or not, that no one
 *	else can reach through its id (the in-kernel API's own locks)
 */
void gm_lock_destroy(struct guestmem_lock *lock)
{
	struct gm_mem *mem = lock->obj->mem;

	mutex_lock(&mem->lock_mutex);
	gm_lock_unlink_locked(lock);
	mutex_unlock(&mem->lock_mutex);
	gm_lock_free(lock);
}

/**
 * gm_obj_release_locks() - release every lock of an object being destroyed
 * @obj: the object (its last reference is gone)
 */
void gm_obj_release_locks(struct guestmem *obj)
{
	struct guestmem_lock *lock;
	unsigned long id;

	/*
	 * One lock per hold of the mutex, which views of the same base share.
	 * The preemptive lock's pages are borrowed by the others: it goes last.
	 */
	xa_for_each(&obj->locks, id, lock) {
		if (lock == obj->preempt)
			continue;
		gm_lock_destroy(lock);
		cond_resched();
	}
	if (obj->preempt) {
		gm_lock_destroy(obj->preempt);
		obj->preempt = NULL;
	}
	WARN_ON(!RB_EMPTY_ROOT(&obj->gpn_index.rb_root));
	xa_destroy(&obj->locks);
}

/**
 * gm_view_preempt() - allow_preemptive_locking: pin a new view up front
 * @view: a view of user or file memory with @preemptive_locking, before its fd
 *	exists
 *
 * Best effort, as the seed's flag only *allows* it: the whole view is
 * locked as one hidden lock (pinned and charged like any lock); if any
 * page cannot be (a hole, PROT_NONE, an unaligned view, RLIMIT_MEMLOCK),
 * the view simply works without it.  Later locks through the view borrow
 * its pages - no GUP, no charge, so they cannot fail on the memory itself
 * - and it is released last, when the view goes.  It is never DMA-mapped
 * itself and does not keep a device from being attached: the locks made
 * through the view are mapped as usual.
 */
void gm_view_preempt(struct guestmem *view)
{
	struct guestmem_fault fault;
	struct guestmem_lock *lock;
	unsigned long n, i;
	u64 *gpns;

	n = DIV_ROUND_UP_ULL(view->view_len, GM_PAGE_SIZE);
	if (!n || n > gm_limit(gm_max_lock_pages))
		return;
	gpns = kvmalloc_array(n, sizeof(*gpns), GFP_KERNEL_ACCOUNT);
	if (!gpns)
		return;
	for (i = 0; i < n; i++)
		gpns[i] = i;
	lock = gm_lock_create(view, gpns, n, GM_LOCK_PREEMPT, &fault);
	kvfree(gpns);
	if (IS_ERR(lock))
		return;
	if (gm_lock_publish(lock)) {
		gm_lock_destroy(lock);
		return;
	}
	view->preempt = lock;
}

/**
 * gm_ioctl_lock_gpns() - GUESTMEM_LOCK_GPNS: lock_gpns()
 * @ucmd: the call (&struct guestmem_lock_gpns)
 *
 * The struct is copied back here, before the lock becomes reachable by its
 * id, so a failed copy-out leaves nothing behind.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int gm_ioctl_lock_gpns(struct gm_ucmd *ucmd)
{
	struct guestmem_lock_gpns *cmd = ucmd->cmd;
	struct guestmem *obj = ucmd->obj;
	struct gm_mem *mem = obj->mem;
	struct guestmem_lock *lock;
	u64 *gpns = NULL;
	int rc;

	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	cmd->out_lock_id = 0;
	cmd->out_flags = 0;
	if (cmd->flags &
	    ~(GUESTMEM_LOCK_KERNEL_ACCESS | GUESTMEM_LOCK_READ_ONLY))
		return -EOPNOTSUPP;
	if (cmd->gpn_count > U32_MAX)
		return -EOVERFLOW;
	if (cmd->gpn_count > gm_limit(gm_max_lock_pages))
		return -ENOSPC;
	if (cmd->iovas_uptr && READ_ONCE(mem->dma) &&
	    !gm_may_read_iovas(mem))
		return -EPERM;
	if (cmd->gpn_count) {
		gpns = kvmalloc_array(cmd->gpn_count, sizeof(*gpns),
				      GFP_KERNEL_ACCOUNT);
		if (!gpns)
			return -ENOMEM;
		if (copy_from_user(gpns, u64_to_user_ptr(cmd->gpns_uptr),
				   cmd->gpn_count * sizeof(*gpns))) {
			rc = -EFAULT;
			goto out_free;
		}
	}

	/*
	 * GUESTMEM_LOCK_KERNEL_ACCESS is the seed's with_kernel_access: a
	 * pinned page is accessible to the kernel as it is, and only an
	 * in-kernel consumer could use a kernel mapping, so none is made.
	 */
	lock = gm_lock_create(obj, gpns, cmd->gpn_count,
			      cmd->flags & GUESTMEM_LOCK_READ_ONLY ?
			      GM_LOCK_READ_ONLY : 0, &cmd->out_fault);
	if (IS_ERR(lock)) {
		rc = PTR_ERR(lock);
		goto out_free;
	}
	if (cmd->iovas_uptr) {
		rc = gm_dma_lock_iovas(lock, cmd);
		if (rc)
			goto out_destroy;
	}
	cmd->out_lock_id = lock->id;
	rc = gm_ucmd_respond(ucmd);
	if (rc)
		goto out_destroy;
	rc = gm_lock_publish(lock);
	if (rc)
		goto out_destroy;
	kvfree(gpns);
	return 0;

out_destroy:
	gm_lock_destroy(lock);
	cmd->out_lock_id = 0;
	cmd->out_flags = 0;
out_free:
	kvfree(gpns);
	return rc;
}

/**
 * gm_ioctl_unlock_gpns() - GUESTMEM_UNLOCK_GPNS: drop a lock
 * @ucmd: the call (&struct guestmem_unlock_gpns)
 *
 * Return: 0, -ENOENT (no such lock), or -EOPNOTSUPP.
 */
int gm_ioctl_unlock_gpns(struct gm_ucmd *ucmd)
{
	struct guestmem_unlock_gpns *cmd = ucmd->cmd;
	struct guestmem *obj = ucmd->obj;
	struct gm_mem *mem = obj->mem;
	struct guestmem_lock *lock;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	mutex_lock(&mem->lock_mutex);
	lock = xa_load(&obj->locks, cmd->lock_id);
	if (!lock || lock->kernel) {
		mutex_unlock(&mem->lock_mutex);
		return -ENOENT;
	}
	gm_lock_unlink_locked(lock);
	mutex_unlock(&mem->lock_mutex);
	gm_lock_free(lock);
	return 0;
}
