// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Direct access: the data path without the kernel, where this process can
 * reach the guest memory itself.
 *
 * When.  An access goes direct when all of these hold, else it is the
 * ioctl it always was:
 *
 *  - the architecture has the fault-tolerant routines (x86-64, aarch64);
 *  - direct access is on: GUESTMEM_DIRECT=0 in the environment (read at
 *    first use) or gm_set_direct(false) turns it off, for applications that
 *    own SIGSEGV and SIGBUS;
 *  - the calling thread does not block SIGSEGV or SIGBUS (checked at its
 *    first direct access: a fault in a thread that blocks them would kill
 *    the process; a thread that blocks them then stays on the kernel path);
 *  - the addressed bytes lie in one region that this process maps: the
 *    library's mmap() of allocated memory (in any process that holds a
 *    handle), or a user-backed region in the process that owns it - the
 *    process GUESTMEM_INFO reported the region's address to, and not a
 *    fork child of it, whose copy of those addresses is not the owner's
 *    memory (see the fork canary below);
 *  - for user-backed regions, the mappings under the region were, when the
 *    handle was first used, of kinds where the CPU and the kernel's GUP
 *    agree (see gm_direct_vma_verdict()).
 *
 * How.  direct.h: every instruction that touches guest memory is listed in
 * the gm_ft_fixup section; the handler installed here (once, the first
 * time a thread would go direct) recognises a fault by the faulting
 * instruction's address alone and resumes at the fixup the entry names.
 * The caller then redoes the whole access through the kernel, so a fault
 * costs a signal and one ioctl, and the error is exactly the kernel path's.
 * Every other fault (or a SIGSEGV/SIGBUS sent by a process) goes to the
 * disposition that was installed before ours: that handler, called as the
 * kernel would have called it (SA_SIGINFO or not, its sa_mask, SA_NODEFER,
 * SA_RESETHAND), or the default action.  Ours is installed with SA_ONSTACK
 * so a fault on a thread's alternate signal stack (a stack overflow) still
 * reaches the application's handler there.
 *
 * The fork canary.  A page mapped with MADV_WIPEONFORK holds the process's
 * epoch, a number no ancestor had; the kernel zeroes the page in every
 * child, whatever made it (fork(), clone() without CLONE_VM; a vfork()
 * child shares the memory, and so rightly the epoch), so comparing the
 * epoch recorded with a handle's region addresses against the canary is
 * one load, where getpid() is a system call.  Allocated memory's windows
 * compare against gm_alloc_canary (0) instead.  Both carry
 * GM_EPOCH_OFF while direct access is switched off, so the data path's
 * window check is also the switch.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "direct.h"

_Atomic int gm_direct_mode;

__thread uint8_t gm_direct_thread_ok __attribute__((tls_model("initial-exec")));
/* The thread was checked, and blocks SIGSEGV or SIGBUS (or there is no handler). */
static __thread uint8_t gm_direct_thread_refused __attribute__((tls_model("initial-exec")));

static pthread_once_t gm_direct_once = PTHREAD_ONCE_INIT;
static pthread_once_t gm_handler_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t gm_direct_lock = PTHREAD_MUTEX_INITIALIZER;
static bool gm_handler_failed;

static volatile uint64_t *gm_canary;       /* the fork canary; NULL: none */
static uint64_t gm_epoch_counter;          /* copied into children, never wiped */
/* What allocated memory's windows compare their epoch 0 with. */
static volatile uint64_t gm_alloc_canary = GM_EPOCH_OFF;

static _Atomic uint64_t gm_direct_fault_count;

#if defined(__x86_64__)
extern uint8_t gm_ft_erms GM_HIDDEN;
#endif

/* ------------------------------------------------------------------------ */
/* The process-wide switch. */

/* A child must not inherit gm_direct_lock held by a thread it does not have. */
static void gm_direct_fork_prepare(void)
{
	pthread_mutex_lock(&gm_direct_lock);
}

static void gm_direct_fork_done(void)
{
	pthread_mutex_unlock(&gm_direct_lock);
}

/*
 * A fork wiped the canary (or there is none yet): a new epoch, no ancestor's.
 * gm_direct_lock held.
 */
static void gm_canary_refresh_locked(void)
{
	uint64_t off = atomic_load(&gm_direct_mode) == GM_DIRECT_MODE_ON ? 0 : GM_EPOCH_OFF;

	if (gm_canary && !(*gm_canary & ~GM_EPOCH_OFF))
		*gm_canary = ++gm_epoch_counter | off;
}

/* Let the canaries say what the switch says.  gm_direct_lock held. */
static void gm_direct_switch_locked(bool on)
{
	atomic_store(&gm_direct_mode, on ? GM_DIRECT_MODE_ON : GM_DIRECT_MODE_OFF);
	gm_alloc_canary = on ? 0 : GM_EPOCH_OFF;
	gm_canary_refresh_locked();
	if (gm_canary)
		*gm_canary = (*gm_canary & ~GM_EPOCH_OFF) | (on ? 0 : GM_EPOCH_OFF);
}

static void gm_direct_init(void)
{
	const char *env = getenv("GUESTMEM_DIRECT");
	bool on = GM_DIRECT_ARCH && !(env && !strcmp(env, "0"));

#if defined(__x86_64__)
	unsigned int a, b, c, d;

	/* ERMS: rep movsb/stosb are as fast as vector loops for long strings. */
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 9)))
		gm_ft_erms = 1;
#endif
	pthread_atfork(gm_direct_fork_prepare, gm_direct_fork_done, gm_direct_fork_done);
	pthread_mutex_lock(&gm_direct_lock);
	gm_direct_switch_locked(on);
	pthread_mutex_unlock(&gm_direct_lock);
}

bool gm_set_direct(bool enable)
{
	bool was;

	pthread_once(&gm_direct_once, gm_direct_init);
	pthread_mutex_lock(&gm_direct_lock);
	was = atomic_load(&gm_direct_mode) == GM_DIRECT_MODE_ON;
	gm_direct_switch_locked(enable && GM_DIRECT_ARCH);
	pthread_mutex_unlock(&gm_direct_lock);
	return was;
}

uint64_t gm_direct_faults(void)
{
	return atomic_load_explicit(&gm_direct_fault_count, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* The fork canary. */

/* This process's epoch (0: no canary, so no owner's addresses go direct). */
uint64_t gm_direct_epoch(void)
{
	uint64_t epoch;

	pthread_once(&gm_direct_once, gm_direct_init);
	pthread_mutex_lock(&gm_direct_lock);
	if (!gm_canary) {
		void *p = mmap(NULL, GM_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED && madvise(p, GM_PAGE_SIZE, MADV_WIPEONFORK)) {
			munmap(p, GM_PAGE_SIZE);
			p = MAP_FAILED;
		}
		if (p != MAP_FAILED)
			gm_canary = p;
	}
	gm_canary_refresh_locked();
	epoch = gm_canary ? *gm_canary & ~GM_EPOCH_OFF : 0;
	pthread_mutex_unlock(&gm_direct_lock);
	return epoch;
}

/* Still the process that @epoch was handed out to? */
static bool gm_direct_same_process(uint64_t epoch)
{
	return epoch && gm_canary && (*gm_canary & ~GM_EPOCH_OFF) == epoch;
}

/* ------------------------------------------------------------------------ */
/* The signal handler. */

struct gm_ft_fixup {
	int32_t from, to, fix;          /* each relative to its own address */
};

/*
 * Weak: a static program that never calls an accessor does not link
 * ft-<arch>.o, so it has no gm_ft_fixup section and no faults to fix (both
 * are then 0).
 */
extern const struct gm_ft_fixup __start_gm_ft_fixup[] __attribute__((weak)) GM_HIDDEN;
extern const struct gm_ft_fixup __stop_gm_ft_fixup[] __attribute__((weak)) GM_HIDDEN;

static uintptr_t gm_ft_rel(const int32_t *field)
{
	return (uintptr_t)field + (intptr_t)*field;
}

/* The fixup for a fault at @pc, or 0 when @pc is not in a listed range. */
static uintptr_t gm_ft_lookup(uintptr_t pc)
{
	const struct gm_ft_fixup *e;

	for (e = __start_gm_ft_fixup; e < __stop_gm_ft_fixup; e++)
		if (pc >= gm_ft_rel(&e->from) && pc < gm_ft_rel(&e->to))
			return gm_ft_rel(&e->fix);
	return 0;
}

#if defined(__x86_64__)
#define GM_UC_PC(uc) ((uc)->uc_mcontext.gregs[REG_RIP])
#elif defined(__aarch64__)
#define GM_UC_PC(uc) ((uc)->uc_mcontext.pc)
#endif

/* The dispositions ours replaced: [0] SIGSEGV, [1] SIGBUS. */
static struct sigaction gm_old_action[2];
static _Atomic bool gm_old_reset[2];       /* an SA_RESETHAND handler ran once */

/*
 * A fault that is not ours, or a signal a process sent: do what the kernel
 * would have done without us.
 */
static void gm_direct_chain(int sig, siginfo_t *si, ucontext_t *uc)
{
	int k = sig == SIGBUS;
	const struct sigaction *old = &gm_old_action[k];
	bool siginfo = old->sa_flags & SA_SIGINFO;
	bool sent = !si || si->si_code <= 0;
	struct sigaction dfl;
	sigset_t mask;

	if (!atomic_load(&gm_old_reset[k])) {
		if (siginfo ? old->sa_sigaction != NULL :
			      old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
			if (old->sa_flags & SA_RESETHAND)
				atomic_store(&gm_old_reset[k], true);
			/* Its mask, as the kernel would have set it for it. */
			mask = uc->uc_sigmask;
			sigorset(&mask, &mask, &old->sa_mask);
			if (!(old->sa_flags & SA_NODEFER))
				sigaddset(&mask, sig);
			pthread_sigmask(SIG_SETMASK, &mask, NULL);
			if (siginfo)
				old->sa_sigaction(sig, si, uc);
			else
				old->sa_handler(sig);
			return;
		}
		/* An ignored signal that a process sent is dropped... */
		if (!siginfo && old->sa_handler == SIG_IGN && sent)
			return;
	}
	/*
	 * ...and everything else takes the default action (a fault cannot be
	 * ignored: the kernel would have reset it to the default).  A fault
	 * happens again when we return; a sent signal is sent again, and
	 * arrives once the handler returns and unblocks it.
	 */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	if (sent)
		raise(sig);
}

static void gm_direct_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved_errno = errno;
	uintptr_t fix = 0;

	/* Only a fault the kernel raised for the instruction: si_code > 0. */
	if (si && uc && si->si_code > 0 && !(sig == SIGBUS && si->si_code == BUS_MCEERR_AO))
		fix = gm_ft_lookup((uintptr_t)GM_UC_PC(uc));
	if (fix) {
		GM_UC_PC(uc) = fix;
		atomic_fetch_add_explicit(&gm_direct_fault_count, 1, memory_order_relaxed);
	} else {
		gm_direct_chain(sig, si, uc);
	}
	errno = saved_errno;
}

/*
 * Read the disposition first, then install ours: a fault between the two
 * calls still finds the old one recorded.
 */
static int gm_direct_install_one(int sig, struct sigaction *old)
{
	struct sigaction sa, prev;

	if (sigaction(sig, NULL, old))
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = gm_direct_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, &prev))
		return -errno;
	if (prev.sa_sigaction != old->sa_sigaction || prev.sa_flags != old->sa_flags)
		*old = prev;
	return 0;
}

static void gm_direct_install(void)
{
#if GM_DIRECT_ARCH
	if (gm_direct_install_one(SIGSEGV, &gm_old_action[0]))
		gm_handler_failed = true;
	else if (gm_direct_install_one(SIGBUS, &gm_old_action[1])) {
		sigaction(SIGSEGV, &gm_old_action[0], NULL);
		gm_handler_failed = true;
	}
#else
	gm_handler_failed = true;
#endif
}

/*
 * May the calling thread touch memory directly now?  Direct access must
 * be on; the first time, the handler is installed and the thread's mask
 * checked.
 */
static bool gm_direct_thread_may(void)
{
	int mode = atomic_load_explicit(&gm_direct_mode, memory_order_relaxed);
	sigset_t cur;

	if (mode == GM_DIRECT_MODE_UNSET) {
		pthread_once(&gm_direct_once, gm_direct_init);
		mode = atomic_load(&gm_direct_mode);
	}
	if (mode != GM_DIRECT_MODE_ON || gm_direct_thread_refused)
		return false;
	if (gm_direct_thread_ok)
		return true;
	pthread_once(&gm_handler_once, gm_direct_install);
	if (gm_handler_failed || pthread_sigmask(SIG_BLOCK, NULL, &cur) ||
	    sigismember(&cur, SIGSEGV) || sigismember(&cur, SIGBUS)) {
		gm_direct_thread_refused = 1;
		return false;
	}
	gm_direct_thread_ok = 1;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Which user-backed regions may go direct. */

/*
 * The kernel reaches a user-backed region with GUP, which refuses some
 * mappings the CPU would happily access: VM_IO/VM_PFNMAP/VM_MIXEDMAP
 * (device memory), secret memory, and reads of mappings without PROT_READ
 * (on x86 and arm64, PROT_WRITE and PROT_EXEC imply read access).  Direct
 * access must fail where the kernel path fails, so a region goes direct
 * only if every mapping under it is one of:
 *
 *  - anonymous ([heap], [stack], unnamed, named), any protection with
 *    PROT_READ or none at all (then both fault);
 *  - a file mapping with PROT_READ that the kernel itself reads: one probe
 *    (GUESTMEM_PROBE_GPNS, a GUP read of one byte, not counted in the
 *    object's statistics) per file, which fails for device memory and
 *    secret memory; or a file mapping with no access at all.
 *
 * This is a snapshot, taken when the handle is first used, like the seed's
 * region snapshot at construction: a mapping put under a region afterwards
 * (mmap(MAP_FIXED) of a device, mprotect(PROT_WRITE) alone) is what the CPU
 * makes of it.  Unmapping, PROT_NONE and read-only protection behave as on
 * the kernel path, whenever they happen.
 */
enum gm_vma_verdict { GM_VMA_SAME, GM_VMA_DIFFERS, GM_VMA_PROBE };

static enum gm_vma_verdict gm_direct_vma_verdict(const char *perms, unsigned long inode,
						 const char *path)
{
	bool r = perms[0] == 'r', w = perms[1] == 'w', x = perms[2] == 'x';

	if (!r && (w || x))
		return GM_VMA_DIFFERS;
	if (path[0] == '[')
		return !strcmp(path, "[heap]") || !strncmp(path, "[stack", 6) ||
		       !strncmp(path, "[anon:", 6) || !strncmp(path, "[anon_shmem:", 12) ?
		       GM_VMA_SAME : GM_VMA_DIFFERS;
	if (!inode || !r)
		return GM_VMA_SAME;
	return GM_VMA_PROBE;
}

/* Does the kernel read guest address @gpa (page aligned)? */
static bool gm_direct_probe(struct gm *gm, uint64_t gpa)
{
	uint64_t gpn = gpa / GM_PAGE_SIZE;
	struct guestmem_probe_gpns a = {
		.size = sizeof(a),
		.gpns_uptr = (uintptr_t)&gpn,
		.gpn_count = 1,
	};

	return !gm_ioctl(gm->fd, GUESTMEM_PROBE_GPNS, &a);
}

/* One line of /proc/self/maps. */
struct gm_vma {
	uintptr_t start, end;
	unsigned long dev, inode;
	char perms[5];
	const char *path;
};

/* Files already probed during one check: (dev, inode) and the answer. */
struct gm_probed {
	unsigned long dev, inode;
	bool same;
};

/* Check region @i of @gm against the mappings @vmas. */
static bool gm_direct_region_ok(struct gm *gm, size_t i, const struct gm_vma *vmas, size_t nvmas)
{
	const struct guestmem_region_info *ri = &gm->regions[i];
	uint64_t gbase = gm->region_bits < 64 ? (uint64_t)i << gm->region_bits : 0;
	uintptr_t va = ri->va, end = ri->va + ri->len;
	struct gm_probed probed[8];
	size_t nprobed = 0, k, n;

	if (end < va)
		return false;
	for (n = 0; n < nvmas; n++) {
		const struct gm_vma *v = &vmas[n];
		uint64_t from, to, gpa;
		bool same;

		if (v->end <= va || v->start >= end)
			continue;
		switch (gm_direct_vma_verdict(v->perms, v->inode, v->path)) {
		case GM_VMA_SAME:
			continue;
		case GM_VMA_DIFFERS:
			return false;
		case GM_VMA_PROBE:
			break;
		}
		for (k = 0; k < nprobed; k++)
			if (probed[k].dev == v->dev && probed[k].inode == v->inode)
				break;
		if (k < nprobed) {
			same = probed[k].same;
		} else {
			/* The first page of the region that starts in this mapping. */
			from = (v->start > va ? v->start : va) - va;
			to = (v->end < end ? v->end : end) - va;
			gpa = (gbase + from + GM_PAGE_SIZE - 1) & ~(uint64_t)(GM_PAGE_SIZE - 1);
			same = gpa - gbase < to && gm_direct_probe(gm, gpa);
			if (nprobed < sizeof(probed) / sizeof(probed[0]))
				probed[nprobed++] = (struct gm_probed){ v->dev, v->inode, same };
		}
		if (!same)
			return false;
	}
	return true;
}

/*
 * /proc/self/maps, parsed into *@vmas (the paths point into *@text); the
 * number of mappings, or -1.
 */
static ssize_t gm_direct_read_maps(char **text, struct gm_vma **vmas)
{
	size_t cap = 16384, len = 0, n, count = 0, i;
	FILE *f = fopen("/proc/self/maps", "re");
	char *buf = malloc(cap), *grow, *line, *next;
	struct gm_vma *v;

	*text = NULL;
	*vmas = NULL;
	if (!buf || !f)
		goto fail;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			grow = realloc(buf, cap * 2);
			if (!grow)
				goto fail;
			buf = grow;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	for (i = 0; i < len; i++)
		count += buf[i] == '\n';
	v = calloc(count + 1, sizeof(*v));
	if (!v)
		goto fail;
	for (n = 0, line = buf; *line && n <= count; line = next) {
		unsigned long start, end, off, inode;
		unsigned int major, minor;
		int pos = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start, &end, v[n].perms, &off,
			   &major, &minor, &inode, &pos) < 7 || !pos) {
			free(v);
			goto fail;
		}
		v[n].start = start;
		v[n].end = end;
		v[n].dev = (unsigned long)major << 20 | minor;
		v[n].inode = inode;
		v[n].path = line + pos;
		n++;
	}
	fclose(f);
	*text = buf;
	*vmas = v;
	return (ssize_t)n;

fail:
	if (f)
		fclose(f);
	free(buf);
	return -1;
}

/* Publish what setup found; gm_direct_lock held. */
static void gm_direct_publish(struct gm *gm, uint8_t **region_va, bool owner)
{
	uint64_t len = gm->regions[0].len;

	gm->direct_region_va = region_va;
	if (gm->region_count == 1 && region_va && region_va[0] && len) {
		gm->direct_base = region_va[0];
		gm->direct_canary = owner ? gm_canary : &gm_alloc_canary;
		gm->direct_epoch = owner ? gm->owner_epoch : 0;
		atomic_store_explicit(&gm->direct_end8, len >= 8 ? len - 7 : 0,
				      memory_order_release);
		atomic_store_explicit(&gm->direct_len, len, memory_order_release);
	}
	atomic_store_explicit(&gm->direct_state, GM_DIRECT_READY, memory_order_release);
}

/*
 * Find out, once per handle, which regions this process reaches.  Holding
 * gm_direct_lock makes concurrent first uses of one handle wait for one
 * answer.
 */
static __attribute__((noinline, cold)) void gm_direct_setup(struct gm *gm)
{
	size_t nregions = gm->region_count ? gm->region_count : 1;
	struct gm_vma *vmas = NULL;
	uint8_t **region_va = NULL;
	bool *owned = NULL;
	ssize_t nvmas = -1;
	char *maps = NULL;
	bool owner = false;
	size_t i;

	pthread_mutex_lock(&gm_direct_lock);
	if (atomic_load(&gm->direct_state) == GM_DIRECT_READY)
		goto out;
	region_va = calloc(nregions, sizeof(*region_va));
	owned = calloc(nregions, sizeof(*owned));
	if (!region_va || !owned) {
		free(region_va);
		region_va = NULL;
		goto publish;
	}

	/* Allocated memory and files: our own mapping, in any process. */
	for (i = 0; i < gm->region_count; i++)
		region_va[i] = gm_map_va(gm, i, 0);
	if (gm->region_count == 1 && region_va[0])
		goto publish;
	if (!gm_direct_same_process(gm->owner_epoch))
		goto publish;
	for (i = 0; i < gm->region_count; i++) {
		const struct guestmem_region_info *ri = &gm->regions[i];

		if (region_va[i] || !(ri->flags & GUESTMEM_REGION_HAS_VA) || !ri->len)
			continue;
		if (nvmas < 0 && (nvmas = gm_direct_read_maps(&maps, &vmas)) < 0)
			break;
		if (gm_direct_region_ok(gm, i, vmas, (size_t)nvmas)) {
			region_va[i] = (uint8_t *)(uintptr_t)ri->va;
			owned[i] = true;
			owner = true;
		}
	}
publish:
	gm->direct_region_owned = owned;
	owned = NULL;
	gm_direct_publish(gm, region_va, owner);
out:
	pthread_mutex_unlock(&gm_direct_lock);
	free(owned);
	free(vmas);
	free(maps);
}

static __attribute__((noinline)) uint8_t *gm_direct_va_resolve(struct gm *gm, uint64_t gpa,
								uint64_t len)
{
	uint64_t off;
	size_t i;

	if (!GM_DIRECT_ARCH || !gm_direct_thread_may())
		return NULL;
	if (atomic_load_explicit(&gm->direct_state, memory_order_acquire) != GM_DIRECT_READY)
		gm_direct_setup(gm);
	if (!gm->direct_region_va || !len || gm_resolve(gm, gpa, len, &i, &off) ||
	    !gm->direct_region_va[i])
		return NULL;
	/* A user-backed region's addresses are only the owner's. */
	if (gm->direct_region_owned && gm->direct_region_owned[i] &&
	    !gm_direct_same_process(gm->owner_epoch))
		return NULL;
	return gm->direct_region_va[i] + off;
}

/* With direct access off - the kernel path's question - this is all it costs. */
uint8_t *gm_direct_va_slow(struct gm *gm, uint64_t gpa, uint64_t len)
{
	if (gm_direct_off())
		return NULL;
	return gm_direct_va_resolve(gm, gpa, len);
}

/*
 * A view made from @base at @offset lies inside one of @base's regions:
 * the verdict on that region is the view's, with no second look at the
 * mappings.  Allocated memory needs none (the view maps its own window).
 */
void gm_direct_inherit(struct gm *base, struct gm *view, uint64_t offset)
{
	uint8_t **region_va;
	bool *owned;
	uint64_t off;
	size_t i;

	if (view->map || view->region_count != 1 ||
	    !(view->regions[0].flags & GUESTMEM_REGION_HAS_VA) ||
	    atomic_load_explicit(&base->direct_state, memory_order_acquire) != GM_DIRECT_READY ||
	    !base->direct_region_va || view->owner_epoch != base->owner_epoch)
		return;
	off = offset & base->region_mask;
	i = base->region_bits < 64 ? offset >> base->region_bits : 0;
	if (i >= base->region_count || !(base->regions[i].flags & GUESTMEM_REGION_HAS_VA) ||
	    base->regions[i].va + off != view->regions[0].va)
		return;
	region_va = calloc(1, sizeof(*region_va));
	if (!region_va)
		return;
	owned = calloc(1, sizeof(*owned));
	if (!owned) {
		free(region_va);
		return;
	}
	if (base->direct_region_va[i] && base->direct_region_owned &&
	    base->direct_region_owned[i]) {
		region_va[0] = (uint8_t *)(uintptr_t)view->regions[0].va;
		owned[0] = true;
	}
	pthread_mutex_lock(&gm_direct_lock);
	if (atomic_load(&view->direct_state) != GM_DIRECT_READY) {
		view->direct_region_owned = owned;
		gm_direct_publish(view, region_va, region_va[0] != NULL);
		region_va = NULL;
		owned = NULL;
	}
	pthread_mutex_unlock(&gm_direct_lock);
	free(region_va);
	free(owned);
}

void gm_direct_release(struct gm *gm)
{
	free(gm->direct_region_va);
	free(gm->direct_region_owned);
}
