/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem internal API, shared by main.c (device, dispatch), object.c
 * (objects, regions, address resolution), access.c (data path), pin.c
 * (locks, pinning, accounting), dma.c (device attach, IOVAs) and kapi.c
 * (the in-kernel API).
 * The data model is described at the top of object.c.
 */
#ifndef GUESTMEM_PRIV_H
#define GUESTMEM_PRIV_H

#include <linux/bits.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/ratelimit_types.h>
#include <linux/rbtree.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/atomic.h>
#include <linux/uidgid.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <linux/guestmem.h>

/* The seed's page size: every gpn and every "page" in the uapi is 4 KiB. */
#define GM_PAGE_SHIFT	12
#define GM_PAGE_SIZE	BIT_ULL(GM_PAGE_SHIFT)

/*
 * A kernel page holds GM_SUBPAGES gpns: 1 with 4 KiB pages, 4 with 16 KiB,
 * 16 with 64 KiB.  Locks pin, map and account whole kernel pages (pin.c);
 * each entry of a lock also records which 4 KiB piece of its page it is.
 * User addresses and lengths are u64 in the uapi and unsigned long here: a
 * 32-bit kernel would truncate them.
 */
#define GM_SUBPAGE_SHIFT	(PAGE_SHIFT - GM_PAGE_SHIFT)
#define GM_SUBPAGES		BIT(GM_SUBPAGE_SHIFT)
static_assert(PAGE_SHIFT >= GM_PAGE_SHIFT && GM_SUBPAGE_SHIFT <= 8,
	      "guestmem needs kernel pages of 4 KiB to 1 MiB");
#ifndef CONFIG_64BIT
#error "guestmem needs a 64-bit kernel"
#endif

/**
 * struct gm_limit - a limit, settable as a module parameter (main.c)
 * @val: the limit; read it with gm_limit()
 * @max: the largest value a writer may set: past it, the arrays the limit
 *	sizes would outgrow what kvmalloc() allows
 */
struct gm_limit {
	unsigned long val;
	unsigned long max;
};

#define gm_limit(l)	READ_ONCE((l).val)

extern struct gm_limit gm_max_regions;
extern struct gm_limit gm_max_alloc_bytes;
extern struct gm_limit gm_max_name_len;
extern struct gm_limit gm_max_lock_pages;
extern struct gm_limit gm_max_locks;
extern struct gm_limit gm_max_object_lock_pages;

/* A gpn above this overflows gpn * 4096: the seed's InvalidGpn. */
#define GM_MAX_GPN	(U64_MAX >> GM_PAGE_SHIFT)

/**
 * enum gm_region_type - what backs one region slot
 * @GM_REGION_ABSENT: a hole or padding slot of a multi-region object
 * @GM_REGION_NONE: a backing without a mapping (the empty object)
 * @GM_REGION_USER: user memory of the owner's mm at &gm_region.uaddr
 * @GM_REGION_ALLOC: the object's own kernel pages (&gm_object.pages)
 * @GM_REGION_FILE: pages of a shmem or hugetlbfs file (&gm_region.file)
 */
enum gm_region_type {
	GM_REGION_ABSENT,
	GM_REGION_NONE,
	GM_REGION_USER,
	GM_REGION_ALLOC,
	GM_REGION_FILE,
};

/**
 * struct gm_region - one region slot, fixed at creation
 * @type: what backs it
 * @len: the backing's length (the seed's max_address)
 * @uaddr: for GM_REGION_USER, the backing's start in the owner's mm
 * @file: for GM_REGION_FILE, the file (referenced, and counted as a
 *	writable mapping of it: see gm_take_file())
 * @file_off: for GM_REGION_FILE, the backing's start in @file (page
 *	aligned)
 */
struct gm_region {
	enum gm_region_type type;
	u64 len;
	unsigned long uaddr;
	struct file *file;
	u64 file_off;
};

struct guestmem_lock;

/**
 * struct gm_lock_run - consecutive gpns of one lock, as the gpn index sees
 *	them (pin.c)
 * @node: in the gpn index of the lock's object (an interval tree)
 * @start: the run's first gpn, in the address space of the lock's object
 * @last: its last gpn
 * @subtree_last: the interval tree's bookkeeping
 * @lock: the lock the run belongs to
 * @index: the entry of @start in the lock's lists (&gm_lock.pages, ...)
 */
struct gm_lock_run {
	struct rb_node node;
	u64 start;
	u64 last;
	u64 subtree_last;
	struct guestmem_lock *lock;
	unsigned long index;
};

/**
 * struct guestmem_lock - pages kept resident for a caller (see pin.c)
 * @id: the lock id (xarray index in &gm_object.locks)
 * @obj: the object (base or view) the lock was made through
 * @npages: entries (the caller's gpn list, duplicates included)
 * @pages: the page of each entry (the kernel page that holds it)
 * @subpage: with kernel pages over 4 KiB, which 4 KiB piece of its page
 *	each entry is; NULL with 4 KiB pages (see gm_lock_subpage())
 * @runs: the entries as runs of consecutive gpns, in list order
 * @nr_runs: entries in @runs
 * @npinned: kernel pages pinned (and charged) by this lock: each distinct
 *	page once, none for allocated or borrowed memory
 * @npinned_vm: of those, user pages of the owner's mm (its pinned_vm);
 *	the rest are pages of files
 * @pinned_map: NULL when entries 0..@npinned-1 hold the pins; else a
 *	bitmap of @npages bits marking the entries that hold them (a lock
 *	with repeated gpns, or kernel pages over 4 KiB: the first entry of
 *	each page holds its pin)
 * @user: the user whose locked_vm pays for @npinned (get_uid), or NULL
 *	when the locking process had CAP_IPC_LOCK
 * @kernel: made through the in-kernel API, or a view's preemptive lock;
 *	user space cannot unlock it
 * @preempt: a view's preemptive lock (see pin.c): never DMA-mapped, does
 *	not keep a device from being attached
 * @read_only: the device only reads the pages: pinned without FOLL_WRITE,
 *	mapped DMA_TO_DEVICE, not dirtied at unlock
 * @vaddr: with kernel access, the kernel mapping of the pages: entry i at
 *	@vaddr + i * 4096 (see gm_lock_vmap()); else NULL
 * @dma_node: while @iovas is set, in &gm_dma.locks
 * @sgt: the distinct pages of @pages as a scatterlist, for the DMA mapping
 * @nmapped: pages in @sgt
 * @iovas: while @sgt is DMA-mapped for the attached device, the IOVA of
 *	each entry; else NULL
 */
struct guestmem_lock {
	u32 id;
	struct guestmem *obj;
	unsigned long npages;
	struct page **pages;
	u8 *subpage;
	struct gm_lock_run *runs;
	unsigned long nr_runs;
	unsigned long npinned;
	unsigned long npinned_vm;
	unsigned long *pinned_map;
	struct user_struct *user;
	bool kernel;
	bool preempt;
	bool read_only;
	void *vaddr;
	struct list_head dma_node;
	struct sg_table sgt;
	unsigned long nmapped;
	dma_addr_t *iovas;
};

/* Which 4 KiB piece of its kernel page entry @i of @lock is. */
static inline unsigned int gm_lock_subpage(const struct guestmem_lock *lock,
					   unsigned long i)
{
	return GM_SUBPAGES > 1 ? lock->subpage[i] : 0;
}

/**
 * struct gm_pci - a PCI device bound to guestmem's driver (see pci.c)
 * @ref: the binding, each attached object, the PCI fd
 * @pdev: the device (reference held)
 * @lock: guards @objects, @gone, the interrupts and @fd_open
 * @objects: the attachments (&gm_dma.node) of the objects attached to it
 * @gone: removed or unbound: the DMA API is never called on it again
 * @fd_open: a PCI fd exists (one at a time)
 * @dma_mask_bits: the DMA mask set on the device
 * @irq_type: GUESTMEM_IRQ_* routed through the PCI fd
 * @nr_irqs: vectors routed
 * @irqs: those vectors
 */
struct gm_pci {
	struct kref ref;
	struct pci_dev *pdev;
	struct mutex lock;	/* see above: not the data path */
	struct list_head objects;
	bool gone;
	bool fd_open;
	u32 dma_mask_bits;
	u32 irq_type;
	u32 nr_irqs;
	struct gm_pci_irq *irqs;
};

/**
 * struct gm_dma - a base object's attachment to a device (see dma.c)
 * @gpci: the device's binding (reference held)
 * @node: in &gm_pci.objects (under &gm_pci.lock)
 * @mem: the attached memory
 * @locks: the mapped locks of the base and its views (under its mutex)
 * @gone: the device was removed: everything is unmapped (set under both
 *	&gm_pci.lock and @mem->lock_mutex)
 * @iova_phys: IOVAs are physical addresses (no IOMMU translation)
 * @alloc_sgt: allocated objects: all pages, DMA-mapped at attach
 * @alloc_iovas: allocated objects: the IOVA of each page
 * @alloc_contig: ... and they form one range starting at alloc_iovas[0]
 */
struct gm_dma {
	struct gm_pci *gpci;
	struct list_head node;
	struct gm_mem *mem;
	struct list_head locks;
	bool gone;
	bool iova_phys;
	struct sg_table alloc_sgt;
	dma_addr_t *alloc_iovas;
	bool alloc_contig;
};

/**
 * struct gm_obj_stats - call counters of one object, for introspection
 * @reads: read calls
 * @writes: write and fill calls
 * @bytes: bytes moved by successful reads and writes
 * @faults: reads and writes that failed
 * @locks: LOCK_GPNS calls
 * @unlocks: UNLOCK_GPNS calls
 * @lock_failures: LOCK_GPNS calls that failed
 *
 * Per CPU, so that threads sharing one object do not bounce a cache line
 * on every access: at most two this_cpu_inc/add per ioctl (main.c); the
 * reader (netlink.c) sums the CPUs.
 */
struct gm_obj_stats {
	u64 reads;
	u64 writes;
	u64 bytes;
	u64 faults;
	u64 locks;
	u64 unlocks;
	u64 lock_failures;
};

/**
 * struct gm_mem - the memory behind a base object and all its views
 *	(see object.c); allocated and freed with the base
 * @type: GUESTMEM_OBJ_* of the base object
 * @nr_regions: entries in @regions (the base's slots past it are padding)
 * @regions: what backs each region slot of the base
 * @name: debug name, NUL-terminated
 * @name_len: strlen(@name)
 * @mm: owner's mm (mmgrab'ed) for user-backed memory, else NULL
 * @owner: owner's thread-group leader (its signal_struct tells whether the
 *	owner is alive); NULL when @mm is NULL
 * @pages: for GUESTMEM_OBJ_ALLOC, the zeroed pages
 * @nr_pages: entries in @pages
 * @alloc_user: for GUESTMEM_OBJ_ALLOC, the user whose locked_vm pays for
 *	@alloc_charged pages (get_uid), or NULL (CAP_IPC_LOCK)
 * @alloc_charged: pages charged to @alloc_user
 * @lock_mutex: guards the lock tables of the base and of all its views,
 *	@nr_locks, @dma and @mapped_pages (never the data path)
 * @nr_locks: locks of the base and of its views
 * @dma: the attached device, or NULL
 * @mapped_pages: kernel pages DMA-mapped for @dma
 * @nr_views: views of the base alive
 *
 * Everything but the fields under @lock_mutex and @nr_views is set before
 * the base's fd exists and never changes.
 */
struct gm_mem {
	u32 type;
	u32 nr_regions;
	struct gm_region *regions;
	const char *name;
	size_t name_len;
	struct mm_struct *mm;
	struct task_struct *owner;
	struct page **pages;
	unsigned long nr_pages;
	struct user_struct *alloc_user;
	unsigned long alloc_charged;
	struct mutex lock_mutex;	/* lock tables, @dma: not the data path */
	unsigned long nr_locks;
	struct gm_dma *dma;
	unsigned long mapped_pages;
	atomic_t nr_views;
};

/**
 * struct guestmem - a guest memory object: the address space one object fd
 *	sees, a base object or a view of one (see object.c)
 * @ref: one per object fd, one per view of this object
 * @mem: the memory: a base's own, a view's base's
 * @base: for a view, the base object (never itself a view, referenced);
 *	NULL for a base
 * @invalid_mask: the seed's RegionDefinition.invalid_mask
 * @region_mask: the seed's RegionDefinition.region_mask
 * @region_bits: the seed's RegionDefinition.region_bits
 * @region_count: region slots, padding included (1 << n)
 * @view_offset: for a view, its address 0 in @base
 * @view_len: for a view, its length
 * @preempt: for a view made with allow_preemptive_locking, the lock that
 *	pins its whole range since creation (NULL if that failed); set before
 *	the fd exists, released last
 * @locks: this object's locks by id (under @mem's lock_mutex)
 * @gpn_index: the runs of this object's locks, by gpn (index.c)
 * @lock_count: locks in @locks
 * @locked_pages: entries in those locks
 * @pinned_pages: user pages pinned (and charged) by those locks
 * @id: registry id for netlink.c (0 until registered)
 * @announced: the "created" event was sent
 * @creator_pid: the creating process (its tgid), referenced
 * @creator_uid: its effective uid: who may see the object over netlink
 * @creator_comm: its comm
 * @created_ns: creation time, CLOCK_REALTIME
 * @nr_files: open files of this object
 * @stats: per-object call counters (netlink.c reports them)
 * @lock_fail_rs: bounds the "lock failed" events of this object
 */
struct guestmem {
	struct kref ref;
	struct gm_mem *mem;
	struct guestmem *base;
	u64 invalid_mask;
	u64 region_mask;
	u32 region_bits;
	u64 region_count;
	u64 view_offset;
	u64 view_len;
	struct guestmem_lock *preempt;
	struct xarray locks;
	struct rb_root_cached gpn_index;
	u32 lock_count;
	unsigned long locked_pages;
	unsigned long pinned_pages;
	u32 id;
	bool announced;
	struct pid *creator_pid;
	kuid_t creator_uid;
	char creator_comm[TASK_COMM_LEN];
	u64 created_ns;
	atomic_t nr_files;
	struct gm_obj_stats __percpu *stats;
	struct ratelimit_state lock_fail_rs;
};

/* The base object of @obj: itself, or the base of a view. */
static inline struct guestmem *gm_obj_base(struct guestmem *obj)
{
	return obj->base ?: obj;
}

/**
 * struct gm_loc - where a resolved guest range lives
 * @base: the object that owns @region (the view's base for views)
 * @region: the region slot
 * @off: offset of the range's first byte inside the region's backing
 */
struct gm_loc {
	struct guestmem *base;
	const struct gm_region *region;
	u64 off;
};

/**
 * struct gm_ucmd - one ioctl call, as handed to a handler by main.c
 * @obj: the object of an object fd, else NULL
 * @gpci: the device of a PCI fd, else NULL
 * @ubuffer: the caller's struct
 * @user_size: its size field
 * @ksize: the kernel's struct size
 * @cmd: kernel copy of the struct (zero-extended)
 */
struct gm_ucmd {
	struct guestmem *obj;
	struct gm_pci *gpci;
	void __user *ubuffer;
	u32 user_size;
	u32 ksize;
	void *cmd;
};

/**
 * gm_ucmd_respond() - copy the kernel's struct back to the caller
 * @ucmd: the call
 *
 * Never writes past the caller's size: an older caller gets the prefix it
 * knows.  main.c responds after a handler returns; a handler that must
 * answer before its result becomes reachable (a new fd, a new lock id)
 * calls this itself.
 *
 * Return: 0 or -EFAULT.
 */
static inline int gm_ucmd_respond(struct gm_ucmd *ucmd)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(u32, ucmd->user_size, ucmd->ksize)))
		return -EFAULT;
	return 0;
}

/*
 * Allocated objects up to this size are one physically contiguous block
 * (the page allocator's largest, order 10 with 4 KiB pages), so that they
 * are one DMA range without an IOMMU too.
 */
#define GM_CONTIG_MAX_BYTES	SZ_4M

/* Are @n pages one physically contiguous block, in order? */
static inline bool gm_pages_contiguous(struct page **pages, unsigned long n)
{
	unsigned long i;

	for (i = 1; i < n; i++)
		if (page_to_pfn(pages[i]) != page_to_pfn(pages[0]) + i)
			return false;
	return true;
}

/* main.c */
int gm_obj_publish(struct gm_ucmd *ucmd, struct guestmem *obj, u32 *out_fd);
int gm_pci_publish(struct gm_ucmd *ucmd, struct gm_pci *gpci, u32 *out_fd);
struct guestmem *gm_obj_get_fd(int fd);

/* object.c */
void gm_fault_kind(struct guestmem_fault *fault, u32 kind, u32 cause);
void gm_fault_set(struct guestmem_fault *fault, u32 kind, u32 cause, u64 gpa);
void gm_fault_index(struct guestmem_fault *fault, u64 index, u64 gpn);
void gm_obj_put(struct guestmem *obj);
bool gm_owner_exited(struct gm_mem *mem);
int gm_resolve(struct guestmem *obj, u64 gpa, u64 len, struct gm_loc *loc);
u64 gm_resolve_pages(struct guestmem *obj, u64 gpn, u64 max,
		     struct gm_loc *loc);
int gm_obj_mmap(struct guestmem *obj, struct vm_area_struct *vma);
int gm_ioctl_create_user(struct gm_ucmd *ucmd);
int gm_ioctl_create_multi(struct gm_ucmd *ucmd);
int gm_ioctl_create_alloc(struct gm_ucmd *ucmd);
int gm_ioctl_create_empty(struct gm_ucmd *ucmd);
int gm_ioctl_create_file(struct gm_ucmd *ucmd);
int gm_ioctl_subrange(struct gm_ucmd *ucmd);
int gm_ioctl_info(struct gm_ucmd *ucmd);

/* pin.c */
void gm_obj_release_locks(struct guestmem *obj);
/* gm_lock_create() flags */
#define GM_LOCK_KERNEL_ACCESS	BIT(0)	/* vmap() the pages */
#define GM_LOCK_KERNEL		BIT(1)	/* not visible to UNLOCK_GPNS */
#define GM_LOCK_PREEMPT		BIT(2)	/* a view's preemptive lock */
#define GM_LOCK_READ_ONLY	BIT(3)	/* the device only reads */

struct guestmem_lock *gm_lock_create(struct guestmem *obj, const u64 *gpns,
				     unsigned long count, unsigned int flags,
				     struct guestmem_fault *fault);
void gm_view_preempt(struct guestmem *view);
int gm_lock_publish(struct guestmem_lock *lock);
void gm_lock_destroy(struct guestmem_lock *lock);
struct page **gm_lock_distinct_pages(struct guestmem_lock *lock,
				     unsigned long *n);
struct user_struct *gm_acct_payer(void);
int gm_acct_charge(struct user_struct *user, unsigned long npages);
void gm_acct_uncharge(struct user_struct *user, unsigned long npages);
int gm_gup_errno(long rc);
long gm_pin_user(struct mm_struct *mm, unsigned long start, unsigned long nr,
		 unsigned int gup_flags, struct page **pages);
int gm_ioctl_lock_gpns(struct gm_ucmd *ucmd);
int gm_ioctl_unlock_gpns(struct gm_ucmd *ucmd);

/* index.c */
void gm_index_insert(struct guestmem_lock *lock);
void gm_index_remove(struct guestmem_lock *lock);
struct gm_lock_run *gm_index_first(struct guestmem *obj, u64 gpn);
struct gm_lock_run *gm_index_next(struct gm_lock_run *run, u64 gpn);
void gm_run_insert(struct gm_lock_run *run, struct rb_root_cached *root);
struct gm_lock_run *gm_run_first(struct rb_root_cached *root, u64 start,
				 u64 last);

/* dma.c */
int gm_dma_map_lock(struct gm_mem *mem, struct guestmem_lock *lock);
void gm_dma_unmap_lock(struct gm_mem *mem, struct guestmem_lock *lock);
u64 gm_iova_extent(struct guestmem *obj, u64 gpn, u64 max,
		   dma_addr_t *iova);
int gm_page_iova(struct guestmem *obj, u64 gpn, dma_addr_t *iova);
int gm_dma_lock_iovas(struct guestmem_lock *lock,
		      struct guestmem_lock_gpns *cmd);
bool gm_may_read_iovas(struct gm_mem *mem);
void gm_dma_info(struct guestmem *obj, struct guestmem_info *cmd);
int gm_dma_may_query(struct gm_mem *mem);
bool gm_dma_iova_is_phys(struct device *dev);
void gm_dma_revoke(struct gm_dma *dma);
void gm_dma_detach(struct gm_mem *mem);
int gm_ioctl_attach_device(struct gm_ucmd *ucmd);
int gm_ioctl_iova(struct gm_ucmd *ucmd);
int gm_ioctl_iova_runs(struct gm_ucmd *ucmd);

/* access.c */
int gm_kernel_rw(struct guestmem *obj, u64 gpa, void *buf, u64 len,
		 bool write, struct guestmem_fault *fault);
int gm_ioctl_read(struct gm_ucmd *ucmd);
int gm_ioctl_write(struct gm_ucmd *ucmd);
int gm_ioctl_fill(struct gm_ucmd *ucmd);
int gm_ioctl_read_plain(struct gm_ucmd *ucmd);
int gm_ioctl_write_plain(struct gm_ucmd *ucmd);
int gm_ioctl_cmpxchg(struct gm_ucmd *ucmd);
int gm_ioctl_probe_gpns(struct gm_ucmd *ucmd);
int gm_ioctl_range_read(struct gm_ucmd *ucmd);
int gm_ioctl_range_write(struct gm_ucmd *ucmd);
int gm_ioctl_range_fill(struct gm_ucmd *ucmd);

/* pci.c */
struct gm_pci *gm_pci_get(u32 domain, u32 bus, u32 devfn);
void gm_pci_put(struct gm_pci *gpci);
void gm_pci_release_fd(struct gm_pci *gpci);
int gm_pci_register(void);
void gm_pci_unregister(void);
int gm_ioctl_open_pci(struct gm_ucmd *ucmd);
int gm_ioctl_pci_info(struct gm_ucmd *ucmd);
int gm_ioctl_pci_set_irqs(struct gm_ucmd *ucmd);
int gm_ioctl_pci_set_dma_mask(struct gm_ucmd *ucmd);

/* netlink.c */
int gm_registry_add(struct guestmem *obj);
void gm_registry_del(struct guestmem *obj);
void gm_nl_notify(struct guestmem *obj, u8 cmd);
int gm_nl_init(void);
void gm_nl_exit(void);

#endif /* GUESTMEM_PRIV_H */
