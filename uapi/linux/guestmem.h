/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmem: guest memory objects for user-mode VMMs and DMA drivers.
 *
 * The kernel side of OpenVMM's guestmem::GuestMemory: an object describes
 * the guest physical address space (one or more regions backed by user
 * memory of the creating process, by kernel pages, or by shared-memory
 * files), and every access to
 * it is an ioctl on the object's file descriptor.
 */
#ifndef _UAPI_LINUX_GUESTMEM_H
#define _UAPI_LINUX_GUESTMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * 0xBA is listed nowhere in Documentation/userspace-api/ioctl/ioctl-number.rst
 * (6.1 and later) and has no "conflict!" neighbour; 0xB8 went to mshv.
 * Device ioctls use nr 0x00-0x0f, object ioctls 0x10-0x3f, PCI ioctls
 * 0x40-0x4f.
 */
#define GUESTMEM_TYPE 0xBA
#define GUESTMEM_CMD_BASE 0x00

/*
 * Every command number, in order: device ioctls from 0x00, object ioctls
 * from 0x10, PCI ioctls from 0x40 (the ioctl numbers below are built from
 * these).
 */
enum {
	GUESTMEM_CMD_CREATE_USER = GUESTMEM_CMD_BASE,
	GUESTMEM_CMD_CREATE_MULTI,
	GUESTMEM_CMD_CREATE_ALLOC,
	GUESTMEM_CMD_CREATE_EMPTY,
	GUESTMEM_CMD_OPEN_PCI,
	GUESTMEM_CMD_CREATE_FILE,
	GUESTMEM_CMD_READ = GUESTMEM_CMD_BASE + 0x10,
	GUESTMEM_CMD_WRITE,
	GUESTMEM_CMD_FILL,
	GUESTMEM_CMD_READ_PLAIN,
	GUESTMEM_CMD_WRITE_PLAIN,
	GUESTMEM_CMD_COMPARE_EXCHANGE,
	GUESTMEM_CMD_PROBE_GPNS,
	GUESTMEM_CMD_RANGE_READ,
	GUESTMEM_CMD_RANGE_WRITE,
	GUESTMEM_CMD_RANGE_FILL,
	GUESTMEM_CMD_SUBRANGE,
	GUESTMEM_CMD_INFO,
	GUESTMEM_CMD_LOCK_GPNS,
	GUESTMEM_CMD_UNLOCK_GPNS,
	GUESTMEM_CMD_ATTACH_DEVICE,
	GUESTMEM_CMD_IOVA,
	GUESTMEM_CMD_IOVA_RUNS,
	GUESTMEM_CMD_PCI_INFO = GUESTMEM_CMD_BASE + 0x40,
	GUESTMEM_CMD_PCI_SET_IRQS,
	GUESTMEM_CMD_PCI_SET_DMA_MASK,
};

/**
 * DOC: General ioctl format
 *
 * Every ioctl is _IO(GUESTMEM_TYPE, nr) and takes a pointer to a struct
 * whose first two fields are ``__u32 size`` (set by the caller to
 * sizeof(struct)) and ``__u32 flags``.  The kernel reads @size first:
 *
 *  - @size below the size of the first version of the struct: -EINVAL;
 *  - @size larger than the kernel's struct: the extra bytes must be zero,
 *    else -E2BIG; @size above 4096 is -E2BIG whatever the bytes;
 *  - output fields (``out_*``) are written back, never past @size bytes.
 *
 * Device ioctls (nr 0x00-0x0f) are issued on an open /dev/guestmem and
 * return, in ``out_fd``, a new file descriptor (O_CLOEXEC): an object fd,
 * or a PCI fd (GUESTMEM_OPEN_PCI).  Object ioctls (nr 0x10-0x3f) are issued
 * on an object fd, PCI ioctls (nr 0x40-0x4f) on a PCI fd.  An ioctl issued
 * on the wrong kind of fd fails with -ENOTTY.
 *
 * Errno contract (every ioctl):
 *
 *  ==============  =========================================================
 *  EINVAL          @size too small; a value outside its documented domain
 *                  (misalignment, unsupported length, a field that this
 *                  ioctl does not use is nonzero, multi-region rules: see
 *                  ``out_reason``).
 *  E2BIG           nonzero bytes beyond the end of the kernel's struct, or
 *                  @size above 4096; GUESTMEM_ATTACH_DEVICE: an allocated
 *                  object too large to be one DMA range without an IOMMU.
 *  EOPNOTSUPP      unknown bit in @flags, nonzero ``__reserved``;
 *                  GUESTMEM_ATTACH_DEVICE, a lock: DMA to the device would
 *                  be bounced or need cache syncs.
 *  ENOTTY          unknown nr, or a device ioctl on an object fd (or the
 *                  reverse).
 *  EFAULT          without GUESTMEM_FAULT_VALID in ``out_fault.flags``: the
 *                  caller's own memory (the struct, a buffer, a gpn list,
 *                  a name) could not be accessed.
 *                  With GUESTMEM_FAULT_VALID: the guest memory could not be
 *                  accessed (unmapped, PROT_NONE, read-only for a write,
 *                  munmapped after creation); kind GUESTMEM_KIND_OTHER.
 *  ERANGE          the guest address is outside the object (beyond its
 *                  extent, a hole between regions, or a guest page number
 *                  that overflows); kind GUESTMEM_KIND_OUT_OF_RANGE.
 *  ESRCH           the process that created a user-backed object has
 *                  exited; kind GUESTMEM_KIND_OTHER.  Closing still works.
 *  EOVERFLOW       a base + length or a page count overflows 64 bits.
 *  ENOSPC          a module-parameter limit would be exceeded (regions,
 *                  allocation size, pages in a lock, locks of an object,
 *                  locked pages of an object).
 *  ENAMETOOLONG    the debug name is longer than the module limit.
 *  EMSGSIZE        GUESTMEM_INFO: an output buffer is too small; the
 *                  required sizes are written back.
 *  ENOMEM          out of memory; or (locking, allocating) the pages would
 *                  exceed the calling process's RLIMIT_MEMLOCK, counted
 *                  over all the pages its user has pinned or allocated:
 *                  nothing stays pinned or charged.
 *  EINTR           a fatal signal arrived; nothing guarantees which part
 *                  of the access was done.
 *  ENOENT          GUESTMEM_UNLOCK_GPNS: unknown lock id; GUESTMEM_IOVA,
 *                  GUESTMEM_IOVA_RUNS: a page that is not locked through
 *                  this fd, or no device is attached (``out_fault`` has
 *                  GUESTMEM_FAULT_HAS_INDEX).
 *  EPERM           GUESTMEM_ATTACH_DEVICE, GUESTMEM_OPEN_PCI without
 *                  CAP_SYS_RAWIO; reading IOVAs that are physical addresses
 *                  (no IOMMU) without CAP_SYS_RAWIO.
 *  EBUSY           GUESTMEM_ATTACH_DEVICE: a device is already attached, or
 *                  a lock exists (through this object or any view of it),
 *                  or the device is not bound to guestmem;
 *                  GUESTMEM_OPEN_PCI: not bound to guestmem, or a PCI fd
 *                  is open.
 *  ENODEV          GUESTMEM_ATTACH_DEVICE, GUESTMEM_OPEN_PCI: no such PCI
 *                  device; a lock, an IOVA query or a PCI fd call after
 *                  the attached device was removed or unbound.
 *  ==============  =========================================================
 *
 * The data-path ioctls (read, write, fill, plain, compare-exchange, probe,
 * paged range, subrange) carry a &struct guestmem_fault named ``out_fault``.
 * It is written back on success (all zero) and on failure; it is what the
 * library needs to build the seed's error message.
 */

/**
 * DOC: Error report
 *
 * A failure caused by the guest address (not by the caller's buffer) sets
 * GUESTMEM_FAULT_VALID, a ``kind`` (the seed's GuestMemoryErrorKind), and a
 * ``cause`` naming the seed's cause string:
 *
 *  =============================  ======  ================================
 *  cause                          errno   seed text
 *  =============================  ======  ================================
 *  GUESTMEM_CAUSE_NO_MEMORY       ERANGE  "no memory at address"
 *  GUESTMEM_CAUSE_NOT_MAPPED      EFAULT  "the specified page is not mapped"
 *  GUESTMEM_CAUSE_INVALID_GPN     ERANGE  "invalid guest page number {gpn:#x}"
 *  GUESTMEM_CAUSE_NOT_LOCKABLE    EFAULT  "memory not lockable"
 *  GUESTMEM_CAUSE_NO_FALLBACK     EFAULT  "no fallback for this operation"
 *  GUESTMEM_CAUSE_OWNER_EXITED    ESRCH   (guestmem's own: the owner exited)
 *  =============================  ======  ================================
 *
 * GUESTMEM_FAULT_HAS_GPA: ``gpa`` is the first inaccessible guest byte (for
 * a fault inside the first page it is the start of the access; for
 * out-of-range it is the start of the access or chunk).
 * GUESTMEM_FAULT_HAS_INDEX: ``index`` is the position in the caller's gpn
 * list of the failing page, and ``gpn`` its value (probe, paged range).
 */

/**
 * enum guestmem_fault_flags - &struct guestmem_fault.flags bits
 * @GUESTMEM_FAULT_VALID: the failure is about guest memory
 * @GUESTMEM_FAULT_HAS_GPA: &struct guestmem_fault.gpa is set
 * @GUESTMEM_FAULT_HAS_INDEX: &struct guestmem_fault.index and .gpn are set
 */
enum guestmem_fault_flags {
	GUESTMEM_FAULT_VALID = 1 << 0,
	GUESTMEM_FAULT_HAS_GPA = 1 << 1,
	GUESTMEM_FAULT_HAS_INDEX = 1 << 2,
};

/**
 * enum guestmem_kind - the seed's GuestMemoryErrorKind
 * @GUESTMEM_KIND_OTHER: Other
 * @GUESTMEM_KIND_OUT_OF_RANGE: OutOfRange
 * @GUESTMEM_KIND_VTL_PROTECTED: VtlProtected (not produced yet)
 * @GUESTMEM_KIND_NOT_PRIVATE: NotPrivate (not produced yet)
 * @GUESTMEM_KIND_NOT_SHARED: NotShared (not produced yet)
 *
 * Same numbering as the library's enum gm_error_kind.
 */
enum guestmem_kind {
	GUESTMEM_KIND_OTHER = 0,
	GUESTMEM_KIND_OUT_OF_RANGE = 1,
	GUESTMEM_KIND_VTL_PROTECTED = 2,
	GUESTMEM_KIND_NOT_PRIVATE = 3,
	GUESTMEM_KIND_NOT_SHARED = 4,
};

/**
 * enum guestmem_cause - which cause string the failure carries
 * @GUESTMEM_CAUSE_NONE: no guest-side failure
 * @GUESTMEM_CAUSE_NO_MEMORY: "no memory at address"
 * @GUESTMEM_CAUSE_NOT_MAPPED: "the specified page is not mapped"
 * @GUESTMEM_CAUSE_INVALID_GPN: "invalid guest page number {gpn:#x}"
 * @GUESTMEM_CAUSE_NOT_LOCKABLE: "memory not lockable"
 * @GUESTMEM_CAUSE_NO_FALLBACK: "no fallback for this operation"
 * @GUESTMEM_CAUSE_OWNER_EXITED: the owner process has exited
 */
enum guestmem_cause {
	GUESTMEM_CAUSE_NONE = 0,
	GUESTMEM_CAUSE_NO_MEMORY = 1,
	GUESTMEM_CAUSE_NOT_MAPPED = 2,
	GUESTMEM_CAUSE_INVALID_GPN = 3,
	GUESTMEM_CAUSE_NOT_LOCKABLE = 4,
	GUESTMEM_CAUSE_NO_FALLBACK = 5,
	GUESTMEM_CAUSE_OWNER_EXITED = 6,
};

/**
 * struct guestmem_fault - where and why a guest access failed (output)
 * @flags: GUESTMEM_FAULT_* bits; 0 when the ioctl did not fail on guest memory
 * @kind: GUESTMEM_KIND_*, valid with GUESTMEM_FAULT_VALID
 * @cause: GUESTMEM_CAUSE_*, valid with GUESTMEM_FAULT_VALID
 * @index: index into the caller's gpn list, valid with GUESTMEM_FAULT_HAS_INDEX
 * @gpa: first failing guest physical address, valid with GUESTMEM_FAULT_HAS_GPA
 * @gpn: the gpn at @index, valid with GUESTMEM_FAULT_HAS_INDEX
 *
 * The kernel overwrites the whole struct on every call; its input value is
 * ignored.
 */
struct guestmem_fault {
	__u32 flags;
	__u32 kind;
	__u32 cause;
	__u32 index;
	__aligned_u64 gpa;
	__aligned_u64 gpn;
};

/* ------------------------------------------------------------------------ */
/* Device ioctls: on /dev/guestmem, each creates an object. */

/**
 * struct guestmem_create_user - GUESTMEM_CREATE_USER: the seed's new()
 * @size: sizeof(struct guestmem_create_user)
 * @flags: must be 0
 * @name_uptr: debug name (bytes, no NUL needed), used in error messages
 * @name_len: length of the name in bytes; may be 0; a NUL byte is -EINVAL
 * @__reserved: must be 0
 * @base_uptr: start of the guest memory in the caller's address space; any
 *	alignment; pages need not be mapped yet; 0 is -EINVAL
 * @len: length in bytes (the region's max_address); may be 0
 * @out_fd: the new object fd
 * @__reserved2: must be 0
 *
 * One region over [@base_uptr, @base_uptr + @len) of the calling process,
 * which becomes the object's owner: every access through the object, from
 * whichever process, reaches the owner's memory as it is mapped at the time
 * of the access.  @base_uptr + @len wrapping is -EOVERFLOW; a range outside
 * the user address space is -EFAULT.
 */
struct guestmem_create_user {
	__u32 size;
	__u32 flags;
	__aligned_u64 name_uptr;
	__u32 name_len;
	__u32 __reserved;
	__aligned_u64 base_uptr;
	__aligned_u64 len;
	__u32 out_fd;
	__u32 __reserved2;
};

#define GUESTMEM_CREATE_USER _IO(GUESTMEM_TYPE, GUESTMEM_CMD_CREATE_USER)

/**
 * enum guestmem_backing_flags - &struct guestmem_backing.flags bits
 * @GUESTMEM_BACKING_PRESENT: the region has a backing (else it is a hole)
 * @GUESTMEM_BACKING_FILE: ... and it is @len bytes of the file @fd from
 *	byte @offset, with the rules of &struct guestmem_create_file
 */
enum guestmem_backing_flags {
	GUESTMEM_BACKING_PRESENT = 1 << 0,
	GUESTMEM_BACKING_FILE = 1 << 1,
};

/**
 * struct guestmem_backing - one region of a multi-region object (input)
 * @base_uptr: start of the backing in the caller's address space (not 0
 *	when present)
 * @offset: with GUESTMEM_BACKING_FILE, where the backing starts in the file
 * @len: backing size (max_address); at most the region size
 * @flags: GUESTMEM_BACKING_PRESENT (and GUESTMEM_BACKING_FILE), or 0 for a
 *	hole (then @base_uptr and @len must be 0)
 * @fd: with GUESTMEM_BACKING_FILE, the file; else must be 0
 */
struct guestmem_backing {
	union {
		__aligned_u64 base_uptr;
		__aligned_u64 offset;
	};
	__aligned_u64 len;
	__u32 flags;
	__s32 fd;
};

/**
 * enum guestmem_mr_reason - the seed's MultiRegionError, in check order
 * @GUESTMEM_MR_OK: no multi-region rule failed
 * @GUESTMEM_MR_NOT_POWER_OF_TWO: "region size {:#x} is not a power of 2"
 * @GUESTMEM_MR_REGION_TOO_SMALL: "region size {:#x} is smaller than a page"
 * @GUESTMEM_MR_TOO_MANY_REGIONS:
 *	"too many regions ({n}) for region size {:#x}; max is {m}"
 * @GUESTMEM_MR_BACKING_TOO_LARGE:
 *	"backing size {:#x} is too large for region size {:#x}"
 */
enum guestmem_mr_reason {
	GUESTMEM_MR_OK = 0,
	GUESTMEM_MR_NOT_POWER_OF_TWO = 1,
	GUESTMEM_MR_REGION_TOO_SMALL = 2,
	GUESTMEM_MR_TOO_MANY_REGIONS = 3,
	GUESTMEM_MR_BACKING_TOO_LARGE = 4,
};

/**
 * struct guestmem_create_multi - GUESTMEM_CREATE_MULTI: new_multi_region()
 * @size: sizeof(struct guestmem_create_multi)
 * @flags: must be 0
 * @name_uptr: debug name, as in &struct guestmem_create_user
 * @name_len: length of the name in bytes
 * @backing_count: number of &struct guestmem_backing at @backings_uptr
 * @region_size: bytes per region: a power of two, at least 4096
 * @backings_uptr: array of @backing_count &struct guestmem_backing
 * @out_reason: GUESTMEM_MR_* when the ioctl fails with -EINVAL on one of the
 *	seed's rules, else GUESTMEM_MR_OK
 * @out_bad_index: for GUESTMEM_MR_BACKING_TOO_LARGE, the index of the first
 *	backing larger than @region_size
 * @out_region_count: next_pow2(@backing_count) (1 for 0 or 1): the number
 *	of region slots, holes and padding included (also for TOO_MANY_REGIONS)
 * @out_max_region_count: 1 << (63 - log2(@region_size)), when computable
 * @out_fd: the new object fd
 * @__reserved: must be 0
 *
 * Region i covers guest addresses [i * @region_size, (i + 1) * @region_size).
 * The checks run in the seed's order: NotPowerOfTwo, RegionSizeTooSmall,
 * TooManyRegions, then the module's max_regions limit (-ENOSPC), then each
 * present backing in order (BackingTooLarge: @len > @region_size; equal is
 * accepted, though its last byte is unreachable).
 * User backings live in the caller's address space (the owner); file
 * backings (GUESTMEM_BACKING_FILE) are held by the object, which has an
 * owner only if it has a user backing.
 */
struct guestmem_create_multi {
	__u32 size;
	__u32 flags;
	__aligned_u64 name_uptr;
	__u32 name_len;
	__u32 backing_count;
	__aligned_u64 region_size;
	__aligned_u64 backings_uptr;
	__u32 out_reason;
	__u32 out_bad_index;
	__aligned_u64 out_region_count;
	__aligned_u64 out_max_region_count;
	__u32 out_fd;
	__u32 __reserved;
};

#define GUESTMEM_CREATE_MULTI _IO(GUESTMEM_TYPE, GUESTMEM_CMD_CREATE_MULTI)

/**
 * struct guestmem_create_alloc - GUESTMEM_CREATE_ALLOC: the seed's allocate()
 * @size: sizeof(struct guestmem_create_alloc)
 * @flags: must be 0
 * @len: requested size in bytes; rounded up to 4096; may be 0
 * @out_alloc_size: the rounded size: the object's extent and the length to
 *	mmap() the object fd with
 * @out_fd: the new object fd
 * @__reserved: must be 0
 *
 * Zeroed kernel pages, debug name "heap".  They cannot be swapped or
 * reclaimed, so they are charged like pinned pages: to the caller's user
 * against its RLIMIT_MEMLOCK (-ENOMEM past it; not limited with
 * CAP_IPC_LOCK), and to its memory cgroup.  mmap(MAP_SHARED) of the object
 * fd maps them (what full_mapping returns); MAP_PRIVATE is -EINVAL.  @len
 * above the max_alloc_bytes module parameter is -ENOSPC.
 */
struct guestmem_create_alloc {
	__u32 size;
	__u32 flags;
	__aligned_u64 len;
	__aligned_u64 out_alloc_size;
	__u32 out_fd;
	__u32 __reserved;
};

#define GUESTMEM_CREATE_ALLOC _IO(GUESTMEM_TYPE, GUESTMEM_CMD_CREATE_ALLOC)

/**
 * struct guestmem_create_empty - GUESTMEM_CREATE_EMPTY: the seed's empty()
 * @size: sizeof(struct guestmem_create_empty)
 * @flags: must be 0
 * @out_fd: the new object fd
 * @__reserved: must be 0
 *
 * One region of length 0 and no backing, debug name "empty".
 */
struct guestmem_create_empty {
	__u32 size;
	__u32 flags;
	__u32 out_fd;
	__u32 __reserved;
};

#define GUESTMEM_CREATE_EMPTY _IO(GUESTMEM_TYPE, GUESTMEM_CMD_CREATE_EMPTY)

/**
 * struct guestmem_create_file - GUESTMEM_CREATE_FILE: one region backed by a
 *	shared-memory file
 * @size: sizeof(struct guestmem_create_file)
 * @flags: must be 0
 * @name_uptr: debug name, as in &struct guestmem_create_user
 * @name_len: length of the name in bytes
 * @fd: the file: a memfd, a tmpfs (shmem) file or, from Linux 6.11, a
 *	hugetlbfs file, open for reading and writing
 * @offset: where the region starts in the file: a multiple of 4096
 * @len: the region's length (max_address): a multiple of 4096, and
 *	@offset + @len may not pass the file's size
 * @out_fd: the new object fd
 * @__reserved: must be 0
 *
 * The object holds the file (not an address): every access reaches the
 * file's pages, from whichever process, and no process owns the object.
 * mmap(MAP_SHARED) of the object fd maps the file's pages themselves (the
 * mapping is the file's, as if the file had been mapped; not for hugetlbfs:
 * -EINVAL), so any process holding the fd can reach the memory without a
 * system call.  Locks pin the file's pages long-term (memfd_pin_folios(),
 * Linux 6.11 and later; earlier kernels cannot pin them and report "not
 * lockable"), charged as user pins are.
 *
 * Errors: -EBADF (@fd is not an open file), -EINVAL (not shmem or
 * hugetlbfs, misaligned, past the file's size, wrapping), -EACCES (not
 * open for reading and writing), -EPERM (the file is sealed against
 * writing: F_SEAL_WRITE or F_SEAL_FUTURE_WRITE; while the object exists
 * F_SEAL_WRITE cannot be added, as for a shared writable mapping),
 * -EOPNOTSUPP (hugetlbfs before Linux 6.11).  Shrinking the file later
 * makes the bytes past its end fail as unmapped memory does.
 */
struct guestmem_create_file {
	__u32 size;
	__u32 flags;
	__aligned_u64 name_uptr;
	__u32 name_len;
	__s32 fd;
	__aligned_u64 offset;
	__aligned_u64 len;
	__u32 out_fd;
	__u32 __reserved;
};

#define GUESTMEM_CREATE_FILE _IO(GUESTMEM_TYPE, GUESTMEM_CMD_CREATE_FILE)

/* ------------------------------------------------------------------------ */
/* Object ioctls: on an object fd. */

/**
 * struct guestmem_rw - GUESTMEM_READ, GUESTMEM_WRITE, GUESTMEM_READ_PLAIN,
 *	GUESTMEM_WRITE_PLAIN
 * @size: sizeof(struct guestmem_rw)
 * @flags: must be 0
 * @gpa: guest physical address of the first byte
 * @len: number of bytes
 * @buf_uptr: the caller's buffer of @len bytes (destination for reads,
 *	source for writes)
 * @out_fault: error report, see &struct guestmem_fault
 *
 * GUESTMEM_READ / GUESTMEM_WRITE: read_at/write_at (and the atomic-buffer
 * variants).  @len == 0 succeeds for any @gpa without looking at it.  Not
 * atomic: on failure a prefix may have been copied.
 *
 * GUESTMEM_READ_PLAIN / GUESTMEM_WRITE_PLAIN: read_plain/write_plain.  When
 * @len is 1, 2, 4 or 8 and @gpa is a multiple of @len, the guest side is one
 * untorn load or store.  Other lengths are plain copies.  @len == 0 still
 * validates @gpa (out of range: -ERANGE; no backing: -EFAULT NO_FALLBACK).
 */
struct guestmem_rw {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpa;
	__aligned_u64 len;
	__aligned_u64 buf_uptr;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_READ		_IO(GUESTMEM_TYPE, GUESTMEM_CMD_READ)
#define GUESTMEM_WRITE		_IO(GUESTMEM_TYPE, GUESTMEM_CMD_WRITE)
#define GUESTMEM_READ_PLAIN	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_READ_PLAIN)
#define GUESTMEM_WRITE_PLAIN	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_WRITE_PLAIN)

/**
 * struct guestmem_fill - GUESTMEM_FILL: fill_at()
 * @size: sizeof(struct guestmem_fill)
 * @flags: must be 0
 * @gpa: guest physical address of the first byte
 * @len: number of bytes; 0 succeeds for any @gpa
 * @val: the byte value, 0-255 (larger is -EINVAL)
 * @__reserved: must be 0
 * @out_fault: error report, see &struct guestmem_fault
 */
struct guestmem_fill {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpa;
	__aligned_u64 len;
	__u32 val;
	__u32 __reserved;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_FILL		_IO(GUESTMEM_TYPE, GUESTMEM_CMD_FILL)

/**
 * struct guestmem_cmpxchg - GUESTMEM_COMPARE_EXCHANGE: compare_exchange()
 *	and compare_exchange_bytes()
 * @size: sizeof(struct guestmem_cmpxchg)
 * @flags: must be 0
 * @gpa: guest physical address, a multiple of @len (and so must be the
 *	address of the backing byte, else -EINVAL)
 * @len: 1, 2, 4 or 8
 * @__reserved: must be 0
 * @current_val: expected value: its first @len bytes in memory order (as
 *	memcpy() would put them), the other bytes zero
 * @new_val: replacement value, same encoding
 * @out_current: the value found at @gpa, same encoding (equal to
 *	@current_val when exchanged)
 * @out_exchanged: 1 if memory held @current_val and now holds @new_val,
 *	0 if it held something else and is unchanged
 * @__reserved2: must be 0
 * @out_fault: error report, see &struct guestmem_fault
 *
 * One sequentially consistent compare-and-exchange on the guest memory.
 * The guest page must be writable even when the comparison fails.
 *
 * compare_exchange_bytes() of the seed accepted any T but its only
 * implementation (sparse_mmap::try_compare_exchange_ref) handles 1, 2, 4 and
 * 8 bytes and panics on anything else; here any other @len is -EINVAL.  The
 * seed does not check alignment at run time; here a misaligned @gpa is
 * -EINVAL, because an atomic that splits a cache line or a page cannot be
 * done safely in the kernel.
 */
struct guestmem_cmpxchg {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpa;
	__u32 len;
	__u32 __reserved;
	__aligned_u64 current_val;
	__aligned_u64 new_val;
	__aligned_u64 out_current;
	__u32 out_exchanged;
	__u32 __reserved2;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_COMPARE_EXCHANGE _IO(GUESTMEM_TYPE, GUESTMEM_CMD_COMPARE_EXCHANGE)

/**
 * struct guestmem_probe_gpns - GUESTMEM_PROBE_GPNS: probe_gpns()
 * @size: sizeof(struct guestmem_probe_gpns)
 * @flags: must be 0
 * @gpns_uptr: array of @gpn_count __u64 guest page numbers (4096-byte pages)
 * @gpn_count: number of entries; 0 succeeds; above 2^32 - 1 is -EOVERFLOW
 * @out_fault: error report, see &struct guestmem_fault; HAS_INDEX is set on
 *	every guest-side failure
 *
 * In order, for each gpn: gpn * 4096 must not overflow (else -ERANGE,
 * GUESTMEM_CAUSE_INVALID_GPN, no gpa), then one byte at that address must be
 * readable.  Stops at the first failure.
 */
struct guestmem_probe_gpns {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpns_uptr;
	__aligned_u64 gpn_count;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_PROBE_GPNS	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_PROBE_GPNS)

/**
 * struct guestmem_range - GUESTMEM_RANGE_READ, GUESTMEM_RANGE_WRITE,
 *	GUESTMEM_RANGE_FILL: the PagedRange accesses
 * @size: sizeof(struct guestmem_range)
 * @flags: must be 0
 * @gpns_uptr: array of @gpn_count __u64 guest page numbers
 * @gpn_count: number of entries; above 2^32 - 1 is -EOVERFLOW
 * @offset: byte offset of the range into the pages laid end to end
 * @len: bytes in the range; also the size of the buffer at @buf_uptr
 * @buf_uptr: the caller's buffer (read: destination, write: source); must be
 *	0 for GUESTMEM_RANGE_FILL
 * @val: fill byte (0-255) for GUESTMEM_RANGE_FILL, must be 0 otherwise
 * @__reserved: must be 0
 * @out_fault: error report, see &struct guestmem_fault
 *
 * The range is PagedRange::new(@offset, @len, gpns): @offset > 4096 *
 * @gpn_count or @len > 4096 * @gpn_count - @offset is -EINVAL.  It is split
 * as the seed does: a head chunk up to the end of the first page, whole
 * pages, then a tail chunk, each one access at gpn * 4096 (+ in-page offset
 * for the head).  Neighbouring gpns are not merged.  Stops at the first
 * failing chunk; earlier chunks stay done.  A zero-length range whose
 * @offset is not page aligned still checks that its gpn does not overflow.
 */
struct guestmem_range {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpns_uptr;
	__aligned_u64 gpn_count;
	__aligned_u64 offset;
	__aligned_u64 len;
	__aligned_u64 buf_uptr;
	__u32 val;
	__u32 __reserved;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_RANGE_READ	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_RANGE_READ)
#define GUESTMEM_RANGE_WRITE	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_RANGE_WRITE)
#define GUESTMEM_RANGE_FILL	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_RANGE_FILL)

/**
 * enum guestmem_subrange_flags - &struct guestmem_subrange.flags bits
 * @GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING: the seed's
 *	allow_preemptive_locking: pin the view's pages now, if possible
 */
enum guestmem_subrange_flags {
	GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING = 1 << 0,
};

/**
 * struct guestmem_subrange - GUESTMEM_SUBRANGE: subrange()
 * @size: sizeof(struct guestmem_subrange)
 * @flags: GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING: best effort, for
 *	user memory: every page of the view is pinned (and charged) now, as
 *	one lock that lives as long as the view; later locks through the view
 *	reuse those pins.  If a page cannot be pinned the view is made all
 *	the same, without it (GUESTMEM_INFO_PREEMPTIVE tells)
 * @offset: first guest address of the view in this object
 * @len: length of the view
 * @out_fd: the new object fd
 * @__reserved: must be 0
 * @out_fault: error report, see &struct guestmem_fault
 *
 * [@offset, @offset + @len) must pass the address rules against one region
 * (else -ERANGE, NO_MEMORY, gpa = @offset).  The view's address 0 is
 * @offset; it shares the backing and the debug name, and a view of a view
 * refers to the original object directly.
 */
struct guestmem_subrange {
	__u32 size;
	__u32 flags;
	__aligned_u64 offset;
	__aligned_u64 len;
	__u32 out_fd;
	__u32 __reserved;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_SUBRANGE	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_SUBRANGE)

/**
 * enum guestmem_obj_type - &struct guestmem_info.out_type
 * @GUESTMEM_OBJ_USER: made by GUESTMEM_CREATE_USER
 * @GUESTMEM_OBJ_MULTI: made by GUESTMEM_CREATE_MULTI
 * @GUESTMEM_OBJ_ALLOC: made by GUESTMEM_CREATE_ALLOC
 * @GUESTMEM_OBJ_EMPTY: made by GUESTMEM_CREATE_EMPTY
 * @GUESTMEM_OBJ_FILE: made by GUESTMEM_CREATE_FILE
 */
enum guestmem_obj_type {
	GUESTMEM_OBJ_USER = 1,
	GUESTMEM_OBJ_MULTI = 2,
	GUESTMEM_OBJ_ALLOC = 3,
	GUESTMEM_OBJ_EMPTY = 4,
	GUESTMEM_OBJ_FILE = 5,
};

/**
 * enum guestmem_info_flags - &struct guestmem_info.out_flags bits
 * @GUESTMEM_INFO_SUBRANGE: a subrange; out_type is the base object's
 * @GUESTMEM_INFO_FULL_MAPPING: the seed's full_mapping() is Some
 * @GUESTMEM_INFO_FULL_MAPPING_VA: ... and lies at out_full_mapping_va in
 *	the caller's address space
 * @GUESTMEM_INFO_MMAP: mmap() of this fd reaches memory of the object:
 *	allocated memory, or regions with GUESTMEM_REGION_MMAP (file
 *	backings); for an object of one region, its full mapping
 * @GUESTMEM_INFO_OWNER: the caller's mm is the owner's
 * @GUESTMEM_INFO_OWNER_EXITED: the owner's address space is gone
 * @GUESTMEM_INFO_SUPPORTS_LOCKING: the seed's supports_locking()
 * @GUESTMEM_INFO_ATTACHED: a device is attached (GUESTMEM_ATTACH_DEVICE)
 * @GUESTMEM_INFO_IOVA_PHYS: ... and its IOVAs are physical addresses
 *	(no IOMMU translation: dma-direct or an identity domain); reading
 *	them needs CAP_SYS_RAWIO
 * @GUESTMEM_INFO_BASE_IOVA: allocated memory on an attached device, mapped
 *	as one IOVA range: iova(gpa) = out_base_iova + gpa (only when the
 *	caller may read IOVAs)
 * @GUESTMEM_INFO_PREEMPTIVE: a view made with
 *	GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING whose pages are pinned
 *	since its creation (counted in out_lock_count and out_pinned_pages)
 * @GUESTMEM_INFO_DEVICE_GONE: the attached device was removed or unbound:
 *	nothing is DMA-mapped any more, new locks and IOVA queries fail with
 *	-ENODEV (with GUESTMEM_INFO_ATTACHED)
 */
enum guestmem_info_flags {
	GUESTMEM_INFO_SUBRANGE = 1 << 0,
	GUESTMEM_INFO_FULL_MAPPING = 1 << 1,
	GUESTMEM_INFO_FULL_MAPPING_VA = 1 << 2,
	GUESTMEM_INFO_MMAP = 1 << 3,
	GUESTMEM_INFO_OWNER = 1 << 4,
	GUESTMEM_INFO_OWNER_EXITED = 1 << 5,
	GUESTMEM_INFO_SUPPORTS_LOCKING = 1 << 6,
	GUESTMEM_INFO_ATTACHED = 1 << 7,
	GUESTMEM_INFO_IOVA_PHYS = 1 << 8,
	GUESTMEM_INFO_BASE_IOVA = 1 << 9,
	GUESTMEM_INFO_PREEMPTIVE = 1 << 10,
	GUESTMEM_INFO_DEVICE_GONE = 1 << 11,
};

/**
 * enum guestmem_region_flags - &struct guestmem_region_info.flags bits
 * @GUESTMEM_REGION_PRESENT: has a backing (not a hole or padding)
 * @GUESTMEM_REGION_MAPPED: the backing has a mapping
 * @GUESTMEM_REGION_HAS_VA: &struct guestmem_region_info.va is valid for the
 *	caller
 * @GUESTMEM_REGION_FILE: the backing is a file (GUESTMEM_CREATE_FILE,
 *	GUESTMEM_BACKING_FILE)
 * @GUESTMEM_REGION_MMAP: mmap() of the object fd reaches the backing: its
 *	byte at offset o lies at mmap offset (slot address + o +
 *	out_mmap_offset) of &struct guestmem_info (for a view, its window)
 */
enum guestmem_region_flags {
	GUESTMEM_REGION_PRESENT = 1 << 0,
	GUESTMEM_REGION_MAPPED = 1 << 1,
	GUESTMEM_REGION_HAS_VA = 1 << 2,
	GUESTMEM_REGION_FILE = 1 << 3,
	GUESTMEM_REGION_MMAP = 1 << 4,
};

/**
 * struct guestmem_region_info - one region slot (output of GUESTMEM_INFO)
 * @flags: GUESTMEM_REGION_* bits
 * @__reserved: written as 0
 * @len: the region's backing length (max_address); 0 for holes and padding
 * @va: the mapping's address in the owner's address space, with
 *	GUESTMEM_REGION_HAS_VA (only when the caller's mm is the owner's)
 */
struct guestmem_region_info {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 len;
	__aligned_u64 va;
};

/**
 * struct guestmem_info - GUESTMEM_INFO: describe the object
 * @size: sizeof(struct guestmem_info)
 * @flags: must be 0
 * @name_uptr: buffer for the debug name, NUL-terminated; 0 to skip
 * @name_capacity: bytes at @name_uptr
 * @out_name_len: length of the name without its NUL
 * @regions_uptr: array of &struct guestmem_region_info; 0 to skip
 * @region_capacity: entries at @regions_uptr
 * @out_type: GUESTMEM_OBJ_* (of the base object for a view)
 * @out_region_count: number of region slots (padding included)
 * @out_region_bits: log2 of the region size (63 for single-region objects)
 * @out_flags: GUESTMEM_INFO_* bits
 * @out_invalid_mask: the seed's RegionDefinition.invalid_mask
 * @out_region_mask: the seed's RegionDefinition.region_mask
 * @out_subrange_offset: with GUESTMEM_INFO_SUBRANGE: the view's address 0 in the
 *	base object
 * @out_full_mapping_va: with GUESTMEM_INFO_FULL_MAPPING_VA, the base VA
 * @out_full_mapping_len: with GUESTMEM_INFO_FULL_MAPPING, its length
 * @out_mmap_size: with GUESTMEM_INFO_MMAP, the length of the window that
 *	mmap() maps from offset 0: to the end of the last region it reaches.
 *	One mmap() may cover one region (a single-region object: the whole
 *	window); the rest of the window (holes, user backings) is -EINVAL
 * @out_mmap_offset: with GUESTMEM_INFO_MMAP, where address 0 of the object
 *	lies inside that window (a view that starts inside a page)
 * @out_locked_pages: pages held by the locks made through this fd's object
 *	(a gpn listed twice counts twice)
 * @out_pinned_pages: kernel pages (of sysconf(_SC_PAGESIZE) bytes) those
 *	locks pin (user pages, in the owner's VmPin, and pages of files),
 *	charged to the locking user; allocated memory is locked without
 *	pinning
 * @out_lock_count: number of locks made through this fd's object
 * @__reserved: written as 0
 * @out_base_iova: with GUESTMEM_INFO_BASE_IOVA, the IOVA of guest address 0
 *
 * When a non-NULL buffer is too small (@name_capacity <= @out_name_len, or
 * @region_capacity < @out_region_count) the ioctl fails with -EMSGSIZE and
 * writes back the out_ fields, so the caller can retry.
 */
struct guestmem_info {
	__u32 size;
	__u32 flags;
	__aligned_u64 name_uptr;
	__u32 name_capacity;
	__u32 out_name_len;
	__aligned_u64 regions_uptr;
	__u32 region_capacity;
	__u32 out_type;
	__aligned_u64 out_region_count;
	__u32 out_region_bits;
	__u32 out_flags;
	__aligned_u64 out_invalid_mask;
	__aligned_u64 out_region_mask;
	__aligned_u64 out_subrange_offset;
	__aligned_u64 out_full_mapping_va;
	__aligned_u64 out_full_mapping_len;
	__aligned_u64 out_mmap_size;
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_locked_pages;
	__aligned_u64 out_pinned_pages;
	__u32 out_lock_count;
	__u32 __reserved;
	__aligned_u64 out_base_iova;
};

#define GUESTMEM_INFO		_IO(GUESTMEM_TYPE, GUESTMEM_CMD_INFO)

/**
 * DOC: Locking and IOVAs
 *
 * A *lock* keeps a list of guest pages resident: GUESTMEM_LOCK_GPNS pins
 * each user page long-term (FOLL_LONGTERM | FOLL_WRITE: every page must be
 * writable, since a device may write it; without FOLL_WRITE for a
 * GUESTMEM_LOCK_READ_ONLY lock) in the owner's address space,
 * whichever process makes the call; a page listed several times is pinned
 * once.  Shared writable mappings of files that writeback cleans (a disk
 * filesystem) cannot be pinned long-term, on every kernel.  Pages of an
 * allocated object are the object's own and are locked without pinning.
 * A lock lives until
 * GUESTMEM_UNLOCK_GPNS or until the object it was made through (this fd's
 * object: a view's locks belong to the view) is destroyed, when every
 * remaining lock is released.  munmap() of a locked range leaves the pages
 * pinned, and mapped for the device, until then.
 *
 * Pinned pages are charged to the user of the process that locks
 * (user_struct->locked_vm, as io_uring and iommufd charge), against that
 * process's RLIMIT_MEMLOCK, unless it has CAP_IPC_LOCK when it locks; the
 * charge goes when the pins go, whatever has become of any process.  They
 * also count in the owner's mm->pinned_vm (``VmPin`` in /proc/PID/status),
 * which tells where pinned memory lies.  Each distinct page counts once per
 * lock.  Over the limit the lock fails with -ENOMEM and nothing stays
 * pinned; it never holds more pins than the limit allows, even briefly.
 *
 * Locks cost kernel memory even when they pin nothing (allocated memory, a
 * preemptive view): an object or view holds at most max_locks locks and
 * max_object_lock_pages entries in all (module parameters; -ENOSPC).
 *
 * Once a device is attached (GUESTMEM_ATTACH_DEVICE, before any lock), the
 * pages of every lock are DMA-mapped for it, all the lock's pages with one
 * mapping: with an IOMMU they get one contiguous IOVA range in list order,
 * whatever their physical layout.  Unlock unmaps before it unpins.  An
 * allocated object is mapped as a whole at attach time, so every one of its
 * pages has an IOVA, locked or not.
 *
 * Without IOMMU translation the IOVA is the physical address: only callers
 * with CAP_SYS_RAWIO may read it (else -EPERM).  With an IOMMU anyone
 * holding the fd may.
 */

/**
 * enum guestmem_lock_flags - &struct guestmem_lock_gpns.flags bits
 * @GUESTMEM_LOCK_KERNEL_ACCESS: the seed's with_kernel_access.  A pinned
 *	page is accessible to the kernel as it is, so from user space the
 *	flag changes nothing; an in-kernel consumer's lock with kernel access
 *	also gets a contiguous kernel mapping of its pages
 * @GUESTMEM_LOCK_READ_ONLY: the device only reads the pages (the seed's
 *	lock probes by reading).  User memory is pinned without FOLL_WRITE,
 *	so read-only mappings can be locked, and mapped for the device with
 *	DMA_TO_DEVICE: behind an IOMMU a device write faults.  The pages are
 *	not dirtied at unlock.  Pages the owner has never written may be
 *	pinned as the shared zero page, which the owner's first write then
 *	replaces: write the memory before locking it read-only, as with
 *	iommufd's read-only mappings.  Allocated memory is the object's and
 *	mapped both ways at attach: the flag changes nothing for it.
 */
enum guestmem_lock_flags {
	GUESTMEM_LOCK_KERNEL_ACCESS = 1 << 0,
	GUESTMEM_LOCK_READ_ONLY = 1 << 1,
};

/**
 * enum guestmem_lock_out_flags - &struct guestmem_lock_gpns.out_flags bits
 * @GUESTMEM_LOCK_OUT_IOVAS: the IOVAs were written to @iovas_uptr
 */
enum guestmem_lock_out_flags {
	GUESTMEM_LOCK_OUT_IOVAS = 1 << 0,
};

/**
 * struct guestmem_lock_gpns - GUESTMEM_LOCK_GPNS: lock_gpns()
 * @size: sizeof(struct guestmem_lock_gpns)
 * @flags: GUESTMEM_LOCK_* bits (enum guestmem_lock_flags)
 * @gpns_uptr: array of @gpn_count __u64 guest page numbers; duplicates are
 *	allowed, order is kept
 * @gpn_count: number of entries; 0 makes an empty lock; above the
 *	max_lock_pages module parameter is -ENOSPC, above 2^32 - 1 -EOVERFLOW
 * @iovas_uptr: 0, or an array of @gpn_count __u64 that receives each
 *	page's IOVA when a device is attached (then GUESTMEM_LOCK_OUT_IOVAS);
 *	physical IOVAs without CAP_SYS_RAWIO: -EPERM, nothing locked
 * @out_lock_id: the lock, for GUESTMEM_UNLOCK_GPNS (never 0)
 * @out_flags: GUESTMEM_LOCK_OUT_* bits
 * @out_fault: error report; on a guest-side failure HAS_INDEX names the
 *	failing entry and HAS_GPA its first byte (gpn * 4096)
 *
 * Guest-side failures (nothing stays locked):
 *
 *  ===========================  ======  ================================
 *  page                         errno   cause
 *  ===========================  ======  ================================
 *  gpn * 4096 overflows         ERANGE  INVALID_GPN (no HAS_GPA)
 *  outside the object, a hole   ERANGE  NO_MEMORY
 *  unmapped, PROT_NONE,         EFAULT  NOT_MAPPED
 *  read-only, or a long-term
 *  pin the kernel refuses
 *  (shared file on a disk fs)
 *  not 4 KiB-aligned in the     EFAULT  NOT_LOCKABLE
 *  owner's mm, no backing (the
 *  empty object), or, with
 *  kernel pages over 4 KiB, a
 *  page reaching outside the
 *  object (see below)
 *  owner exited                 ESRCH   OWNER_EXITED
 *  ===========================  ======  ================================
 *
 * Over RLIMIT_MEMLOCK: -ENOMEM without fault information.  Over the
 * object's max_locks or max_object_lock_pages: -ENOSPC.
 *
 * Kernel pages over 4 KiB (sysconf(_SC_PAGESIZE), e.g. arm64 with 64 KiB
 * pages): a gpn is a piece of a kernel page, and the lock pins and maps
 * the whole page, once however many of its gpns are listed; an entry's
 * IOVA is its page's plus the piece's offset.  A gpn whose kernel page
 * does not lie wholly inside the object (the region's backing, a view's
 * window) is NOT_LOCKABLE, as the device would reach memory outside it.
 * Pins are charged, and counted in out_pinned_pages and VmPin, in kernel
 * pages.
 */
struct guestmem_lock_gpns {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpns_uptr;
	__aligned_u64 gpn_count;
	__aligned_u64 iovas_uptr;
	__u32 out_lock_id;
	__u32 out_flags;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_LOCK_GPNS	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_LOCK_GPNS)

/**
 * struct guestmem_unlock_gpns - GUESTMEM_UNLOCK_GPNS: drop a LockedPages
 * @size: sizeof(struct guestmem_unlock_gpns)
 * @flags: must be 0
 * @lock_id: the lock, as returned by GUESTMEM_LOCK_GPNS on this fd's object
 * @__reserved: must be 0
 *
 * Unmaps the lock's pages from the device (if attached), unpins them
 * (dirtied) and uncharges them.  An unknown @lock_id is -ENOENT.
 */
struct guestmem_unlock_gpns {
	__u32 size;
	__u32 flags;
	__u32 lock_id;
	__u32 __reserved;
};

#define GUESTMEM_UNLOCK_GPNS	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_UNLOCK_GPNS)

/**
 * struct guestmem_iova - GUESTMEM_IOVA: iova() for a batch of pages
 * @size: sizeof(struct guestmem_iova)
 * @flags: must be 0
 * @gpns_uptr: array of @gpn_count __u64 guest page numbers
 * @gpn_count: number of entries; above 2^32 - 1 is -EOVERFLOW
 * @iovas_uptr: array of @gpn_count __u64: each page's IOVA (the IOVA of its
 *	first byte: add the in-page offset)
 * @out_fault: on -ENOENT, HAS_INDEX names the first page without an IOVA
 *
 * A page has an IOVA when a device is attached and the page is locked
 * through this fd's object (any of its locks), or, for allocated memory,
 * always.  The first page without one fails the call with -ENOENT; the
 * entries before it are written.  Physical IOVAs without CAP_SYS_RAWIO:
 * -EPERM.
 */
struct guestmem_iova {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpns_uptr;
	__aligned_u64 gpn_count;
	__aligned_u64 iovas_uptr;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_IOVA		_IO(GUESTMEM_TYPE, GUESTMEM_CMD_IOVA)

/**
 * struct guestmem_iova_run - one run of &struct guestmem_iova_runs
 * @gpn: the run's first guest page
 * @npages: pages in the run (at least 1)
 * @iova: the IOVA of @gpn's first byte; page @gpn + k is at @iova + k * 4096
 */
struct guestmem_iova_run {
	__aligned_u64 gpn;
	__aligned_u64 npages;
	__aligned_u64 iova;
};

/**
 * struct guestmem_iova_runs - GUESTMEM_IOVA_RUNS: the IOVAs of a range of
 *	pages, as runs
 * @size: sizeof(struct guestmem_iova_runs)
 * @flags: must be 0
 * @gpn: the first guest page of the range
 * @gpn_count: pages in the range; 0 describes nothing
 * @runs_uptr: array of @max_runs &struct guestmem_iova_run
 * @max_runs: its capacity; 0 with a non-empty range is -EINVAL
 * @out_nr_runs: runs written
 * @out_gpn_count: pages they describe, from @gpn: all @gpn_count, or fewer
 *	when @max_runs runs were not enough (call again from
 *	@gpn + @out_gpn_count) or a page has no IOVA
 * @__reserved: must be 0
 * @out_fault: on -ENOENT, HAS_INDEX names the first page without an IOVA
 *	(@index counts from @gpn)
 *
 * The bulk form of GUESTMEM_IOVA for a user-mode driver that programs a
 * device with address ranges: consecutive pages whose IOVAs are
 * consecutive come back as one run, so a range locked through an IOMMU is
 * one run however scattered its physical pages are, and with dma-direct
 * there is one run per physically contiguous stretch.  Which pages have an
 * IOVA, and who may read them, is as for GUESTMEM_IOVA.  The first page
 * without one fails the call with -ENOENT; the runs before it are written
 * and counted in @out_nr_runs and @out_gpn_count.  @gpn + @gpn_count
 * wrapping 64 bits is -EOVERFLOW.
 */
struct guestmem_iova_runs {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpn;
	__aligned_u64 gpn_count;
	__aligned_u64 runs_uptr;
	__u32 max_runs;
	__u32 out_nr_runs;
	__aligned_u64 out_gpn_count;
	__aligned_u64 __reserved;
	struct guestmem_fault out_fault;
};

#define GUESTMEM_IOVA_RUNS	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_IOVA_RUNS)

/**
 * struct guestmem_attach_device - GUESTMEM_ATTACH_DEVICE: bind the object
 *	to the PCI device that will DMA to it
 * @size: sizeof(struct guestmem_attach_device)
 * @flags: must be 0
 * @pci_domain: PCI segment (the "dddd" of "dddd:bb:dd.f")
 * @pci_bus: bus number, 0-255
 * @pci_devfn: (device << 3) | function, 0-255
 * @__reserved: must be 0
 *
 * Needs CAP_SYS_RAWIO (-EPERM) and a device bound to guestmem's PCI
 * driver (DOC: PCI devices; bound to another driver or to none: -EBUSY,
 * and the kernel log names the driver).  Once per object, and before any
 * lock has been made through the object or a view of it (-EBUSY); on a
 * view it attaches the view's base object.  An unknown device, or one
 * removed meanwhile, is -ENODEV; a value out of range is -EINVAL.
 *
 * A device whose DMA would be bounced through swiotlb (swiotlb=force, a
 * confidential guest, without IOMMU translation a DMA mask below the
 * memory) or that is not cache-coherent is -EOPNOTSUPP: guestmem shares
 * memory with the device for a lock's lifetime and makes no CPU syncs.
 *
 * An allocated object is DMA-mapped here, as a whole, as one IOVA range
 * (GUESTMEM_INFO_BASE_IOVA).  Without IOMMU translation that needs
 * physically contiguous memory: objects of up to 4 MiB are allocated that
 * way; a larger one is -E2BIG, and one whose contiguous allocation failed
 * (fragmented memory) -ENOMEM.
 */
struct guestmem_attach_device {
	__u32 size;
	__u32 flags;
	__u32 pci_domain;
	__u32 pci_bus;
	__u32 pci_devfn;
	__u32 __reserved;
};

#define GUESTMEM_ATTACH_DEVICE	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_ATTACH_DEVICE)

/**
 * DOC: PCI devices
 *
 * guestmem is the driver of the PCI devices it maps memory for, as
 * vfio-pci and uio_pci_generic are: a PCI driver named "guestmem" with no
 * id table, which the administrator binds with driver_override::
 *
 *   echo guestmem > /sys/bus/pci/devices/DDDD:BB:DD.F/driver_override
 *   echo DDDD:BB:DD.F > /sys/bus/pci/devices/DDDD:BB:DD.F/driver/unbind
 *   echo DDDD:BB:DD.F > /sys/bus/pci/drivers_probe
 *
 * (the middle line only if another driver has it; ``gmem bind`` does all
 * three).  Binding enables the device's memory decoding and bus mastering
 * and sets a 64-bit DMA mask; the user-mode driver maps the BARs through
 * sysfs (resourceN) and never touches the command register.
 *
 * When the device goes - unbind, hot-unplug, SR-IOV VF teardown - the
 * driver first frees its interrupts and unmaps every DMA mapping of every
 * attached object, while the device is still there.  The objects stay
 * usable for reads, writes and unlocks; GUESTMEM_INFO reports
 * GUESTMEM_INFO_DEVICE_GONE; new locks, IOVA queries and PCI fd calls
 * fail with -ENODEV.
 *
 * A *PCI fd* (GUESTMEM_OPEN_PCI, one at a time per device, CAP_SYS_RAWIO)
 * routes the device's interrupts to eventfds (GUESTMEM_PCI_SET_IRQS) and
 * sets its DMA mask (GUESTMEM_PCI_SET_DMA_MASK).  PCI ioctls (nr
 * 0x40-0x4f) are issued on a PCI fd; on another fd they are -ENOTTY.
 * Closing the PCI fd frees the interrupts it routed.
 */

/**
 * struct guestmem_open_pci - GUESTMEM_OPEN_PCI: a PCI fd
 * @size: sizeof(struct guestmem_open_pci)
 * @flags: must be 0
 * @pci_domain: PCI segment
 * @pci_bus: bus number
 * @pci_devfn: (device << 3) | function
 * @__reserved: must be 0
 * @out_fd: the new PCI fd (O_CLOEXEC)
 * @__reserved2: must be 0
 *
 * Needs CAP_SYS_RAWIO (-EPERM) and a device bound to guestmem (-EBUSY, or
 * -ENODEV for no such device); a second PCI fd of the same device while
 * the first is open is -EBUSY.
 */
struct guestmem_open_pci {
	__u32 size;
	__u32 flags;
	__u32 pci_domain;
	__u32 pci_bus;
	__u32 pci_devfn;
	__u32 __reserved;
	__u32 out_fd;
	__u32 __reserved2;
};

#define GUESTMEM_OPEN_PCI	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_OPEN_PCI)

/**
 * enum guestmem_pci_flags - &struct guestmem_pci_info.out_flags bits
 * @GUESTMEM_PCI_GONE: the device was removed or unbound (nothing else
 *	is reported then)
 * @GUESTMEM_PCI_IOVA_PHYS: its DMA addresses are physical addresses
 * @GUESTMEM_PCI_HAS_INTX: it has an INTx line
 */
enum guestmem_pci_flags {
	GUESTMEM_PCI_GONE = 1 << 0,
	GUESTMEM_PCI_IOVA_PHYS = 1 << 1,
	GUESTMEM_PCI_HAS_INTX = 1 << 2,
};

/**
 * enum guestmem_irq_type - what GUESTMEM_PCI_SET_IRQS routes
 * @GUESTMEM_IRQ_NONE: nothing (frees what was routed)
 * @GUESTMEM_IRQ_INTX: the INTx line, one vector; masked at the device by
 *	the handler, unmasked with GUESTMEM_PCI_UNMASK_INTX
 * @GUESTMEM_IRQ_MSI: MSI vectors
 * @GUESTMEM_IRQ_MSIX: MSI-X vectors
 */
enum guestmem_irq_type {
	GUESTMEM_IRQ_NONE = 0,
	GUESTMEM_IRQ_INTX = 1,
	GUESTMEM_IRQ_MSI = 2,
	GUESTMEM_IRQ_MSIX = 3,
};

/**
 * struct guestmem_pci_info - GUESTMEM_PCI_INFO: what the device offers
 * @size: sizeof(struct guestmem_pci_info)
 * @flags: must be 0
 * @out_flags: GUESTMEM_PCI_* bits
 * @out_msix_count: MSI-X vectors the device has (0: no MSI-X)
 * @out_msi_count: MSI vectors it has (0: no MSI)
 * @out_irq_type: what is routed now (enum guestmem_irq_type)
 * @out_irq_count: vectors routed now
 * @out_dma_mask_bits: its DMA mask, in bits
 */
struct guestmem_pci_info {
	__u32 size;
	__u32 flags;
	__u32 out_flags;
	__u32 out_msix_count;
	__u32 out_msi_count;
	__u32 out_irq_type;
	__u32 out_irq_count;
	__u32 out_dma_mask_bits;
};

#define GUESTMEM_PCI_INFO	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_PCI_INFO)

/* Most vectors one GUESTMEM_PCI_SET_IRQS routes. */
#define GUESTMEM_PCI_MAX_IRQS	2048

/**
 * enum guestmem_pci_set_irqs_flags - &struct guestmem_pci_set_irqs.flags
 * @GUESTMEM_PCI_UNMASK_INTX: unmask a routed INTx line (the other fields
 *	must be 0; -EINVAL when INTx is not routed)
 */
enum guestmem_pci_set_irqs_flags {
	GUESTMEM_PCI_UNMASK_INTX = 1 << 0,
};

/**
 * struct guestmem_pci_set_irqs - GUESTMEM_PCI_SET_IRQS: interrupts to
 *	eventfds
 * @size: sizeof(struct guestmem_pci_set_irqs)
 * @flags: 0 or GUESTMEM_PCI_UNMASK_INTX
 * @irq_type: enum guestmem_irq_type
 * @count: vectors: 0 with GUESTMEM_IRQ_NONE, 1 with GUESTMEM_IRQ_INTX, at
 *	most GUESTMEM_PCI_MAX_IRQS otherwise
 * @eventfds_uptr: array of @count __s32 eventfds; vector i signals the
 *	i-th
 *
 * Frees whatever was routed, then allocates @count vectors of @irq_type
 * and routes each to its eventfd: every interrupt adds 1 to the eventfd.
 * All or nothing: on failure nothing is routed.  A type or count the
 * device cannot give is -EINVAL (or -ENOSPC, from the PCI core), a bad
 * eventfd -EBADF (or -EINVAL), a device gone -ENODEV.
 */
struct guestmem_pci_set_irqs {
	__u32 size;
	__u32 flags;
	__u32 irq_type;
	__u32 count;
	__aligned_u64 eventfds_uptr;
};

#define GUESTMEM_PCI_SET_IRQS	_IO(GUESTMEM_TYPE, GUESTMEM_CMD_PCI_SET_IRQS)

/**
 * struct guestmem_pci_set_dma_mask - GUESTMEM_PCI_SET_DMA_MASK: what the
 *	device can address
 * @size: sizeof(struct guestmem_pci_set_dma_mask)
 * @flags: must be 0
 * @bits: 24 to 64 (else -EINVAL)
 * @__reserved: must be 0
 *
 * Binding sets 64 bits; a device that addresses less says so here, before
 * any object is attached to it (-EBUSY after).  Without IOMMU translation
 * a mask below the memory then makes attach -EOPNOTSUPP (DMA would be
 * bounced).  A mask the platform cannot give is -EIO.
 */
struct guestmem_pci_set_dma_mask {
	__u32 size;
	__u32 flags;
	__u32 bits;
	__u32 __reserved;
};

#define GUESTMEM_PCI_SET_DMA_MASK _IO(GUESTMEM_TYPE, GUESTMEM_CMD_PCI_SET_DMA_MASK)

#endif /* _UAPI_LINUX_GUESTMEM_H */
