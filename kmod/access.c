// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem data path: read, write, fill, plain and atomic accesses,
 * compare-exchange, probes and paged ranges.
 *
 * Every access first resolves its guest range to one region (gm_resolve(),
 * object.c), then walks the region's backing page by page and hands each
 * piece, kmapped, to a small "chunk" function that copies to or from the
 * caller's buffer, fills, loads, stores or compare-exchanges.
 *
 * User-backed regions live in the owner's address space, which need not be
 * the caller's (the fd may have been inherited or passed over a socket).
 * The walker pins at most GM_BATCH pages of the owner at a time - with
 * pin_user_pages_fast() when the caller is the owner, else with
 * pin_user_pages_remote() under the owner's mmap_read_lock - drops the lock,
 * copies through kmap_local_page() with the caller's own uaccess, and unpins
 * (dirtying for writes).  GUP refuses unmapped, PROT_NONE and (for writes)
 * read-only memory without FOLL_FORCE, which gives the seed's fault
 * semantics; the failing page's first byte (or the access start, in the
 * first page) is the reported guest address.  A fault on the caller's
 * buffer is -EFAULT with no GUESTMEM_FAULT_VALID.
 *
 * The owner's fast path (gm_fast_owner()).  When the caller is the owner
 * (current->mm is the object's mm: the usual VMM), read_at/write_at of at
 * most GM_FAST_MAX bytes, plain accesses and compare-exchange act with
 * uaccess on the guest's user address, page faults disabled, under the
 * owner's mmap_read_trylock() and after checking the one VMA that holds
 * the guest bytes the way GUP's check_vma_flags() would for FOLL_PIN.  Its
 * invariant: it succeeds only where the GUP walker would succeed with the
 * same result; on any doubt (not the owner, too long, out of range, not
 * user memory, owner gone, lock contended, VMA refused, PTE not present or
 * not writable, a fault on either side) it returns false and the walker
 * redoes the access from byte 0, so every error, fault kind, cause and
 * failing GPA comes from the walker.  A plain access of 1, 2, 4 or 8 bytes
 * at an address aligned to its size is one get_user()/put_user() of that
 * width, a compare-exchange one locked cmpxchg (x86; elsewhere the walker
 * does it).  Documentation/guestmem.rst ("The owner's fast path") gives
 * the argument case by case.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmu_context.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/magic.h>

#include "compat.h"
#include "guestmem_private.h"

/* Pages pinned at once: bounds the stack array and the pin lifetime. */
#define GM_BATCH	16

/*
 * One piece of an access: @kaddr maps @n guest bytes that start @done bytes
 * into the access.  Returns 0 or a negative errno that ends the access.
 */
typedef int (*gm_chunk_fn)(void *ctx, void *kaddr, u64 done, size_t n);

static int gm_out_of_range(struct guestmem_fault *fault, u64 gpa)
{
	gm_fault_set(fault, GUESTMEM_KIND_OUT_OF_RANGE,
		     GUESTMEM_CAUSE_NO_MEMORY, gpa);
	return -ERANGE;
}

/* Walk [uaddr, uaddr + len) of the owner's mm; @gpa is its guest address. */
static int gm_walk_user(struct gm_mem *mem, unsigned long uaddr, u64 gpa,
			u64 len, bool write, gm_chunk_fn fn, void *ctx,
			struct guestmem_fault *fault)
{
	struct mm_struct *mm = mem->mm;
	struct page *pages[GM_BATCH];
	u64 done = 0;
	int rc = 0;

	if (!mmget_not_zero(mm)) {
		gm_fault_set(fault, GUESTMEM_KIND_OTHER,
			     GUESTMEM_CAUSE_OWNER_EXITED, gpa);
		return -ESRCH;
	}
	while (done < len) {
		unsigned long start = uaddr + done;
		unsigned long pgoff = offset_in_page(start);
		unsigned long nr = min_t(u64, GM_BATCH,
					 DIV_ROUND_UP_ULL(pgoff + len - done,
							  PAGE_SIZE));
		long pinned, i;

		if (gm_owner_exited(mem)) {
			gm_fault_set(fault, GUESTMEM_KIND_OTHER,
				     GUESTMEM_CAUSE_OWNER_EXITED, gpa + done);
			rc = -ESRCH;
			break;
		}
		pinned = gm_pin_user(mm, start - pgoff, nr,
				     write ? FOLL_WRITE : 0, pages);
		if (pinned <= 0) {
			rc = pinned ? gm_gup_errno(pinned) : -EFAULT;
			if (rc == -EFAULT)
				gm_fault_set(fault, GUESTMEM_KIND_OTHER,
					     GUESTMEM_CAUSE_NOT_MAPPED,
					     gpa + done);
			break;
		}
		for (i = 0; i < pinned && !rc; i++) {
			size_t n = min_t(u64, PAGE_SIZE - pgoff, len - done);
			void *kaddr = kmap_local_page(pages[i]);

			rc = fn(ctx, kaddr + pgoff, done, n);
			kunmap_local(kaddr);
			if (!rc)
				done += n;
			pgoff = 0;
		}
		unpin_user_pages_dirty_lock(pages, pinned, write);
		if (rc)
			break;
		/* A short pin is retried: the next call reports the fault. */
		if (done < len) {
			if (fatal_signal_pending(current)) {
				rc = -EINTR;
				break;
			}
			cond_resched();
		}
	}
	mmput(mm);
	return rc;
}

/* Walk [off, off + len) of an allocated object's pages. */
static int gm_walk_alloc(struct gm_mem *mem, u64 off, u64 len,
			 gm_chunk_fn fn, void *ctx)
{
	u64 done = 0;
	int rc;

	while (done < len) {
		u64 pos = off + done;
		unsigned long pgoff = offset_in_page(pos);
		size_t n = min_t(u64, PAGE_SIZE - pgoff, len - done);
		void *kaddr = kmap_local_page(mem->pages[pos >> PAGE_SHIFT]);

		rc = fn(ctx, kaddr + pgoff, done, n);
		kunmap_local(kaddr);
		if (rc)
			return rc;
		done += n;
		if (done < len) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

/* The page at byte @pos of a file-backed region's file, for one access. */
static struct page *gm_file_get_page(struct file *file, u64 pos)
{
	if (pos >= i_size_read(file_inode(file)))
		return ERR_PTR(-EFAULT);
	if (gm_file_is_hugetlb(file))
		return gm_file_pin_page(file, pos >> PAGE_SHIFT);
	return shmem_read_mapping_page(file->f_mapping, pos >> PAGE_SHIFT);
}

static void gm_file_put_page(struct file *file, struct page *page, bool dirty)
{
	if (gm_file_is_hugetlb(file)) {
		unpin_user_pages_dirty_lock(&page, 1, dirty);
		return;
	}
	/* shmem's dirty_folio needs no folio lock (noop_dirty_folio). */
	if (dirty)
		folio_mark_dirty(page_folio(page));
	put_page(page);
}

/* Walk [off, off + len) of a file-backed region; @gpa is its guest address. */
static int gm_walk_file(const struct gm_region *region, u64 off, u64 gpa,
			u64 len, bool write, gm_chunk_fn fn, void *ctx,
			struct guestmem_fault *fault)
{
	u64 done = 0;
	int rc;

	while (done < len) {
		u64 pos = region->file_off + off + done;
		unsigned long pgoff = offset_in_page(pos);
		size_t n = min_t(u64, PAGE_SIZE - pgoff, len - done);
		struct page *page;
		void *kaddr;

		page = gm_file_get_page(region->file, pos);
		if (IS_ERR(page)) {
			rc = PTR_ERR(page);
			if (rc == -ENOMEM || rc == -EINTR)
				return rc;
			gm_fault_set(fault, GUESTMEM_KIND_OTHER,
				     GUESTMEM_CAUSE_NOT_MAPPED, gpa + done);
			return -EFAULT;
		}
		kaddr = kmap_local_page(page);
		rc = fn(ctx, kaddr + pgoff, done, n);
		kunmap_local(kaddr);
		gm_file_put_page(region->file, page, write && !rc);
		if (rc)
			return rc;
		done += n;
		if (done < len) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

/*
 * The seed's run_on_mapping(): resolve, then walk.  A zero-length access
 * only validates the address (plain accesses of size 0 rely on that).
 */
static int gm_access(struct guestmem *obj, u64 gpa, u64 len, bool write,
		     gm_chunk_fn fn, void *ctx, struct guestmem_fault *fault)
{
	struct gm_loc loc;

	if (gm_resolve(obj, gpa, len, &loc))
		return gm_out_of_range(fault, gpa);
	switch (loc.region->type) {
	case GM_REGION_USER:
		if (!len)
			return 0;
		return gm_walk_user(loc.base->mem, loc.region->uaddr + loc.off, gpa,
				    len, write, fn, ctx, fault);
	case GM_REGION_ALLOC:
		if (!len)
			return 0;
		return gm_walk_alloc(loc.base->mem, loc.off, len, fn, ctx);
	case GM_REGION_FILE:
		if (!len)
			return 0;
		return gm_walk_file(loc.region, loc.off, gpa, len, write, fn, ctx,
				    fault);
	case GM_REGION_NONE:
		/* No mapping: the seed calls the backing's absent fallback. */
		gm_fault_set(fault, GUESTMEM_KIND_OTHER,
			     GUESTMEM_CAUSE_NO_FALLBACK, gpa);
		return -EFAULT;
	default:
		/* A hole: the seed's multi-region fallback finds no backing. */
		return gm_out_of_range(fault, gpa);
	}
}

/* Byte copies between guest memory and the caller's buffer. */
struct gm_copy {
	u8 __user *ubuf;
	u8 val;
};

static int gm_chunk_read(void *ctx, void *kaddr, u64 done, size_t n)
{
	struct gm_copy *c = ctx;

	return copy_to_user(c->ubuf + done, kaddr, n) ? -EFAULT : 0;
}

static int gm_chunk_write(void *ctx, void *kaddr, u64 done, size_t n)
{
	struct gm_copy *c = ctx;

	return copy_from_user(kaddr, c->ubuf + done, n) ? -EFAULT : 0;
}

static int gm_chunk_fill(void *ctx, void *kaddr, u64 done, size_t n)
{
	struct gm_copy *c = ctx;

	memset(kaddr, c->val, n);
	return 0;
}

/* Copies between guest memory and a kernel buffer (the in-kernel API). */
static int gm_chunk_kread(void *ctx, void *kaddr, u64 done, size_t n)
{
	memcpy((u8 *)ctx + done, kaddr, n);
	return 0;
}

static int gm_chunk_kwrite(void *ctx, void *kaddr, u64 done, size_t n)
{
	memcpy(kaddr, (u8 *)ctx + done, n);
	return 0;
}

/**
 * gm_kernel_rw() - read_at()/write_at() into or from a kernel buffer
 * @obj: the object
 * @gpa: guest address of the first byte
 * @buf: kernel buffer of @len bytes
 * @len: bytes to copy; 0 succeeds
 * @write: copy @buf into guest memory (else guest memory into @buf)
 * @fault: error report, as for GUESTMEM_READ / GUESTMEM_WRITE
 *
 * Same rules and errors as the ioctls; works from kernel threads (the
 * owner's pages are then reached through the remote GUP path).
 *
 * Return: 0 or a negative errno.
 */
int gm_kernel_rw(struct guestmem *obj, u64 gpa, void *buf, u64 len,
		 bool write, struct guestmem_fault *fault)
{
	memset(fault, 0, sizeof(*fault));
	if (!len)
		return 0;
	return gm_access(obj, gpa, len, write,
			 write ? gm_chunk_kwrite : gm_chunk_kread, buf, fault);
}

/* Pinning (or owning) the page proves it readable. */
static int gm_chunk_probe(void *ctx, void *kaddr, u64 done, size_t n)
{
	return 0;
}

/* A value of at most 8 bytes, in memory order. */
union gm_word {
	u8 b[8];
	u8 v8;
	u16 v16;
	u32 v32;
	u64 v64;
};

/* The owner's fast path (see the top of the file): the largest access. */
#define GM_FAST_MAX	256

/*
 * Under the owner's mmap_lock: does one VMA hold [@uaddr, @uaddr + @len),
 * and would GUP (FOLL_PIN, FOLL_WRITE for @write, no FOLL_FORCE) accept it?
 * check_vma_flags() in mm/gup.c, plus VM_MIXEDMAP.
 */
static bool gm_fast_vma_ok(struct mm_struct *mm, unsigned long uaddr,
			   size_t len, bool write)
{
	struct vm_area_struct *vma = vma_lookup(mm, uaddr);
	vm_flags_t flags;

	if (!vma || len > vma->vm_end - uaddr)
		return false;
	flags = vma->vm_flags;
	if (flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP))
		return false;
	if (write ? !(flags & VM_WRITE) || (flags & GM_VM_SHADOW_STACK) :
		    !(flags & VM_READ))
		return false;
	if (vma->vm_file &&
	    file_inode(vma->vm_file)->i_sb->s_magic == SECRETMEM_MAGIC)
		return false;
	return arch_vma_access_permitted(vma, write, false, false);
}

/* What the owner's fast path does at the guest's user address. */
enum gm_fast_op {
	GM_FAST_READ,
	GM_FAST_WRITE,
	GM_FAST_CMPXCHG,
};

/**
 * struct gm_fast - one access of the owner's fast path
 * @op: copy out of guest memory, into it, or compare-exchange
 * @len: bytes: 1..GM_FAST_MAX for a copy, 1, 2, 4 or 8 for a cmpxchg
 * @kbuf: a copy: the caller's bounce buffer
 * @w: a plain access: @kbuf as a word (else NULL); a cmpxchg: the value
 *	expected, replaced by the value found when they differ
 * @new: a cmpxchg: the value to store
 */
struct gm_fast {
	enum gm_fast_op op;
	size_t len;
	void *kbuf;
	union gm_word *w;
	const union gm_word *new;
};

/* One load or store of the guest's user address, faults disabled. */
static bool gm_fast_copy(unsigned long uaddr, const struct gm_fast *f)
{
	void __user *p = (void __user *)uaddr;
	bool write = f->op == GM_FAST_WRITE;
	union gm_word *w = f->w;
	size_t len = f->len;

	if (w && (len == 1 || len == 2 || len == 4 || len == 8) &&
	    IS_ALIGNED(uaddr, len)) {
		switch (len) {
		case 1:
			return write ? !put_user(w->v8, (u8 __user *)p) :
				       !get_user(w->v8, (u8 __user *)p);
		case 2:
			return write ? !put_user(w->v16, (u16 __user *)p) :
				       !get_user(w->v16, (u16 __user *)p);
		case 4:
			return write ? !put_user(w->v32, (u32 __user *)p) :
				       !get_user(w->v32, (u32 __user *)p);
		default:
			return write ? !put_user(w->v64, (u64 __user *)p) :
				       !get_user(w->v64, (u64 __user *)p);
		}
	}
	if (write)
		return !copy_to_user(p, f->kbuf, len);
	return !copy_from_user(f->kbuf, p, len);
}

/*
 * One locked cmpxchg on the guest's user address, faults disabled.  An
 * unaligned host address is left to the walker, whose answer is -EINVAL.
 */
static bool gm_fast_cmpxchg(unsigned long uaddr, const struct gm_fast *f)
{
	void __user *p = (void __user *)uaddr;

	return IS_ALIGNED(uaddr, f->len) && access_ok(p, f->len) &&
	       gm_cmpxchg_user(p, f->w->b, f->new->b, f->len);
}

/*
 * The owner's fast path: do @f on the guest bytes at @gpa.  True when the
 * whole access is done (a cmpxchg that found another value is done too);
 * false when gm_access() must do it (nothing has been reported; a write
 * may have stored a prefix, which it stores again; a cmpxchg has stored
 * nothing).
 */
static bool gm_fast_owner(struct guestmem *obj, u64 gpa,
			  const struct gm_fast *f)
{
	struct mm_struct *mm = current->mm;
	unsigned long uaddr;
	struct gm_loc loc;
	bool ok;

	if (!f->len || f->len > GM_FAST_MAX ||
	    gm_resolve(obj, gpa, f->len, &loc) ||
	    loc.region->type != GM_REGION_USER || loc.base->mem->mm != mm ||
	    gm_owner_exited(loc.base->mem))
		return false;
	uaddr = loc.region->uaddr + loc.off;
	if (!mmap_read_trylock(mm))
		return false;
	ok = gm_fast_vma_ok(mm, uaddr, f->len, f->op != GM_FAST_READ);
	if (ok) {
		pagefault_disable();
		if (f->op == GM_FAST_CMPXCHG)
			ok = gm_fast_cmpxchg(uaddr, f);
		else
			ok = gm_fast_copy(uaddr, f);
		pagefault_enable();
	}
	mmap_read_unlock(mm);
	return ok;
}

/*
 * read_at/write_at of 1..GM_FAST_MAX bytes by the owner, through a bounce
 * buffer; false on any failure (the walker then starts again and reports
 * it).  Kept out of gm_rw() so that longer accesses do not pay for the
 * buffer (stack initialisation zeroes it).
 */
static noinline bool gm_rw_fast(struct guestmem *obj, u64 gpa,
				u8 __user *ubuf, size_t len, bool write)
{
	u8 bounce[GM_FAST_MAX];
	struct gm_fast f = {
		.op = write ? GM_FAST_WRITE : GM_FAST_READ,
		.len = len,
		.kbuf = bounce,
	};

	if (write)
		return !copy_from_user(bounce, ubuf, len) &&
		       gm_fast_owner(obj, gpa, &f);
	return gm_fast_owner(obj, gpa, &f) && !copy_to_user(ubuf, bounce, len);
}

static int gm_rw(struct gm_ucmd *ucmd, bool write)
{
	struct guestmem_rw *cmd = ucmd->cmd;
	struct gm_copy c = { .ubuf = u64_to_user_ptr(cmd->buf_uptr) };

	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	if (cmd->flags)
		return -EOPNOTSUPP;
	if (!cmd->len)
		return 0;
	if (cmd->len <= GM_FAST_MAX &&
	    gm_rw_fast(ucmd->obj, cmd->gpa, c.ubuf, cmd->len, write))
		return 0;
	return gm_access(ucmd->obj, cmd->gpa, cmd->len, write,
			 write ? gm_chunk_write : gm_chunk_read, &c,
			 &cmd->out_fault);
}

int gm_ioctl_read(struct gm_ucmd *ucmd)
{
	return gm_rw(ucmd, false);
}

int gm_ioctl_write(struct gm_ucmd *ucmd)
{
	return gm_rw(ucmd, true);
}

int gm_ioctl_fill(struct gm_ucmd *ucmd)
{
	struct guestmem_fill *cmd = ucmd->cmd;
	struct gm_copy c = { .val = cmd->val };

	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->val > U8_MAX)
		return -EINVAL;
	if (!cmd->len)
		return 0;
	return gm_access(ucmd->obj, cmd->gpa, cmd->len, true, gm_chunk_fill,
			 &c, &cmd->out_fault);
}

/*
 * Plain accesses of up to 8 bytes go through a bounce word so that the
 * guest side is touched once: one load or store when the host address is
 * naturally aligned for a 1, 2, 4 or 8 byte value (then the access also
 * lies in one page), else a byte copy.
 */
struct gm_plain {
	union gm_word w;
	size_t len;
};

static bool gm_single_access(void *kaddr, size_t n, size_t len)
{
	return n == len && (len == 1 || len == 2 || len == 4 || len == 8) &&
	       IS_ALIGNED((unsigned long)kaddr, len);
}

static int gm_chunk_load(void *ctx, void *kaddr, u64 done, size_t n)
{
	struct gm_plain *p = ctx;

	if (!gm_single_access(kaddr, n, p->len)) {
		memcpy(p->w.b + done, kaddr, n);
		return 0;
	}
	switch (n) {
	case 1:
		p->w.v8 = READ_ONCE(*(u8 *)kaddr);
		break;
	case 2:
		p->w.v16 = READ_ONCE(*(u16 *)kaddr);
		break;
	case 4:
		p->w.v32 = READ_ONCE(*(u32 *)kaddr);
		break;
	default:
		p->w.v64 = READ_ONCE(*(u64 *)kaddr);
		break;
	}
	return 0;
}

static int gm_chunk_store(void *ctx, void *kaddr, u64 done, size_t n)
{
	struct gm_plain *p = ctx;

	if (!gm_single_access(kaddr, n, p->len)) {
		memcpy(kaddr, p->w.b + done, n);
		return 0;
	}
	switch (n) {
	case 1:
		WRITE_ONCE(*(u8 *)kaddr, p->w.v8);
		break;
	case 2:
		WRITE_ONCE(*(u16 *)kaddr, p->w.v16);
		break;
	case 4:
		WRITE_ONCE(*(u32 *)kaddr, p->w.v32);
		break;
	default:
		WRITE_ONCE(*(u64 *)kaddr, p->w.v64);
		break;
	}
	return 0;
}

static int gm_plain(struct gm_ucmd *ucmd, bool write)
{
	struct guestmem_rw *cmd = ucmd->cmd;
	void __user *ubuf = u64_to_user_ptr(cmd->buf_uptr);
	struct gm_plain p = { .len = cmd->len };
	struct gm_fast f = {
		.op = write ? GM_FAST_WRITE : GM_FAST_READ,
		.len = p.len,
		.kbuf = p.w.b,
		.w = &p.w,
	};
	int rc;

	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	if (cmd->flags)
		return -EOPNOTSUPP;
	/* Longer values are not atomic in the seed either: plain copies. */
	if (cmd->len > sizeof(p.w))
		return gm_rw(ucmd, write);

	if (write && copy_from_user(p.w.b, ubuf, p.len))
		return -EFAULT;
	if (gm_fast_owner(ucmd->obj, cmd->gpa, &f))
		rc = 0;
	else
		rc = gm_access(ucmd->obj, cmd->gpa, p.len, write,
			       write ? gm_chunk_store : gm_chunk_load, &p,
			       &cmd->out_fault);
	if (rc)
		return rc;
	if (!write && copy_to_user(ubuf, p.w.b, p.len))
		return -EFAULT;
	return 0;
}

int gm_ioctl_read_plain(struct gm_ucmd *ucmd)
{
	return gm_plain(ucmd, false);
}

int gm_ioctl_write_plain(struct gm_ucmd *ucmd)
{
	return gm_plain(ucmd, true);
}

struct gm_cmpxchg {
	union gm_word cur;
	union gm_word new;
	union gm_word old;
	size_t len;
};

static int gm_chunk_cmpxchg(void *ctx, void *kaddr, u64 done, size_t n)
{
	struct gm_cmpxchg *c = ctx;

	/* The backing address, not only the gpa, must be aligned. */
	if (!gm_single_access(kaddr, n, c->len))
		return -EINVAL;
	switch (n) {
	case 1:
		c->old.v8 = cmpxchg((u8 *)kaddr, c->cur.v8, c->new.v8);
		break;
	case 2:
		c->old.v16 = cmpxchg((u16 *)kaddr, c->cur.v16, c->new.v16);
		break;
	case 4:
		c->old.v32 = cmpxchg((u32 *)kaddr, c->cur.v32, c->new.v32);
		break;
	default:
		c->old.v64 = cmpxchg((u64 *)kaddr, c->cur.v64, c->new.v64);
		break;
	}
	return 0;
}

/**
 * gm_ioctl_cmpxchg() - GUESTMEM_COMPARE_EXCHANGE
 * @ucmd: the call (&struct guestmem_cmpxchg)
 *
 * cmpxchg() is fully ordered: the seed's sequentially consistent exchange;
 * so is the owner's fast path, a locked cmpxchg on the user address.
 *
 * Return: 0 or a negative errno (see the uapi header).
 */
int gm_ioctl_cmpxchg(struct gm_ucmd *ucmd)
{
	struct guestmem_cmpxchg *cmd = ucmd->cmd;
	struct gm_cmpxchg c = { .len = cmd->len };
	struct gm_fast f = {
		.op = GM_FAST_CMPXCHG,
		.len = c.len,
		.w = &c.old,
		.new = &c.new,
	};
	int rc;

	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	cmd->out_current = 0;
	cmd->out_exchanged = 0;
	if (cmd->flags || cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	if (c.len != 1 && c.len != 2 && c.len != 4 && c.len != 8)
		return -EINVAL;
	if (!IS_ALIGNED(cmd->gpa, c.len))
		return -EINVAL;
	c.cur.v64 = cmd->current_val;
	c.new.v64 = cmd->new_val;
	if (memchr_inv(c.cur.b + c.len, 0, 8 - c.len) ||
	    memchr_inv(c.new.b + c.len, 0, 8 - c.len))
		return -EINVAL;

	/* What the fast path finds, if it differs from c.cur; else c.cur. */
	c.old = c.cur;
	if (gm_fast_owner(ucmd->obj, cmd->gpa, &f))
		rc = 0;
	else
		rc = gm_access(ucmd->obj, cmd->gpa, c.len, true,
			       gm_chunk_cmpxchg, &c, &cmd->out_fault);
	if (rc)
		return rc;
	cmd->out_current = c.old.v64;
	cmd->out_exchanged = !memcmp(c.old.b, c.cur.b, c.len);
	return 0;
}

/* Read gpn @index of the caller's list; check that gpn * 4096 fits. */
static int gm_get_gpn(u64 __user *ugpns, u64 index, u64 *gpn,
		      struct guestmem_fault *fault)
{
	if (get_user(*gpn, &ugpns[index]))
		return -EFAULT;
	if (*gpn > GM_MAX_GPN) {
		/* No address: gpn * 4096 does not exist. */
		gm_fault_kind(fault, GUESTMEM_KIND_OUT_OF_RANGE,
			      GUESTMEM_CAUSE_INVALID_GPN);
		gm_fault_index(fault, index, *gpn);
		return -ERANGE;
	}
	return 0;
}

int gm_ioctl_probe_gpns(struct gm_ucmd *ucmd)
{
	struct guestmem_probe_gpns *cmd = ucmd->cmd;
	u64 __user *ugpns = u64_to_user_ptr(cmd->gpns_uptr);
	struct guestmem_fault *fault = &cmd->out_fault;
	u64 i, gpn;
	int rc;

	memset(fault, 0, sizeof(*fault));
	if (cmd->flags)
		return -EOPNOTSUPP;
	if (cmd->gpn_count > U32_MAX)
		return -EOVERFLOW;
	for (i = 0; i < cmd->gpn_count; i++) {
		rc = gm_get_gpn(ugpns, i, &gpn, fault);
		if (rc)
			return rc;
		rc = gm_access(ucmd->obj, gpn << GM_PAGE_SHIFT, 1, false,
			       gm_chunk_probe, NULL, fault);
		if (rc) {
			if (fault->flags)
				gm_fault_index(fault, i, gpn);
			return rc;
		}
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/*
 * The seed's op_range(): a head chunk to the end of the first page, whole
 * pages, a tail chunk; one access per gpn, in order, stopping at the first
 * failure.
 */
static int gm_range(struct gm_ucmd *ucmd, bool write, gm_chunk_fn fn)
{
	struct guestmem_range *cmd = ucmd->cmd;
	u64 __user *ugpns = u64_to_user_ptr(cmd->gpns_uptr);
	struct guestmem_fault *fault = &cmd->out_fault;
	struct gm_copy c = { .val = cmd->val };
	u8 __user *ubuf = u64_to_user_ptr(cmd->buf_uptr);
	u64 total, index, pgoff, gpn, done = 0;
	int rc;

	memset(fault, 0, sizeof(*fault));
	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (fn == gm_chunk_fill ? cmd->buf_uptr != 0 : cmd->val != 0)
		return -EINVAL;
	if (cmd->val > U8_MAX)
		return -EINVAL;
	if (cmd->gpn_count > U32_MAX)
		return -EOVERFLOW;
	total = cmd->gpn_count << GM_PAGE_SHIFT;
	if (cmd->offset > total || cmd->len > total - cmd->offset)
		return -EINVAL;

	index = cmd->offset >> GM_PAGE_SHIFT;
	pgoff = cmd->offset & (GM_PAGE_SIZE - 1);
	/* An empty range inside a page still names (and checks) that gpn. */
	if (!cmd->len)
		return pgoff ? gm_get_gpn(ugpns, index, &gpn, fault) : 0;

	while (done < cmd->len) {
		u64 n = min(cmd->len - done, GM_PAGE_SIZE - pgoff);

		rc = gm_get_gpn(ugpns, index, &gpn, fault);
		if (rc)
			return rc;
		c.ubuf = ubuf + done;
		rc = gm_access(ucmd->obj, (gpn << GM_PAGE_SHIFT) + pgoff, n,
			       write, fn, &c, fault);
		if (rc) {
			if (fault->flags)
				gm_fault_index(fault, index, gpn);
			return rc;
		}
		done += n;
		index++;
		pgoff = 0;
		if (done < cmd->len) {
			/* Up to 2^32 pages, each its own short walk. */
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

int gm_ioctl_range_read(struct gm_ucmd *ucmd)
{
	return gm_range(ucmd, false, gm_chunk_read);
}

int gm_ioctl_range_write(struct gm_ucmd *ucmd)
{
	return gm_range(ucmd, true, gm_chunk_write);
}

int gm_ioctl_range_fill(struct gm_ucmd *ucmd)
{
	return gm_range(ucmd, true, gm_chunk_fill);
}
