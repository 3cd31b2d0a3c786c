// SPDX-License-Identifier: GPL-2.0
/*
 * gmfuzz: a structured ioctl fuzzer for guestmem, in the spirit of
 * syzkaller.
 *
 * Every operation picks an ioctl of uapi/linux/guestmem.h and builds a
 * mostly valid struct for a live object, then perhaps corrupts one thing on
 * purpose: the size (below the minimum, above it with a zero or a nonzero
 * tail, running into an unmapped page), an unknown flag, a nonzero reserved
 * field, the struct pointer (NULL, unmapped, read-only, a kernel address),
 * a guest address or length near a region end or 2^64, a gpn list with
 * duplicates and huge gpns, a buffer that is NULL, unmapped, read-only or a
 * kernel address.  Several threads share a pool of objects (user memory,
 * multi-region, allocated, empty, views with and without preemptive
 * locking, objects attached to QEMU's edu device); they close and dup fds
 * under one another, mprotect, munmap and zap the memory behind the
 * objects, mmap allocated objects, and start children that fork, exec with
 * an object fd kept across exec, receive an fd over a unix socket, or
 * create objects and exit while the parent holds them.  A last phase runs
 * as nobody.
 *
 * What is checked: every ioctl returns 0 or an errno of its contract, and
 * exactly the documented errno where the corruption (or a model of the
 * object's address space) makes the answer certain; out_fault agrees with
 * the errno; children exit cleanly; at the end, with everything closed,
 * the kernel's FOLL_PIN counters (/proc/vmstat) are back to where they
 * started and no fd, mapping or VmPin is left.  The test VM's runner adds
 * the kernel log (KASAN, lockdep, WARN) and kmemleak.
 *
 * Deterministic from --seed: every thread and child draws from its own
 * xoshiro256** stream, derived from the seed with splitmix64, so a seed
 * replays the same operations per thread; only their interleaving differs.
 *
 * The DMA-API debug code of the debug kernel WARNs (and panic_on_warn ends
 * the VM) when one cache line has more than 7 overlapping DMA mappings.
 * Locks of user memory are DMA-mapped once a device is attached, so user
 * objects are attached only when they lie in a dedicated arena whose
 * pages' mapping counts this program keeps (at most --dma-cap per page, see
 * "DMA accounting").  Allocated objects are mapped once, at attach time,
 * and may be attached freely.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/guestmem.h>

/* The uapi's types, so that struct fields and locals mix freely. */
typedef __u64 u64;
typedef __s64 s64;
typedef __u32 u32;
typedef __s32 s32;
typedef __u16 u16;
typedef __u8 u8;

#define PAGE_SZ		4096UL
#define MAX_GPN		(UINT64_MAX >> 12)
#define KERNEL_PTR	0xffff888000000000ULL
#define NONCANON_PTR	0x8000000000000000ULL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define offsetofend(t, m) (offsetof(t, m) + sizeof(((t *)0)->m))

/* The module's default limits (module parameters of kmod/main.c). */
#define MAX_NAME_LEN	256
#define MAX_REGIONS	1024
#define MAX_ALLOC	(1ULL << 30)
#define MAX_LOCK_PAGES	(1ULL << 20)

/* QEMU's edu device in the test VM. */
#define EDU_BDF		"0000:00:03.0"
#define EDU_SYSFS	"/sys/bus/pci/devices/" EDU_BDF
#define EDU_DEVFN	(3 << 3)

#define NOBODY		65534
/* The group the unprivileged phase gets /dev/guestmem through. */
#define FUZZ_GID	4242

/* Object fds live in the pool; racy fds above RACY_BASE (see racy_dup). */
#define NSLOTS		48
#define MAX_LOCKS	16
#define RACY_BASE	700
#define NRACY		8
#define MAX_MAPS	16
#define MAX_CHILDREN	4

/* Per-context buffers: the kernel writes only into these. */
#define CMD_SZ		(2 * PAGE_SZ)
#define SCRATCH_SZ	(64 * 1024)
#define GPNS_MAX	8192

/* The user arena: zones of pages with different protections. */
#define ARENA_SZ	(4UL << 20)
#define ARENA_GUARD	(1UL << 20)
#define ZONE_RW		0		/* pages [0, 512): read-write, stable */
#define ZONE_CHURN	512		/* [512, 768): churned by the fuzzer */
#define ZONE_RO		768		/* [768, 896): read-only */
#define ZONE_NONE	896		/* [896, 1024): PROT_NONE */
#define ARENA_PAGES	(ARENA_SZ / PAGE_SZ)

/* The DMA arena: user objects that are attached to the device. */
#define DMA_ARENA_SZ	(1UL << 20)
#define DMA_PAGES	(DMA_ARENA_SZ / PAGE_SZ)
#define DMA_CAP		4		/* default of --dma-cap */
#define NR_DMA_REC	128
#define DMA_REC_MAX	64

#define NR_FAM		1024
#define MAX_BACK	16
#define MAX_PRINTED	40

/* ------------------------------------------------------------------------ */
/* PRNG: xoshiro256**, seeded per stream with splitmix64. */

struct rng {
	u64 s[4];
};

static u64 splitmix64(u64 *x)
{
	u64 z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_init(struct rng *r, u64 seed, u64 stream)
{
	u64 x = seed ^ (stream * 0xd1342543de82ef95ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline u64 rotl(u64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static u64 rng_next(struct rng *r)
{
	u64 *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* ------------------------------------------------------------------------ */
/* Operations, statistics and output. */

enum op {
	OP_CREATE_USER, OP_CREATE_MULTI, OP_CREATE_ALLOC, OP_CREATE_EMPTY,
	OP_CREATE_FILE, OP_READ, OP_WRITE, OP_FILL, OP_READ_PLAIN, OP_WRITE_PLAIN,
	OP_CMPXCHG, OP_PROBE_GPNS, OP_RANGE_READ, OP_RANGE_WRITE,
	OP_RANGE_FILL, OP_SUBRANGE, OP_INFO, OP_LOCK_GPNS, OP_UNLOCK_GPNS,
	OP_IOVA, OP_ATTACH_DEVICE, OP_IOVA_RUNS, OP_OPEN_PCI, OP_PCI_INFO,
	OP_PCI_SET_IRQS, OP_PCI_SET_DMA_MASK, OP_BAD_NR,
	NR_IOCTL_OPS
};

enum event {
	EV_CLOSE, EV_DUP, EV_RACY_DUP, EV_RACY_CLOSE, EV_MMAP, EV_MUNMAP,
	EV_MPROTECT, EV_TOUCH, EV_CHURN, EV_HOLE, EV_FORK, EV_EXEC,
	EV_PASS_FD, EV_OWNER_EXIT, EV_PCI_CLOSE, EV_REBIND, NR_EVENTS
};

static const char *const event_names[NR_EVENTS] = {
	"close", "dup", "racy-dup", "racy-close", "mmap", "munmap",
	"mprotect", "touch", "churn", "hole", "fork", "exec", "pass-fd",
	"owner-exit", "pci-close", "rebind",
};

enum corrupt {
	C_NONE, C_SIZE_SMALL, C_SIZE_OLD, C_SIZE_BIG_ZERO, C_SIZE_BIG_NONZERO,
	C_SIZE_FAULT, C_STRUCT_CROSS, C_FLAGS, C_RESERVED, C_PTR_NULL,
	C_PTR_KERNEL, C_PTR_UNMAPPED, C_PTR_RO, NR_CORRUPT
};

static const char *const corrupt_names[NR_CORRUPT] = {
	"none", "size<min", "size=old", "size>k,zero-tail",
	"size>k,nonzero-tail", "size-into-guard", "struct-across-guard",
	"unknown-flag", "reserved", "ptr-null", "ptr-kernel", "ptr-unmapped",
	"ptr-read-only",
};

#define NR_ERRNO 134

/* Shared by every process of the run (a memfd, MAP_SHARED). */
struct stats {
	u64 res[NR_IOCTL_OPS][NR_ERRNO];	/* [op][0]: successes */
	u64 ns[NR_IOCTL_OPS];			/* time in the ioctl */
	u64 slot_ns[64];			/* time per optab entry */
	u64 proc_ns;				/* time in process ops */
	u64 events[NR_EVENTS];
	u64 event_errors[NR_EVENTS];
	u64 corrupt[NR_CORRUPT];
	u64 failures;
	u64 printed;
	u64 child_ops;
	u64 children;
	u64 bad_children;
	u64 dma_objects;	/* user objects attached in the DMA arena */
	u64 dma_locks;		/* locks of them, DMA-mapped */
	u64 dma_dropped;	/* gpn entries left out to keep --dma-cap */
	u64 attached;		/* successful real attaches */
	u64 child_failures;
};

static struct stats *st;
static int stats_fd = -1;

#define ATOMIC_INC(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)
#define ATOMIC_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* One line to stdout with one write(): safe from threads and children. */
static void __attribute__((format(printf, 1, 2))) out(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (write(1, buf, n) < 0)
		return;
}

static const char *errname(int e)
{
	static const char *const names[] = {
		[0] = "success", [EPERM] = "EPERM", [ENOENT] = "ENOENT",
		[ESRCH] = "ESRCH", [EINTR] = "EINTR", [EIO] = "EIO",
		[E2BIG] = "E2BIG", [EBADF] = "EBADF", [ENOMEM] = "ENOMEM",
		[EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
		[EEXIST] = "EEXIST", [ENODEV] = "ENODEV", [EINVAL] = "EINVAL",
		[EMFILE] = "EMFILE", [ENOTTY] = "ENOTTY", [ENOSPC] = "ENOSPC",
		[ERANGE] = "ERANGE", [ENAMETOOLONG] = "ENAMETOOLONG",
		[EOVERFLOW] = "EOVERFLOW", [EMSGSIZE] = "EMSGSIZE",
		[EOPNOTSUPP] = "EOPNOTSUPP",
	};
	static __thread char other[16];

	if (e >= 0 && e < (int)ARRAY_SIZE(names) && names[e])
		return names[e];
	snprintf(other, sizeof(other), "errno %d", e);
	return other;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* The ioctls and their errno contract (uapi/linux/guestmem.h). */

struct errset {
	u64 w[2];
};

static bool errset_has(const struct errset *s, int e)
{
	return e >= 0 && e < 128 && ((s->w[e / 64] >> (e % 64)) & 1);
}

static void errset_add(struct errset *s, int e)
{
	s->w[e / 64] |= 1ULL << (e % 64);
}

struct opinfo {
	const char *name;
	unsigned long nr;
	u32 ksize;
	u32 minsize;
	u8 fdk;			/* FD_OBJ, FD_DEV (/dev/guestmem), FD_PCI */
	u32 fault_off;		/* offset of out_fault, 0: none */
	u32 flags_ok;		/* valid bits of flags */
	int extra[8];		/* errnos beyond the common set */
};

enum { FD_OBJ, FD_DEV, FD_PCI };

#define FAULT_AT(type) offsetof(type, out_fault)

static const struct opinfo opinfo[NR_IOCTL_OPS] = {
	[OP_CREATE_USER] = { "CREATE_USER", GUESTMEM_CREATE_USER,
		sizeof(struct guestmem_create_user),
		sizeof(struct guestmem_create_user), true, 0, 0,
		{ EOVERFLOW, ENAMETOOLONG } },
	[OP_CREATE_MULTI] = { "CREATE_MULTI", GUESTMEM_CREATE_MULTI,
		sizeof(struct guestmem_create_multi),
		sizeof(struct guestmem_create_multi), true, 0, 0,
		{ EOVERFLOW, ENOSPC, ENAMETOOLONG } },
	[OP_CREATE_ALLOC] = { "CREATE_ALLOC", GUESTMEM_CREATE_ALLOC,
		sizeof(struct guestmem_create_alloc),
		sizeof(struct guestmem_create_alloc), true, 0, 0,
		{ ENOSPC } },
	[OP_CREATE_EMPTY] = { "CREATE_EMPTY", GUESTMEM_CREATE_EMPTY,
		sizeof(struct guestmem_create_empty),
		sizeof(struct guestmem_create_empty), true, 0, 0, { 0 } },
	[OP_CREATE_FILE] = { "CREATE_FILE", GUESTMEM_CREATE_FILE,
		sizeof(struct guestmem_create_file),
		sizeof(struct guestmem_create_file), true, 0, 0,
		{ EBADF, EACCES, EPERM, ENAMETOOLONG } },
	[OP_READ] = { "READ", GUESTMEM_READ, sizeof(struct guestmem_rw),
		sizeof(struct guestmem_rw), false,
		FAULT_AT(struct guestmem_rw), 0, { ERANGE, ESRCH } },
	[OP_WRITE] = { "WRITE", GUESTMEM_WRITE, sizeof(struct guestmem_rw),
		sizeof(struct guestmem_rw), false,
		FAULT_AT(struct guestmem_rw), 0, { ERANGE, ESRCH } },
	[OP_FILL] = { "FILL", GUESTMEM_FILL, sizeof(struct guestmem_fill),
		sizeof(struct guestmem_fill), false,
		FAULT_AT(struct guestmem_fill), 0, { ERANGE, ESRCH } },
	[OP_READ_PLAIN] = { "READ_PLAIN", GUESTMEM_READ_PLAIN,
		sizeof(struct guestmem_rw), sizeof(struct guestmem_rw), false,
		FAULT_AT(struct guestmem_rw), 0, { ERANGE, ESRCH } },
	[OP_WRITE_PLAIN] = { "WRITE_PLAIN", GUESTMEM_WRITE_PLAIN,
		sizeof(struct guestmem_rw), sizeof(struct guestmem_rw), false,
		FAULT_AT(struct guestmem_rw), 0, { ERANGE, ESRCH } },
	[OP_CMPXCHG] = { "COMPARE_EXCHANGE", GUESTMEM_COMPARE_EXCHANGE,
		sizeof(struct guestmem_cmpxchg),
		sizeof(struct guestmem_cmpxchg), false,
		FAULT_AT(struct guestmem_cmpxchg), 0, { ERANGE, ESRCH } },
	[OP_PROBE_GPNS] = { "PROBE_GPNS", GUESTMEM_PROBE_GPNS,
		sizeof(struct guestmem_probe_gpns),
		sizeof(struct guestmem_probe_gpns), false,
		FAULT_AT(struct guestmem_probe_gpns), 0,
		{ ERANGE, ESRCH, EOVERFLOW } },
	[OP_RANGE_READ] = { "RANGE_READ", GUESTMEM_RANGE_READ,
		sizeof(struct guestmem_range), sizeof(struct guestmem_range),
		false, FAULT_AT(struct guestmem_range), 0,
		{ ERANGE, ESRCH, EOVERFLOW } },
	[OP_RANGE_WRITE] = { "RANGE_WRITE", GUESTMEM_RANGE_WRITE,
		sizeof(struct guestmem_range), sizeof(struct guestmem_range),
		false, FAULT_AT(struct guestmem_range), 0,
		{ ERANGE, ESRCH, EOVERFLOW } },
	[OP_RANGE_FILL] = { "RANGE_FILL", GUESTMEM_RANGE_FILL,
		sizeof(struct guestmem_range), sizeof(struct guestmem_range),
		false, FAULT_AT(struct guestmem_range), 0,
		{ ERANGE, ESRCH, EOVERFLOW } },
	[OP_SUBRANGE] = { "SUBRANGE", GUESTMEM_SUBRANGE,
		sizeof(struct guestmem_subrange),
		sizeof(struct guestmem_subrange), false,
		FAULT_AT(struct guestmem_subrange),
		GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING, { ERANGE } },
	[OP_INFO] = { "INFO", GUESTMEM_INFO, sizeof(struct guestmem_info),
		offsetofend(struct guestmem_info, out_mmap_offset), false, 0, 0,
		{ EMSGSIZE } },
	[OP_LOCK_GPNS] = { "LOCK_GPNS", GUESTMEM_LOCK_GPNS,
		sizeof(struct guestmem_lock_gpns),
		sizeof(struct guestmem_lock_gpns), false,
		FAULT_AT(struct guestmem_lock_gpns),
		GUESTMEM_LOCK_KERNEL_ACCESS | GUESTMEM_LOCK_READ_ONLY,
		{ ERANGE, ESRCH, EOVERFLOW, ENOSPC, EPERM, ENODEV } },
	[OP_UNLOCK_GPNS] = { "UNLOCK_GPNS", GUESTMEM_UNLOCK_GPNS,
		sizeof(struct guestmem_unlock_gpns),
		sizeof(struct guestmem_unlock_gpns), false, 0, 0, { ENOENT } },
	[OP_IOVA] = { "IOVA", GUESTMEM_IOVA, sizeof(struct guestmem_iova),
		sizeof(struct guestmem_iova), false,
		FAULT_AT(struct guestmem_iova), 0,
		{ ENOENT, EPERM, EOVERFLOW, ENODEV } },
	[OP_ATTACH_DEVICE] = { "ATTACH_DEVICE", GUESTMEM_ATTACH_DEVICE,
		sizeof(struct guestmem_attach_device),
		sizeof(struct guestmem_attach_device), false, 0, 0,
		{ EPERM, EBUSY, ENODEV } },
	[OP_IOVA_RUNS] = { "IOVA_RUNS", GUESTMEM_IOVA_RUNS,
		sizeof(struct guestmem_iova_runs),
		sizeof(struct guestmem_iova_runs), false,
		FAULT_AT(struct guestmem_iova_runs), 0,
		{ ENOENT, EPERM, EOVERFLOW, ENODEV } },
	[OP_OPEN_PCI] = { "OPEN_PCI", GUESTMEM_OPEN_PCI,
		sizeof(struct guestmem_open_pci),
		sizeof(struct guestmem_open_pci), FD_DEV, 0, 0,
		{ EPERM, EBUSY, ENODEV } },
	[OP_PCI_INFO] = { "PCI_INFO", GUESTMEM_PCI_INFO,
		sizeof(struct guestmem_pci_info),
		sizeof(struct guestmem_pci_info), FD_PCI, 0, 0, { 0 } },
	[OP_PCI_SET_IRQS] = { "PCI_SET_IRQS", GUESTMEM_PCI_SET_IRQS,
		sizeof(struct guestmem_pci_set_irqs),
		sizeof(struct guestmem_pci_set_irqs), FD_PCI, 0,
		GUESTMEM_PCI_UNMASK_INTX, { EBADF, ENOSPC, ENODEV } },
	[OP_PCI_SET_DMA_MASK] = { "PCI_SET_DMA_MASK", GUESTMEM_PCI_SET_DMA_MASK,
		sizeof(struct guestmem_pci_set_dma_mask),
		sizeof(struct guestmem_pci_set_dma_mask), FD_PCI, 0, 0,
		{ EBUSY, EIO, ENODEV } },
	[OP_BAD_NR] = { "(bad nr)", 0, 16, 16, FD_OBJ, 0, 0, { 0 } },
};

/* EFAULT, EINVAL, E2BIG, EOPNOTSUPP, ENOTTY, ENOMEM: any ioctl. */
static struct errset contract[NR_IOCTL_OPS];

static void contract_init(void)
{
	static const int common[] = {
		EFAULT, EINVAL, E2BIG, EOPNOTSUPP, ENOTTY, ENOMEM,
	};
	unsigned int op, i;

	for (op = 0; op < NR_IOCTL_OPS; op++) {
		for (i = 0; i < ARRAY_SIZE(common); i++)
			errset_add(&contract[op], common[i]);
		for (i = 0; i < ARRAY_SIZE(opinfo[op].extra) &&
		     opinfo[op].extra[i]; i++)
			errset_add(&contract[op], opinfo[op].extra[i]);
	}
}

/* ------------------------------------------------------------------------ */
/* Options and global state. */

static struct {
	u64 seed;
	u64 ops;
	u64 unpriv_ops;
	int threads;
	int attach;		/* -1: when the edu device is there */
	int proc_every;		/* a process op every N ops per thread */
	int child_ops;
	int dma_cap;		/* DMA mappings per page of the DMA arena */
	bool unpriv;
	bool trace;
} opt = {
	.seed = 0x6775657374ULL,
	.ops = 100000,
	.unpriv_ops = ~0ULL,
	.threads = 4,
	.attach = -1,
	.proc_every = 2500,
	.child_ops = 8,
	.dma_cap = DMA_CAP,
	.unpriv = true,
};

static int dev_fd = -1;
/* CREATE_FILE's files: a memfd of FILE_PAGES pages, and it read-only. */
#define FILE_PAGES	64
static int file_fd = -1, file_ro_fd = -1;
static bool have_device;	/* attach objects to edu for real */
static bool device_used;	/* ... and did, at some point */
static int evfds[4];		/* eventfds for GUESTMEM_PCI_SET_IRQS */
static bool unprivileged;	/* running as nobody */
static char self_exe[PATH_MAX];
static u8 *arena, *dma_arena;
static int children_alive;

/* Locks are taken only in the process whose threads share the state. */
static bool shared_state = true;

static void lk(pthread_mutex_t *m)
{
	if (shared_state)
		pthread_mutex_lock(m);
}

static void ulk(pthread_mutex_t *m)
{
	if (shared_state)
		pthread_mutex_unlock(m);
}

/* ------------------------------------------------------------------------ */
/* Objects: what the fuzzer knows about one, and its address-space model. */

enum rtype { RT_ABSENT, RT_NONE, RT_USER, RT_ALLOC, RT_FILE };

struct objdesc {
	u8 type;		/* GUESTMEM_OBJ_* of the base; 0: unknown */
	bool known;		/* the model below is complete */
	bool view;
	bool preempt;		/* made with ALLOW_PREEMPTIVE_LOCKING */
	bool dma;		/* user memory in the DMA arena */
	bool owner_gone;	/* user memory of a process that exited */
	u32 name_len;
	u32 region_bits;	/* of the base */
	u64 region_count;	/* of the base */
	u32 nback;		/* region slots described in blen/rt */
	u64 blen[MAX_BACK];
	u8 rt[MAX_BACK];
	u64 uaddr[MAX_BACK];
	u64 view_off, view_len;
	int obj;		/* kernel object identity (dups share it) */
	int fam;		/* base object identity (views share it) */
};

static int next_obj_id;

static int obj_id_new(void)
{
	return __atomic_add_fetch(&next_obj_id, 1, __ATOMIC_RELAXED);
}

static void desc_single(struct objdesc *d, u8 type, u8 rt, u64 len, u64 uaddr)
{
	memset(d, 0, sizeof(*d));
	d->type = type;
	d->known = true;
	d->region_bits = 63;
	d->region_count = 1;
	d->nback = 1;
	d->blen[0] = len;
	d->rt[0] = rt;
	d->uaddr[0] = uaddr;
	d->obj = obj_id_new();
	d->fam = -1;
}

/* The object's extent: its addresses that can resolve. */
static u64 desc_extent(const struct objdesc *d)
{
	if (d->view)
		return d->view_len;
	if (d->region_bits == 63)
		return d->blen[0];
	return d->region_count << d->region_bits;
}

static u64 desc_region_size(const struct objdesc *d)
{
	return d->region_bits >= 63 ? 0 : 1ULL << d->region_bits;
}

static int ilog2_u64(u64 v)
{
	return 63 - __builtin_clzll(v);
}

enum { M_OK, M_OOR, M_UNKNOWN };

/*
 * gm_resolve() of kmod/object.c, from the documented rules: (gpa | len)
 * within the invalid mask, off + len strictly inside the region slot and
 * within its backing; a view checks its own extent, then its base region.
 */
static int model_resolve(const struct objdesc *d, u64 gpa, u64 len, u8 *rt,
			 u64 *base_gpa)
{
	u64 off, idx, rmask;

	if (!d->known)
		return M_UNKNOWN;
	if (d->view) {
		if ((gpa | len) >> 63 || gpa + len > d->view_len)
			return M_OOR;
		gpa += d->view_off;
	} else {
		u64 imask = d->region_bits == 63 ? 1ULL << 63 :
			~0ULL << (d->region_bits + ilog2_u64(d->region_count));

		if ((gpa | len) & imask)
			return M_OOR;
	}
	rmask = d->region_bits == 63 ? ~0ULL >> 1 :
				       (1ULL << d->region_bits) - 1;
	off = gpa & rmask;
	if (!d->view && ((off + len) & ~rmask))
		return M_OOR;
	idx = d->region_bits == 63 ? 0 : gpa >> d->region_bits;
	/* Padding slots of a multi-region object are holes of length 0. */
	if (off + len > (idx < d->nback ? d->blen[idx] : 0))
		return M_OOR;
	*rt = idx < d->nback ? d->rt[idx] : RT_ABSENT;
	if (base_gpa)
		*base_gpa = gpa;
	return M_OK;
}

/* The user address behind base address @gpa (user regions only). */
static u64 desc_uaddr(const struct objdesc *d, u64 base_gpa)
{
	u64 idx = d->region_bits == 63 ? 0 : base_gpa >> d->region_bits;
	u64 rmask = d->region_bits == 63 ? ~0ULL >> 1 :
					   (1ULL << d->region_bits) - 1;

	return idx < d->nback ? d->uaddr[idx] + (base_gpa & rmask) : 0;
}

/* ------------------------------------------------------------------------ */
/* Families (a base object and its views) and DMA accounting. */

struct family {
	int live;		/* pool slots of this family */
	bool attaching;		/* a real attach was tried (maybe attached) */
	bool attached;		/* attached for sure */
	bool dma;
	bool pending;		/* closed; its DMA records wait for children */
	int gen;		/* the binding it attached to (-1: unsure) */
};

static struct family fams[NR_FAM];
static pthread_mutex_t fam_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * The device's binding to guestmem: ev_rebind() unbinds and binds it again
 * while the others go on, and every object attached until then sees the
 * device gone.  @dev_gen counts the bindings; ops whose prediction needs
 * to know whether an object is attached, and to what, hold @bind_rw for
 * reading (most of the time: the rest race with the removal), which the
 * rebinding holds for writing.
 */
static int dev_gen;
static bool rebinding;
static pthread_rwlock_t bind_rw = PTHREAD_RWLOCK_INITIALIZER;

static int fam_new(bool dma)
{
	int i;

	lk(&fam_mu);
	for (i = 0; i < NR_FAM; i++)
		if (!fams[i].live && !fams[i].pending)
			break;
	if (i < NR_FAM) {
		memset(&fams[i], 0, sizeof(fams[i]));
		fams[i].live = 1;
		fams[i].dma = dma;
	}
	ulk(&fam_mu);
	return i < NR_FAM ? i : -1;
}

static void fam_get(int f)
{
	if (f < 0)
		return;
	lk(&fam_mu);
	fams[f].live++;
	ulk(&fam_mu);
}

static bool fam_attached(int f)
{
	bool a;

	if (f < 0)
		return false;
	lk(&fam_mu);
	a = fams[f].attached;
	ulk(&fam_mu);
	return a;
}

/* Attached to the device as it is bound now (bind_rw held). */
static bool fam_attached_live(int f)
{
	bool a;

	if (f < 0)
		return false;
	lk(&fam_mu);
	a = fams[f].attached && fams[f].gen == dev_gen && !rebinding;
	ulk(&fam_mu);
	return a;
}

/* Not attached for sure: no real attach was ever tried. */
static bool fam_unattached(int f)
{
	bool u;

	if (f < 0)
		return false;
	lk(&fam_mu);
	u = !fams[f].attaching;
	ulk(&fam_mu);
	return u;
}

/*
 * Before a real attach: false when one was tried already.  After it,
 * fam_attach_done() says how it went.
 */
static bool fam_attach_begin(int f)
{
	bool first;

	lk(&fam_mu);
	first = !fams[f].attaching;
	fams[f].attaching = true;
	if (first)
		fams[f].gen = rebinding ? -1 : dev_gen;
	ulk(&fam_mu);
	return first;
}

static void fam_attach_done(int f, bool ok)
{
	lk(&fam_mu);
	if (ok)
		fams[f].attached = true;
	else if (!fams[f].attached)
		fams[f].attaching = false;
	ulk(&fam_mu);
}

/*
 * DMA accounting.  A lock of a user object in the DMA arena maps each of
 * its entries for the device; the DMA-API debug code counts overlapping
 * mappings per cache line.  Every successful lock through a dma slot is
 * recorded with the arena pages of its entries, and a lock is built only
 * while every page stays at most --dma-cap mappings.  A record goes away at
 * unlock, or once no slot of its family is left (the objects are then
 * destroyed and their locks unmapped) and no child that could still hold
 * one of their fds is alive.
 */
struct dma_rec {
	bool used;
	int fam;
	int obj;
	u32 id;
	u16 n;
	u16 idx[DMA_REC_MAX];
};

static struct {
	pthread_mutex_t mu;
	u8 count[DMA_PAGES];
	struct dma_rec rec[NR_DMA_REC];
} dma = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void dma_rec_release(struct dma_rec *r)
{
	u16 i;

	for (i = 0; i < r->n; i++)
		dma.count[r->idx[i]]--;
	r->used = false;
}

/* Release the records of closed families once no child is alive. */
static void dma_sweep(void)
{
	int i;

	lk(&dma.mu);
	lk(&fam_mu);
	if (!children_alive) {
		for (i = 0; i < NR_DMA_REC; i++)
			if (dma.rec[i].used && fams[dma.rec[i].fam].pending)
				dma_rec_release(&dma.rec[i]);
		for (i = 0; i < NR_FAM; i++)
			fams[i].pending = false;
	}
	ulk(&fam_mu);
	ulk(&dma.mu);
}

static void fam_put(int f)
{
	bool sweep = false;

	if (f < 0)
		return;
	lk(&fam_mu);
	if (!--fams[f].live) {
		fams[f].attaching = false;
		fams[f].attached = false;
		if (fams[f].dma) {
			fams[f].pending = true;
			sweep = true;
		}
	}
	ulk(&fam_mu);
	if (sweep)
		dma_sweep();
}

/* The DMA arena page of entry @gpn of a lock through @d, or -1. */
static int dma_page(const struct objdesc *d, u64 gpn)
{
	u64 addr;

	if (gpn >= (1ULL << 40))
		return -1;
	addr = d->uaddr[0] + (d->view ? d->view_off : 0) + gpn * PAGE_SZ;
	if (addr < (u64)(uintptr_t)dma_arena ||
	    addr >= (u64)(uintptr_t)dma_arena + DMA_ARENA_SZ)
		return -1;
	return (addr - (u64)(uintptr_t)dma_arena) / PAGE_SZ;
}

/* ------------------------------------------------------------------------ */
/* The pool of objects. */

struct slot {
	pthread_rwlock_t rw;	/* read: in use; write: being replaced */
	pthread_mutex_t mu;	/* lock ids */
	int fd;			/* -1: empty */
	struct objdesc d;
	u32 locks[MAX_LOCKS];
	int nlocks;
};

struct pool {
	struct slot *s;
	int n;
};

struct mapping {
	u8 *addr;
	size_t len;
	int prot;
};

struct maps {
	pthread_rwlock_t rw;	/* read: touching; write: mmap/munmap/hole */
	struct mapping m[MAX_MAPS];
};

/* Racy fds: dup3()ed to fixed numbers, used and closed without locks. */
static struct {
	pthread_mutex_t mu;
	struct objdesc d[NRACY];
} racy = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* A child started by a context, reaped by it. */
struct child {
	pid_t pid;
	int ev;
};

/* Everything one thread (or child process) works with. */
struct ctx {
	const char *who;	/* "t0".."tN", "fork", "exec", ... */
	char name[16];
	int id;
	struct rng rng;
	u64 opno;
	u64 nops;
	u64 t_start;
	bool child;		/* a child process: no process ops */
	bool no_attach;		/* never attach the real device */
	struct pool *pool;
	struct maps *maps;
	struct child kids[MAX_CHILDREN];
	int nkids;
	/* buffers, see ctx_bufs() */
	u8 *cmd, *cmd_guard, *ro, *scratch, *scratch_guard;
	u64 *gpns;
	u8 *gpns_guard;
	/* the op being run, for failure reports */
	int cur_op;
	int cur_corrupt;
	int cur_fd;
	const void *cur_arg;
	const struct objdesc *cur_desc;
};

static u64 rnd(struct ctx *c)
{
	return rng_next(&c->rng);
}

static u64 below(struct ctx *c, u64 n)
{
	return n ? rnd(c) % n : 0;
}

static bool chance(struct ctx *c, unsigned int percent)
{
	return below(c, 100) < percent;
}

static void __attribute__((format(printf, 2, 3)))
fail(struct ctx *c, const char *fmt, ...)
{
	char msg[512], words[400];
	const u64 *w = c->cur_arg;
	int n = 0, i;
	va_list ap;

	ATOMIC_INC(st->failures);
	if (c->child)
		ATOMIC_INC(st->child_failures);
	if (__atomic_fetch_add(&st->printed, 1, __ATOMIC_RELAXED) >=
	    MAX_PRINTED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	words[0] = 0;
	/* The struct as the kernel saw it (when it is readable). */
	if (w && c->cur_op >= 0 && (const u8 *)w >= c->cmd &&
	    (const u8 *)w < c->cmd + CMD_SZ)
		for (i = 0; i < 12 && (const u8 *)(w + i + 1) <= c->cmd_guard; i++)
			n += snprintf(words + n, sizeof(words) - n, " %016llx",
				      w[i]);
	out("# FAIL %s op %llu: %s fd %d corrupt %s: %s\n#   struct:%s\n",
	    c->who, c->opno, c->cur_op >= 0 ? opinfo[c->cur_op].name : "-",
	    c->cur_fd, corrupt_names[c->cur_corrupt], msg, words);
	if (c->cur_desc) {
		const struct objdesc *d = c->cur_desc;

		out("#   object: fam %d obj %d type %u%s%s%s%s extent %#llx regions %llu x 2^%u "
		    "(%u described) view %#llx+%#llx uaddr %#llx\n", d->fam, d->obj, d->type,
		    d->known ? "" : " (unknown)", d->dma ? " dma" : "",
		    d->owner_gone ? " owner-gone" : "",
		    d->preempt ? " preempt" : "",
		    (unsigned long long)desc_extent(d),
		    (unsigned long long)d->region_count, d->region_bits, d->nback,
		    (unsigned long long)d->view_off,
		    (unsigned long long)d->view_len,
		    (unsigned long long)d->uaddr[0]);
	}
}

/* ------------------------------------------------------------------------ */
/* Memory: the arenas and the per-context buffers. */

static void *map_region(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int arena_init(void)
{
	u8 *res = map_region(ARENA_SZ + 2 * ARENA_GUARD + (2UL << 20),
			     PROT_NONE);
	u8 *dres = map_region(DMA_ARENA_SZ + 2 * ARENA_GUARD, PROT_NONE);

	if (!res || !dres)
		return -1;
	/* 2 MiB aligned, so that the stable zone may get a huge page. */
	arena = (u8 *)(((uintptr_t)res + ARENA_GUARD + (2UL << 20) - 1) &
		       ~((2UL << 20) - 1));
	dma_arena = dres + ARENA_GUARD;
	if (mprotect(arena, ZONE_RO * PAGE_SZ, PROT_READ | PROT_WRITE) ||
	    mprotect(arena + ZONE_RO * PAGE_SZ, (ZONE_NONE - ZONE_RO) * PAGE_SZ,
		     PROT_READ) ||
	    mprotect(dma_arena, DMA_ARENA_SZ, PROT_READ | PROT_WRITE))
		return -1;
	madvise(arena, 2UL << 20, MADV_HUGEPAGE);
	memset(arena, 0x5a, ZONE_RO * PAGE_SZ);
	memset(dma_arena, 0xa5, DMA_ARENA_SZ);
	return 0;
}

/*
 * [cmd: 2 pages][guard][ro page][guard][scratch][guard][gpns][guard]: the
 * kernel may write only into cmd and scratch; every buffer ends at a guard.
 */
static int ctx_bufs(struct ctx *c)
{
	size_t gl = GPNS_MAX * sizeof(u64);
	size_t total = CMD_SZ + PAGE_SZ + PAGE_SZ + PAGE_SZ + SCRATCH_SZ +
		       PAGE_SZ + gl + PAGE_SZ;
	u8 *p = map_region(total, PROT_NONE);

	if (!p)
		return -1;
	c->cmd = p;
	c->cmd_guard = p + CMD_SZ;
	c->ro = c->cmd_guard + PAGE_SZ;
	c->scratch = c->ro + 2 * PAGE_SZ;
	c->scratch_guard = c->scratch + SCRATCH_SZ;
	c->gpns = (u64 *)(c->scratch_guard + PAGE_SZ);
	c->gpns_guard = (u8 *)c->gpns + gl;
	if (mprotect(c->cmd, CMD_SZ, PROT_READ | PROT_WRITE) ||
	    mprotect(c->ro, PAGE_SZ, PROT_READ) ||
	    mprotect(c->scratch, SCRATCH_SZ, PROT_READ | PROT_WRITE) ||
	    mprotect(c->gpns, gl, PROT_READ | PROT_WRITE))
		return -1;
	return 0;
}

/*
 * A buffer of @len bytes for the kernel, which writes to it when @kwrites:
 * mostly a valid piece of scratch, else NULL, a kernel address, an
 * unmapped page, one that runs into the guard, or the read-only page.
 * *@ok tells whether the kernel can access all of it.
 */
static u64 pick_buf(struct ctx *c, u64 len, bool kwrites, bool *ok)
{
	u64 r = below(c, 100), off;

	*ok = false;
	if (r < 85) {
		if (len <= SCRATCH_SZ) {
			off = below(c, SCRATCH_SZ - len + 1);
			*ok = true;
			return (uintptr_t)c->scratch + off;
		}
		return (uintptr_t)c->scratch;
	}
	*ok = !len;
	switch (r) {
	case 85 ... 87:
		return 0;
	case 88 ... 89:
		return KERNEL_PTR + below(c, 1 << 20);
	case 90:
		return NONCANON_PTR;
	case 91 ... 92:
		return (uintptr_t)c->scratch_guard + below(c, PAGE_SZ);
	case 93 ... 95:
		off = below(c, len < SCRATCH_SZ ? len : SCRATCH_SZ) + 1;
		*ok = len <= off;
		return (uintptr_t)c->scratch_guard - off;
	default:
		off = below(c, 64);
		*ok = !kwrites && off + len <= PAGE_SZ;
		return (uintptr_t)c->ro + off;
	}
}

/* A byte length: mostly small, some page-sized, some absurd. */
static u64 pick_len(struct ctx *c, const struct objdesc *d)
{
	u64 ext = desc_extent(d);

	/* Half of them fit the object; short ones are likelier. */
	if (ext && chance(c, 50)) {
		u64 max = 1 + below(c, 1ULL << below(c, 17));

		return 1 + below(c, ext < max ? ext : max);
	}
	switch (below(c, 20)) {
	case 0:
		return 0;
	case 1 ... 4:
		return 1ULL << below(c, 4);
	case 5 ... 9:
		return 1 + below(c, 64);
	case 10 ... 12:
		return 1 + below(c, PAGE_SZ);
	case 13:
		return PAGE_SZ - 1 + below(c, 3);
	case 14 ... 15:
		return 1 + below(c, 1ULL << below(c, 17));
	case 16:
		return ext ? ext : 1;
	case 17:
		return ext + 1;
	case 18:
		return 1ULL << (32 + below(c, 32));
	default:
		return UINT64_MAX - below(c, 8192);
	}
}

/*
 * A guest address for an access of @len bytes: mostly inside, else near
 * the end of the object or of a region, near 2^63 or 2^64, wrapping.
 */
static u64 pick_gpa(struct ctx *c, const struct objdesc *d, u64 len)
{
	u64 ext = desc_extent(d), rs = desc_region_size(d);

	switch (below(c, 24)) {
	case 0 ... 13:
		return len <= ext ? below(c, ext - len + 1) : below(c, ext + 1);
	case 14:
		return ext - len;
	case 15:
		return ext - len + 1;
	case 16:
		return ext - below(c, 2);
	case 17:
		if (rs && d->region_count)
			return below(c, d->region_count + 1) * rs -
			       below(c, len + 2);
		return ext;
	case 18:
		return (1ULL << 63) - below(c, len + 2);
	case 19:
		return UINT64_MAX - below(c, len + 2);
	case 20:
		return -len;
	case 21:
		return 0;
	case 22:
		return rnd(c);
	default:
		return below(c, 1ULL << 40);
	}
}

/*
 * A gpn list for @d in c->gpns: mostly clean (in range: random pages and
 * runs), sometimes with one or more targeted bad entries: duplicates,
 * the page after the end, huge gpns, gpns that overflow gpn * 4096.
 */
static u64 build_gpns(struct ctx *c, const struct objdesc *d, u64 max)
{
	u64 ext = desc_extent(d), pages = (ext + PAGE_SZ - 1) / PAGE_SZ;
	u64 n, i, rsp = desc_region_size(d) / PAGE_SZ;
	bool dirty = chance(c, 30);

	if (!d->known)
		pages = 256;
	switch (below(c, 20)) {
	case 0:
		n = 0;
		break;
	case 1 ... 8:
		n = 1 + below(c, 4);
		break;
	case 9 ... 15:
		n = 5 + below(c, 28);
		break;
	case 16 ... 18:
		n = 33 + below(c, 32);
		break;
	default:
		n = 65 + below(c, max > 65 ? max - 64 : 1);
		break;
	}
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		u64 g, r = below(c, 100);

		if (i && r < 40) {
			g = c->gpns[i - 1] + 1;
		} else if (!dirty || r < 85) {
			g = pages ? below(c, pages) : 0;
		} else if (r < 89 && i) {
			g = c->gpns[below(c, i)];
		} else if (r < 92) {
			g = pages - below(c, 2);
		} else if (r < 94 && rsp) {
			g = below(c, d->region_count + 1) * rsp - below(c, 2);
		} else {
			static const u64 huge[] = {
				MAX_GPN, MAX_GPN + 1, UINT64_MAX, 1ULL << 51,
				1ULL << 52, (1ULL << 51) - 1,
			};
			g = r < 97 ? huge[below(c, ARRAY_SIZE(huge))] : rnd(c);
		}
		c->gpns[i] = g;
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* One ioctl: build, corrupt, issue, judge. */

struct req {
	int op;
	int fd;
	bool racy;
	void *s;		/* the struct, at c->cmd */
	int expect;		/* -1: any errno of the contract; else exactly */
	bool soft;		/* ENOMEM and ENOSPC are fine too */
	u32 *flags;
	void *resv[3];
	u8 resv_len[3];
	int nresv;
	/* after the call */
	bool pristine;		/* no corruption changed what the kernel does */
	int corrupt;
	void *arg;
	bool readback;		/* the struct at s holds the kernel's answer */
	int err;
};

static void req_init(struct ctx *c, struct req *r, int op, int fd, bool racy)
{
	memset(r, 0, sizeof(*r));
	memset(c->cmd, 0, 512);
	r->op = op;
	r->fd = fd;
	r->racy = racy;
	r->s = c->cmd;
	r->expect = -1;
	r->flags = (u32 *)(c->cmd + 4);
	c->cur_op = op;
	c->cur_fd = fd;
	c->cur_corrupt = C_NONE;
	c->cur_arg = c->cmd;
	c->cur_desc = NULL;
}

struct target {
	int fd;
	bool racy;
	struct slot *slot;	/* read-locked, or NULL */
	struct objdesc d;	/* a copy */
};

/* A request on a target's object (described in failure reports). */
static void req_init_t(struct ctx *c, struct req *r, int op, struct target *t)
{
	req_init(c, r, op, t->fd, t->racy);
	c->cur_desc = &t->d;
}

static void req_resv(struct req *r, void *field, u8 len)
{
	r->resv[r->nresv] = field;
	r->resv_len[r->nresv++] = len;
}

/* Place the struct for one corruption; returns the errno it forces, or -1. */
static int req_corrupt(struct ctx *c, struct req *r)
{
	const struct opinfo *oi = &opinfo[r->op];
	u32 ks = oi->ksize, extra;
	u8 *p;
	int k;

	for (;;) {
		k = 1 + below(c, NR_CORRUPT - 1);
		if (k == C_SIZE_OLD && oi->minsize == ks)
			continue;
		if (k == C_RESERVED && !r->nresv)
			continue;
		break;
	}
	r->corrupt = k;
	c->cur_corrupt = k;
	ATOMIC_INC(st->corrupt[k]);
	switch (k) {
	case C_SIZE_SMALL:
		*(u32 *)r->s = below(c, oi->minsize);
		r->readback = false;
		return EINVAL;
	case C_SIZE_OLD:
		*(u32 *)r->s = oi->minsize + below(c, ks - oi->minsize);
		r->readback = false;
		return -2;
	case C_SIZE_BIG_ZERO:
		extra = 1 + below(c, below(c, 2) ? 64 : CMD_SZ - ks);
		*(u32 *)r->s = ks + extra;
		/* Above a page the kernel looks no further. */
		if (ks + extra > PAGE_SZ) {
			r->readback = false;
			return E2BIG;
		}
		return -2;
	case C_SIZE_BIG_NONZERO:
		extra = 1 + below(c, below(c, 2) ? 64 : CMD_SZ - ks);
		*(u32 *)r->s = ks + extra;
		((u8 *)r->s)[ks + below(c, extra)] = 1 + below(c, 255);
		r->readback = false;
		return E2BIG;
	case C_SIZE_FAULT:
		/* A zero tail that runs into the guard page. */
		extra = 8 * below(c, 8);
		p = c->cmd_guard - ks - extra;
		memmove(p, r->s, ks);
		memset(p + ks, 0, extra);
		*(u32 *)p = ks + extra + 1 + below(c, 64);
		r->arg = p;
		c->cur_arg = p;
		r->readback = false;
		return EFAULT;
	case C_STRUCT_CROSS:
		extra = 1 + below(c, ks - 1);
		p = c->cmd_guard - extra;
		memmove(p, r->s, extra);
		r->arg = p;
		c->cur_arg = p;
		r->readback = false;
		return EFAULT;
	case C_FLAGS:
		*r->flags |= (1U << below(c, 32)) & ~oi->flags_ok;
		if (!(*r->flags & ~oi->flags_ok))
			*r->flags |= 1U << 31;
		return EOPNOTSUPP;
	case C_RESERVED: {
		int i = below(c, r->nresv);
		u8 *f = r->resv[i];

		f[below(c, r->resv_len[i])] = 1 + below(c, 255);
		return EOPNOTSUPP;
	}
	case C_PTR_NULL:
		r->arg = NULL;
		r->readback = false;
		return EFAULT;
	case C_PTR_KERNEL:
		r->arg = (void *)(uintptr_t)(KERNEL_PTR + below(c, 1 << 20));
		r->readback = false;
		return EFAULT;
	case C_PTR_UNMAPPED:
		r->arg = c->cmd_guard + below(c, PAGE_SZ / 8) * 8;
		r->readback = false;
		return EFAULT;
	default:
		/* Read-only: the kernel reads the struct, cannot answer. */
		if (mprotect(c->ro, PAGE_SZ, PROT_READ | PROT_WRITE))
			return -1;
		memcpy(c->ro + PAGE_SZ - 256, r->s, ks);
		mprotect(c->ro, PAGE_SZ, PROT_READ);
		r->arg = c->ro + PAGE_SZ - 256;
		r->readback = false;
		return -1;
	}
}

static void check_fault(struct ctx *c, struct req *r)
{
	const struct opinfo *oi = &opinfo[r->op];
	const struct guestmem_fault *f;
	bool indexed = r->op == OP_PROBE_GPNS || r->op == OP_LOCK_GPNS ||
		       r->op == OP_RANGE_READ || r->op == OP_RANGE_WRITE ||
		       r->op == OP_RANGE_FILL;
	int e = r->err;

	if (!oi->fault_off)
		return;
	f = (const void *)((u8 *)r->s + oi->fault_off);
	if (!e) {
		if (f->flags || f->kind || f->cause || f->index || f->gpa || f->gpn)
			fail(c, "success, but out_fault is not all zero (flags %#x)",
			     f->flags);
		return;
	}
	if (!(f->flags & GUESTMEM_FAULT_VALID)) {
		if (e == ERANGE || e == ESRCH)
			fail(c, "%s without GUESTMEM_FAULT_VALID", errname(e));
		return;
	}
	if (e != ERANGE && e != ESRCH && e != EFAULT) {
		fail(c, "GUESTMEM_FAULT_VALID with %s", errname(e));
		return;
	}
	if (e == ERANGE && (f->kind != GUESTMEM_KIND_OUT_OF_RANGE ||
			    (f->cause != GUESTMEM_CAUSE_NO_MEMORY &&
			     f->cause != GUESTMEM_CAUSE_INVALID_GPN)))
		fail(c, "ERANGE with kind %u cause %u", f->kind, f->cause);
	if (e == ESRCH && (f->kind != GUESTMEM_KIND_OTHER ||
			   f->cause != GUESTMEM_CAUSE_OWNER_EXITED))
		fail(c, "ESRCH with kind %u cause %u", f->kind, f->cause);
	if (e == EFAULT && (f->kind != GUESTMEM_KIND_OTHER ||
			    (f->cause != GUESTMEM_CAUSE_NOT_MAPPED &&
			     f->cause != GUESTMEM_CAUSE_NOT_LOCKABLE &&
			     f->cause != GUESTMEM_CAUSE_NO_FALLBACK)))
		fail(c, "EFAULT with kind %u cause %u", f->kind, f->cause);
	if (f->cause == GUESTMEM_CAUSE_INVALID_GPN ?
	    (f->flags & GUESTMEM_FAULT_HAS_GPA) || !(f->flags & GUESTMEM_FAULT_HAS_INDEX) :
	    !(f->flags & GUESTMEM_FAULT_HAS_GPA))
		fail(c, "cause %u with fault flags %#x", f->cause, f->flags);
	if (indexed && !(f->flags & GUESTMEM_FAULT_HAS_INDEX))
		fail(c, "a guest-side failure without GUESTMEM_FAULT_HAS_INDEX");
}

static void trace_op(struct ctx *c, struct req *r)
{
	if (opt.trace)
		out("# trace %s %llu %s fd %d corrupt %s -> %s\n", c->who,
		    c->opno, opinfo[r->op].name, r->fd,
		    corrupt_names[r->corrupt], errname(r->err));
}

/*
 * Issue @r with @nr (the op's own ioctl unless nonzero), after one
 * corruption with probability @corrupt_pct.  Returns the errno (0: success).
 */
static int req_issue_nr(struct ctx *c, struct req *r, unsigned long nr,
			unsigned int corrupt_pct)
{
	const struct opinfo *oi = &opinfo[r->op];
	int forced = -1, rc;
	u64 t0;

	*(u32 *)r->s = oi->ksize;
	r->arg = r->s;
	r->readback = true;
	if (chance(c, corrupt_pct)) {
		forced = req_corrupt(c, r);
		/* It fails on the number, before the struct is read. */
		if (r->op == OP_BAD_NR)
			r->readback = false;
		else if (forced >= 0)
			r->expect = forced;
		else if (forced == -1)
			r->expect = -1;
	}
	t0 = now_ns();
	rc = ioctl(r->fd, nr ? nr : oi->nr, r->arg);
	r->err = rc < 0 ? errno : 0;
	__atomic_fetch_add(&st->ns[r->op], now_ns() - t0, __ATOMIC_RELAXED);
	r->pristine = r->corrupt == C_NONE ||
		      (r->corrupt == C_SIZE_BIG_ZERO && r->readback);
	if (r->corrupt == C_SIZE_BIG_NONZERO || r->corrupt == C_SIZE_FAULT ||
	    r->corrupt == C_SIZE_BIG_ZERO || r->corrupt == C_STRUCT_CROSS)
		memset(c->cmd + oi->ksize, 0, CMD_SZ - oi->ksize);
	ATOMIC_INC(st->res[r->op][r->err < NR_ERRNO ? r->err : NR_ERRNO - 1]);
	trace_op(c, r);
	if (rc > 0) {
		fail(c, "returned %d", rc);
		return r->err;
	}
	if (r->racy && r->err == EBADF)
		return r->err;
	if (r->err && !errset_has(&contract[r->op], r->err)) {
		fail(c, "%s is not in the errno contract", errname(r->err));
		return r->err;
	}
	if (r->expect >= 0 && r->err != r->expect &&
	    !(r->soft && (r->err == ENOMEM || r->err == ENOSPC))) {
		fail(c, "expected %s, got %s", errname(r->expect),
		     errname(r->err));
		return r->err;
	}
	if (r->readback)
		check_fault(c, r);
	return r->err;
}

static int req_issue(struct ctx *c, struct req *r, unsigned int corrupt_pct)
{
	return req_issue_nr(c, r, 0, corrupt_pct);
}

/* How often a header corruption is applied. */
#define CORRUPT_PCT 12

/* ------------------------------------------------------------------------ */
/* What the memory behind a user object does (for the model). */

enum { MEM_OK, MEM_RO, MEM_FAULT, MEM_UNKNOWN };

/*
 * The state of [@uaddr, @uaddr + @len) in the owner's address space, from
 * the arena layout: the stable zone and the DMA arena are read-write, the
 * read-only zone is read-only; guards, the PROT_NONE zone, the NULL page
 * and the top of the address space fault; the churned zone is unknown.
 * Every process has the arena at the same address (fork) or its own
 * (exec), and uses only objects over its own arena or its parent's.
 */
static int mem_state(u64 uaddr, u64 len)
{
	u64 a = (uintptr_t)arena, d = (uintptr_t)dma_arena, end = uaddr + len;
	u64 ro = a + ZONE_RO * PAGE_SZ, none = a + ZONE_NONE * PAGE_SZ;
	u64 churn = a + ZONE_CHURN * PAGE_SZ;

	if (!len || end < uaddr)
		return MEM_UNKNOWN;
	if (uaddr >= d && end <= d + DMA_ARENA_SZ)
		return MEM_OK;
	if (uaddr >= d - ARENA_GUARD && end <= d + DMA_ARENA_SZ + ARENA_GUARD)
		return uaddr < d || end > d + DMA_ARENA_SZ ? MEM_FAULT : MEM_OK;
	if (end <= PAGE_SZ || uaddr >= 0x7ffffffff000ULL)
		return MEM_FAULT;
	if (uaddr < a - ARENA_GUARD || end > a + ARENA_SZ + ARENA_GUARD)
		return MEM_UNKNOWN;
	if (end > churn && uaddr < ro)
		return MEM_UNKNOWN;
	if (uaddr < a || end > none)
		return MEM_FAULT;
	if (end > ro)
		return MEM_RO;
	return MEM_OK;
}

/* ------------------------------------------------------------------------ */
/* The pool. */

static int rw_tryrd(pthread_rwlock_t *l)
{
	return shared_state ? pthread_rwlock_tryrdlock(l) : 0;
}

static int rw_trywr(pthread_rwlock_t *l)
{
	return shared_state ? pthread_rwlock_trywrlock(l) : 0;
}

static void rw_rd(pthread_rwlock_t *l)
{
	if (shared_state)
		pthread_rwlock_rdlock(l);
}

static void rw_wr(pthread_rwlock_t *l)
{
	if (shared_state)
		pthread_rwlock_wrlock(l);
}

static void rw_un(pthread_rwlock_t *l)
{
	if (shared_state)
		pthread_rwlock_unlock(l);
}

static struct pool *pool_new(int n)
{
	struct pool *p = calloc(1, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	p->s = calloc(n, sizeof(*p->s));
	if (!p->s)
		return NULL;
	p->n = n;
	for (i = 0; i < n; i++) {
		pthread_rwlock_init(&p->s[i].rw, NULL);
		pthread_mutex_init(&p->s[i].mu, NULL);
		p->s[i].fd = -1;
	}
	return p;
}

/* A slot in use (read-locked), or with @racy_ok sometimes a racy fd. */
static bool target_get(struct ctx *c, struct target *t, bool racy_ok)
{
	int tries;

	if (racy_ok && !c->child && chance(c, 8)) {
		int k = below(c, NRACY);

		t->fd = RACY_BASE + k;
		t->racy = true;
		t->slot = NULL;
		lk(&racy.mu);
		t->d = racy.d[k];
		ulk(&racy.mu);
		t->d.known = false;
		t->d.dma = false;
		t->d.fam = -1;
		return true;
	}
	for (tries = 0; tries < 4; tries++) {
		struct slot *s = &c->pool->s[below(c, c->pool->n)];

		if (rw_tryrd(&s->rw))
			continue;
		if (s->fd < 0) {
			rw_un(&s->rw);
			continue;
		}
		t->fd = s->fd;
		t->racy = false;
		t->slot = s;
		t->d = s->d;
		return true;
	}
	return false;
}

static void target_put(struct target *t)
{
	if (t->slot)
		rw_un(&t->slot->rw);
	t->slot = NULL;
}

/* Close a slot's object; the slot is write-locked. */
static void slot_close_locked(struct slot *s)
{
	close(s->fd);
	ATOMIC_INC(st->events[EV_CLOSE]);
	s->fd = -1;
	s->nlocks = 0;
	fam_put(s->d.fam);
}

/*
 * Put a new object into the pool, in an empty slot or in place of a
 * random one (which is closed); with no slot to be had, close it.
 */
static void pool_insert(struct ctx *c, int fd, const struct objdesc *d,
			const u32 *locks, int nlocks)
{
	struct pool *p = c->pool;
	int i, start = below(c, p->n);

	for (i = 0; i < 2 * p->n; i++) {
		struct slot *s = &p->s[(start + i) % p->n];

		if (rw_trywr(&s->rw))
			continue;
		if (s->fd >= 0 && i < p->n && chance(c, 50)) {
			rw_un(&s->rw);
			continue;
		}
		if (s->fd >= 0)
			slot_close_locked(s);
		s->fd = fd;
		s->d = *d;
		s->nlocks = nlocks < MAX_LOCKS ? nlocks : MAX_LOCKS;
		if (s->nlocks)
			memcpy(s->locks, locks, s->nlocks * sizeof(*locks));
		rw_un(&s->rw);
		return;
	}
	close(fd);
	fam_put(d->fam);
}

static void slot_add_lock(struct slot *s, u32 id)
{
	lk(&s->mu);
	if (s->nlocks < MAX_LOCKS)
		s->locks[s->nlocks++] = id;
	ulk(&s->mu);
}

static bool slot_take_lock(struct ctx *c, struct slot *s, u32 *id)
{
	bool got = false;
	int i;

	lk(&s->mu);
	if (s->nlocks) {
		i = below(c, s->nlocks);
		*id = s->locks[i];
		s->locks[i] = s->locks[--s->nlocks];
		got = true;
	}
	ulk(&s->mu);
	return got;
}

static int slot_nlocks(struct slot *s)
{
	int n;

	lk(&s->mu);
	n = s->nlocks;
	ulk(&s->mu);
	return n;
}

/* ------------------------------------------------------------------------ */
/* Device ioctls: creating objects. */

/* A debug name in scratch; returns the errno a bad one must give, or 0. */
static int pick_name(struct ctx *c, u64 *uptr, u32 *len, u32 *good_len)
{
	u8 *p = c->scratch + SCRATCH_SZ - 512;
	u32 n = below(c, 24), i;
	int r = below(c, 40);

	for (i = 0; i < 300; i++)
		p[i] = 'a' + below(c, 26);
	*uptr = (uintptr_t)p;
	*len = n;
	*good_len = n;
	switch (r) {
	case 0:
		*len = MAX_NAME_LEN + 1 + below(c, 40);
		return ENAMETOOLONG;
	case 1:
		*len = MAX_NAME_LEN;
		*good_len = MAX_NAME_LEN;
		return 0;
	case 2:
		if (!n)
			return 0;
		p[below(c, n)] = 0;
		return EINVAL;
	case 3:
		if (!n)
			return 0;
		*uptr = chance(c, 50) ? 0 : KERNEL_PTR;
		return EFAULT;
	default:
		return 0;
	}
}

/* A user range in the arena for @max bytes at most; some odd cases. */
static void pick_user_range(struct ctx *c, u64 *base, u64 *len)
{
	u64 a = (uintptr_t)arena, room;

	switch (below(c, 40)) {
	case 0:
		*base = (uintptr_t)arena - ARENA_GUARD + below(c, ARENA_GUARD / 2);
		*len = below(c, ARENA_GUARD / 2);
		return;
	case 1:
		*base = 0;
		*len = below(c, PAGE_SZ + 1);
		return;
	case 2:
		*base = 0x7ffffffff000ULL;
		*len = 1 + below(c, 1 << 20);
		return;
	default:
		break;
	}
	/* Half of them in the stable zone, where accesses work. */
	*base = a + below(c, chance(c, 50) ? ZONE_CHURN : ARENA_PAGES) * PAGE_SZ;
	if (chance(c, 15))
		*base += below(c, PAGE_SZ);
	room = chance(c, 50) ? a + ZONE_CHURN * PAGE_SZ - *base :
			       a + ARENA_SZ + ARENA_GUARD / 2 - *base;
	if ((s64)room <= 0)
		room = a + ARENA_SZ + ARENA_GUARD / 2 - *base;
	switch (below(c, 10)) {
	case 0:
		*len = 0;
		break;
	case 1 ... 4:
		*len = (1 + below(c, 64)) * PAGE_SZ;
		break;
	case 5 ... 7:
		*len = 1 + below(c, 256 * PAGE_SZ);
		break;
	default:
		*len = room;
		break;
	}
	if (*len > room)
		*len = room;
}

static void check_new_fd(struct ctx *c, int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || !(fl & FD_CLOEXEC))
		fail(c, "out_fd %d is not an open O_CLOEXEC fd", fd);
}

static void op_create_user(struct ctx *c)
{
	struct guestmem_create_user *s;
	struct objdesc d;
	struct req r;
	int range_err = 0, name_err;
	u32 good_len;
	u64 base, len;

	req_init(c, &r, OP_CREATE_USER, dev_fd, false);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	req_resv(&r, &s->__reserved2, 4);
	name_err = pick_name(c, &s->name_uptr, &s->name_len, &good_len);
	switch (below(c, 30)) {
	case 0:
		base = UINT64_MAX - below(c, 1 << 20);
		len = UINT64_MAX - base + 1 + below(c, 1 << 20);
		range_err = EOVERFLOW;
		break;
	case 1:
		base = KERNEL_PTR + below(c, 1 << 20) * PAGE_SZ;
		len = 1 + below(c, 1 << 20);
		range_err = EFAULT;
		break;
	case 2:
		base = rnd(c);
		len = 0;
		range_err = -1;
		break;
	default:
		pick_user_range(c, &base, &len);
		if (!base)
			range_err = EINVAL;
		else if (base == 0x7ffffffff000ULL)
			range_err = -1;
		break;
	}
	s->base_uptr = base;
	s->len = len;
	r.expect = range_err ? range_err : name_err;
	r.soft = !r.expect;
	if (req_issue(c, &r, CORRUPT_PCT))
		return;
	if (!r.readback) {
		fail(c, "created an object whose fd the caller cannot learn");
		return;
	}
	check_new_fd(c, s->out_fd);
	desc_single(&d, GUESTMEM_OBJ_USER, RT_USER, len, base);
	d.name_len = good_len;
	d.fam = fam_new(false);
	if (d.fam < 0) {
		close(s->out_fd);
		return;
	}
	pool_insert(c, s->out_fd, &d, NULL, 0);
}

/* A user object in the DMA arena, attached to the device at once. */
static void op_create_dma(struct ctx *c)
{
	struct guestmem_create_user *s;
	struct guestmem_attach_device *a;
	u64 first = below(c, DMA_PAGES), n;
	struct objdesc d;
	struct req r;
	int fd;

	n = 1 + below(c, DMA_PAGES - first < 64 ? DMA_PAGES - first : 64);
	req_init(c, &r, OP_CREATE_USER, dev_fd, false);
	s = r.s;
	s->base_uptr = (uintptr_t)dma_arena + first * PAGE_SZ;
	s->len = n * PAGE_SZ;
	r.expect = 0;
	r.soft = true;
	if (req_issue(c, &r, 0))
		return;
	fd = s->out_fd;
	desc_single(&d, GUESTMEM_OBJ_USER, RT_USER, n * PAGE_SZ,
		    (uintptr_t)dma_arena + first * PAGE_SZ);
	d.dma = true;
	d.fam = fam_new(true);
	if (d.fam < 0) {
		close(fd);
		return;
	}
	req_init(c, &r, OP_ATTACH_DEVICE, fd, false);
	a = r.s;
	a->pci_devfn = EDU_DEVFN;
	r.expect = 0;
	r.soft = true;
	/* Not while the device is rebound. */
	rw_rd(&bind_rw);
	fam_attach_begin(d.fam);
	if (!req_issue(c, &r, 0)) {
		fam_attach_done(d.fam, true);
		ATOMIC_INC(st->dma_objects);
		ATOMIC_INC(st->attached);
	} else {
		fam_attach_done(d.fam, false);
	}
	rw_un(&bind_rw);
	pool_insert(c, fd, &d, NULL, 0);
}

/*
 * What the kernel says about one backing of CREATE_MULTI, in its order of
 * checks: 0, an errno, or -1 when it depends on the kernel version (the
 * range check of a kernel address of length 0).
 */
static int backing_err(const struct guestmem_backing *b, u64 rs, u32 *reason)
{
	u64 end;

	if ((b->flags & ~(GUESTMEM_BACKING_PRESENT | GUESTMEM_BACKING_FILE)) ||
	    (!(b->flags & GUESTMEM_BACKING_FILE) && b->fd))
		return EOPNOTSUPP;
	if (!(b->flags & GUESTMEM_BACKING_PRESENT))
		return b->base_uptr || b->len || b->flags ? EINVAL : 0;
	if (b->len > rs) {
		*reason = GUESTMEM_MR_BACKING_TOO_LARGE;
		return EINVAL;
	}
	if (!b->base_uptr)
		return EINVAL;
	if (__builtin_add_overflow(b->base_uptr, b->len, &end))
		return EOVERFLOW;
	if (end > 0x7ffffffff000ULL)
		return b->len ? EFAULT : -1;
	return 0;
}

static void op_create_multi(struct ctx *c)
{
	struct guestmem_backing *b = (void *)c->scratch;
	struct guestmem_create_multi *s;
	u32 count, good_len, i, bad = ~0U, reason = 0, bad_index = 0;
	u64 rs, rc, maxrc = 0, a = (uintptr_t)arena;
	bool backings_ok = true;
	int name_err, expect = 0;
	struct objdesc d;
	struct req r;

	req_init(c, &r, OP_CREATE_MULTI, dev_fd, false);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	name_err = pick_name(c, &s->name_uptr, &s->name_len, &good_len);
	switch (below(c, 40)) {
	case 0:
		count = 0;
		break;
	case 1:
		count = MAX_REGIONS + 1 + below(c, 100);
		break;
	case 2:
		count = 1U << (16 + below(c, 16));
		break;
	case 3 ... 4:
		count = 9 + below(c, 8);
		break;
	default:
		count = 1 + below(c, 8);
		break;
	}
	switch (below(c, 40)) {
	case 0:
		rs = (1ULL << (12 + below(c, 20))) + 1 + below(c, 4095);
		break;
	case 1:
		rs = 1ULL << below(c, 12);
		break;
	case 2:
		rs = 0;
		break;
	case 3:
		rs = 1ULL << (60 + below(c, 4));
		break;
	default:
		rs = 1ULL << (12 + below(c, 9));
		break;
	}
	s->region_size = rs;
	s->backing_count = count;
	s->backings_uptr = (uintptr_t)b;
	if (count && chance(c, 3)) {
		s->backings_uptr = chance(c, 50) ? 0 : KERNEL_PTR;
		backings_ok = false;
	}
	/* The backings, in scratch: at most 1024 * 24 bytes. */
	if (count <= MAX_REGIONS && chance(c, 15))
		bad = below(c, count ? count : 1);
	for (i = 0; i < count && count <= MAX_REGIONS; i++) {
		u64 room, base;

		memset(&b[i], 0, sizeof(b[i]));
		if (chance(c, 20)) {
			if (i == bad)
				b[i].len = 1 + below(c, 4096);
			continue;
		}
		b[i].flags = GUESTMEM_BACKING_PRESENT;
		base = a + below(c, ARENA_PAGES) * PAGE_SZ;
		if (chance(c, 10))
			base += below(c, PAGE_SZ);
		room = a + ARENA_SZ + ARENA_GUARD / 2 - base;
		b[i].base_uptr = base;
		b[i].len = chance(c, 30) ? rs : below(c, rs + 1);
		if (b[i].len > room)
			b[i].len = room;
		if (i != bad)
			continue;
		switch (below(c, 6)) {
		case 0:
			b[i].len = rs + 1 + below(c, 4096);
			break;
		case 1:
			b[i].flags |= 4U << below(c, 30);
			break;
		case 2:
			/* An fd without GUESTMEM_BACKING_FILE. */
			b[i].fd = 1 + below(c, 1000);
			break;
		case 3:
			b[i].base_uptr = UINT64_MAX - below(c, 4096);
			b[i].len = 4096 + below(c, 4096);
			break;
		case 4:
			b[i].base_uptr = 0;
			break;
		default:
			b[i].base_uptr = KERNEL_PTR;
			break;
		}
	}
	/* The kernel's checks, in the documented order. */
	rc = count <= 1 ? 1 : 1ULL << (64 - __builtin_clzll((u64)count - 1));
	if (!rs || (rs & (rs - 1))) {
		expect = EINVAL;
		reason = GUESTMEM_MR_NOT_POWER_OF_TWO;
	} else if (rs < PAGE_SZ) {
		expect = EINVAL;
		reason = GUESTMEM_MR_REGION_TOO_SMALL;
	} else {
		maxrc = 1ULL << (63 - ilog2_u64(rs));
		if (rc > maxrc) {
			expect = EINVAL;
			reason = GUESTMEM_MR_TOO_MANY_REGIONS;
		} else if (count > MAX_REGIONS) {
			expect = ENOSPC;
		} else if (name_err) {
			expect = name_err;
		} else if (count && !backings_ok) {
			expect = EFAULT;
		}
	}
	for (i = 0; !expect && backings_ok && i < count; i++) {
		expect = backing_err(&b[i], rs, &reason);
		bad_index = i;
	}
	r.expect = expect;
	r.soft = !expect;
	req_issue(c, &r, CORRUPT_PCT);
	if (r.readback && r.pristine && r.expect >= 0 && r.err == r.expect) {
		if (s->out_reason != reason)
			fail(c, "out_reason %u, expected %u", s->out_reason, reason);
		if (reason == GUESTMEM_MR_BACKING_TOO_LARGE &&
		    s->out_bad_index != bad_index)
			fail(c, "out_bad_index %u, expected %u", s->out_bad_index,
			     bad_index);
		if (reason != GUESTMEM_MR_NOT_POWER_OF_TWO &&
		    reason != GUESTMEM_MR_REGION_TOO_SMALL &&
		    (s->out_region_count != rc || s->out_max_region_count != maxrc))
			fail(c, "out_region_count %llu/%llu, expected %llu/%llu",
			     (unsigned long long)s->out_region_count,
			     (unsigned long long)s->out_max_region_count,
			     (unsigned long long)rc, (unsigned long long)maxrc);
	}
	if (r.err)
		return;
	if (!r.readback) {
		fail(c, "created an object whose fd the caller cannot learn");
		return;
	}
	check_new_fd(c, s->out_fd);
	memset(&d, 0, sizeof(d));
	d.type = GUESTMEM_OBJ_MULTI;
	d.known = count <= MAX_BACK;
	d.name_len = good_len;
	d.region_bits = ilog2_u64(rs);
	d.region_count = rc;
	d.nback = count <= MAX_BACK ? count : 0;
	for (i = 0; i < d.nback; i++) {
		d.rt[i] = b[i].flags ? RT_USER : RT_ABSENT;
		d.blen[i] = b[i].len;
		d.uaddr[i] = b[i].base_uptr;
	}
	d.obj = obj_id_new();
	d.fam = fam_new(false);
	if (d.fam < 0) {
		close(s->out_fd);
		return;
	}
	pool_insert(c, s->out_fd, &d, NULL, 0);
}

static void op_create_alloc(struct ctx *c)
{
	struct guestmem_create_alloc *s;
	struct objdesc d;
	struct req r;
	u64 len;

	req_init(c, &r, OP_CREATE_ALLOC, dev_fd, false);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	switch (below(c, 40)) {
	case 0 ... 1:
		len = 0;
		break;
	case 2:
		len = MAX_ALLOC + 1 + below(c, 1ULL << 40);
		break;
	case 3:
		len = UINT64_MAX - below(c, 2 * PAGE_SZ);
		break;
	case 4:
		len = 256 * PAGE_SZ - below(c, 2);
		break;
	case 5 ... 19:
		len = 1 + below(c, 16 * PAGE_SZ);
		break;
	default:
		len = (1 + below(c, 32)) * PAGE_SZ;
		break;
	}
	s->len = len;
	r.expect = len > MAX_ALLOC ? ENOSPC : 0;
	r.soft = !r.expect;
	if (req_issue(c, &r, CORRUPT_PCT))
		return;
	if (!r.readback) {
		fail(c, "created an object whose fd the caller cannot learn");
		return;
	}
	check_new_fd(c, s->out_fd);
	if (s->out_alloc_size != ((len + PAGE_SZ - 1) & ~(PAGE_SZ - 1)))
		fail(c, "out_alloc_size %llu for len %llu",
		     (unsigned long long)s->out_alloc_size,
		     (unsigned long long)len);
	desc_single(&d, GUESTMEM_OBJ_ALLOC, RT_ALLOC, s->out_alloc_size, 0);
	d.name_len = 4;		/* "heap" */
	d.fam = fam_new(false);
	if (d.fam < 0) {
		close(s->out_fd);
		return;
	}
	pool_insert(c, s->out_fd, &d, NULL, 0);
}

static void op_create_empty(struct ctx *c)
{
	struct guestmem_create_empty *s;
	struct objdesc d;
	struct req r;

	req_init(c, &r, OP_CREATE_EMPTY, dev_fd, false);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	r.expect = 0;
	r.soft = true;
	if (req_issue(c, &r, CORRUPT_PCT))
		return;
	if (!r.readback) {
		fail(c, "created an object whose fd the caller cannot learn");
		return;
	}
	check_new_fd(c, s->out_fd);
	desc_single(&d, GUESTMEM_OBJ_EMPTY, RT_NONE, 0, 0);
	d.name_len = 5;		/* "empty" */
	d.fam = fam_new(false);
	if (d.fam < 0) {
		close(s->out_fd);
		return;
	}
	pool_insert(c, s->out_fd, &d, NULL, 0);
}

/*
 * CREATE_FILE over the fuzzer's memfd (which never shrinks: every byte of
 * a file object is accessible, as allocated memory's is), or over what is
 * not one.  Locks of its pages are lockable or not by kernel version: no
 * verdict.
 */
static void op_create_file(struct ctx *c)
{
	struct guestmem_create_file *s;
	int file_err = 0, name_err;
	struct objdesc d;
	struct req r;
	u32 good_len;
	u64 end;

	if (file_fd < 0)
		return;
	req_init(c, &r, OP_CREATE_FILE, dev_fd, false);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	name_err = pick_name(c, &s->name_uptr, &s->name_len, &good_len);
	s->fd = file_fd;
	s->offset = below(c, FILE_PAGES) * PAGE_SZ;
	s->len = below(c, FILE_PAGES + 1 - s->offset / PAGE_SZ) * PAGE_SZ;
	switch (below(c, 20)) {
	case 0:
		s->fd = chance(c, 50) ? -1 - (int)below(c, 100) : 100000 + (int)below(c, 1000);
		break;
	case 1:
		s->fd = dev_fd;         /* not shared memory */
		break;
	case 2:
		s->fd = file_ro_fd;
		break;
	case 3:
		s->offset += 1 + below(c, PAGE_SZ - 1);
		break;
	case 4:
		s->len = rnd(c);
		break;
	case 5:
		/* Wrapping, or just past the file. */
		s->offset = (UINT64_MAX & ~(u64)(PAGE_SZ - 1)) - below(c, 4) * PAGE_SZ;
		s->len = (1 + below(c, 4)) * PAGE_SZ;
		break;
	default:
		break;
	}
	/* The kernel's order: the fd, its kind, the range, the mode. */
	if (s->fd < 0 || s->fd >= 100000)
		file_err = EBADF;
	else if (s->fd == dev_fd)
		file_err = EINVAL;
	else if (((s->offset | s->len) & (PAGE_SZ - 1)) ||
		 __builtin_add_overflow(s->offset, s->len, &end) ||
		 end > FILE_PAGES * PAGE_SZ)
		file_err = EINVAL;
	else if (s->fd == file_ro_fd)
		file_err = EACCES;
	r.expect = name_err ? name_err : file_err;
	r.soft = !r.expect;
	if (req_issue(c, &r, CORRUPT_PCT))
		return;
	if (!r.readback) {
		fail(c, "created an object whose fd the caller cannot learn");
		return;
	}
	check_new_fd(c, s->out_fd);
	desc_single(&d, GUESTMEM_OBJ_FILE, RT_FILE, s->len, 0);
	d.name_len = good_len;
	d.fam = fam_new(false);
	if (d.fam < 0) {
		close(s->out_fd);
		return;
	}
	pool_insert(c, s->out_fd, &d, NULL, 0);
}

static void op_create(struct ctx *c)
{
	if (dev_fd < 0)
		return;
	switch (below(c, 20)) {
	case 0 ... 6:
		op_create_user(c);
		break;
	case 7 ... 10:
		op_create_multi(c);
		break;
	case 11 ... 14:
		op_create_alloc(c);
		break;
	case 15:
		if (chance(c, 50))
			op_create_empty(c);
		else
			op_create_file(c);
		break;
	default:
		if (have_device && !c->no_attach)
			op_create_dma(c);
		else
			op_create_alloc(c);
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* Object ioctls: the data path. */

/*
 * The errno of one access of @len bytes at @gpa, when certain: -1 if not.
 * @plain: READ_PLAIN/WRITE_PLAIN (a zero length still resolves);
 * @bufok: the caller's buffer is all accessible (always, for fill).
 */
static int predict_access(const struct target *t, bool write, bool plain,
			  u64 gpa, u64 len, bool bufok)
{
	u64 bgpa = 0;
	int m, mem;
	u8 rt = 0;

	if (t->racy)
		return -1;
	if (plain && write && len <= 8 && !bufok)
		return EFAULT;
	if (!len && !plain)
		return 0;
	m = model_resolve(&t->d, gpa, len, &rt, &bgpa);
	if (m == M_UNKNOWN)
		return -1;
	if (m == M_OOR)
		return ERANGE;
	switch (rt) {
	case RT_ABSENT:
		return ERANGE;
	case RT_NONE:
		return EFAULT;
	case RT_ALLOC:
	case RT_FILE:
		return !len || bufok ? 0 : EFAULT;
	default:
		if (!len)
			return 0;
		if (t->d.owner_gone)
			return ESRCH;
		if (!bufok)
			return EFAULT;
		mem = mem_state(desc_uaddr(&t->d, bgpa), len);
		if (mem == MEM_FAULT || (mem == MEM_RO && write))
			return EFAULT;
		return mem == MEM_UNKNOWN ? -1 : 0;
	}
}

static void op_rw(struct ctx *c, int op)
{
	bool kwrites = op == OP_READ || op == OP_READ_PLAIN;
	bool plain = op == OP_READ_PLAIN || op == OP_WRITE_PLAIN;
	struct guestmem_rw *s;
	struct target t;
	struct req r;
	bool bufok;
	u64 len, gpa;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, op, &t);
	s = r.s;
	len = plain && chance(c, 60) ? 1ULL << below(c, 4) : pick_len(c, &t.d);
	gpa = pick_gpa(c, &t.d, len);
	if (plain && len && len <= 8 && chance(c, 70))
		gpa &= ~(len - 1);
	s->gpa = gpa;
	s->len = len;
	s->buf_uptr = pick_buf(c, len, kwrites, &bufok);
	r.expect = predict_access(&t, !kwrites, plain, gpa, len, bufok);
	r.soft = !r.expect;
	req_issue(c, &r, CORRUPT_PCT);
	target_put(&t);
}

static void op_fill(struct ctx *c)
{
	struct guestmem_fill *s;
	struct target t;
	struct req r;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, OP_FILL, &t);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	s->len = pick_len(c, &t.d);
	s->gpa = pick_gpa(c, &t.d, s->len);
	s->val = chance(c, 95) ? below(c, 256) : 256 + below(c, 1ULL << 32);
	r.expect = s->val > 255 ? EINVAL :
		   predict_access(&t, true, false, s->gpa, s->len, true);
	if (t.racy && s->val > 255)
		r.expect = -1;
	r.soft = !r.expect;
	req_issue(c, &r, CORRUPT_PCT);
	target_put(&t);
}

/* The errno of a compare-exchange, when certain; else -1. */
static int predict_cmpxchg(const struct target *t, u64 gpa, u32 len,
			   u64 values)
{
	u64 mask = len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1, bgpa = 0, ua;
	u8 rt = 0;
	int m, mem;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return EINVAL;
	if (gpa % len || (values & ~mask))
		return EINVAL;
	if (t->racy)
		return -1;
	m = model_resolve(&t->d, gpa, len, &rt, &bgpa);
	if (m != M_OK)
		return m == M_OOR ? ERANGE : -1;
	/* The backing address must be aligned too (a file's offset is). */
	if (rt == RT_ALLOC || rt == RT_FILE)
		return bgpa % len ? EINVAL : 0;
	if (t->d.owner_gone)
		return ESRCH;
	ua = desc_uaddr(&t->d, bgpa);
	mem = mem_state(ua, len);
	if (mem == MEM_FAULT || mem == MEM_RO)
		return EFAULT;
	if (mem == MEM_OK)
		return ua % len ? EINVAL : 0;
	return -1;
}

static void op_cmpxchg(struct ctx *c)
{
	struct guestmem_cmpxchg *s;
	struct target t;
	struct req r;
	int expect;
	u64 mask;
	u32 len;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, OP_CMPXCHG, &t);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	req_resv(&r, &s->__reserved2, 4);
	if (chance(c, 92)) {
		len = 1U << below(c, 4);
	} else {
		static const u32 odd[] = { 0, 3, 5, 6, 7, 16, 32, 0x80000008 };

		len = odd[below(c, ARRAY_SIZE(odd))];
	}
	s->len = len;
	s->gpa = pick_gpa(c, &t.d, len);
	if (len && len <= 8 && chance(c, 85))
		s->gpa &= ~((u64)len - 1);
	mask = len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
	s->current_val = chance(c, 40) ? 0 : rnd(c) & mask;
	s->new_val = rnd(c) & mask;
	if (len < 8 && chance(c, 5))
		s->new_val |= 1ULL << (8 * len + below(c, 64 - 8 * len));
	expect = predict_cmpxchg(&t, s->gpa, len, s->current_val | s->new_val);
	if (t.racy && expect == EINVAL)
		expect = -1;
	r.expect = expect;
	r.soft = !expect;
	if (req_issue(c, &r, CORRUPT_PCT) || !r.readback)
		goto out;
	if (s->out_exchanged > 1 || (s->out_current & ~mask) ||
	    (s->out_exchanged && s->out_current != s->current_val))
		fail(c, "exchanged %u, found %#llx, expected %#llx", s->out_exchanged,
		     (unsigned long long)s->out_current,
		     (unsigned long long)s->current_val);
out:
	target_put(&t);
}

/*
 * What a gpn list does, entry by entry, as far as the model knows: the
 * first failure (errno and index) when certain; else the first entry whose
 * fate is unknown, and the first one that is out of range for sure.
 */
struct gpn_pred {
	bool model;		/* the object's address space is known */
	int expect;		/* -1: uncertain */
	s64 index;		/* the failing entry when expect > 0 */
	s64 unknown;		/* first uncertain entry, -1: none */
	s64 oor;		/* first out-of-range entry, -1: none */
};

/* USE_LOCK_RO: GUESTMEM_LOCK_READ_ONLY, where read-only memory locks. */
enum gpn_use { USE_PROBE, USE_LOCK, USE_LOCK_RO, USE_IOVA };

static void predict_gpns(const struct target *t, const u64 *g, u64 n,
			 enum gpn_use use, bool attached_alloc,
			 struct gpn_pred *p)
{
	bool locking = use == USE_LOCK || use == USE_LOCK_RO;
	u64 i, bgpa = 0;
	int m, mem;
	u8 rt = 0;

	p->model = !t->racy && t->d.known;
	p->expect = 0;
	p->index = -1;
	p->unknown = -1;
	p->oor = -1;
	if (!p->model) {
		p->expect = -1;
		p->unknown = 0;
		return;
	}
	for (i = 0; i < n; i++) {
		int e = 0;

		m = g[i] > MAX_GPN ? M_OOR :
		    model_resolve(&t->d, g[i] << 12, 1, &rt, &bgpa);
		if (m == M_OOR || (m == M_OK && rt == RT_ABSENT)) {
			p->oor = i;
			e = use == USE_IOVA ? ENOENT : ERANGE;
		} else if (use == USE_IOVA) {
			if (!attached_alloc)
				e = -1;
		} else if (rt == RT_NONE) {
			e = EFAULT;
		} else if (rt == RT_ALLOC) {
			if (locking && (bgpa & (PAGE_SZ - 1)))
				e = EFAULT;
		} else if (rt == RT_FILE) {
			/* Lockable from 6.11 on; the file never shrinks here. */
			if (locking)
				e = bgpa & (PAGE_SZ - 1) ? EFAULT : -1;
		} else if (locking && (desc_uaddr(&t->d, bgpa) & (PAGE_SZ - 1))) {
			e = EFAULT;
		} else if (locking && t->d.preempt) {
			e = -1;
		} else if (t->d.owner_gone) {
			e = ESRCH;
		} else {
			u64 ua = desc_uaddr(&t->d, bgpa);

			mem = locking ? mem_state(ua, PAGE_SZ) :
					mem_state(ua, 1);
			if (mem == MEM_FAULT || (mem == MEM_RO && use == USE_LOCK))
				e = EFAULT;
			else if (mem == MEM_UNKNOWN)
				e = -1;
		}
		if (e < 0 && p->unknown < 0) {
			p->unknown = i;
			p->expect = -1;
		}
		if (e > 0) {
			if (p->unknown < 0) {
				p->expect = e;
				p->index = i;
				return;
			}
			if (e == ERANGE || e == ENOENT)
				return;
		}
	}
}

/* The out_fault index of a gpn-list call against the prediction. */
static void check_gpn_pred(struct ctx *c, struct req *r,
			   const struct guestmem_fault *f, const u64 *g,
			   const struct gpn_pred *p)
{
	bool has_index = f->flags & GUESTMEM_FAULT_HAS_INDEX;

	if (!r->readback || r->racy || !p->model)
		return;
	if (r->err && !has_index)
		return;
	if (r->err && g && f->gpn != g[f->index])
		fail(c, "out_fault.gpn %#llx, but entry %u is %#llx",
		     (unsigned long long)f->gpn, f->index,
		     (unsigned long long)g[f->index]);
	if (p->expect > 0 && r->err == p->expect && (s64)f->index != p->index)
		fail(c, "out_fault.index %u, expected %lld", f->index,
		     (long long)p->index);
	/* Uncertain entries fail otherwise (no IOVA is not out of range). */
	if (p->expect < 0 && r->err == ERANGE && (s64)f->index != p->oor)
		fail(c, "out_fault.index %u of %s, the first entry out of range is %lld",
		     f->index, errname(r->err), (long long)p->oor);
	if (p->expect < 0 && !r->err && p->oor >= 0)
		fail(c, "success, but entry %lld is out of range", (long long)p->oor);
}

/* A gpn list pointer: c->gpns, or (rarely) a bad one. */
static u64 pick_gpns_ptr(struct ctx *c, u64 n, bool *ok)
{
	*ok = true;
	if (chance(c, 95) || !n)
		return (uintptr_t)c->gpns;
	*ok = false;
	switch (below(c, 4)) {
	case 0:
		return 0;
	case 1:
		return KERNEL_PTR;
	case 2:
		return (uintptr_t)c->gpns_guard;
	default:
		/* The list runs into the guard: the first entries are readable. */
		return (uintptr_t)(c->gpns_guard - 8 * (1 + below(c, n)));
	}
}

static void op_probe(struct ctx *c)
{
	struct guestmem_probe_gpns *s;
	struct gpn_pred p;
	struct target t;
	struct req r;
	bool ok;
	u64 n;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, OP_PROBE_GPNS, &t);
	s = r.s;
	n = build_gpns(c, &t.d, 512);
	s->gpns_uptr = pick_gpns_ptr(c, n, &ok);
	s->gpn_count = n;
	predict_gpns(&t, c->gpns, n, USE_PROBE, false, &p);
	if (chance(c, 3)) {
		s->gpn_count = (1ULL << 32) + below(c, 1ULL << 40);
		r.expect = t.racy ? -1 : EOVERFLOW;
	} else {
		r.expect = ok ? p.expect : -1;
	}
	r.soft = !r.expect;
	req_issue(c, &r, CORRUPT_PCT);
	if (ok && r.expect != EOVERFLOW && r.expect == p.expect)
		check_gpn_pred(c, &r, &s->out_fault, c->gpns, &p);
	target_put(&t);
}

/* The checks of a paged range before any page is touched. */
static int range_header_err(const struct guestmem_range *s, bool fill)
{
	u64 total = s->gpn_count << 12;

	if (fill ? s->buf_uptr != 0 : s->val != 0)
		return EINVAL;
	if (s->val > 255)
		return EINVAL;
	if (s->gpn_count > UINT32_MAX)
		return EOVERFLOW;
	if (s->offset > total || s->len > total - s->offset)
		return EINVAL;
	return 0;
}

static void op_range(struct ctx *c, int op)
{
	bool fill = op == OP_RANGE_FILL, kwrites = op == OP_RANGE_READ;
	struct guestmem_range *s;
	u64 n, total, idx, pgoff, done = 0, bgpa = 0;
	bool gok, bufok = true;
	struct target t;
	struct req r;
	int expect = 0;
	u8 rt = 0;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, op, &t);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	n = build_gpns(c, &t.d, 24);
	total = n * PAGE_SZ;
	s->gpns_uptr = pick_gpns_ptr(c, n, &gok);
	s->gpn_count = n;
	s->offset = chance(c, 95) ? below(c, total + 1) : total + 1 + below(c, 8192);
	if (chance(c, 95) && s->offset <= total)
		s->len = below(c, total - s->offset + 1);
	else
		s->len = total - s->offset + 1 + below(c, 8192);
	if (fill) {
		s->val = chance(c, 95) ? below(c, 256) : 256 + below(c, 1000);
		s->buf_uptr = chance(c, 96) ? 0 : (uintptr_t)c->scratch;
	} else {
		s->val = chance(c, 96) ? 0 : 1 + below(c, 255);
		s->buf_uptr = pick_buf(c, s->len, kwrites, &bufok);
	}
	if (chance(c, 3))
		s->gpn_count = (1ULL << 32) + below(c, 1000);
	expect = range_header_err(s, fill);
	if (!expect && (!gok || t.racy))
		expect = -1;
	else if (!expect && !s->len)
		expect = (s->offset & (PAGE_SZ - 1)) &&
			 c->gpns[s->offset / PAGE_SZ] > MAX_GPN ? ERANGE : 0;
	/* Chunk by chunk: a head to the end of the first page, then pages. */
	idx = s->offset / PAGE_SZ;
	pgoff = s->offset & (PAGE_SZ - 1);
	while (!expect && done < s->len) {
		u64 nn = s->len - done < PAGE_SZ - pgoff ? s->len - done :
							    PAGE_SZ - pgoff;
		u64 g = c->gpns[idx];
		int m = g > MAX_GPN ? M_OOR :
			model_resolve(&t.d, (g << 12) + pgoff, nn, &rt, &bgpa);

		if (m == M_UNKNOWN) {
			expect = -1;
		} else if (m == M_OOR || rt == RT_ABSENT) {
			expect = ERANGE;
		} else if (rt == RT_NONE) {
			expect = EFAULT;
		} else if (rt == RT_ALLOC || rt == RT_FILE) {
			if (!bufok)
				expect = -1;
		} else if (t.d.owner_gone) {
			expect = ESRCH;
		} else {
			int mem = mem_state(desc_uaddr(&t.d, bgpa), nn);

			if (!bufok || mem == MEM_UNKNOWN)
				expect = -1;
			else if (mem == MEM_FAULT || (mem == MEM_RO && !kwrites))
				expect = EFAULT;
		}
		done += nn;
		idx++;
		pgoff = 0;
	}
	/* The header checks hold for whatever object a racy fd is now. */
	if (t.racy && expect != EINVAL && expect != EOVERFLOW)
		expect = -1;
	r.expect = expect;
	r.soft = !expect;
	req_issue(c, &r, CORRUPT_PCT);
	target_put(&t);
}

/* A view: a subrange of the object, maybe with preemptive locking. */
static void op_subrange(struct ctx *c)
{
	struct guestmem_subrange *s;
	struct objdesc d;
	struct target t;
	struct req r;
	u8 rt = 0;
	int m;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, OP_SUBRANGE, &t);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	s->len = chance(c, 70) ? below(c, desc_extent(&t.d) + 1) :
				 pick_len(c, &t.d);
	s->offset = pick_gpa(c, &t.d, s->len);
	if (chance(c, 50))
		s->offset &= ~(PAGE_SZ - 1);
	if (chance(c, 15))
		s->flags = GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING;
	m = model_resolve(&t.d, s->offset, s->len, &rt, NULL);
	if (t.racy || m == M_UNKNOWN)
		r.expect = -1;
	else if (m == M_OOR || (!t.d.view && rt == RT_ABSENT))
		r.expect = ERANGE;
	else
		r.expect = 0;
	r.soft = !r.expect;
	req_issue(c, &r, CORRUPT_PCT);
	if (r.err == ERANGE && r.readback &&
	    (!(s->out_fault.flags & GUESTMEM_FAULT_HAS_GPA) ||
	     s->out_fault.gpa != s->offset))
		fail(c, "ERANGE at gpa %#llx, expected the offset %#llx",
		     (unsigned long long)s->out_fault.gpa,
		     (unsigned long long)s->offset);
	if (r.err) {
		target_put(&t);
		return;
	}
	if (!r.readback) {
		fail(c, "created a view whose fd the caller cannot learn");
		target_put(&t);
		return;
	}
	check_new_fd(c, s->out_fd);
	d = t.d;
	if (!d.view)
		d.view_off = 0;
	d.view = true;
	d.view_off += s->offset;
	d.view_len = s->len;
	d.preempt = s->flags & GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING;
	d.obj = obj_id_new();
	if (t.racy) {
		d.known = false;
		d.fam = -1;
	}
	fam_get(d.fam);
	target_put(&t);
	pool_insert(c, s->out_fd, &d, NULL, 0);
}

static void op_info(struct ctx *c)
{
	struct guestmem_info *s;
	u8 *name = c->scratch + SCRATCH_SZ - 1024;
	bool name_ok = true, regions_ok = true;
	u64 rcount, attached;
	struct target t;
	struct req r;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, OP_INFO, &t);
	s = r.s;
	attached = fam_attached(t.d.fam);
	rcount = t.d.view ? 1 : t.d.region_count;
	if (chance(c, 60)) {
		s->name_uptr = (uintptr_t)name;
		switch (below(c, 6)) {
		case 0:
			s->name_capacity = t.d.name_len;
			break;
		case 1:
			s->name_capacity = below(c, 300);
			break;
		case 2:
			s->name_uptr = chance(c, 50) ? KERNEL_PTR :
				       (uintptr_t)c->scratch_guard - below(c, 4);
			s->name_capacity = t.d.name_len + 1 + below(c, 4);
			name_ok = false;
			break;
		default:
			s->name_capacity = t.d.name_len + 1 + below(c, 8);
			break;
		}
	}
	if (chance(c, 50)) {
		s->regions_uptr = (uintptr_t)c->scratch;
		switch (below(c, 5)) {
		case 0:
			s->region_capacity = rcount ? rcount - 1 : 0;
			break;
		case 1:
			s->region_capacity = below(c, 2000);
			break;
		case 2:
			s->regions_uptr = (uintptr_t)c->scratch_guard - 24 * below(c, 3);
			s->region_capacity = rcount + below(c, 4);
			regions_ok = !rcount;
			break;
		default:
			s->region_capacity = rcount + below(c, 4);
			break;
		}
		if (rcount * sizeof(struct guestmem_region_info) > SCRATCH_SZ - 1024)
			regions_ok = false;
	}
	/*
	 * A view made through a racy fd, or an object described from INFO
	 * after exec, has no complete model: nothing to compare with.
	 */
	if (t.racy || !t.d.type || !t.d.known)
		r.expect = -1;
	else if ((s->name_uptr && s->name_capacity <= t.d.name_len) ||
		 (s->regions_uptr && s->region_capacity < rcount))
		r.expect = EMSGSIZE;
	else if (!name_ok || !regions_ok)
		r.expect = -1;
	else
		r.expect = 0;
	r.soft = !r.expect;
	req_issue(c, &r, CORRUPT_PCT);
	if ((r.err && r.err != EMSGSIZE) || !r.readback || t.racy || !t.d.type ||
	    !t.d.known)
		goto out;
	if (s->out_type != t.d.type ||
	    !!(s->out_flags & GUESTMEM_INFO_SUBRANGE) != t.d.view ||
	    s->out_name_len != t.d.name_len || s->out_region_count != rcount ||
	    (t.d.view && s->out_subrange_offset != t.d.view_off) ||
	    (t.d.type == GUESTMEM_OBJ_ALLOC && !(s->out_flags & GUESTMEM_INFO_MMAP)) ||
	    (t.d.owner_gone && !(s->out_flags & GUESTMEM_INFO_OWNER_EXITED)) ||
	    (attached && !(s->out_flags & GUESTMEM_INFO_ATTACHED)))
		fail(c, "INFO says type %u flags %#x name_len %u regions %llu view_offset %#llx",
		     s->out_type, s->out_flags, s->out_name_len,
		     (unsigned long long)s->out_region_count,
		     (unsigned long long)s->out_subrange_offset);
	if (!r.err && s->name_uptr == (uintptr_t)name && name[t.d.name_len])
		fail(c, "INFO's name is not NUL-terminated");
out:
	target_put(&t);
}

/* ------------------------------------------------------------------------ */
/* Object ioctls: locks, IOVAs, the device. */

enum { AS_NONE, AS_LIVE, AS_UNKNOWN };

/*
 * What the target's object is attached to, for a prediction that depends
 * on it: nothing, the device as it is bound now, or unknown (another
 * thread attaching it, the device being rebound, a parent's object in a
 * child).  Most of the time bind_rw is taken (*@held) to keep it so.
 */
static int attach_state(struct ctx *c, const struct target *t, bool *held)
{
	*held = false;
	if (t->racy)
		return AS_UNKNOWN;
	/* Only these are ever attached (op_attach, op_create_dma). */
	if (!t->d.dma && t->d.type != GUESTMEM_OBJ_ALLOC &&
	    t->d.type != GUESTMEM_OBJ_EMPTY)
		return AS_NONE;
	if (t->d.fam < 0 || !shared_state)
		return AS_UNKNOWN;
	if (!device_used)
		return AS_NONE;
	if (!chance(c, 80) || pthread_rwlock_tryrdlock(&bind_rw))
		return AS_UNKNOWN;
	*held = true;
	if (fam_unattached(t->d.fam))
		return AS_NONE;
	return fam_attached_live(t->d.fam) ? AS_LIVE : AS_UNKNOWN;
}

static void attach_state_put(bool held)
{
	if (held)
		pthread_rwlock_unlock(&bind_rw);
}

/* An attached allocated object: every page in range has an IOVA. */
static bool attached_alloc(const struct target *t, int as)
{
	return as == AS_LIVE && t->d.known && t->d.type == GUESTMEM_OBJ_ALLOC;
}

/*
 * Keep a lock of a dma slot within --dma-cap mappings per arena page: drop
 * the entries that would go over.  Called with dma.mu held.
 */
static u64 dma_filter_gpns(const struct objdesc *d, u64 *g, u64 n)
{
	u8 add[DMA_PAGES] = { 0 };
	u64 i, k = 0, mapped = 0;

	for (i = 0; i < n; i++) {
		int pg = dma_page(d, g[i]);

		if (pg >= 0) {
			if (dma.count[pg] + add[pg] >= opt.dma_cap ||
			    mapped == DMA_REC_MAX) {
				ATOMIC_INC(st->dma_dropped);
				continue;
			}
			add[pg]++;
			mapped++;
		}
		g[k++] = g[i];
	}
	return k;
}

/* Record a new lock of a dma slot.  Called with dma.mu held. */
static void dma_record(const struct objdesc *d, u32 id, const u64 *g, u64 n)
{
	struct dma_rec *rec = NULL;
	u64 i;
	int k;

	for (k = 0; k < NR_DMA_REC && !rec; k++)
		if (!dma.rec[k].used)
			rec = &dma.rec[k];
	if (!rec) {
		/* Cannot happen: a lock is built only with a free record. */
		out("# gmfuzz: out of DMA records\n");
		abort();
	}
	rec->used = true;
	rec->fam = d->fam;
	rec->obj = d->obj;
	rec->id = id;
	rec->n = 0;
	for (i = 0; i < n; i++) {
		int pg = dma_page(d, g[i]);

		if (pg >= 0) {
			dma.count[pg]++;
			rec->idx[rec->n++] = pg;
		}
	}
}

static bool dma_rec_free(void)
{
	int k;

	for (k = 0; k < NR_DMA_REC; k++)
		if (!dma.rec[k].used)
			return true;
	return false;
}

static void op_unlock(struct ctx *c, struct target *t);

static void op_lock(struct ctx *c)
{
	struct guestmem_lock_gpns *s;
	bool gok, dma_held = false, bheld = false;
	struct gpn_pred p;
	struct target t;
	struct req r;
	int as;
	u64 n;

	if (!target_get(c, &t, true))
		return;
	if (t.slot && slot_nlocks(t.slot) >= MAX_LOCKS) {
		op_unlock(c, &t);
		target_put(&t);
		return;
	}
	if (t.d.dma) {
		lk(&dma.mu);
		dma_held = true;
		if (!dma_rec_free())
			goto out;
	}
	req_init_t(c, &r, OP_LOCK_GPNS, &t);
	s = r.s;
	if (chance(c, 20))
		s->flags = GUESTMEM_LOCK_KERNEL_ACCESS;
	if (chance(c, 25))
		s->flags |= GUESTMEM_LOCK_READ_ONLY;
	n = build_gpns(c, &t.d, t.d.dma ? DMA_REC_MAX : 256);
	if (t.d.dma)
		n = dma_filter_gpns(&t.d, c->gpns, n);
	s->gpns_uptr = pick_gpns_ptr(c, n, &gok);
	s->gpn_count = n;
	if (chance(c, 20))
		s->iovas_uptr = chance(c, 90) ? (uintptr_t)c->scratch :
			(uintptr_t)c->scratch_guard - 8 * below(c, 4);
	predict_gpns(&t, c->gpns, n, s->flags & GUESTMEM_LOCK_READ_ONLY ?
		     USE_LOCK_RO : USE_LOCK, false, &p);
	r.expect = gok ? p.expect : -1;
	as = attach_state(c, &t, &bheld);
	/* Pinned, then -ENODEV if the device it is attached to is gone. */
	if (!r.expect && as == AS_UNKNOWN)
		r.expect = -1;
	switch (below(c, 50)) {
	case 0:
		s->gpn_count = (1ULL << 32) + below(c, 1ULL << 40);
		r.expect = EOVERFLOW;
		break;
	case 1:
		if (t.d.dma)
			break;
		s->gpn_count = MAX_LOCK_PAGES + 1 + below(c, 1000);
		r.expect = ENOSPC;
		break;
	default:
		break;
	}
	if (s->iovas_uptr && as != AS_NONE && !r.expect)
		r.expect = -1;
	if (t.racy)
		r.expect = -1;
	r.soft = true;
	req_issue(c, &r, CORRUPT_PCT);
	attach_state_put(bheld);
	if (s->gpn_count == n && gok && r.expect == p.expect)
		check_gpn_pred(c, &r, &s->out_fault, c->gpns, &p);
	if (r.err)
		goto out;
	if (t.d.dma) {
		dma_record(&t.d, r.readback ? s->out_lock_id : 0, c->gpns, n);
		ATOMIC_INC(st->dma_locks);
	}
	if (!r.readback) {
		fail(c, "locked, but the caller cannot learn the lock id");
		goto out;
	}
	if (!s->out_lock_id)
		fail(c, "lock id 0");
	if (s->out_flags & ~GUESTMEM_LOCK_OUT_IOVAS ||
	    ((s->out_flags & GUESTMEM_LOCK_OUT_IOVAS) &&
	     (!s->iovas_uptr || as == AS_NONE)))
		fail(c, "out_flags %#x (iovas_uptr %#llx)", s->out_flags,
		     (unsigned long long)s->iovas_uptr);
	if (t.slot)
		slot_add_lock(t.slot, s->out_lock_id);
out:
	if (dma_held)
		ulk(&dma.mu);
	target_put(&t);
}

/* Unlock a lock of the target (known, random, 0 or stale). */
static void op_unlock(struct ctx *c, struct target *t)
{
	struct guestmem_unlock_gpns *s;
	bool known = false;
	struct req r;
	u32 id;

	if (t->d.dma)
		lk(&dma.mu);
	req_init_t(c, &r, OP_UNLOCK_GPNS, t);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	if (t->slot && chance(c, 80) && slot_take_lock(c, t->slot, &id)) {
		known = true;
	} else {
		switch (below(c, 4)) {
		case 0:
			id = 0;
			break;
		case 1:
			id = rnd(c);
			break;
		default:
			id = 1 + below(c, 64);
			break;
		}
	}
	s->lock_id = id;
	/* Another slot of the object, or a child, may have unlocked it. */
	r.expect = id || t->racy ? -1 : ENOENT;
	req_issue(c, &r, CORRUPT_PCT);
	if (r.err && r.err != ENOENT && known && t->slot)
		slot_add_lock(t->slot, id);
	if (!r.err && t->d.dma) {
		int k;

		for (k = 0; k < NR_DMA_REC; k++)
			if (dma.rec[k].used && dma.rec[k].obj == t->d.obj &&
			    dma.rec[k].id == id) {
				dma_rec_release(&dma.rec[k]);
				break;
			}
	}
	if (t->d.dma)
		ulk(&dma.mu);
}

static void op_unlock_any(struct ctx *c)
{
	struct target t;

	if (!target_get(c, &t, true))
		return;
	op_unlock(c, &t);
	target_put(&t);
}

/* A page's IOVA keeps the in-page offset of a view's start. */
static void check_iova_offset(struct ctx *c, const struct target *t, u64 iova)
{
	u64 off = t->d.view ? t->d.view_off & (PAGE_SZ - 1) : 0;

	if (t->d.known && (iova & (PAGE_SZ - 1)) != off)
		fail(c, "IOVA %#llx, expected in-page offset %#llx",
		     (unsigned long long)iova, (unsigned long long)off);
}

static void op_iova(struct ctx *c)
{
	struct guestmem_iova *s;
	u64 *iovas = (u64 *)c->scratch, n, i;
	bool gok, iok = true, unattached, bheld;
	struct gpn_pred p;
	struct target t;
	struct req r;
	int as;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, OP_IOVA, &t);
	s = r.s;
	n = build_gpns(c, &t.d, 512);
	s->gpns_uptr = pick_gpns_ptr(c, n, &gok);
	s->gpn_count = n;
	s->iovas_uptr = (uintptr_t)iovas;
	if (chance(c, 5)) {
		s->iovas_uptr = chance(c, 50) ? KERNEL_PTR :
			(uintptr_t)c->scratch_guard - 8 * below(c, 4);
		iok = false;
	}
	as = attach_state(c, &t, &bheld);
	unattached = as == AS_NONE;
	predict_gpns(&t, c->gpns, n, USE_IOVA, attached_alloc(&t, as), &p);
	if (unattached && n) {
		/* No device: the first page has no IOVA. */
		p.model = true;
		p.expect = ENOENT;
		p.index = 0;
		p.oor = -1;
	} else if (as == AS_UNKNOWN) {
		/* A device gone answers ENODEV before any page. */
		p.model = false;
		p.expect = -1;
	}
	/* A bad iovas_uptr fails the copy of the entries before a failure. */
	r.expect = gok && !t.racy && (iok || (p.expect == ENOENT && !p.index)) ?
		   p.expect : -1;
	if (chance(c, 3)) {
		s->gpn_count = (1ULL << 32) + below(c, 1000);
		r.expect = t.racy ? -1 : EOVERFLOW;
	}
	r.soft = !r.expect;
	req_issue(c, &r, CORRUPT_PCT);
	attach_state_put(bheld);
	if (r.readback && r.err == ENOENT &&
	    s->out_fault.flags != GUESTMEM_FAULT_HAS_INDEX)
		fail(c, "ENOENT with fault flags %#x", s->out_fault.flags);
	if (gok && s->gpn_count == n && r.expect == p.expect)
		check_gpn_pred(c, &r, &s->out_fault, c->gpns, &p);
	if (!r.err && r.readback && iok)
		for (i = 0; i < n; i++)
			check_iova_offset(c, &t, iovas[i]);
	target_put(&t);
}

static void op_iova_runs(struct ctx *c)
{
	struct guestmem_iova_run *runs = (void *)c->scratch;
	struct guestmem_iova_runs *s;
	u64 pages, i, sum;
	struct target t;
	struct req r;
	bool rok = true, bheld;
	s64 oor = -1;
	int as;

	if (!target_get(c, &t, true))
		return;
	req_init_t(c, &r, OP_IOVA_RUNS, &t);
	s = r.s;
	req_resv(&r, &s->__reserved, 8);
	pages = (desc_extent(&t.d) + PAGE_SZ - 1) / PAGE_SZ;
	switch (below(c, 20)) {
	case 0:
		s->gpn_count = 0;
		s->gpn = rnd(c);
		break;
	case 1:
		s->gpn = UINT64_MAX - below(c, 16);
		s->gpn_count = 1 + below(c, 64);
		break;
	case 2:
		s->gpn = MAX_GPN - below(c, 4);
		s->gpn_count = 1 + below(c, 8);
		break;
	default:
		s->gpn = below(c, pages + 2);
		s->gpn_count = 1 + below(c, chance(c, 80) ? 64 : 4096);
		break;
	}
	s->max_runs = chance(c, 5) ? 0 : chance(c, 50) ? 1 + below(c, 4) :
		      1 + below(c, SCRATCH_SZ / sizeof(*runs));
	s->runs_uptr = (uintptr_t)runs;
	if (chance(c, 5)) {
		s->runs_uptr = chance(c, 50) ? KERNEL_PTR :
			(uintptr_t)c->scratch_guard - sizeof(*runs) * below(c, 3);
		rok = false;
	}
	as = attach_state(c, &t, &bheld);
	if (attached_alloc(&t, as))
		for (i = 0; i < s->gpn_count && oor < 0; i++) {
			u8 rt;
			u64 g = s->gpn + i;

			if (g < s->gpn || g > MAX_GPN ||
			    model_resolve(&t.d, g << 12, 1, &rt, NULL) != M_OK)
				oor = i;
		}
	if (t.racy)
		r.expect = -1;
	else if (s->gpn + s->gpn_count < s->gpn)
		r.expect = EOVERFLOW;
	else if (!s->gpn_count)
		r.expect = 0;
	else if (!s->max_runs)
		r.expect = EINVAL;
	else if (as == AS_NONE)
		r.expect = ENOENT;
	else if (attached_alloc(&t, as) && oor < 0 && rok)
		r.expect = 0;
	else
		r.expect = -1;
	r.soft = !r.expect;
	req_issue(c, &r, CORRUPT_PCT);
	attach_state_put(bheld);
	if (!r.readback || (r.err && r.err != ENOENT))
		goto out;
	if (s->out_nr_runs > s->max_runs || s->out_gpn_count > s->gpn_count ||
	    (!r.err && s->out_gpn_count < s->gpn_count &&
	     s->out_nr_runs != s->max_runs) ||
	    (r.err == ENOENT && (s->out_fault.flags != GUESTMEM_FAULT_HAS_INDEX ||
				 s->out_fault.index != s->out_gpn_count ||
				 s->out_fault.gpn != s->gpn + s->out_gpn_count)) ||
	    (r.err == ENOENT && oor >= 0 && s->out_gpn_count != (u64)oor) ||
	    (!r.err && oor >= 0 && s->out_gpn_count > (u64)oor))
		fail(c, "%u runs for %llu of %llu pages (max %u, fault index %u)",
		     s->out_nr_runs, (unsigned long long)s->out_gpn_count,
		     (unsigned long long)s->gpn_count, s->max_runs,
		     s->out_fault.index);
	if (!rok || t.racy)
		goto out;
	for (i = 0, sum = 0; i < s->out_nr_runs; i++) {
		if (runs[i].gpn != s->gpn + sum || !runs[i].npages ||
		    (i && runs[i - 1].iova + runs[i - 1].npages * PAGE_SZ ==
			  runs[i].iova)) {
			fail(c, "run %llu: gpn %#llx npages %llu iova %#llx",
			     (unsigned long long)i,
			     (unsigned long long)runs[i].gpn,
			     (unsigned long long)runs[i].npages,
			     (unsigned long long)runs[i].iova);
			break;
		}
		check_iova_offset(c, &t, runs[i].iova);
		sum += runs[i].npages;
	}
	if (i == s->out_nr_runs && sum != s->out_gpn_count)
		fail(c, "runs cover %llu pages, out_gpn_count %llu",
		     (unsigned long long)sum,
		     (unsigned long long)s->out_gpn_count);
out:
	target_put(&t);
}

/*
 * Attach: the real device only to objects whose locks it cannot multiply
 * (allocated memory, the empty object; user objects only in op_create_dma),
 * else addresses where no device is, or values out of range.
 */
static void op_attach(struct ctx *c)
{
	struct guestmem_attach_device *s;
	bool real = false, first = false;
	struct target t;
	struct req r;

	if (!target_get(c, &t, true))
		return;
	/*
	 * A real attach changes what the others predict: it holds bind_rw
	 * for writing (or is not done now).
	 */
	if (!unprivileged && have_device && !c->no_attach && !t.racy &&
	    t.d.fam >= 0 && chance(c, 30) &&
	    (t.d.dma || t.d.type == GUESTMEM_OBJ_ALLOC ||
	     t.d.type == GUESTMEM_OBJ_EMPTY) &&
	    !pthread_rwlock_trywrlock(&bind_rw)) {
		first = fam_attach_begin(t.d.fam);
		real = first || fam_attached(t.d.fam);
		if (!real)
			pthread_rwlock_unlock(&bind_rw);
	}
	req_init_t(c, &r, OP_ATTACH_DEVICE, &t);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	if (unprivileged) {
		/* Whatever the address: CAP_SYS_RAWIO first. */
		s->pci_devfn = chance(c, 50) ? EDU_DEVFN : below(c, 512);
		s->pci_bus = chance(c, 90) ? 0 : below(c, 512);
		r.expect = EPERM;
	} else if (real) {
		/*
		 * One real attach at a time per object, so that its outcome
		 * is known; a lock (maybe a child's) makes the first EBUSY.
		 */
		s->pci_devfn = EDU_DEVFN;
		r.expect = first ? -1 : EBUSY;
	} else {
		switch (below(c, 6)) {
		case 5:
			/* The host bridge: a device, not bound to guestmem. */
			r.expect = EBUSY;
			break;
		case 0:
			s->pci_domain = 0x80000000U + below(c, 1U << 31);
			r.expect = EINVAL;
			break;
		case 1:
			s->pci_bus = 256 + below(c, 1000);
			r.expect = EINVAL;
			break;
		case 2:
			s->pci_devfn = 256 + below(c, 1000);
			r.expect = EINVAL;
			break;
		case 3:
			s->pci_domain = 1 + below(c, 100);
			s->pci_devfn = EDU_DEVFN;
			r.expect = ENODEV;
			break;
		default:
			s->pci_bus = 100 + below(c, 150);
			s->pci_devfn = below(c, 256);
			r.expect = ENODEV;
			break;
		}
	}
	if (t.racy && r.expect != EPERM)
		r.expect = -1;
	req_issue(c, &r, CORRUPT_PCT);
	if (real && first)
		fam_attach_done(t.d.fam, !r.err);
	if (real)
		pthread_rwlock_unlock(&bind_rw);
	if (real && !r.err)
		ATOMIC_INC(st->attached);
	if (real && first && r.err && r.err != EBUSY && r.err != ENOMEM &&
	    r.err != EOPNOTSUPP && r.err != EINVAL && r.err != EFAULT &&
	    r.err != E2BIG)
		fail(c, "the first attach to the device failed with %s",
		     errname(r.err));
	target_put(&t);
}

/* Every command number: an ioctl of one kind of fd, ENOTTY on the others. */
static const unsigned long dev_nrs[] = {
	GUESTMEM_CREATE_USER, GUESTMEM_CREATE_MULTI, GUESTMEM_CREATE_ALLOC,
	GUESTMEM_CREATE_EMPTY, GUESTMEM_OPEN_PCI, GUESTMEM_CREATE_FILE,
};
static const unsigned long obj_nrs[] = {
	GUESTMEM_READ, GUESTMEM_WRITE, GUESTMEM_FILL, GUESTMEM_READ_PLAIN,
	GUESTMEM_WRITE_PLAIN, GUESTMEM_COMPARE_EXCHANGE, GUESTMEM_PROBE_GPNS,
	GUESTMEM_RANGE_READ, GUESTMEM_RANGE_WRITE, GUESTMEM_RANGE_FILL,
	GUESTMEM_SUBRANGE, GUESTMEM_INFO, GUESTMEM_LOCK_GPNS,
	GUESTMEM_UNLOCK_GPNS, GUESTMEM_ATTACH_DEVICE, GUESTMEM_IOVA,
	GUESTMEM_IOVA_RUNS,
};
static const unsigned long pci_nrs[] = {
	GUESTMEM_PCI_INFO, GUESTMEM_PCI_SET_IRQS, GUESTMEM_PCI_SET_DMA_MASK,
};

static bool nr_used(unsigned long n)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dev_nrs); i++)
		if (_IOC_NR(dev_nrs[i]) == n)
			return true;
	for (i = 0; i < ARRAY_SIZE(obj_nrs); i++)
		if (_IOC_NR(obj_nrs[i]) == n)
			return true;
	for (i = 0; i < ARRAY_SIZE(pci_nrs); i++)
		if (_IOC_NR(pci_nrs[i]) == n)
			return true;
	return false;
}

#define PICK(c, a) ((a)[below(c, ARRAY_SIZE(a))])

static struct {
	pthread_rwlock_t rw;
	int fd;			/* the PCI fd of edu, or -1 */
	int gen;		/* the binding it belongs to (dev_gen) */
} pci = { .rw = PTHREAD_RWLOCK_INITIALIZER, .fd = -1 };

/* Numbers that are no ioctl of this fd: ENOTTY before the struct is read. */
static void op_bad_nr(struct ctx *c)
{
	bool pci_held = false;
	unsigned long nr, n;
	struct target t;
	struct req r;

	if (!target_get(c, &t, true)) {
		t.fd = dev_fd;
		t.racy = false;
		t.slot = NULL;
	}
	switch (below(c, 7)) {
	case 0:
		/* An object or PCI ioctl on /dev/guestmem. */
		nr = chance(c, 70) ? PICK(c, obj_nrs) : PICK(c, pci_nrs);
		target_put(&t);
		t.fd = dev_fd;
		t.racy = false;
		break;
	case 1:
		/* A device or PCI ioctl on an object. */
		nr = chance(c, 60) ? PICK(c, dev_nrs) : PICK(c, pci_nrs);
		if (t.fd == dev_fd)
			nr = PICK(c, obj_nrs);
		break;
	case 2:
		/*
		 * A device or object ioctl on the PCI fd; without one, a
		 * device ioctl on an object or an object ioctl on the device.
		 */
		nr = t.fd == dev_fd ? PICK(c, obj_nrs) : PICK(c, dev_nrs);
		if (c->child || rw_tryrd(&pci.rw))
			break;
		if (pci.fd < 0) {
			rw_un(&pci.rw);
			break;
		}
		nr = chance(c, 50) ? PICK(c, dev_nrs) : PICK(c, obj_nrs);
		pci_held = true;
		target_put(&t);
		t.fd = pci.fd;
		t.racy = false;
		break;
	case 3 ... 4:
		/* A number nobody uses. */
		do
			n = below(c, 256);
		while (nr_used(n));
		nr = _IO(GUESTMEM_TYPE, n);
		break;
	case 5:
		/* Another type. */
		nr = _IO(chance(c, 50) ? 0xBB : 0xB9, _IOC_NR(PICK(c, obj_nrs)));
		break;
	default:
		/* Direction and size bits. */
		n = chance(c, 50) ? PICK(c, obj_nrs) : PICK(c, dev_nrs);
		nr = _IOC(1 + below(c, 3), GUESTMEM_TYPE, _IOC_NR(n),
			  1 + below(c, 255));
		break;
	}
	if (t.fd < 0) {
		target_put(&t);
		return;
	}
	req_init_t(c, &r, OP_BAD_NR, &t);
	r.expect = ENOTTY;
	req_issue_nr(c, &r, nr, 10);
	target_put(&t);
	if (pci_held)
		rw_un(&pci.rw);
}

/* ------------------------------------------------------------------------ */
/* The PCI fd and the binding. */

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* The driver edu is bound to, "" for none; -1 without edu. */
static int edu_driver(char *drv, size_t len)
{
	char link[PATH_MAX];
	const char *name;
	ssize_t n;

	if (access(EDU_SYSFS, F_OK))
		return -1;
	n = readlink(EDU_SYSFS "/driver", link, sizeof(link) - 1);
	if (n < 0)
		n = 0;
	link[n] = 0;
	name = strrchr(link, '/');
	name = name ? name + 1 : link;
	if (strlen(name) >= len)
		return -1;
	memcpy(drv, name, strlen(name) + 1);
	return 0;
}

/*
 * Bind edu to @want, as gmem bind does: the override, off its driver, the
 * probe; "" gives it back to whichever driver matches (or none).
 */
static bool edu_bind(const char *want)
{
	char now[64];

	if (edu_driver(now, sizeof(now)))
		return false;
	if (!strcmp(now, want))
		return true;
	if (sysfs_write(EDU_SYSFS "/driver_override", want[0] ? want : "\n"))
		return false;
	if (now[0] && sysfs_write(EDU_SYSFS "/driver/unbind", EDU_BDF))
		return false;
	sysfs_write("/sys/bus/pci/drivers_probe", EDU_BDF);
	return !edu_driver(now, sizeof(now)) && (!want[0] || !strcmp(now, want));
}

/*
 * The device goes away under the objects attached to it (their mappings
 * are revoked, locks and IOVA queries then fail with ENODEV) and comes
 * back as a new binding, while the other threads go on.
 */
static void ev_rebind(struct ctx *c)
{
	char now[64] = "";
	bool ok;

	if (!have_device || unprivileged || c->child)
		return;
	ATOMIC_INC(st->events[EV_REBIND]);
	rw_wr(&bind_rw);
	lk(&fam_mu);
	rebinding = true;
	ulk(&fam_mu);
	ok = !sysfs_write(EDU_SYSFS "/driver/unbind", EDU_BDF);
	sysfs_write("/sys/bus/pci/drivers_probe", EDU_BDF);
	ok = ok && !edu_driver(now, sizeof(now)) && !strcmp(now, "guestmem");
	lk(&fam_mu);
	dev_gen++;
	rebinding = false;
	ulk(&fam_mu);
	rw_un(&bind_rw);
	if (!ok) {
		fail(c, "rebinding %s to guestmem: now bound to '%s'", EDU_BDF, now);
		have_device = false;
	}
}

/* A PCI fd of edu, or of a device that is not there or not guestmem's. */
static void op_open_pci(struct ctx *c)
{
	struct guestmem_open_pci *s;
	bool real, bheld = false;
	struct req r;

	if (dev_fd < 0 || c->child)
		return;
	req_init(c, &r, OP_OPEN_PCI, dev_fd, false);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	req_resv(&r, &s->__reserved2, 4);
	real = have_device && chance(c, 70);
	rw_rd(&pci.rw);
	if (unprivileged) {
		s->pci_devfn = EDU_DEVFN;
		r.expect = EPERM;
	} else if (real) {
		s->pci_devfn = EDU_DEVFN;
		bheld = !pthread_rwlock_tryrdlock(&bind_rw);
		/* One PCI fd a binding; children may hold one too. */
		r.expect = bheld && pci.fd >= 0 && pci.gen == dev_gen ? EBUSY : -1;
	} else {
		switch (below(c, 5)) {
		case 0:
			s->pci_domain = 0x80000000U + below(c, 1U << 31);
			break;
		case 1:
			s->pci_bus = 256 + below(c, 1000);
			break;
		case 2:
			s->pci_domain = 1 + below(c, 100);
			s->pci_devfn = EDU_DEVFN;
			break;
		case 3:
			s->pci_bus = 100 + below(c, 150);
			s->pci_devfn = below(c, 256);
			break;
		default:
			/* The host bridge is there, not bound to guestmem. */
			break;
		}
		r.expect = s->pci_devfn || s->pci_bus || s->pci_domain ?
			   ENODEV : EBUSY;
	}
	r.soft = !r.expect;
	req_issue(c, &r, CORRUPT_PCT);
	if (r.err || !r.readback) {
		if (!r.err)
			fail(c, "opened a PCI fd the caller cannot learn");
		attach_state_put(bheld);
		rw_un(&pci.rw);
		return;
	}
	check_new_fd(c, s->out_fd);
	rw_un(&pci.rw);
	rw_wr(&pci.rw);
	if (pci.fd < 0) {
		pci.fd = s->out_fd;
		pci.gen = bheld ? dev_gen : -1;
	} else {
		close(s->out_fd);
	}
	rw_un(&pci.rw);
	attach_state_put(bheld);
}

/* The PCI fd, read-locked; false when there is none. */
static bool pci_get(struct ctx *c)
{
	if (c->child || rw_tryrd(&pci.rw))
		return false;
	if (pci.fd >= 0)
		return true;
	rw_un(&pci.rw);
	return false;
}

static void op_pci_info(struct ctx *c)
{
	struct guestmem_pci_info *s;
	struct req r;

	if (!pci_get(c))
		return;
	req_init(c, &r, OP_PCI_INFO, pci.fd, false);
	s = r.s;
	r.expect = 0;
	r.soft = true;
	if (!req_issue(c, &r, CORRUPT_PCT) && r.readback &&
	    ((s->out_flags & ~(GUESTMEM_PCI_GONE | GUESTMEM_PCI_IOVA_PHYS |
			       GUESTMEM_PCI_HAS_INTX)) ||
	     s->out_irq_type > GUESTMEM_IRQ_MSIX ||
	     s->out_irq_count > GUESTMEM_PCI_MAX_IRQS ||
	     (s->out_irq_type == GUESTMEM_IRQ_NONE) != !s->out_irq_count ||
	     s->out_dma_mask_bits < 24 || s->out_dma_mask_bits > 64))
		fail(c, "PCI_INFO: flags %#x, %u vectors of type %u, mask %u bits",
		     s->out_flags, s->out_irq_count, s->out_irq_type,
		     s->out_dma_mask_bits);
	rw_un(&pci.rw);
}

/*
 * Interrupts to eventfds: what edu has (MSI, INTx), what it has not
 * (MSI-X, several MSI vectors), invalid types and counts, bad eventfds.
 */
static void op_pci_set_irqs(struct ctx *c)
{
	struct guestmem_pci_set_irqs *s;
	s32 *fds = (s32 *)c->scratch;
	u32 i, n;
	struct req r;

	if (!pci_get(c))
		return;
	req_init(c, &r, OP_PCI_SET_IRQS, pci.fd, false);
	s = r.s;
	r.expect = -1;
	switch (below(c, 12)) {
	case 0:
		s->irq_type = GUESTMEM_IRQ_NONE;
		break;
	case 1 ... 3:
		s->irq_type = GUESTMEM_IRQ_MSI;
		s->count = 1;
		break;
	case 4 ... 5:
		s->irq_type = GUESTMEM_IRQ_INTX;
		s->count = 1;
		break;
	case 6:
		s->irq_type = GUESTMEM_IRQ_MSI;
		s->count = 2 + below(c, 31);
		break;
	case 7:
		s->irq_type = GUESTMEM_IRQ_MSIX;
		s->count = 1 + below(c, 8);
		break;
	case 8:
		/* Invalid pairs: checked before anything else. */
		switch (below(c, 5)) {
		case 0:
			s->irq_type = GUESTMEM_IRQ_NONE;
			s->count = 1 + below(c, 4);
			break;
		case 1:
			s->irq_type = GUESTMEM_IRQ_INTX;
			s->count = chance(c, 50) ? 0 : 2 + below(c, 4);
			break;
		case 2:
			s->irq_type = chance(c, 50) ? GUESTMEM_IRQ_MSI :
						     GUESTMEM_IRQ_MSIX;
			break;
		case 3:
			s->irq_type = GUESTMEM_IRQ_MSI;
			s->count = GUESTMEM_PCI_MAX_IRQS + 1 + below(c, 1000);
			break;
		default:
			s->irq_type = 4 + below(c, 1000);
			s->count = below(c, 3);
			break;
		}
		r.expect = EINVAL;
		break;
	case 9:
		/* Unmask INTx: the other fields must be 0. */
		s->flags = GUESTMEM_PCI_UNMASK_INTX;
		if (chance(c, 30)) {
			s->count = 1;
			r.expect = EINVAL;
		}
		break;
	default:
		s->irq_type = GUESTMEM_IRQ_MSI;
		s->count = 1;
		break;
	}
	n = s->count <= 64 ? s->count : 64;
	for (i = 0; i < n; i++)
		fds[i] = evfds[below(c, ARRAY_SIZE(evfds))];
	if (n && chance(c, 15)) {
		/* Not an eventfd, or no fd at all. */
		switch (below(c, 3)) {
		case 0:
			fds[below(c, n)] = dev_fd;
			break;
		case 1:
			fds[below(c, n)] = -1;
			break;
		default:
			fds[below(c, n)] = 100000;
			break;
		}
	}
	s->eventfds_uptr = s->count ? (uintptr_t)fds : 0;
	if (s->count > 64 && r.expect < 0)
		s->eventfds_uptr = (uintptr_t)c->scratch_guard - 8;
	if (s->count && r.expect < 0 && chance(c, 5)) {
		s->eventfds_uptr = chance(c, 50) ? 0 : KERNEL_PTR;
		r.expect = EFAULT;
	}
	req_issue(c, &r, CORRUPT_PCT);
	rw_un(&pci.rw);
}

static void op_pci_set_dma_mask(struct ctx *c)
{
	struct guestmem_pci_set_dma_mask *s;
	struct req r;

	if (!pci_get(c))
		return;
	req_init(c, &r, OP_PCI_SET_DMA_MASK, pci.fd, false);
	s = r.s;
	req_resv(&r, &s->__reserved, 4);
	r.expect = -1;
	switch (below(c, 20)) {
	case 0 ... 5:
		s->bits = 64;
		break;
	case 6 ... 14:
		s->bits = 32 + below(c, 32);
		break;
	case 15 ... 16:
		s->bits = 24 + below(c, 8);
		break;
	default:
		s->bits = chance(c, 50) ? below(c, 24) : 65 + below(c, 1000);
		r.expect = EINVAL;
		break;
	}
	req_issue(c, &r, CORRUPT_PCT);
	rw_un(&pci.rw);
}

/* Close the PCI fd: its interrupts are freed. */
static void ev_pci_close(struct ctx *c)
{
	if (c->child || rw_trywr(&pci.rw))
		return;
	if (pci.fd >= 0) {
		ATOMIC_INC(st->events[EV_PCI_CLOSE]);
		close(pci.fd);
		pci.fd = -1;
	}
	rw_un(&pci.rw);
}

/* ------------------------------------------------------------------------ */
/* Events: closing, dup, racy fds, mappings, memory churn. */

static void ev_close(struct ctx *c)
{
	struct slot *s = &c->pool->s[below(c, c->pool->n)];

	if (rw_trywr(&s->rw))
		return;
	if (s->fd >= 0)
		slot_close_locked(s);
	rw_un(&s->rw);
}

static void ev_dup(struct ctx *c)
{
	struct target t;
	u32 locks[MAX_LOCKS];
	int fd, n;

	if (!target_get(c, &t, false))
		return;
	ATOMIC_INC(st->events[EV_DUP]);
	fd = fcntl(t.fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		ATOMIC_INC(st->event_errors[EV_DUP]);
		target_put(&t);
		return;
	}
	lk(&t.slot->mu);
	n = t.slot->nlocks;
	memcpy(locks, t.slot->locks, sizeof(locks));
	ulk(&t.slot->mu);
	fam_get(t.d.fam);
	target_put(&t);
	pool_insert(c, fd, &t.d, locks, n);
}

/*
 * Racy fds: an object fd dup3()ed onto a fixed number that threads use
 * without any lock while others dup3() over it or close it, so the fd a
 * call was issued on may be gone (EBADF) or another object by then.  Never
 * a dma object: its locks must be counted.
 */
static void ev_racy_dup(struct ctx *c)
{
	int k = below(c, NRACY);
	struct target t;

	if (!target_get(c, &t, false))
		return;
	if (!t.d.dma) {
		ATOMIC_INC(st->events[EV_RACY_DUP]);
		lk(&racy.mu);
		if (dup3(t.fd, RACY_BASE + k, O_CLOEXEC) < 0)
			ATOMIC_INC(st->event_errors[EV_RACY_DUP]);
		else
			racy.d[k] = t.d;
		ulk(&racy.mu);
	}
	target_put(&t);
}

static void ev_racy_close(struct ctx *c)
{
	ATOMIC_INC(st->events[EV_RACY_CLOSE]);
	close(RACY_BASE + below(c, NRACY));
}

static struct maps *maps_new(void)
{
	struct maps *m = calloc(1, sizeof(*m));

	if (m)
		pthread_rwlock_init(&m->rw, NULL);
	return m;
}

/* mmap() of an object: shared, inside its window, allocated memory only. */
static void ev_mmap(struct ctx *c)
{
	u64 window = 0, pgoff, npages;
	int flags = MAP_SHARED, expect = 0, i;
	struct mapping *slot = NULL;
	struct target t;
	void *p;

	if (!target_get(c, &t, true))
		return;
	ATOMIC_INC(st->events[EV_MMAP]);
	/* Allocated memory and (memfd) file objects map their window. */
	if (t.d.type == GUESTMEM_OBJ_ALLOC || t.d.type == GUESTMEM_OBJ_FILE) {
		u64 start = t.d.view ? t.d.view_off : 0;

		window = ((start & (PAGE_SZ - 1)) + desc_extent(&t.d) +
			  PAGE_SZ - 1) / PAGE_SZ;
	}
	pgoff = below(c, window + 1);
	npages = window > pgoff ? 1 + below(c, window - pgoff) : 1;
	if (chance(c, 10))
		npages += 1 + below(c, 4);
	if (chance(c, 5))
		flags = MAP_PRIVATE;
	if (t.d.type != GUESTMEM_OBJ_ALLOC && t.d.type != GUESTMEM_OBJ_FILE)
		expect = ENODEV;
	else if (flags == MAP_PRIVATE || pgoff + npages > window)
		expect = EINVAL;
	rw_wr(&c->maps->rw);
	for (i = 0; i < MAX_MAPS && !slot; i++)
		if (!c->maps->m[i].addr)
			slot = &c->maps->m[i];
	if (!slot) {
		slot = &c->maps->m[below(c, MAX_MAPS)];
		munmap(slot->addr, slot->len);
		slot->addr = NULL;
	}
	p = mmap(NULL, npages * PAGE_SZ, PROT_READ | PROT_WRITE, flags, t.fd,
		 pgoff * PAGE_SZ);
	if (p == MAP_FAILED) {
		int e = errno;

		ATOMIC_INC(st->event_errors[EV_MMAP]);
		if (!t.racy && t.d.known &&
		    (t.d.type ? e != expect : e != ENODEV && e != EINVAL))
			fail(c, "mmap of %llu pages at page %llu (window %llu): %s, expected %s",
			     (unsigned long long)npages, (unsigned long long)pgoff,
			     (unsigned long long)window, errname(e),
			     errname(expect));
	} else {
		if (!t.racy && t.d.known && expect)
			fail(c, "mmap of %llu pages at page %llu (window %llu) worked, expected %s",
			     (unsigned long long)npages, (unsigned long long)pgoff,
			     (unsigned long long)window, errname(expect));
		/* The kernel checked the window: every page may be touched. */
		slot->addr = p;
		slot->len = npages * PAGE_SZ;
		slot->prot = PROT_READ | PROT_WRITE;
	}
	rw_un(&c->maps->rw);
	target_put(&t);
}

static void ev_munmap(struct ctx *c, bool protect)
{
	struct mapping *m = &c->maps->m[below(c, MAX_MAPS)];
	static const int prots[] = { PROT_NONE, PROT_READ,
				     PROT_READ | PROT_WRITE };

	rw_wr(&c->maps->rw);
	if (m->addr) {
		ATOMIC_INC(st->events[protect ? EV_MPROTECT : EV_MUNMAP]);
		if (protect) {
			int prot = prots[below(c, 3)];

			if (mprotect(m->addr, m->len, prot))
				fail(c, "mprotect of a mapping: %s", errname(errno));
			m->prot = prot;
		} else if (m->len > PAGE_SZ && chance(c, 30)) {
			/* Split the VMA: unmap its first page. */
			munmap(m->addr, PAGE_SZ);
			m->addr += PAGE_SZ;
			m->len -= PAGE_SZ;
		} else {
			munmap(m->addr, m->len);
			m->addr = NULL;
		}
	}
	rw_un(&c->maps->rw);
}

static void ev_touch(struct ctx *c)
{
	struct mapping *m = &c->maps->m[below(c, MAX_MAPS)];

	rw_rd(&c->maps->rw);
	if (m->addr && (m->prot & PROT_READ)) {
		volatile u8 *p = m->addr + below(c, m->len);

		ATOMIC_INC(st->events[EV_TOUCH]);
		if ((m->prot & PROT_WRITE) && chance(c, 50))
			*p = rnd(c);
		else
			(void)*p;
	}
	rw_un(&c->maps->rw);
}

/* mprotect, zap or replace pages of the churned zone under the objects. */
static void ev_churn(struct ctx *c)
{
	u64 first = ZONE_CHURN + below(c, ZONE_RO - ZONE_CHURN), n;
	static const int prots[] = { PROT_NONE, PROT_READ,
				     PROT_READ | PROT_WRITE };
	u8 *p;
	int rc;

	n = 1 + below(c, ZONE_RO - first < 16 ? ZONE_RO - first : 16);
	p = arena + first * PAGE_SZ;
	ATOMIC_INC(st->events[EV_CHURN]);
	/* Not while a hole is open (ev_hole): the range must be mapped. */
	rw_rd(&c->maps->rw);
	switch (below(c, 4)) {
	case 0:
		rc = madvise(p, n * PAGE_SZ, MADV_DONTNEED);
		break;
	case 1:
		rc = mmap(p, n * PAGE_SZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		     MAP_FAILED;
		break;
	default:
		rc = mprotect(p, n * PAGE_SZ, prots[below(c, 3)]);
		break;
	}
	if (rc)
		fail(c, "churning the arena: %s", errname(errno));
	rw_un(&c->maps->rw);
}

/*
 * munmap() pages of the churned zone for a moment: accesses through the
 * objects find nothing there.  Every mmap() of this process happens under
 * maps->rw, so nothing else can land in the hole before it is filled.
 */
static void ev_hole(struct ctx *c)
{
	u64 first = ZONE_CHURN + below(c, ZONE_RO - ZONE_CHURN - 8), n;
	u8 *p = arena + first * PAGE_SZ;
	struct timespec ts = { 0, 50000 };

	n = 1 + below(c, 8);
	rw_wr(&c->maps->rw);
	ATOMIC_INC(st->events[EV_HOLE]);
	munmap(p, n * PAGE_SZ);
	nanosleep(&ts, NULL);
	if (mmap(p, n * PAGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != p) {
		out("# gmfuzz: the hole in the arena was taken\n");
		abort();
	}
	rw_un(&c->maps->rw);
}

/* ------------------------------------------------------------------------ */
/* Plain object makers, for children and for fds passed to them. */

static int make_user(struct ctx *c, u64 base, u64 len, struct objdesc *d)
{
	struct guestmem_create_user *s;
	struct req r;

	req_init(c, &r, OP_CREATE_USER, dev_fd, false);
	s = r.s;
	s->base_uptr = base;
	s->len = len;
	r.expect = 0;
	r.soft = true;
	if (dev_fd < 0 || req_issue(c, &r, 0))
		return -1;
	desc_single(d, GUESTMEM_OBJ_USER, RT_USER, len, base);
	return s->out_fd;
}

static int make_alloc(struct ctx *c, u64 len, struct objdesc *d)
{
	struct guestmem_create_alloc *s;
	struct req r;

	req_init(c, &r, OP_CREATE_ALLOC, dev_fd, false);
	s = r.s;
	s->len = len;
	r.expect = 0;
	r.soft = true;
	if (dev_fd < 0 || req_issue(c, &r, 0))
		return -1;
	desc_single(d, GUESTMEM_OBJ_ALLOC, RT_ALLOC, s->out_alloc_size, 0);
	d->name_len = 4;
	return s->out_fd;
}

static int make_view(struct ctx *c, int fd, const struct objdesc *d, u64 off,
		     u64 len, bool preempt, struct objdesc *nd)
{
	struct guestmem_subrange *s;
	struct req r;

	req_init(c, &r, OP_SUBRANGE, fd, false);
	s = r.s;
	s->offset = off;
	s->len = len;
	s->flags = preempt ? GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING : 0;
	r.expect = 0;
	r.soft = true;
	if (req_issue(c, &r, 0))
		return -1;
	*nd = *d;
	nd->view = true;
	nd->view_off = off;
	nd->view_len = len;
	nd->preempt = preempt;
	nd->obj = obj_id_new();
	return s->out_fd;
}

/* Lock @n pages from @gpn; returns the lock id, 0 on failure. */
static u32 make_lock(struct ctx *c, int fd, u64 gpn, u64 n)
{
	struct guestmem_lock_gpns *s;
	struct req r;
	u64 i;

	req_init(c, &r, OP_LOCK_GPNS, fd, false);
	s = r.s;
	for (i = 0; i < n; i++)
		c->gpns[i] = gpn + (chance(c, 80) ? i : below(c, n));
	s->gpns_uptr = (uintptr_t)c->gpns;
	s->gpn_count = n;
	r.soft = true;
	return req_issue(c, &r, 0) ? 0 : s->out_lock_id;
}

/* ------------------------------------------------------------------------ */
/* Children. */

static void children_start(void)
{
	lk(&fam_mu);
	children_alive++;
	ulk(&fam_mu);
}

static void children_done(void)
{
	bool none;

	lk(&fam_mu);
	none = !--children_alive;
	ulk(&fam_mu);
	if (none)
		dma_sweep();
}

static void child_status(struct ctx *c, int ev, int status)
{
	ATOMIC_INC(st->children);
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return;
	ATOMIC_INC(st->bad_children);
	if (WIFSIGNALED(status))
		fail(c, "a %s child was killed by signal %d", event_names[ev],
		     WTERMSIG(status));
	else
		fail(c, "a %s child exited %d", event_names[ev],
		     WEXITSTATUS(status));
}

static void reap(struct ctx *c, bool block)
{
	int i = 0, status;

	while (i < c->nkids) {
		pid_t p = waitpid(c->kids[i].pid, &status, block ? 0 : WNOHANG);

		if (p < 0 && errno == EINTR)
			continue;
		if (!p) {
			i++;
			continue;
		}
		if (p < 0)
			fail(c, "waitpid: %s", errname(errno));
		else
			child_status(c, c->kids[i].ev, status);
		children_done();
		c->kids[i] = c->kids[--c->nkids];
	}
}

/* fork() with the arena whole (no hole) and the child counted. */
static pid_t fork_child(struct ctx *c)
{
	pid_t pid;

	if (c->nkids == MAX_CHILDREN)
		reap(c, true);
	rw_rd(&c->maps->rw);
	children_start();
	pid = fork();
	if (pid) {
		rw_un(&c->maps->rw);
		if (pid < 0) {
			children_done();
			fail(c, "fork: %s", errname(errno));
		}
	}
	return pid;
}

static void kid_add(struct ctx *c, pid_t pid, int ev)
{
	ATOMIC_INC(st->events[ev]);
	c->kids[c->nkids].pid = pid;
	c->kids[c->nkids++].ev = ev;
}

static void one_op(struct ctx *c);

/*
 * In a child: opt.child_ops operations on a private pool holding @n
 * objects, without locks (the parent's may have been held at fork()).
 */
static void __attribute__((noreturn))
child_run(struct ctx *c, const char *who, const int *fds,
	  const struct objdesc *ds, int n, u64 seed)
{
	int i;

	shared_state = false;
	c->who = who;
	c->child = true;
	c->no_attach = true;
	c->nkids = 0;
	rng_init(&c->rng, seed, 0);
	c->pool = pool_new(8);
	c->maps = maps_new();
	if (!c->pool || !c->maps)
		_exit(2);
	for (i = 0; i < n; i++) {
		c->pool->s[i].fd = fds[i];
		c->pool->s[i].d = ds[i];
		/* Attach states may change in the parent: unknown here. */
		c->pool->s[i].d.fam = -1;
	}
	for (c->opno = 0; c->opno < (u64)opt.child_ops; c->opno++) {
		one_op(c);
		ATOMIC_INC(st->child_ops);
	}
	_exit(0);
}

/* A child forked with up to three objects of the pool; it exits alone. */
static void ev_fork(struct ctx *c)
{
	struct target t[3];
	struct objdesc ds[3];
	u64 seed = rnd(c);
	int fds[3], n = 0, i;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		int k;

		if (!target_get(c, &t[n], false))
			continue;
		/* Not a dma object, and each object fd once. */
		for (k = 0; k < n && t[k].slot != t[n].slot; k++)
			;
		if (t[n].d.dma || k < n) {
			target_put(&t[n]);
			continue;
		}
		fds[n] = t[n].fd;
		ds[n] = t[n].d;
		n++;
	}
	pid = fork_child(c);
	if (!pid)
		child_run(c, "fork", fds, ds, n, seed);
	for (i = 0; i < n; i++)
		target_put(&t[i]);
	if (pid > 0)
		kid_add(c, pid, EV_FORK);
}

/* A child that execs this program with one object fd kept across exec. */
static void ev_exec(struct ctx *c)
{
	char fd_s[16], st_s[16], seed_s[24], ops_s[16];
	char *argv[] = { "gmfuzz", "--exec-child", fd_s, st_s, seed_s, ops_s,
			 unprivileged ? "1" : "0", NULL };
	struct target t;
	pid_t pid;

	if (!target_get(c, &t, false))
		return;
	if (t.d.dma) {
		target_put(&t);
		return;
	}
	snprintf(fd_s, sizeof(fd_s), "%d", t.fd);
	snprintf(st_s, sizeof(st_s), "%d", stats_fd);
	snprintf(seed_s, sizeof(seed_s), "%llu", rnd(c));
	snprintf(ops_s, sizeof(ops_s), "%d", opt.child_ops);
	pid = fork_child(c);
	if (!pid) {
		if (fcntl(t.fd, F_SETFD, 0) || fcntl(stats_fd, F_SETFD, 0))
			_exit(2);
		execv(self_exe, argv);
		/* No exec here (a noexec mount, say): nothing to test. */
		_exit(errno == EACCES || errno == ENOENT ? 0 : 2);
	}
	target_put(&t);
	if (pid > 0)
		kid_add(c, pid, EV_EXEC);
}

#define MAX_PASS 4

struct pass_msg {
	int n;
	struct objdesc d[MAX_PASS];
	u32 locks[MAX_PASS][MAX_LOCKS];
	int nlocks[MAX_PASS];
	int base[MAX_PASS];	/* the message entry of the view's base */
};

static int send_fds(int sock, const int *fds, int n, const void *data,
		    size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_PASS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	if (!n) {
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	} else {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Returns the number of fds received (O_CLOEXEC), -1 on EOF or error. */
static int recv_fds(int sock, int *fds, void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_PASS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { data, len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	ssize_t got;
	int n = 0;

	do
		got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
		}
	return got == (ssize_t)len ? n : -1;
}

/*
 * An fd over a unix socket to a child that uses it and exits: an object
 * made after the fork (the child holds the only other reference once it
 * is closed here) or one of the pool; sometimes the child exits without
 * receiving it, and the fd dies in flight.
 */
static void ev_pass(struct ctx *c)
{
	bool fresh = chance(c, 50), take = chance(c, 85);
	struct pass_msg *msg = (void *)(c->scratch + SCRATCH_SZ / 2);
	u64 seed = rnd(c);
	struct target t;
	int sv[2], fd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		fail(c, "socketpair: %s", errname(errno));
		return;
	}
	pid = fork_child(c);
	if (!pid) {
		close(sv[0]);
		if (!take)
			_exit(0);
		if (recv_fds(sv[1], &fd, msg, sizeof(*msg)) != 1)
			_exit(0);
		close(sv[1]);
		child_run(c, "pass-fd", &fd, msg->d, 1, seed);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	kid_add(c, pid, EV_PASS_FD);
	memset(msg, 0, sizeof(*msg));
	msg->n = 1;
	if (fresh) {
		fd = chance(c, 50) ? make_alloc(c, (1 + below(c, 8)) * PAGE_SZ,
						&msg->d[0]) :
			make_user(c, (uintptr_t)arena + below(c, ZONE_CHURN - 8) * PAGE_SZ,
				  (1 + below(c, 8)) * PAGE_SZ, &msg->d[0]);
		if (fd >= 0) {
			send_fds(sv[0], &fd, 1, msg, sizeof(*msg));
			close(fd);
		}
	} else if (target_get(c, &t, false)) {
		if (!t.d.dma) {
			msg->d[0] = t.d;
			send_fds(sv[0], &t.fd, 1, msg, sizeof(*msg));
		}
		target_put(&t);
	}
	close(sv[0]);
}

/*
 * The owner's exit: a child makes objects of its own memory (a user
 * object, a view of it, perhaps with preemptive locking, an allocated
 * one), locks pages of them, sends them here and exits.  The pool keeps
 * them: accesses must fail with ESRCH, unlock and close must work, and
 * the pins must go when the last fd does.
 */
static void __attribute__((noreturn))
owner_child(struct ctx *c, int sock, u64 seed)
{
	struct pass_msg *msg = (void *)(c->scratch + SCRATCH_SZ / 2);
	u64 npages = 1 + below(c, 32), i;
	int fds[MAX_PASS], n = 0, k;
	u8 *mem;

	shared_state = false;
	c->who = "owner";
	c->child = true;
	rng_init(&c->rng, seed, 0);
	memset(msg, 0, sizeof(*msg));
	mem = mmap(NULL, npages * PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		_exit(2);
	memset(mem, 0x11, npages * PAGE_SZ);
	fds[n] = make_user(c, (uintptr_t)mem, npages * PAGE_SZ, &msg->d[n]);
	if (fds[n] >= 0) {
		msg->base[n] = n;
		n++;
	}
	if (n && chance(c, 60)) {
		u64 off = below(c, npages) * PAGE_SZ;

		if (chance(c, 20))
			off += below(c, PAGE_SZ);
		fds[n] = make_view(c, fds[0], &msg->d[0], off,
				   npages * PAGE_SZ - off, chance(c, 50),
				   &msg->d[n]);
		if (fds[n] >= 0) {
			msg->base[n] = 0;
			n++;
		}
	}
	if (chance(c, 40)) {
		fds[n] = make_alloc(c, (1 + below(c, 8)) * PAGE_SZ, &msg->d[n]);
		if (fds[n] >= 0) {
			msg->base[n] = n;
			n++;
		}
	}
	for (k = 0; k < n; k++) {
		u64 pages = (desc_extent(&msg->d[k]) + PAGE_SZ - 1) / PAGE_SZ;

		for (i = 0; i < 3 && pages && chance(c, 70); i++) {
			u64 g = below(c, pages);
			u32 id = make_lock(c, fds[k], g, 1 + below(c, pages - g));

			if (id)
				msg->locks[k][msg->nlocks[k]++] = id;
		}
	}
	msg->n = n;
	if (send_fds(sock, fds, n, msg, sizeof(*msg)))
		_exit(2);
	_exit(0);
}

static void ev_owner_exit(struct ctx *c)
{
	struct pass_msg *msg = (void *)(c->scratch + SCRATCH_SZ / 2);
	int sv[2], fds[MAX_PASS], fam[MAX_PASS], n, i, status;
	u64 seed = rnd(c);
	pid_t pid, p;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		fail(c, "socketpair: %s", errname(errno));
		return;
	}
	pid = fork_child(c);
	if (!pid) {
		close(sv[0]);
		owner_child(c, sv[1], seed);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	ATOMIC_INC(st->events[EV_OWNER_EXIT]);
	n = recv_fds(sv[0], fds, msg, sizeof(*msg));
	close(sv[0]);
	do
		p = waitpid(pid, &status, 0);
	while (p < 0 && errno == EINTR);
	if (p == pid)
		child_status(c, EV_OWNER_EXIT, status);
	children_done();
	if (n < 0)
		return;
	/* The owner is gone: its objects are ours now. */
	for (i = 0; i < n; i++) {
		struct objdesc *d = &msg->d[i];

		d->owner_gone = d->type == GUESTMEM_OBJ_USER ||
				d->type == GUESTMEM_OBJ_MULTI;
		d->obj = obj_id_new();
		if (msg->base[i] == i) {
			d->fam = fam_new(false);
			fam[i] = d->fam;
		} else {
			d->fam = fam[msg->base[i]];
			fam_get(d->fam);
		}
		if (d->fam < 0 && msg->base[i] == i) {
			close(fds[i]);
			continue;
		}
		pool_insert(c, fds[i], d, msg->locks[i], msg->nlocks[i]);
	}
}

static void proc_op(struct ctx *c)
{
	switch (below(c, have_device ? 5 : 4)) {
	case 4:
		ev_rebind(c);
		break;
	case 0:
		ev_fork(c);
		break;
	case 1:
		ev_exec(c);
		break;
	case 2:
		ev_pass(c);
		break;
	default:
		ev_owner_exit(c);
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* The operation mix. */

static void op_read(struct ctx *c) { op_rw(c, OP_READ); }
static void op_write(struct ctx *c) { op_rw(c, OP_WRITE); }
static void op_read_plain(struct ctx *c) { op_rw(c, OP_READ_PLAIN); }
static void op_write_plain(struct ctx *c) { op_rw(c, OP_WRITE_PLAIN); }
static void op_range_read(struct ctx *c) { op_range(c, OP_RANGE_READ); }
static void op_range_write(struct ctx *c) { op_range(c, OP_RANGE_WRITE); }
static void op_range_fill(struct ctx *c) { op_range(c, OP_RANGE_FILL); }
static void ev_munmap_any(struct ctx *c) { ev_munmap(c, false); }
static void ev_mprotect(struct ctx *c) { ev_munmap(c, true); }

#define OPT(fn, w, child_ok) { fn, #fn, w, child_ok }

static const struct {
	void (*fn)(struct ctx *c);
	const char *name;
	u16 weight;
	bool child_ok;
} optab[] = {
	OPT(op_read, 50, true),
	OPT(op_write, 50, true),
	OPT(op_fill, 25, true),
	OPT(op_read_plain, 25, true),
	OPT(op_write_plain, 25, true),
	OPT(op_cmpxchg, 25, true),
	OPT(op_probe, 20, true),
	OPT(op_range_read, 20, true),
	OPT(op_range_write, 20, true),
	OPT(op_range_fill, 15, true),
	OPT(op_subrange, 12, true),
	OPT(op_info, 35, true),
	OPT(op_lock, 30, true),
	OPT(op_unlock_any, 25, true),
	OPT(op_iova, 20, true),
	OPT(op_iova_runs, 20, true),
	OPT(op_attach, 8, true),
	OPT(op_bad_nr, 8, true),
	OPT(op_open_pci, 3, false),
	OPT(op_pci_info, 3, false),
	OPT(op_pci_set_irqs, 4, false),
	OPT(op_pci_set_dma_mask, 2, false),
	OPT(ev_pci_close, 2, false),
	OPT(op_create, 20, true),
	OPT(ev_close, 20, true),
	OPT(ev_dup, 5, true),
	OPT(ev_racy_dup, 6, false),
	OPT(ev_racy_close, 6, false),
	OPT(ev_mmap, 4, true),
	OPT(ev_munmap_any, 3, true),
	OPT(ev_mprotect, 2, true),
	OPT(ev_touch, 10, true),
	OPT(ev_churn, 4, true),
	OPT(ev_hole, 1, false),
};

static void one_op(struct ctx *c)
{
	unsigned int i, pick, total = 0;
	u64 t0;

	for (i = 0; i < ARRAY_SIZE(optab); i++)
		total += optab[i].weight;
	for (;;) {
		pick = below(c, total);
		for (i = 0; pick >= optab[i].weight; i++)
			pick -= optab[i].weight;
		if (!c->child || optab[i].child_ok)
			break;
	}
	c->cur_op = -1;
	t0 = now_ns();
	optab[i].fn(c);
	__atomic_fetch_add(&st->slot_ns[i], now_ns() - t0, __ATOMIC_RELAXED);
}

static long long pins_held(void);

/* Thread 0 tells how far it is, and how many pages are pinned. */
static void progress(struct ctx *c)
{
	long long pins = unprivileged ? -1 : pins_held();

	if (pins == LLONG_MIN)
		pins = -1;

	out("# %s: %llu%% at %.1f s, %lld pins held, %llu process ops\n",
	    c->who, c->opno * 100 / c->nops, (now_ns() - c->t_start) / 1e9,
	    pins, (unsigned long long)(st->events[EV_FORK] + st->events[EV_EXEC] +
				       st->events[EV_PASS_FD] +
				       st->events[EV_OWNER_EXIT]));
}

static void *thread_main(void *arg)
{
	struct ctx *c = arg;
	u64 phase = (c->id * 131) % (opt.proc_every ? opt.proc_every : 1);

	for (c->opno = 0; c->opno < c->nops; c->opno++) {
		if (!c->id && c->nops >= 10 && !(c->opno % (c->nops / 10)))
			progress(c);
		if (c->nkids)
			reap(c, false);
		if (opt.proc_every && c->opno % opt.proc_every == phase) {
			u64 t0 = now_ns();

			proc_op(c);
			__atomic_fetch_add(&st->proc_ns, now_ns() - t0,
					   __ATOMIC_RELAXED);
		} else {
			one_op(c);
		}
	}
	reap(c, true);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Phases, checks, main. */

/*
 * @ops operations over @nthreads threads sharing a new pool, then close
 * everything.  Thread i draws from stream @stream + i of the seed.
 */
static int run_phase(const char *name, u64 ops, int nthreads, u64 stream)
{
	struct pool *pool = pool_new(NSLOTS);
	struct maps *maps = maps_new();
	struct ctx *ctxs = calloc(nthreads, sizeof(*ctxs));
	pthread_t *tids = calloc(nthreads, sizeof(*tids));
	int i;

	if (!pool || !maps || !ctxs || !tids) {
		out("# %s: out of memory\n", name);
		return -1;
	}
	for (i = 0; i < nthreads; i++) {
		struct ctx *c = &ctxs[i];

		snprintf(c->name, sizeof(c->name), "%s%d", name, i);
		c->who = c->name;
		c->id = i;
		rng_init(&c->rng, opt.seed, stream + i);
		c->nops = ops / nthreads + ((u64)i < ops % nthreads);
		c->t_start = now_ns();
		c->pool = pool;
		c->maps = maps;
		c->cur_op = -1;
		if (ctx_bufs(c)) {
			out("# %s: cannot map the buffers\n", name);
			return -1;
		}
	}
	shared_state = true;
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, thread_main, &ctxs[i])) {
			out("# %s: pthread_create failed\n", name);
			nthreads = i;
			break;
		}
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	/* Everything goes: the pool, the racy fds, the mappings. */
	for (i = 0; i < pool->n; i++)
		if (pool->s[i].fd >= 0)
			slot_close_locked(&pool->s[i]);
	for (i = 0; i < NRACY; i++)
		close(RACY_BASE + i);
	if (pci.fd >= 0)
		close(pci.fd);
	pci.fd = -1;
	for (i = 0; i < MAX_MAPS; i++)
		if (maps->m[i].addr)
			munmap(maps->m[i].addr, maps->m[i].len);
	dma_sweep();
	return 0;
}

/*
 * FOLL_PIN references held now (nr_foll_pin_acquired - released of
 * /proc/vmstat), after one vm.stat_refresh and from one read of both: two
 * reads would let concurrent pins in between.  LLONG_MIN when unreadable.
 */
static long long pins_held(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	long long val, acq = -1, rel = -1;
	char key[64];
	FILE *f;

	if (fd < 0 || write(fd, "1", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return LLONG_MIN;
	}
	close(fd);
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return LLONG_MIN;
	while (fscanf(f, "%63s %lld", key, &val) == 2) {
		if (!strcmp(key, "nr_foll_pin_acquired"))
			acq = val;
		else if (!strcmp(key, "nr_foll_pin_released"))
			rel = val;
	}
	fclose(f);
	return acq < 0 || rel < 0 ? LLONG_MIN : acq - rel;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "[guestmem]") != NULL;
	fclose(f);
	return n;
}

static long vmpin_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The unprivileged phase: a child that drops to nobody, reaching
 * /dev/guestmem through a group of its own (the node's group and mode are
 * set for it, and restored after).  Returns 0 (pass), 4 (skip), else fail.
 */
static int unpriv_phase(void)
{
	gid_t gid = FUZZ_GID;
	bool chowned = false;
	struct stat sb;
	int status;
	pid_t pid;

	if (stat("/dev/guestmem", &sb) == 0 &&
	    !chown("/dev/guestmem", -1, FUZZ_GID) &&
	    !chmod("/dev/guestmem", (sb.st_mode & 07777) | 0060))
		chowned = true;
	pid = fork();
	if (!pid) {
		if (setgroups(1, &gid) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY)) {
			out("# nobody: cannot drop privileges: %s\n", errname(errno));
			_exit(3);
		}
		unprivileged = true;
		have_device = false;
		close(dev_fd);
		dev_fd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
		if (dev_fd < 0) {
			out("# nobody: cannot open /dev/guestmem: %s\n", errname(errno));
			_exit(errno == EACCES ? 4 : 3);
		}
		if (run_phase("nobody", opt.unpriv_ops, 2, 1000))
			_exit(3);
		_exit(0);
	}
	if (pid < 0)
		status = 3 << 8;
	else
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (chowned) {
		chown("/dev/guestmem", -1, sb.st_gid);
		chmod("/dev/guestmem", sb.st_mode & 07777);
	}
	if (WIFSIGNALED(status)) {
		out("# nobody: killed by signal %d\n", WTERMSIG(status));
		return 3;
	}
	return WEXITSTATUS(status);
}

/*
 * Leave edu as it was found: its 64-bit DMA mask back, and its driver if
 * it had another (the binding's state otherwise outlives the fuzzer).
 */
static void device_restore(const char *orig, bool rebound)
{
	struct guestmem_open_pci o = { .size = sizeof(o), .pci_devfn = EDU_DEVFN };
	struct guestmem_pci_set_dma_mask m = { .size = sizeof(m), .bits = 64 };

	if (have_device && !ioctl(dev_fd, GUESTMEM_OPEN_PCI, &o)) {
		if (ioctl(o.out_fd, GUESTMEM_PCI_SET_DMA_MASK, &m))
			out("# cannot set edu's DMA mask back to 64 bits: %s\n",
			    errname(errno));
		close(o.out_fd);
	}
	if (rebound && (sysfs_write(EDU_SYSFS "/driver_override", "\n") ||
			sysfs_write(EDU_SYSFS "/driver/unbind", EDU_BDF) ||
			sysfs_write("/sys/bus/pci/drivers_probe", EDU_BDF)))
		out("# cannot give edu back to '%s'\n", orig);
}

static void print_counts(void)
{
	u64 calls, total = 0;
	char line[1024];
	int op, e, n;

	out("# %-18s %9s %9s  %s\n", "ioctl", "calls", "ok", "errors");
	for (op = 0; op < NR_IOCTL_OPS; op++) {
		calls = 0;
		for (e = 0; e < NR_ERRNO; e++)
			calls += st->res[op][e];
		total += calls;
		n = 0;
		line[0] = 0;
		for (e = 1; e < NR_ERRNO; e++)
			if (st->res[op][e])
				n += snprintf(line + n, sizeof(line) - n, " %s:%llu",
					      errname(e),
					      (unsigned long long)st->res[op][e]);
		out("# %-18s %9llu %9llu %7.1f s %s\n", opinfo[op].name,
		    (unsigned long long)calls,
		    (unsigned long long)st->res[op][0], st->ns[op] / 1e9, line);
	}
	out("# %-18s %9llu\n", "all ioctls", (unsigned long long)total);
	n = 0;
	for (e = 0; e < NR_EVENTS; e++)
		n += snprintf(line + n, sizeof(line) - n, " %s:%llu",
			      event_names[e], (unsigned long long)st->events[e]);
	out("# events:%s\n", line);
	n = 0;
	for (e = 1; e < NR_CORRUPT; e++)
		n += snprintf(line + n, sizeof(line) - n, " %s:%llu",
			      corrupt_names[e], (unsigned long long)st->corrupt[e]);
	out("# corruptions:%s\n", line);
	n = 0;
	for (e = 0; e < (int)ARRAY_SIZE(optab); e++)
		n += snprintf(line + n, sizeof(line) - n, " %s:%.1f",
			      optab[e].name, st->slot_ns[e] / 1e9);
	out("# seconds per op kind:%s proc_op:%.1f\n", line, st->proc_ns / 1e9);
	out("# device: %llu attaches, %llu user objects in the DMA arena, "
	    "%llu locks of them DMA-mapped, %llu gpn entries left out "
	    "(at most %d mappings a page)\n",
	    (unsigned long long)st->attached, (unsigned long long)st->dma_objects,
	    (unsigned long long)st->dma_locks, (unsigned long long)st->dma_dropped,
	    opt.dma_cap);
	out("# children: %llu (%llu ops in them)\n",
	    (unsigned long long)st->children, (unsigned long long)st->child_ops);
}

static int exec_child_main(int argc, char **argv);

static void usage(void)
{
	out("usage: gmfuzz [--seed N] [--ops N] [--threads N] [--unpriv-ops N]\n"
	    "              [--no-unpriv] [--attach on|off|auto] [--proc-every N]\n"
	    "              [--child-ops N] [--dma-cap N] [--trace]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *a = argv[i], *v = strchr(a, '=');
		char *val;

		if (v)
			*v++ = 0;
		val = v;
#define NEED_VAL() do { if (!val && i + 1 < argc) val = argv[++i]; if (!val) usage(); } while (0)
		if (!strcmp(a, "--seed")) {
			NEED_VAL();
			opt.seed = strtoull(val, NULL, 0);
		} else if (!strcmp(a, "--ops")) {
			NEED_VAL();
			opt.ops = strtoull(val, NULL, 0);
		} else if (!strcmp(a, "--threads")) {
			NEED_VAL();
			opt.threads = atoi(val);
		} else if (!strcmp(a, "--unpriv-ops")) {
			NEED_VAL();
			opt.unpriv_ops = strtoull(val, NULL, 0);
		} else if (!strcmp(a, "--no-unpriv")) {
			opt.unpriv = false;
		} else if (!strcmp(a, "--attach")) {
			NEED_VAL();
			opt.attach = !strcmp(val, "on") ? 1 :
				     !strcmp(val, "off") ? 0 : -1;
		} else if (!strcmp(a, "--proc-every")) {
			NEED_VAL();
			opt.proc_every = atoi(val);
		} else if (!strcmp(a, "--child-ops")) {
			NEED_VAL();
			opt.child_ops = atoi(val);
		} else if (!strcmp(a, "--dma-cap")) {
			NEED_VAL();
			opt.dma_cap = atoi(val);
		} else if (!strcmp(a, "--trace")) {
			opt.trace = true;
		} else {
			usage();
		}
#undef NEED_VAL
	}
	if (opt.threads < 1 || opt.threads > 64 || opt.dma_cap < 1 ||
	    opt.dma_cap > 255)
		usage();
	if (opt.unpriv_ops == ~0ULL)
		opt.unpriv_ops = opt.ops / 20;
}

static double t_begin;

static int tap(int n, int result, const char *name, const char *why)
{
	out("# %.1f s\n", now() - t_begin);
	if (result == 4)
		out("ok %d %s # SKIP %s\n", n, name, why);
	else
		out("%sok %d %s%s%s\n", result ? "not " : "", n, name,
		    why && *why ? " # " : "", why && *why ? why : "");
	return result == 4 ? 0 : !!result;
}

int main(int argc, char **argv)
{
	long long pins0, pins = LLONG_MIN;
	u64 fails0, bad0, fails_main, bad_main;
	bool edu_rebound = false;
	char edu_orig[64] = "";
	int fds0, rc = 0, unpriv = 4, i;
	double t0, t1, t2;
	char why[160];
	long pin_kb;

	if (argc > 1 && !strcmp(argv[1], "--exec-child"))
		return exec_child_main(argc, argv);
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	contract_init();
	stats_fd = memfd_create("gmfuzz-stats", MFD_CLOEXEC);
	if (stats_fd < 0 || ftruncate(stats_fd, sizeof(*st)))
		return 2;
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED,
		  stats_fd, 0);
	if (st == MAP_FAILED)
		return 2;
	i = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[i > 0 ? i : 0] = 0;

	out("TAP version 13\n");
	dev_fd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
	if (dev_fd < 0) {
		out("1..0 # SKIP /dev/guestmem: %s (module not loaded?)\n",
		    errname(errno));
		return 4;
	}
	unprivileged = geteuid() != 0;
	file_fd = memfd_create("gmfuzz", MFD_CLOEXEC);
	if (file_fd >= 0 && ftruncate(file_fd, FILE_PAGES * PAGE_SZ)) {
		close(file_fd);
		file_fd = -1;
	}
	if (file_fd >= 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", file_fd);
		file_ro_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (file_ro_fd < 0) {
			close(file_fd);
			file_fd = -1;
		}
	}
	have_device = opt.attach && !unprivileged &&
		      !edu_driver(edu_orig, sizeof(edu_orig));
	/* Attaching needs edu bound to guestmem's PCI driver. */
	if (have_device && strcmp(edu_orig, "guestmem")) {
		have_device = edu_bind("guestmem");
		edu_rebound = have_device;
	}
	if (opt.attach == 1 && !have_device)
		out("# --attach on, but no edu device at %s bound to guestmem (or not root)\n",
		    EDU_SYSFS);
	device_used = have_device;
	for (i = 0; i < (int)ARRAY_SIZE(evfds); i++)
		evfds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (arena_init()) {
		out("1..0 # SKIP cannot map the arenas\n");
		return 4;
	}
	out("1..5\n");
	out("# gmfuzz: seed %#llx, %llu ops on %d threads, then %llu as nobody; "
	    "device: %s\n", (unsigned long long)opt.seed,
	    (unsigned long long)opt.ops, opt.threads,
	    (unsigned long long)(opt.unpriv ? opt.unpriv_ops : 0),
	    have_device ? "attach to edu 0000:00:03.0" : "none");
	pins0 = pins_held();
	fds0 = count_fds();

	t0 = now();
	t_begin = t0;
	if (run_phase("t", opt.ops, opt.threads, 0))
		return 2;
	t1 = now();
	fails_main = ATOMIC_LOAD(st->failures);
	bad_main = ATOMIC_LOAD(st->bad_children);
	out("# main phase: %.1f s, %.0f ops/s\n", t1 - t0,
	    (t1 - t0) > 0 ? opt.ops / (t1 - t0) : 0);
	snprintf(why, sizeof(why), "%llu failures",
		 (unsigned long long)(fails_main - bad_main));
	rc |= tap(1, fails_main - bad_main ? 1 : 0, "errno_contract",
		  fails_main - bad_main ? why : "");
	snprintf(why, sizeof(why), "%llu of %llu children crashed or failed",
		 (unsigned long long)bad_main,
		 (unsigned long long)ATOMIC_LOAD(st->children));
	rc |= tap(2, bad_main ? 1 : 0, "children_exit_cleanly",
		  bad_main ? why : "");

	fails0 = ATOMIC_LOAD(st->failures);
	bad0 = ATOMIC_LOAD(st->bad_children);
	if (!opt.unpriv || !opt.unpriv_ops) {
		rc |= tap(3, 4, "unprivileged", "disabled");
	} else if (unprivileged) {
		rc |= tap(3, 4, "unprivileged", "already unprivileged: the main phase was it");
	} else {
		unpriv = unpriv_phase();
		t2 = now();
		out("# unprivileged phase: %.1f s\n", t2 - t1);
		snprintf(why, sizeof(why), "exit %d, %llu failures", unpriv,
			 (unsigned long long)(ATOMIC_LOAD(st->failures) - fails0));
		if (unpriv == 4)
			rc |= tap(3, 4, "unprivileged", "nobody cannot open /dev/guestmem");
		else
			rc |= tap(3, unpriv || ATOMIC_LOAD(st->failures) != fails0 ||
				  ATOMIC_LOAD(st->bad_children) != bad0,
				  "unprivileged", unpriv || ATOMIC_LOAD(st->failures) != fails0 ?
				  why : "");
	}

	if (device_used)
		device_restore(edu_orig, edu_rebound);

	/* Everything is closed and every child reaped: pins drain. */
	if (pins0 == LLONG_MIN) {
		rc |= tap(4, 4, "pins_back_to_baseline",
			  "no nr_foll_pin_* or vm.stat_refresh (root)");
	} else {
		for (i = 0; i < 50; i++) {
			struct timespec ts = { 0, 100000000 };

			pins = pins_held();
			if (pins == pins0)
				break;
			nanosleep(&ts, NULL);
		}
		snprintf(why, sizeof(why), "%lld pins held before, %lld after",
			 pins0, pins);
		out("# pins held (nr_foll_pin_acquired - released): %lld before, %lld after\n",
		    pins0, pins);
		rc |= tap(4, pins != pins0, "pins_back_to_baseline",
			  pins != pins0 ? why : "");
	}
	i = count_fds();
	pin_kb = vmpin_kb();
	snprintf(why, sizeof(why), "fds %d -> %d, guestmem mappings %d, VmPin %ld kB",
		 fds0, i, count_maps(), pin_kb);
	rc |= tap(5, i != fds0 || count_maps() || pin_kb > 0, "no_leaks",
		  i != fds0 || count_maps() || pin_kb > 0 ? why : "");
	print_counts();
	out("# seed %#llx: %llu failures\n", (unsigned long long)opt.seed,
	    (unsigned long long)ATOMIC_LOAD(st->failures));
	return rc ? 1 : 0;
}

/* Describe an object from GUESTMEM_INFO (no address-space model). */
static void desc_from_info(int fd, struct objdesc *d)
{
	struct guestmem_info info = { .size = sizeof(info) };

	memset(d, 0, sizeof(*d));
	d->fam = -1;
	d->obj = obj_id_new();
	if (ioctl(fd, GUESTMEM_INFO, &info))
		return;
	d->type = info.out_type;
	d->view = info.out_flags & GUESTMEM_INFO_SUBRANGE;
	d->view_off = info.out_subrange_offset;
	d->view_len = info.out_full_mapping_len;
	d->name_len = info.out_name_len;
	d->region_bits = info.out_region_bits;
	d->region_count = info.out_region_count;
	d->owner_gone = info.out_flags & GUESTMEM_INFO_OWNER_EXITED;
}

/* gmfuzz --exec-child FD STATS_FD SEED OPS UNPRIV: after exec, in a child. */
static int exec_child_main(int argc, char **argv)
{
	struct ctx c = { .who = "exec", .child = true, .no_attach = true };
	int fd;

	if (argc != 7)
		return 2;
	fd = atoi(argv[2]);
	stats_fd = atoi(argv[3]);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED,
		  stats_fd, 0);
	if (st == MAP_FAILED)
		return 2;
	rng_init(&c.rng, strtoull(argv[4], NULL, 0), 0);
	opt.child_ops = atoi(argv[5]);
	unprivileged = atoi(argv[6]);
	signal(SIGPIPE, SIG_IGN);
	contract_init();
	shared_state = false;
	if (arena_init() || ctx_bufs(&c))
		return 2;
	c.pool = pool_new(8);
	c.maps = maps_new();
	if (!c.pool || !c.maps)
		return 2;
	dev_fd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
	/* The object fd came across exec: make it close-on-exec again. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	c.pool->s[0].fd = fd;
	desc_from_info(fd, &c.pool->s[0].d);
	for (c.opno = 0; c.opno < (u64)opt.child_ops; c.opno++) {
		one_op(&c);
		ATOMIC_INC(st->child_ops);
	}
	return 0;
}
