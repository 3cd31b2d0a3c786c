/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libguestmem: the C face of OpenVMM's guestmem::GuestMemory, implemented by
 * the guestmem kernel module and reached through ioctls on /dev/guestmem.
 *
 * Every declaration in the first part of this header mirrors one seed method
 * (see Documentation/userlib.rst for the table).  Conventions:
 *
 *  - Fallible calls return 0 (or a documented non-negative value) on success
 *    and a negative errno on failure.  A failure is also recorded for the
 *    calling thread and can be read back with gm_last_error(); a success
 *    leaves the last recorded error alone, like errno.
 *  - Handles are opaque and reference counted: gm_clone() takes another
 *    reference, gm_release() drops one.  All references share one object.
 *  - All page arithmetic uses GM_PAGE_SIZE (4096), whatever the host page
 *    size is, as the seed does.
 *  - ABI: libguestmem.so.1, every function versioned (LIBGUESTMEM_1.0, see
 *    libguestmem.map).  The structs below keep their layout: one changes
 *    only with a new symbol version of every function that takes it, the
 *    old version keeping the old layout, so a program built against this
 *    header keeps working with later libraries.  Only struct gm_error, which
 *    the library alone allocates, may grow at its end.
 *  - C11 or C++11.  Every man page is in section 3 (gm_new(3), ...).
 */
#ifndef GUESTMEM_H
#define GUESTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The byte of the atomic buffer variants (gm_write_from_atomic() and
 * friends): _Atomic uint8_t in C11, std::atomic<uint8_t> in C++11 (the same
 * type, as C++23's <stdatomic.h> says; one byte on every ABI we build for).
 */
#ifdef __cplusplus
#include <atomic>
typedef std::atomic<uint8_t> gm_atomic_u8;
static_assert(sizeof(gm_atomic_u8) == 1, "std::atomic<uint8_t> is not one byte");
#else
typedef _Atomic uint8_t gm_atomic_u8;
#endif

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define GM_PAGE_SIZE 4096u

struct gm;                      /* GuestMemory: reference counted */
struct gm_locked_pages;         /* LockedPages */
struct gm_locked_range;         /* a locked PagedRange */

enum gm_error_kind { GM_ERROR_OTHER, GM_ERROR_OUT_OF_RANGE, GM_ERROR_VTL_PROTECTED,
		     GM_ERROR_NOT_PRIVATE, GM_ERROR_NOT_SHARED };
/*
 * The values after GM_OP_PROBE are library additions for failures the seed
 * has no GuestMemoryOperation for: construction (the seed's MultiRegionError,
 * or a kernel refusal), full_mapping and iova (Option in the seed), and
 * device attach (no seed counterpart).
 */
enum gm_op { GM_OP_READ, GM_OP_WRITE, GM_OP_FILL, GM_OP_COMPARE_EXCHANGE, GM_OP_LOCK,
	     GM_OP_SUBRANGE, GM_OP_PROBE, GM_OP_CREATE, GM_OP_FULL_MAPPING, GM_OP_IOVA,
	     GM_OP_ATTACH, GM_OP_PCI };
struct gm_error {
	int errnum;                     /* positive errno */
	enum gm_error_kind kind;
	enum gm_op op;
	bool has_range; uint64_t range_start, range_end;   /* [start, end) */
	bool has_gpa;   uint64_t gpa;
	const char *debug_name;
	const char *cause;              /* e.g. "no memory at address" */
	const char *message;            /* the seed's Display format, see guestmem-spec.md §4 */
};
const struct gm_error *gm_last_error(void);          /* thread-local; valid until the next call */

/*
 * One region of gm_new_multi_region().  A zero-initialised entry is a hole,
 * and one that sets only base and len is user memory, as before files
 * (libguestmem 1.1; programs built against 1.0 keep the old struct).
 */
enum gm_backing_kind { GM_BACKING_MEMORY = 0, GM_BACKING_FILE = 1 };
struct gm_backing {
	void *base;                     /* GM_BACKING_MEMORY: the memory; NULL: a hole */
	size_t len;
	enum gm_backing_kind kind;
	int fd;                         /* GM_BACKING_FILE: memfd, tmpfs or hugetlbfs file */
	uint64_t offset;                /* GM_BACKING_FILE: where the region starts in it */
};

int gm_new(const char *debug_name, void *base, size_t len, struct gm **out);
int gm_new_multi_region(const char *debug_name, uint64_t region_size,
			const struct gm_backing *backings, size_t count, struct gm **out);
/* One region: @len bytes of the file @fd from @offset (both multiples of 4096). */
int gm_new_file(const char *debug_name, int fd, uint64_t offset, size_t len, struct gm **out);
int gm_allocate(size_t size, struct gm **out);
int gm_empty(struct gm **out);
int gm_subrange(struct gm *gm, uint64_t offset, uint64_t len, bool allow_preemptive_locking,
		struct gm **out);
struct gm *gm_clone(struct gm *gm);                  /* another reference to the same object */
void gm_release(struct gm *gm);                      /* drop a reference; NULL is a no-op */
int gm_fd(const struct gm *gm);                      /* the object fd, e.g. to send over a socket */
int gm_from_fd(int fd, struct gm **out);             /* adopt a received object fd (dup'd) */
int gm_format(const struct gm *gm, char *buf, size_t len); /* Debug: name, regions, sizes */

int gm_full_mapping(struct gm *gm, void **base, size_t *len);  /* -ENOENT where the seed has None */
int gm_iova(struct gm *gm, uint64_t gpa, uint64_t *iova);      /* -ENOENT where the seed has None */

int gm_write_at(struct gm *gm, uint64_t gpa, const void *src, size_t len);
int gm_read_at(struct gm *gm, uint64_t gpa, void *dest, size_t len);
int gm_fill_at(struct gm *gm, uint64_t gpa, uint8_t val, size_t len);
int gm_write_from_atomic(struct gm *gm, uint64_t gpa, const gm_atomic_u8 *src, size_t len);
int gm_read_to_atomic(struct gm *gm, uint64_t gpa, gm_atomic_u8 *dest, size_t len);

int gm_write_plain(struct gm *gm, uint64_t gpa, const void *obj, size_t size);
int gm_read_plain(struct gm *gm, uint64_t gpa, void *obj, size_t size);
/* 1 = exchanged; 0 = not exchanged and *current now holds the value found; <0 = error */
int gm_compare_exchange(struct gm *gm, uint64_t gpa, void *current, const void *new_val,
			size_t size);
int gm_compare_exchange_bytes(struct gm *gm, uint64_t gpa, void *current, const void *new_val,
			      size_t size);

int gm_lock_gpns(struct gm *gm, bool with_kernel_access, const uint64_t *gpns, size_t count,
		 struct gm_locked_pages **out);
size_t gm_locked_pages_count(const struct gm_locked_pages *lp);
void *gm_locked_pages_page(const struct gm_locked_pages *lp, size_t i); /* page VA, or NULL */
void gm_locked_pages_release(struct gm_locked_pages *lp);
/* LockedPages: Clone - another handle on the same lock, released separately. */
struct gm_locked_pages *gm_locked_pages_clone(struct gm_locked_pages *lp);
bool gm_supports_locking(const struct gm *gm);
int gm_probe_gpns(struct gm *gm, const uint64_t *gpns, size_t count);
bool gm_check_gpa_readable(struct gm *gm, uint64_t gpa);

struct gm_paged_range { uint64_t start, end; const uint64_t *gpns; size_t count; };
int gm_paged_range_init(struct gm_paged_range *r, uint64_t offset, uint64_t len,
			const uint64_t *gpns, size_t count);   /* -EINVAL where the seed has None */
int gm_write_range(struct gm *gm, const struct gm_paged_range *r, const void *src, size_t len);
int gm_read_range(struct gm *gm, const struct gm_paged_range *r, void *dest, size_t len);
int gm_zero_range(struct gm *gm, const struct gm_paged_range *r);
int gm_write_range_from_atomic(struct gm *gm, const struct gm_paged_range *r,
			       const gm_atomic_u8 *src, size_t len);
int gm_read_range_to_atomic(struct gm *gm, const struct gm_paged_range *r,
			    gm_atomic_u8 *dest, size_t len);

struct gm_segment { void *va; uint64_t len; bool has_iova; uint64_t iova; };
int gm_lock_range(struct gm *gm, const struct gm_paged_range *r, struct gm_locked_range **out);
size_t gm_locked_range_count(const struct gm_locked_range *lr);
int gm_locked_range_segment(const struct gm_locked_range *lr, size_t i, struct gm_segment *seg);
void gm_locked_range_release(struct gm_locked_range *lr);

/*
 * Library additions (no change to the contract above).
 */

/*
 * Locks for a device that only reads the pages (lock_gpns/lock_range with
 * AccessType::Read in later versions of the crate): read-only memory can be
 * locked, and behind an IOMMU the device cannot write it.
 */
int gm_lock_gpns_read_only(struct gm *gm, bool with_kernel_access, const uint64_t *gpns,
			   size_t count, struct gm_locked_pages **out);
int gm_lock_range_read_only(struct gm *gm, const struct gm_paged_range *r,
			    struct gm_locked_range **out);

/*
 * Bind the object to the PCI device that will DMA into it, @bdf as sysfs
 * names it ("0000:00:03.0"), which must be bound to guestmem's PCI driver
 * (gm_pci_bind(); -EBUSY otherwise, and the message names its driver).
 * From then on locked pages are DMA-mapped for the device (allocated
 * memory: all of it, as one IOVA range) and gm_iova() answers.  Needs
 * CAP_SYS_RAWIO; one device per object.  When the device is removed or
 * unbound its mappings go; locks and IOVAs then fail with -ENODEV.
 */
int gm_attach_device(struct gm *gm, const char *bdf);

/*
 * PCI devices (no seed counterpart): what a user-mode driver needs besides
 * memory.  All need root (CAP_SYS_RAWIO, and sysfs writes for binding).
 *
 * gm_pci_bind() binds @bdf to @driver (NULL: "guestmem") with
 * driver_override, first unbinding whatever had it; @old (may be NULL)
 * receives that driver's name, "" for none, to give it back later with
 * gm_pci_bind(bdf, old, ...) ("" leaves the device unbound).  Binding to
 * guestmem enables the device's memory decoding and bus mastering.
 * gm_pci_driver() tells which driver has @bdf ("" for none).
 */
int gm_pci_bind(const char *bdf, const char *driver, char *old, size_t oldlen);
int gm_pci_driver(const char *bdf, char *driver, size_t len);

/*
 * A PCI fd on a device bound to guestmem (one at a time per device):
 * interrupts to eventfds and the DMA mask.  gm_pci_set_irqs() routes
 * @count vectors of @type to @eventfds (every interrupt adds 1 to its
 * eventfd); GM_IRQ_NONE with no vectors frees them.  An INTx interrupt
 * stays masked until gm_pci_unmask_intx().  Closing frees the interrupts.
 */
enum gm_irq_type { GM_IRQ_NONE, GM_IRQ_INTX, GM_IRQ_MSI, GM_IRQ_MSIX };
struct gm_pci_info {
	bool gone;                      /* removed or unbound */
	bool iova_phys;                 /* DMA addresses are physical */
	bool has_intx;
	unsigned int msix_count, msi_count;    /* vectors the device has */
	enum gm_irq_type irq_type;      /* routed now */
	unsigned int irq_count;
	unsigned int dma_mask_bits;
};
struct gm_pci_dev;
int gm_pci_open(const char *bdf, struct gm_pci_dev **out);
void gm_pci_close(struct gm_pci_dev *pci);
int gm_pci_fd(const struct gm_pci_dev *pci);
int gm_pci_info(struct gm_pci_dev *pci, struct gm_pci_info *info);
int gm_pci_set_irqs(struct gm_pci_dev *pci, enum gm_irq_type type, const int *eventfds,
		    unsigned int count);
int gm_pci_unmask_intx(struct gm_pci_dev *pci);
int gm_pci_set_dma_mask(struct gm_pci_dev *pci, unsigned int bits);

/*
 * gm_iova() for many pages in one call: @iovas[i] is the IOVA of page
 * @gpns[i] (of its first byte).  -ENOENT (with the first such gpn recorded)
 * when a page has none: not locked, or no device attached.
 */
int gm_iova_gpns(struct gm *gm, const uint64_t *gpns, size_t count, uint64_t *iovas);

/*
 * The IOVAs of the pages [@gpn, @gpn + @count) as runs, what a driver
 * programs a device with: page runs[i].gpn + k (k < runs[i].npages) is at
 * runs[i].iova + k * 4096.  Consecutive pages with consecutive IOVAs are
 * one run, so a range locked through an IOMMU is one run.  *@nr_runs is
 * the capacity of @runs on entry and the runs written on return.  Returns
 * 0 when they describe the whole range; -ENOSPC (not recorded as an error)
 * when @runs filled up first: they describe a prefix, continue after the
 * last one; -ENOENT (recorded, as gm_iova_gpns) at the first page without
 * an IOVA, the runs before it written.
 */
struct gm_iova_run { uint64_t gpn, npages, iova; };
int gm_iova_runs(struct gm *gm, uint64_t gpn, uint64_t count, struct gm_iova_run *runs,
		 size_t *nr_runs);

/*
 * The object as the kernel's introspection reports it (generic netlink
 * family "guestmem", see <linux/guestmem_netlink.h> and gmem(8)): the same
 * fields as `gmem show -j`.  Sizes in bytes, pages of 4096 bytes.
 */
struct gm_stats {
	uint32_t id;                    /* registry id (gmem show ID) */
	uint32_t kind;                  /* enum guestmem_nl_kind */
	uint32_t base_id;               /* subranges: the base object's id */
	uint32_t owner_pid, owner_uid;  /* the creator (tgid, euid) */
	char owner_comm[16];
	uint64_t created_ns;            /* CLOCK_REALTIME */
	uint64_t size, region_size;
	uint32_t region_count;
	uint32_t lock_count;            /* locks held through this object */
	uint64_t locked_pages, pinned_pages;
	uint64_t dma_mapped;            /* base objects: bytes mapped for the device */
	char device[32];                /* attached PCI device, or "" */
	uint32_t files, subranges;      /* open files, live subranges */
	uint64_t reads, writes, bytes, faults;  /* call counters */
	uint64_t lock_calls, unlock_calls, lock_failures;
};

/*
 * Fill @out for @gm.  Returns 0, or -EOPNOTSUPP when the module has no
 * netlink family, or another -errno.  Does not record a gm_last_error().
 */
int gm_stats(struct gm *gm, struct gm_stats *out);

/*
 * Direct access.  Where this process maps the guest memory itself - the
 * owner's own regions, and allocated memory through the library's mmap() -
 * the byte, fill, plain, atomic-buffer, compare-exchange and paged-range
 * calls touch it directly instead of making an ioctl (x86-64 and aarch64).
 * A fault there is caught by a SIGSEGV/SIGBUS handler the library installs
 * the first time it goes direct (every other fault goes on to the handler
 * installed before it, or takes the default action), and the call is then
 * redone through the kernel, so errors are exactly those of the kernel
 * path.  Direct accesses are not counted in the object's statistics
 * (gm_stats() reads, writes, bytes); faulting ones are, once, when redone.
 * An application that installs its own SIGSEGV or SIGBUS handler after the
 * library's must hand it the faults it does not recognise, as usual, or
 * turn direct access off.  Documentation/userlib.rst has the details.
 *
 * gm_set_direct(false) turns direct access off for the whole process from
 * the next call on (as GUESTMEM_DIRECT=0 in the environment does from the
 * start; then no handler is ever installed); true turns it back on.
 * Returns the previous setting.  gm_direct_faults() counts the faults the
 * handler has recovered in this process.
 */
bool gm_set_direct(bool enable);
uint64_t gm_direct_faults(void);

/* GuestMemory::fill_range: write @val to every byte of @r (op "fill"). */
int gm_fill_range(struct gm *gm, const struct gm_paged_range *r, uint8_t val);

/*
 * PagedRange helpers (ranges.rs).  Where the seed panics (skip, truncate,
 * split past the end) these return -EINVAL and leave @r unchanged.
 */
struct gm_address_range { uint64_t start, end; };    /* [start, end) in guest physical space */

uint64_t gm_paged_range_len(const struct gm_paged_range *r);
bool gm_paged_range_is_empty(const struct gm_paged_range *r);
uint64_t gm_paged_range_offset(const struct gm_paged_range *r);   /* start % GM_PAGE_SIZE */
/* The gpns the range touches: gpns[start/4096 .. ceil(end/4096)]. */
const uint64_t *gm_paged_range_gpns(const struct gm_paged_range *r, size_t *count);
int gm_paged_range_subrange(const struct gm_paged_range *r, uint64_t offset, uint64_t len,
			    struct gm_paged_range *out);
int gm_paged_range_skip(struct gm_paged_range *r, uint64_t len);
int gm_paged_range_truncate(struct gm_paged_range *r, uint64_t len);
int gm_paged_range_split(const struct gm_paged_range *r, uint64_t at,
			 struct gm_paged_range *head, struct gm_paged_range *tail);
/*
 * pop_front_range: 1 = *out holds the next merged run of contiguous gpns and
 * @r advanced past it; 0 = @r is empty; -ERANGE = the gpn does not form a
 * valid GPA (InvalidGpn), @r is not advanced.
 */
int gm_paged_range_pop_front(struct gm_paged_range *r, struct gm_address_range *out);

/*
 * PagedRanges: several PagedRange viewed as one buffer.  @ranges must stay
 * valid while the iterator is used.
 */
struct gm_paged_ranges {
	const struct gm_paged_range *ranges;
	size_t count;
	size_t current;         /* index of the range @start is measured in */
	uint64_t start;         /* bytes already consumed of ranges[current] */
	uint64_t end;           /* bytes left, measured from ranges[current]'s start */
};
void gm_paged_ranges_init(struct gm_paged_ranges *pr, const struct gm_paged_range *ranges,
			  size_t count);
uint64_t gm_paged_ranges_len(const struct gm_paged_ranges *pr);
bool gm_paged_ranges_is_empty(const struct gm_paged_ranges *pr);
int gm_paged_ranges_skip(struct gm_paged_ranges *pr, uint64_t len);
int gm_paged_ranges_truncate(struct gm_paged_ranges *pr, uint64_t len);
/* paged_ranges(): 1 = *out is the next (trimmed) range; 0 = done. */
int gm_paged_ranges_next(struct gm_paged_ranges *pr, struct gm_paged_range *out);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* GUESTMEM_H */
