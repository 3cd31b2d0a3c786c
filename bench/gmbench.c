// SPDX-License-Identifier: GPL-2.0
/*
 * gmbench: every guestmem hot path against its peers, same sizes, same run.
 * Runs in the test VM (make bench) and on any machine where the
 * module is loaded:
 *
 *	gmbench [--json FILE] [--device BDF] [--vfio BDF [--bind-vfio]]
 *	        [--max-lock SIZE] [--budget SECONDS] [--quick]
 *
 * Prints one table (operation, size, memory, ours, peer, ratio, goal,
 * verdict) and writes the same rows as JSON (bench/results/README.md).
 * Ratio = ours / peer of the median times, so below 1 means ours is faster.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <guestmem.h>
#include <linux/guestmem.h>

#include "bench.h"
#include "peers.h"

/* An unknown nr: the dispatcher answers -ENOTTY before doing any work. */
#define GM_NULL_IOCTL _IO(GUESTMEM_TYPE, 0xff)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SZ_4K   0x1000ULL
#define SZ_64K  0x10000ULL
#define SZ_1M   0x100000ULL
#define SZ_2M   0x200000ULL
#define SZ_64M  0x4000000ULL
#define SZ_1G   0x40000000ULL

/*
 * The copy arena: one memfd, mapped shared, and one guestmem object over
 * that mapping, so read_at, memcpy, pread and process_vm_readv all move the
 * same pages.  [0, 16M): bulk copies step through it (as the anchors'
 * pread numbers do); [16M, 24M): one MiB per thread; [24M, 32M): the cold
 * rows punch holes here.
 */
#define ARENA       (32 * SZ_1M)
#define WINDOW      (16 * SZ_1M)
#define THREAD_OFF  (16 * SZ_1M)
#define COLD_OFF    (24 * SZ_1M)
#define SMALL_OFF   64
#define IOVA_PAGES  512
#define VFIO_IOVA   0x100000000ULL

static struct {
	int devfd, memfd;
	uint8_t *map, *buf;
	struct gm *gm;
	int gm_err;
	const char *gm_why;
	uint64_t cas;
} E = { .devfd = -1, .memfd = -1 };

static const char *opt_device, *opt_vfio;
static bool opt_bind_vfio;
static uint64_t opt_max_lock = SZ_1G;

static inline void clobber(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline uint64_t step(uint64_t i, uint64_t size)
{
	return size >= SZ_4K ? (i * size) % WINDOW : SMALL_OFF;
}

/*
 * Which way libguestmem reaches the arena: the contenders of a "direct"
 * row have ctx == &DIRECT, all other guestmem contenders take the kernel
 * path (the rows measured before direct access existed).  Switched per
 * sample, outside the timed loop.
 */
static const char DIRECT[] = "direct";

static void set_path(const struct contender *c)
{
	gm_set_direct(c->ctx == DIRECT);
}

/* One timed loop of @iters operations; @body yields 0 or -errno. */
#define TIMED_LOOP(body)                                                      \
	do {                                                                  \
		double __t0 = now_ns();                                       \
		for (uint64_t i = 0; i < iters; i++) {                        \
			int __rc = (body);                                    \
			if (__rc < 0)                                         \
				return __rc;                                  \
		}                                                             \
		t[0] = now_ns() - __t0;                                       \
		return 0;                                                     \
	} while (0)

static inline int sys_rc(long rc, long want)
{
	return rc == want ? 0 : rc < 0 ? -errno : -EIO;
}

/* ------------------------------------------------------------------------ */
/* Copies and small operations on the arena. */

static int run_read_at(struct contender *c, uint64_t iters, double *t)
{
	set_path(c);
	TIMED_LOOP(gm_read_at(E.gm, step(i, c->arg), E.buf, c->arg));
}

static int run_write_at(struct contender *c, uint64_t iters, double *t)
{
	set_path(c);
	TIMED_LOOP(gm_write_at(E.gm, step(i, c->arg), E.buf, c->arg));
}

static int run_fill_at(struct contender *c, uint64_t iters, double *t)
{
	set_path(c);
	TIMED_LOOP(gm_fill_at(E.gm, step(i, c->arg), (uint8_t)i, c->arg));
}

static int run_read_plain(struct contender *c, uint64_t iters, double *t)
{
	set_path(c);
	TIMED_LOOP(gm_read_plain(E.gm, SMALL_OFF, E.buf, c->arg));
}

static int run_write_plain(struct contender *c, uint64_t iters, double *t)
{
	set_path(c);
	TIMED_LOOP(gm_write_plain(E.gm, SMALL_OFF, E.buf, c->arg));
}

static int cas_once(void)
{
	uint64_t cur = E.cas, next = cur + 1;
	int rc = gm_compare_exchange(E.gm, 128, &cur, &next, sizeof(cur));

	E.cas = rc == 1 ? next : cur;
	return rc < 0 ? rc : 0;
}

static int run_cas(struct contender *c, uint64_t iters, double *t)
{
	set_path(c);
	TIMED_LOOP(cas_once());
}

/*
 * The peers of the direct rows: the same 8-byte operation on the mapping
 * through a plain pointer, as a VMM that maps guest memory itself would do
 * it, behind a call of the same shape as the library's (address in, value
 * through a pointer) so that the loop around it is the same.
 */
static __attribute__((noinline)) int ptr_load8(uint64_t off, void *out)
{
	memcpy(out, E.map + off, 8);
	return 0;
}

static __attribute__((noinline)) int ptr_store8(uint64_t off, const void *in)
{
	memcpy(E.map + off, in, 8);
	return 0;
}

static __attribute__((noinline)) int ptr_cas8(uint64_t off, uint64_t *cur, const uint64_t *next)
{
	return __atomic_compare_exchange_n((uint64_t *)(E.map + off), cur, *next, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static int ptr_cas_once(void)
{
	uint64_t cur = E.cas, next = cur + 1;

	E.cas = ptr_cas8(128, &cur, &next) ? next : cur;
	return 0;
}

static int run_ptr_load(struct contender *c, uint64_t iters, double *t)
{
	(void)c;
	TIMED_LOOP(ptr_load8(SMALL_OFF, E.buf));
}

static int run_ptr_store(struct contender *c, uint64_t iters, double *t)
{
	(void)c;
	TIMED_LOOP(ptr_store8(SMALL_OFF, E.buf));
}

static int run_ptr_cas(struct contender *c, uint64_t iters, double *t)
{
	(void)c;
	TIMED_LOOP(ptr_cas_once());
}

static int null_ioctl(void)
{
	int dummy = 0;

	if (ioctl(E.devfd, GM_NULL_IOCTL, &dummy) != -1)
		return -EPROTO;
	return errno == ENOTTY ? 0 : -errno;
}

static int run_null_ioctl(struct contender *c, uint64_t iters, double *t)
{
	(void)c;
	TIMED_LOOP(null_ioctl());
}

static int pvm(uint64_t off, size_t len, bool write)
{
	struct iovec l = { .iov_base = E.buf, .iov_len = len };
	struct iovec r = { .iov_base = E.map + off, .iov_len = len };
	pid_t pid = getpid();

	return sys_rc(write ? process_vm_writev(pid, &l, 1, &r, 1, 0) :
			      process_vm_readv(pid, &l, 1, &r, 1, 0), len);
}

static int run_pvr(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(pvm(step(i, c->arg), c->arg, false));
}

static int run_pvw(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(pvm(step(i, c->arg), c->arg, true));
}

static int run_pread(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(sys_rc(pread(E.memfd, E.buf, c->arg, step(i, c->arg)), c->arg));
}

static int run_pwrite(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(sys_rc(pwrite(E.memfd, E.buf, c->arg, step(i, c->arg)), c->arg));
}

static int memcpy_from(uint64_t off, size_t len)
{
	memcpy(E.buf, E.map + off, len);
	clobber();
	return 0;
}

static int memcpy_to(uint64_t off, size_t len)
{
	memcpy(E.map + off, E.buf, len);
	clobber();
	return 0;
}

static int memset_at(uint64_t off, uint8_t val, size_t len)
{
	memset(E.map + off, val, len);
	clobber();
	return 0;
}

static int run_memcpy_from(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(memcpy_from(step(i, c->arg), c->arg));
}

static int run_memcpy_to(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(memcpy_to(step(i, c->arg), c->arg));
}

static int run_memset(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(memset_at(step(i, c->arg), (uint8_t)i, c->arg));
}

/* Cold: the range is punched out of the memfd first, so every page faults. */
static int punch_cold(size_t len)
{
	return fallocate(E.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, COLD_OFF, len) ?
	       -errno : 0;
}

static int run_write_at_cold(struct contender *c, uint64_t iters, double *t)
{
	double t0;
	int rc = punch_cold(c->arg);

	(void)iters;
	set_path(c);
	if (rc)
		return rc;
	t0 = now_ns();
	rc = gm_write_at(E.gm, COLD_OFF, E.buf, c->arg);
	t[0] = now_ns() - t0;
	return rc;
}

static int run_memcpy_cold(struct contender *c, uint64_t iters, double *t)
{
	double t0;
	int rc = punch_cold(c->arg);

	(void)iters;
	if (rc)
		return rc;
	t0 = now_ns();
	memcpy_to(COLD_OFF, c->arg);
	t[0] = now_ns() - t0;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Threads: each reads its own MiB of the arena, 4 KiB at a time. */

struct mt {
	pthread_barrier_t *start;
	bool pread;                     /* the control: pread on the memfd */
	uint64_t iters;
	double t0, t1;
	int cpu, rc;
};

static void *mt_worker(void *arg)
{
	struct mt *m = arg;
	uint64_t base = THREAD_OFF + (uint64_t)m->cpu * SZ_1M;
	cpu_set_t set;
	uint64_t i;

	CPU_ZERO(&set);
	CPU_SET(m->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pthread_barrier_wait(m->start);
	m->t0 = now_ns();
	for (i = 0; i < m->iters && !m->rc; i++) {
		uint64_t off = base + (i % 256) * SZ_4K;
		uint8_t *dst = E.buf + m->cpu * SZ_4K;

		/* (the kernel path: run_threads switched direct access off) */
		m->rc = m->pread ? sys_rc(pread(E.memfd, dst, SZ_4K, off), SZ_4K) :
				   gm_read_at(E.gm, off, dst, SZ_4K);
	}
	m->t1 = now_ns();
	return NULL;
}

/*
 * Threads are started outside the timed part and leave a barrier
 * together; each times its own loop, and t[0] is the span from the first
 * start to the last end divided by the thread count: the aggregate time
 * per operation.  (Timing from the main thread would count its own
 * scheduling delays.)
 */
static int run_threads(struct contender *c, uint64_t iters, double *t)
{
	unsigned int n = c->arg, i;
	struct mt m[n];
	pthread_t th[n];
	pthread_barrier_t start;
	double t0 = 0, t1 = 0;
	int rc = 0;

	gm_set_direct(false);
	pthread_barrier_init(&start, NULL, n);
	for (i = 0; i < n; i++) {
		m[i] = (struct mt){ .start = &start, .pread = !!c->ctx, .iters = iters,
				    .cpu = i };
		if (pthread_create(&th[i], NULL, mt_worker, &m[i]))
			abort();
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (m[i].rc)
			rc = m[i].rc;
		if (!i || m[i].t0 < t0)
			t0 = m[i].t0;
		if (!i || m[i].t1 > t1)
			t1 = m[i].t1;
	}
	pthread_barrier_destroy(&start);
	t[0] = (t1 - t0) / n;
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Pinned buffers: lock_gpns, io_uring, VFIO. */

struct pinbuf {
	uint8_t *base, *raw;
	size_t len, rawlen;
	uint64_t *gpns;
	size_t pages;
	struct gm *gm;
	bool cold;
	int ring;
	struct vfio *vfio;
	char thp_note[48];
};

/* AnonHugePages of the mapping that holds @p, as a share of @len. */
static double thp_share(const void *p, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	unsigned long lo, hi, kb;
	char line[256];
	bool in = false;
	double share = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* A mapping's first line starts "lo-hi "; its fields do not. */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = lo <= (uintptr_t)p && (uintptr_t)p < hi;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			share = kb * 1024.0 / len;
	}
	fclose(f);
	return share > 1 ? 1 : share;
}

static bool thp_available(void)
{
	char s[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (f) {
		if (!fgets(s, sizeof(s), f))
			s[0] = 0;
		fclose(f);
	}
	return s[0] && !strstr(s, "[never]");
}

static void pinbuf_free(struct pinbuf *b)
{
	gm_release(b->gm);
	free(b->gpns);
	if (b->raw)
		munmap(b->raw, b->rawlen);
	memset(b, 0, sizeof(*b));
}

/* @len bytes, 2 MiB aligned, 4 KiB pages or THP, faulted in. */
static int pinbuf_alloc(struct pinbuf *b, size_t len, bool thp)
{
	size_t i;
	int rc;

	memset(b, 0, sizeof(*b));
	b->rawlen = len + SZ_2M;
	b->raw = mmap(NULL, b->rawlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (b->raw == MAP_FAILED) {
		b->raw = NULL;
		return -errno;
	}
	b->base = (uint8_t *)(((uintptr_t)b->raw + SZ_2M - 1) & ~(SZ_2M - 1));
	b->len = len;
	madvise(b->base, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(b->base, 1, len);
	b->pages = len / SZ_4K;
	b->gpns = malloc(b->pages * sizeof(*b->gpns));
	if (!b->gpns) {
		pinbuf_free(b);
		return -ENOMEM;
	}
	for (i = 0; i < b->pages; i++)
		b->gpns[i] = i;
	if (thp) {
		double s = thp_share(b->base, len);

		snprintf(b->thp_note, sizeof(b->thp_note), "THP share %.0f%%", s < 0 ? 0 : s * 100);
	}
	if (E.devfd >= 0) {
		rc = gm_new("gmbench-pin", b->base, len, &b->gm);
		if (rc)
			b->gm = NULL;
	}
	return 0;
}

static void make_cold(struct pinbuf *b)
{
	if (b->cold)
		madvise(b->base, b->len, MADV_DONTNEED);
}

static int run_lock(struct contender *c, uint64_t iters, double *t)
{
	struct pinbuf *b = c->ctx;
	struct gm_locked_pages *lp;
	double t0, t1;
	int rc;

	(void)iters;
	make_cold(b);
	t0 = now_ns();
	rc = gm_lock_gpns(b->gm, false, b->gpns, b->pages, &lp);
	t1 = now_ns();
	if (rc)
		return rc;
	gm_locked_pages_release(lp);
	t[0] = now_ns() - t0;
	t[1] = t1 - t0;
	t[2] = t[0] - t[1];
	return 0;
}

static int run_uring(struct contender *c, uint64_t iters, double *t)
{
	struct pinbuf *b = c->ctx;
	double t0, t1;
	int rc;

	(void)iters;
	make_cold(b);
	t0 = now_ns();
	rc = uring_register(b->ring, b->base, b->len);
	t1 = now_ns();
	if (rc)
		return rc;
	rc = uring_unregister(b->ring);
	t[0] = now_ns() - t0;
	t[1] = t1 - t0;
	t[2] = t[0] - t[1];
	return rc;
}

static int run_touch(struct contender *c, uint64_t iters, double *t)
{
	struct pinbuf *b = c->ctx;
	double t0;

	(void)iters;
	make_cold(b);
	t0 = now_ns();
	memset(b->base, 1, b->len);
	clobber();
	t[0] = now_ns() - t0;
	return 0;
}

static int run_vfio(struct contender *c, uint64_t iters, double *t)
{
	struct pinbuf *b = c->ctx;
	double t0, t1;
	int rc;

	(void)iters;
	t0 = now_ns();
	rc = vfio_map(b->vfio, b->base, VFIO_IOVA, b->len);
	t1 = now_ns();
	if (rc)
		return rc;
	rc = vfio_unmap(b->vfio, VFIO_IOVA, b->len);
	t[0] = now_ns() - t0;
	t[1] = t1 - t0;
	t[2] = t[0] - t[1];
	return rc;
}

/* The first phase of two results as results of their own. */
static void phase_rows(const struct result *a, const struct result *b, struct result *pa,
		       struct result *pb)
{
	*pa = *a;
	*pb = *b;
	pa->name = "lock_gpns";
	pb->name = "io_uring REGISTER_BUFFERS";
	pa->min = a->phase_min[0];
	pa->med = a->phase_med[0];
	pb->min = b->phase_min[0];
	pb->med = b->phase_med[0];
	pa->nphases = pb->nphases = 0;
}

static void phases(struct contender *c, const char *a, const char *b)
{
	c->single = true;
	c->r.nphases = 2;
	c->r.phase_names[0] = a;
	c->r.phase_names[1] = b;
}

/* ------------------------------------------------------------------------ */
/* IOVA lookups: 512 locked pages of an attached object. */

struct lookup {
	struct pinbuf *b;
	int pagemap;
	uint64_t iovas[IOVA_PAGES], entries[IOVA_PAGES];
	struct gm_iova_run runs[IOVA_PAGES];
	size_t nr_runs;
};

static int iova_once(struct lookup *l, uint64_t i)
{
	uint64_t iova;

	return gm_iova(l->b->gm, (i % IOVA_PAGES) * SZ_4K, &iova);
}

static int run_iova(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(iova_once(c->ctx, i));
}

static int iova_runs_once(struct lookup *l)
{
	l->nr_runs = IOVA_PAGES;
	return gm_iova_runs(l->b->gm, 0, IOVA_PAGES, l->runs, &l->nr_runs);
}

static int run_iova_runs(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(iova_runs_once(c->ctx));
}

static int run_iova_batch(struct contender *c, uint64_t iters, double *t)
{
	struct lookup *l = c->ctx;

	TIMED_LOOP(gm_iova_gpns(l->b->gm, l->b->gpns, IOVA_PAGES, l->iovas));
}

static int pagemap_once(struct lookup *l, uint64_t i)
{
	uint64_t e;

	return pagemap_lookup_once(l->b->base + (i % IOVA_PAGES) * SZ_4K, &e);
}

static int run_pagemap(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(pagemap_once(c->ctx, i));
}

static int pagemap_bulk(struct lookup *l)
{
	off_t off = (uintptr_t)l->b->base / SZ_4K * sizeof(uint64_t);

	return sys_rc(pread(l->pagemap, l->entries, sizeof(l->entries), off),
		      sizeof(l->entries));
}

static int run_pagemap_bulk(struct contender *c, uint64_t iters, double *t)
{
	TIMED_LOOP(pagemap_bulk(c->ctx));
}

/* ------------------------------------------------------------------------ */
/* The sections. */

static struct contender mk(const char *name, run_fn run, uint64_t arg)
{
	struct contender c = { .run = run, .arg = arg, .r = { .name = name } };

	if (!E.gm && (run == run_read_at || run == run_write_at || run == run_fill_at ||
		      run == run_cas || run == run_write_at_cold || run == run_read_plain ||
		      run == run_write_plain))
		skip_contender(&c, E.gm_err, E.gm_why);
	if (E.devfd < 0 && run == run_null_ioctl)
		skip_contender(&c, 0, "module not loaded: no /dev/guestmem");
	return c;
}

static const struct goal no_goal;
static const struct goal le_1_3 = { .max = 1.30, .text = "<= 1.30x" };
static const struct goal faster_4x = { .max = 0.25, .text = "<= 0.25x (4x faster)" };
static const struct goal faster_2x = { .max = 0.50, .text = "<= 0.50x (2x faster)" };
static const struct goal bw_85 = { .max = 1 / 0.85, .text = "<= 1.18x (85% of bw)" };
static const struct goal le_1_0 = { .max = 1.00, .text = "<= 1.00x" };
static const struct goal le_1_1 = { .max = 1.10, .text = "<= 1.10x" };
static const struct goal linear_90 = { .max = 1 / 0.9, .text = "<= 1.11x (0.9x linear)" };
static const struct goal faster_15x = { .max = 1 / 15.0, .text = "<= 0.067x (15x faster)" };
/* Direct access. */
static const struct goal le_3 = { .max = 3.0, .text = "<= 3.00x" };
static const struct goal faster_20x = { .max = 0.05, .text = "<= 0.05x (20x faster)" };
static const struct goal le_1_05 = { .max = 1.05, .text = "<= 1.05x" };

/* A contender of a direct row: libguestmem with direct access on. */
static struct contender mk_direct(const char *name, run_fn run, uint64_t arg)
{
	struct contender c = mk(name, run, arg);

	c.ctx = (void *)DIRECT;
	return c;
}

static void small_ops(void)
{
	struct contender c[] = {
		mk("read_at", run_read_at, 8),
		mk("write_at", run_write_at, 8),
		mk("compare_exchange", run_cas, 8),
		mk("null ioctl", run_null_ioctl, 0),
		mk("process_vm_readv", run_pvr, 8),
		mk("process_vm_writev", run_pvw, 8),
		mk("pread memfd", run_pread, 8),
		mk("pwrite memfd", run_pwrite, 8),
		mk_direct("read_at direct", run_read_at, 8),
		mk_direct("write_at direct", run_write_at, 8),
		mk_direct("compare_exchange direct", run_cas, 8),
		mk_direct("read_plain direct", run_read_plain, 8),
		mk_direct("write_plain direct", run_write_plain, 8),
		mk("8-byte load via pointer", run_ptr_load, 8),
		mk("8-byte store via pointer", run_ptr_store, 8),
		mk("lock cmpxchg via pointer", run_ptr_cas, 8),
	};

	section("8-byte accesses (pre-faulted; ours without 'direct': through the kernel)");
	measure(c, ARRAY_SIZE(c));
	row("read_at", 8, "pre-faulted", &c[0].r, &c[3].r, 1, NULL, le_1_3, "ns", NULL);
	row("read_at", 8, "pre-faulted", &c[0].r, &c[4].r, 1, NULL, faster_4x, "ns", NULL);
	row("read_at", 8, "pre-faulted", &c[0].r, &c[6].r, 1, NULL, faster_2x, "ns",
	    "goal from perf-anchors.md section 6");
	row("write_at", 8, "pre-faulted", &c[1].r, &c[3].r, 1, NULL, le_1_3, "ns", NULL);
	row("write_at", 8, "pre-faulted", &c[1].r, &c[5].r, 1, NULL, faster_4x, "ns", NULL);
	row("write_at", 8, "pre-faulted", &c[1].r, &c[7].r, 1, NULL, faster_2x, "ns",
	    "goal from perf-anchors.md section 6");
	row("compare_exchange", 8, "pre-faulted", &c[2].r, &c[3].r, 1, NULL, le_1_3, "ns", NULL);
	/* Direct access: against the same access through a pointer, and the null ioctl. */
	row("read_at direct", 8, "pre-faulted", &c[8].r, &c[13].r, 1, NULL, le_3, "ns", NULL);
	row("read_at direct", 8, "pre-faulted", &c[8].r, &c[3].r, 1, NULL, faster_20x, "ns", NULL);
	row("write_at direct", 8, "pre-faulted", &c[9].r, &c[14].r, 1, NULL, le_3, "ns", NULL);
	row("write_at direct", 8, "pre-faulted", &c[9].r, &c[3].r, 1, NULL, faster_20x, "ns", NULL);
	row("compare_exchange direct", 8, "pre-faulted", &c[10].r, &c[15].r, 1, NULL, le_3, "ns",
	    NULL);
	row("compare_exchange direct", 8, "pre-faulted", &c[10].r, &c[3].r, 1, NULL, faster_20x,
	    "ns", NULL);
	row("read_plain direct", 8, "pre-faulted", &c[11].r, &c[13].r, 1, NULL, le_3, "ns", NULL);
	row("write_plain direct", 8, "pre-faulted", &c[12].r, &c[14].r, 1, NULL, le_3, "ns", NULL);
}

static void bulk_ops(void)
{
	static const uint64_t sizes[] = { SZ_4K, SZ_64K, SZ_1M };
	size_t s;

	section("bulk copies and fills (pre-faulted; offsets step through 16 MiB; "
		"ours without 'direct': through the kernel)");
	for (s = 0; s < 3; s++) {
		uint64_t n = sizes[s];
		struct goal g = n >= SZ_64K ? bw_85 : no_goal;
		struct contender c[] = {
			mk("read_at", run_read_at, n),
			mk("write_at", run_write_at, n),
			mk("memcpy", run_memcpy_from, n),
			mk("memcpy", run_memcpy_to, n),
			mk("pread memfd", run_pread, n),
			mk("pwrite memfd", run_pwrite, n),
			mk("fill_at", run_fill_at, n),
			mk("memset", run_memset, n),
			mk_direct("read_at direct", run_read_at, n),
			mk_direct("write_at direct", run_write_at, n),
			mk_direct("fill_at direct", run_fill_at, n),
		};

		measure(c, ARRAY_SIZE(c));
		row("read_at", n, "pre-faulted", &c[0].r, &c[2].r, 1, NULL, g, "ns", NULL);
		row("read_at", n, "pre-faulted", &c[0].r, &c[4].r, 1, NULL, no_goal, "ns", NULL);
		row("write_at", n, "pre-faulted", &c[1].r, &c[3].r, 1, NULL, g, "ns", NULL);
		row("write_at", n, "pre-faulted", &c[1].r, &c[5].r, 1, NULL, no_goal, "ns", NULL);
		if (n >= SZ_64K)
			row("fill_at", n, "pre-faulted", &c[6].r, &c[7].r, 1, NULL, bw_85, "ns",
			    NULL);
		row("read_at direct", n, "pre-faulted", &c[8].r, &c[2].r, 1, NULL, le_1_05, "ns",
		    NULL);
		row("write_at direct", n, "pre-faulted", &c[9].r, &c[3].r, 1, NULL, le_1_05, "ns",
		    NULL);
		row("fill_at direct", n, "pre-faulted", &c[10].r, &c[7].r, 1, NULL, le_1_05, "ns",
		    NULL);
	}
}

static void cold_ops(void)
{
	struct contender c[] = {
		mk("write_at", run_write_at_cold, SZ_1M),
		mk("memcpy", run_memcpy_cold, SZ_1M),
		mk_direct("write_at direct", run_write_at_cold, SZ_1M),
	};

	c[0].single = c[1].single = c[2].single = true;
	section("cold memory (holes punched in the memfd before each sample)");
	measure(c, 3);
	row("write_at", SZ_1M, "cold", &c[0].r, &c[1].r, 1, NULL, bw_85, "ns",
	    "both sides fault in every page");
	row("write_at direct", SZ_1M, "cold", &c[2].r, &c[1].r, 1, NULL, no_goal, "ns",
	    "both sides fault in every page");
}

/*
 * A second process, as a device-emulation process reaches guest memory: it
 * receives the fd of a file-backed object over the arena's memfd (and
 * nothing else of the creator's guest memory: the library maps the file
 * through the object fd), and measures the direct rows there.  The
 * contenders run in the child; their results come back through a pipe
 * (struct result points only at string literals, which a fork child has at
 * the same addresses) and the rows are made here.
 */
static int send_fd(int sock, int fd)
{
	char data = 'F', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &data, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char data, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &data, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* In the child: adopt the object, measure @c, send the results back. */
static void second_process_measure(int sock, struct contender *c, size_t n)
{
	int fd = recv_fd(sock);
	size_t i;

	gm_release(E.gm);
	E.gm = NULL;
	if (fd >= 0 && !gm_from_fd(fd, &E.gm)) {
		measure(c, n);
	} else {
		for (i = 0; i < n; i++)
			skip_contender(&c[i], fd < 0 ? -fd : -gm_last_error()->errnum,
				       "no object in the second process");
	}
	for (i = 0; i < n; i++)
		if (write(sock, &c[i].r, sizeof(c[i].r)) != sizeof(c[i].r))
			_exit(1);
	_exit(0);
}

static void second_process_ops(void)
{
	struct contender c[] = {
		mk_direct("read_at direct", run_read_at, 8),
		mk_direct("write_at direct", run_write_at, 8),
		mk_direct("compare_exchange direct", run_cas, 8),
		mk("8-byte load via pointer", run_ptr_load, 8),
		mk("8-byte store via pointer", run_ptr_store, 8),
		mk("lock cmpxchg via pointer", run_ptr_cas, 8),
		mk("null ioctl", run_null_ioctl, 0),
		mk_direct("read_at direct", run_read_at, SZ_4K),
		mk_direct("write_at direct", run_write_at, SZ_4K),
		mk("memcpy", run_memcpy_from, SZ_4K),
		mk("memcpy", run_memcpy_to, SZ_4K),
		mk_direct("read_at direct", run_read_at, SZ_1M),
		mk_direct("write_at direct", run_write_at, SZ_1M),
		mk("memcpy", run_memcpy_from, SZ_1M),
		mk("memcpy", run_memcpy_to, SZ_1M),
	};
	const size_t n = ARRAY_SIZE(c);
	struct gm *file = NULL;
	int sv[2] = { -1, -1 }, rc = 0;
	size_t i;
	pid_t pid;

	section("a second process (\"2nd proc\"): a file-backed object over the arena's memfd,"
		" its fd passed over a unix socket, reached through the object fd's mmap");
	if (E.devfd < 0 || gm_new_file("gmbench-file", E.memfd, 0, ARENA, &file)) {
		for (i = 0; i < n; i++)
			skip_contender(&c[i], E.devfd < 0 ? 0 : gm_last_error()->errnum,
				       E.devfd < 0 ? E.gm_why : "no file-backed object");
		goto rows;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || (pid = fork()) < 0) {
		rc = errno;
		goto skip;
	}
	if (pid == 0) {
		close(sv[0]);
		second_process_measure(sv[1], c, n);
	}
	close(sv[1]);
	sv[1] = -1;
	rc = send_fd(sv[0], gm_fd(file));
	for (i = 0; !rc && i < n; i++)
		if (read(sv[0], &c[i].r, sizeof(c[i].r)) != sizeof(c[i].r))
			rc = EIO;
	waitpid(pid, NULL, 0);
skip:
	if (rc)
		for (i = 0; i < n; i++)
			skip_contender(&c[i], rc < 0 ? -rc : rc, "the second process failed");
rows:
	/* "2nd proc" in the memory column: the rows' names are the first section's. */
	for (i = 0; i < 3; i++) {
		row(c[i].r.name, 8, "2nd proc", &c[i].r, &c[3 + i].r, 1, NULL, le_3, "ns", NULL);
		row(c[i].r.name, 8, "2nd proc", &c[i].r, &c[6].r, 1, NULL, faster_20x, "ns", NULL);
	}
	for (i = 0; i < 2; i++) {
		row(c[7 + i].r.name, SZ_4K, "2nd proc", &c[7 + i].r, &c[9 + i].r, 1, NULL,
		    le_1_05, "ns", NULL);
		row(c[11 + i].r.name, SZ_1M, "2nd proc", &c[11 + i].r, &c[13 + i].r, 1, NULL,
		    le_1_05, "ns", NULL);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	gm_release(file);
}

static void thread_ops(void)
{
	int cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct goal g = linear_90;
	char why[96];
	struct contender c[] = {
		mk("read_at, 1 thread", run_threads, 1),
		mk("read_at, 2 threads", run_threads, 2),
		mk("pread, 1 thread", run_threads, 1),
		mk("pread, 2 threads", run_threads, 2),
	};

	c[2].ctx = c[3].ctx = &E;       /* pread: the control */
	if (!E.gm) {
		skip_contender(&c[0], E.gm_err, E.gm_why);
		skip_contender(&c[1], E.gm_err, E.gm_why);
	}
	section("threads (4 KiB reads through the kernel, each thread its own MiB, pinned to a CPU)");
	if (cpus < 2) {
		skip_contender(&c[1], 0, "only 1 CPU online");
		skip_contender(&c[3], 0, "only 1 CPU online");
	}
	measure(c, 4);
	/*
	 * When the kernel's own pread does not scale to the goal either, the
	 * machine (a busy host, TCG vCPUs) is the limit and the row says so.
	 */
	if (!c[2].r.err && !c[2].r.why && !c[3].r.err && !c[3].r.why &&
	    c[3].r.med / (c[2].r.med / 2) > g.max) {
		snprintf(why, sizeof(why), "the control, pread, scaled only %.2fx: machine-bound",
			 c[3].r.med / (c[2].r.med / 2));
		g.cannot_judge = why;
	}
	row("read_at x2 threads", SZ_4K, "pre-faulted", &c[1].r, &c[0].r, 0.5,
	    "1 thread / 2 (linear)", g, "ns", "aggregate time per operation");
	row("pread memfd x2 threads", SZ_4K, "pre-faulted", &c[3].r, &c[2].r, 0.5,
	    "1 thread / 2 (linear)", no_goal, "ns",
	    "control: how far the machine itself scales");
}

static void lock_ops(void)
{
	/* THP starts at 2 MiB: a smaller buffer cannot hold a huge page. */
	static const uint64_t sizes[2][3] = { { SZ_1M, SZ_64M, SZ_1G }, { SZ_2M, SZ_64M, SZ_1G } };
	long avail = sysconf(_SC_AVPHYS_PAGES) * sysconf(_SC_PAGESIZE);
	int ring = uring_open();
	int thp;
	size_t s;

	section("lock_gpns + release vs io_uring REGISTER/UNREGISTER_BUFFERS (per call)");
	for (thp = 0; thp < 2; thp++) {
		for (s = 0; s < 4; s++) {
			bool cold = s == 3;
			uint64_t n = cold ? SZ_64M : sizes[thp][s];
			static const char * const mems[2][2] = { { "4K", "4K cold" },
								 { "THP", "THP cold" } };
			const char *mem = mems[thp][cold];
			struct pinbuf b;
			struct contender c[] = {
				mk("lock_gpns+release", run_lock, n),
				mk("io_uring reg+unreg", run_uring, n),
				mk("first-touch memset", run_touch, n),
			};
			size_t k, nc = cold ? 3 : 2;
			struct result pin[2];
			int rc = 0;

			for (k = 0; k < 3; k++) {
				c[k].ctx = &b;
				phases(&c[k], k == 0 ? "lock" : "register", k == 0 ? "release" :
				       "unregister");
			}
			c[2].r.nphases = 0;
			memset(&b, 0, sizeof(b));
			if (n > opt_max_lock || (long)n > avail / 2)
				rc = -ENOMEM;
			else if (thp && !thp_available())
				rc = -ENOTSUP;
			else
				rc = pinbuf_alloc(&b, n, thp);
			b.cold = cold;
			b.ring = ring;
			for (k = 0; k < nc && rc; k++)
				skip_contender(&c[k], 0, rc == -ENOTSUP ? "THP disabled" :
					       "size over --max-lock or free memory");
			if (!rc && !b.gm)
				skip_contender(&c[0], E.gm_err, E.gm_why);
			if (ring < 0)
				skip_contender(&c[1], -ring, NULL);
			measure(c, nc);
			row("lock_gpns+release", n, mem, &c[0].r, &c[1].r, 1, NULL, le_1_0, "ns",
			    b.thp_note[0] ? b.thp_note : NULL);
			phase_rows(&c[0].r, &c[1].r, &pin[0], &pin[1]);
			row("lock_gpns (pin only)", n, mem, &pin[0], &pin[1], 1, NULL, le_1_0, "ns",
			    "the pin phase of the row above");
			if (cold)
				row("lock_gpns+release", n, mem, &c[0].r, &c[2].r, 1, NULL, le_1_1,
				    "ns", "goal from perf-anchors.md section 6");
			pinbuf_free(&b);
		}
	}
	if (ring >= 0)
		close(ring);
}

/*
 * Lock + IOVA map + unmap + unlock on an attached object, then the same
 * buffers through VFIO type1 on the same device bound to vfio-pci.  The
 * two cannot share the device at once, so they run one after the other.
 */
static void iova_ops(void)
{
	static const struct { uint64_t len; bool thp; } cases[] = {
		{ SZ_1M, false }, { SZ_64M, false }, { SZ_64M, true },
	};
	struct contender ours[3], peer[3];
	char old_driver[64] = "";
	bool bound = false;
	struct vfio v = { -1, -1 };
	const char *vwhy = NULL;
	int vrc = -ENODEV;
	size_t i;

	for (i = 0; i < 3; i++) {
		struct pinbuf b;
		int rc;

		ours[i] = mk("lock+map+unmap+unlock", run_lock, cases[i].len);
		phases(&ours[i], "lock+map", "unmap+unlock");
		if (!opt_device) {
			skip_contender(&ours[i], 0, "no device given (--device BDF)");
			continue;
		}
		rc = pinbuf_alloc(&b, cases[i].len, cases[i].thp);
		if (rc || !b.gm) {
			skip_contender(&ours[i], rc ? -rc : E.gm_err, rc ? NULL : E.gm_why);
		} else {
			rc = gm_attach_device(b.gm, opt_device);
			if (rc)
				skip_contender(&ours[i], -rc, NULL);
			ours[i].ctx = &b;
			measure(&ours[i], 1);
		}
		pinbuf_free(&b);
	}

	if (opt_vfio && opt_bind_vfio) {
		vrc = pci_bind_vfio(opt_vfio, old_driver, sizeof(old_driver));
		bound = !vrc;
		if (vrc)
			vwhy = "binding the device to vfio-pci failed";
	}
	if (!opt_vfio)
		vwhy = "no VFIO device given (--vfio BDF)";
	else if (!vwhy)
		vrc = vfio_open(&v, opt_vfio, &vwhy);
	for (i = 0; i < 3; i++) {
		struct pinbuf b;
		int rc;

		peer[i] = mk("VFIO MAP_DMA+UNMAP_DMA", run_vfio, cases[i].len);
		phases(&peer[i], "map", "unmap");
		if (vrc) {
			skip_contender(&peer[i], -vrc, vwhy);
			continue;
		}
		rc = pinbuf_alloc(&b, cases[i].len, cases[i].thp);
		if (rc) {
			skip_contender(&peer[i], -rc, NULL);
		} else {
			b.vfio = &v;
			peer[i].ctx = &b;
			measure(&peer[i], 1);
		}
		pinbuf_free(&b);
	}
	vfio_close(&v);
	if (bound)
		pci_restore_driver(opt_vfio, old_driver);

	section("lock + IOVA map + unmap + unlock vs VFIO type1 MAP_DMA + UNMAP_DMA (per call)");
	for (i = 0; i < 3; i++)
		row("lock+iova map/unmap", cases[i].len, cases[i].thp ? "THP" : "4K",
		    &ours[i].r, &peer[i].r, 1, NULL, le_1_0, "ns", "measured one after the other");
}

static void lookup_ops(void)
{
	struct lookup *l = calloc(1, sizeof(*l));
	struct gm_locked_pages *lp = NULL;
	struct pinbuf b;
	struct result ent = { .name = "entries returned" }, runs = { .name = "IOVA runs" };
	struct result rent = { .name = "runs returned" };
	int rc, brc;
	size_t i;

	if (!l)
		return;
	memset(&b, 0, sizeof(b));
	l->b = &b;
	l->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	struct contender c[] = {
		mk("gm_iova", run_iova, 8),
		mk("null ioctl", run_null_ioctl, 0),
		mk("pagemap open/read/close", run_pagemap, 8),
		mk("gm_iova_gpns x512", run_iova_batch, IOVA_PAGES),
		mk("pagemap bulk read x512", run_pagemap_bulk, IOVA_PAGES),
		mk("gm_iova_runs x512", run_iova_runs, IOVA_PAGES),
	};
	for (i = 0; i < ARRAY_SIZE(c); i++)
		c[i].ctx = l;

	rc = brc = pinbuf_alloc(&b, IOVA_PAGES * SZ_4K, false);
	if (rc || !b.gm) {
		skip_contender(&c[0], rc ? -rc : E.gm_err, rc ? NULL : E.gm_why);
	} else if (!opt_device) {
		skip_contender(&c[0], 0, "no device given (--device BDF)");
	} else {
		rc = gm_attach_device(b.gm, opt_device);
		if (!rc)
			rc = gm_lock_gpns(b.gm, false, b.gpns, IOVA_PAGES, &lp);
		if (rc)
			skip_contender(&c[0], -rc, NULL);
	}
	if (c[0].r.err || c[0].r.why) {
		skip_contender(&c[3], c[0].r.err, c[0].r.why);
		skip_contender(&c[5], c[0].r.err, c[0].r.why);
	}
	if (l->pagemap < 0)
		skip_contender(&c[4], errno, NULL);
	for (i = 2; i < 5 && brc; i += 2)
		skip_contender(&c[i], -brc, NULL);

	section("IOVA lookup (512 locked pages of an attached object) vs /proc/self/pagemap");
	measure(c, ARRAY_SIZE(c));
	row("gm_iova", 0, "locked", &c[0].r, &c[2].r, 1, "pagemap open/read/close", faster_15x,
	    "ns", "DPDK rte_mem_virt2phy style");
	row("gm_iova", 0, "locked", &c[0].r, &c[1].r, 1, NULL, le_1_3, "ns",
	    "goal from perf-anchors.md section 6");
	row("gm_iova_gpns x512", 0, "locked", &c[3].r, &c[4].r, 1, NULL, no_goal, "ns",
	    "per call of 512 pages");
	row("gm_iova_runs x512", 0, "locked", &c[5].r, &c[4].r, 1, NULL, no_goal, "ns",
	    "per call of 512 pages, answered as runs");

	/* Entries a caller gets back against the contiguous IOVA runs they describe. */
	if (c[3].r.err || c[3].r.why) {
		ent.err = runs.err = c[3].r.err;
		ent.why = runs.why = c[3].r.why;
	} else if (!gm_iova_gpns(b.gm, b.gpns, IOVA_PAGES, l->iovas)) {
		size_t n = 1;

		for (i = 1; i < IOVA_PAGES; i++)
			n += l->iovas[i] != l->iovas[i - 1] + SZ_4K;
		ent.min = ent.med = IOVA_PAGES;
		runs.min = runs.med = n;
		ent.samples = runs.samples = ent.iters = runs.iters = 1;
	}
	row("gm_iova_gpns x512", 0, "locked", &ent, &runs, 1, NULL,
	    (struct goal){ .max = 1.0, .text = "<= 1 entry per run" }, "entries",
	    "entries returned vs contiguous IOVA runs (one entry per page)");

	/* The same pages asked for as runs. */
	if (c[5].r.err || c[5].r.why) {
		rent.err = c[5].r.err;
		rent.why = c[5].r.why;
	} else if (!iova_runs_once(l)) {
		rent.min = rent.med = l->nr_runs;
		rent.samples = rent.iters = 1;
	} else {
		rent.err = EIO;
	}
	row("gm_iova_runs x512", 0, "locked", &rent, &runs, 1, NULL,
	    (struct goal){ .max = 1.0, .text = "<= 1 entry per run" }, "entries",
	    "runs returned vs contiguous IOVA runs");

	gm_locked_pages_release(lp);
	if (l->pagemap >= 0)
		close(l->pagemap);
	pinbuf_free(&b);
	free(l);
}

/* ------------------------------------------------------------------------ */

static int setup_arena(void)
{
	int rc;

	E.buf = aligned_alloc(SZ_2M, 2 * SZ_1M);
	E.memfd = memfd_create("gmbench", MFD_CLOEXEC);
	if (!E.buf || E.memfd < 0 || ftruncate(E.memfd, ARENA))
		return -errno;
	E.map = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_SHARED, E.memfd, 0);
	if (E.map == MAP_FAILED)
		return -errno;
	memset(E.map, 0x5a, ARENA);
	memset(E.buf, 0xa5, 2 * SZ_1M);

	E.devfd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
	if (E.devfd < 0) {
		E.gm_why = "module not loaded: no /dev/guestmem";
		return 0;
	}
	rc = gm_new("gmbench", E.map, ARENA, &E.gm);
	if (rc) {
		E.gm = NULL;
		E.gm_err = -rc;
	}
	return 0;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end | 0x20) {         /* lower case */
	case 'g':
		return v << 30;
	case 'm':
		return v << 20;
	case 'k':
		return v << 10;
	default:
		return v;
	}
}

static void usage(FILE *f)
{
	fputs("usage: gmbench [--json FILE] [--device BDF] [--vfio BDF [--bind-vfio]]\n"
	      "               [--max-lock SIZE] [--budget SECONDS] [--quick]\n"
	      "  --json FILE      also write the rows as JSON (bench/results/README.md)\n"
	      "  --device BDF     attach objects to this PCI device for the IOVA rows\n"
	      "  --vfio BDF       the VFIO peer on this device (bound to vfio-pci)\n"
	      "  --bind-vfio      bind it to vfio-pci with driver_override for the VFIO\n"
	      "                   rows, and give it back afterwards\n"
	      "  --max-lock SIZE  largest lock_gpns/io_uring buffer (default 1G)\n"
	      "  --budget S       measuring time per group of contenders (default 1)\n"
	      "  --quick          --budget 0.3 --max-lock 64M\n", f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "device", required_argument, NULL, 'd' },
		{ "vfio", required_argument, NULL, 'v' },
		{ "bind-vfio", no_argument, NULL, 'b' },
		{ "max-lock", required_argument, NULL, 'm' },
		{ "budget", required_argument, NULL, 't' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char cmd[512] = "", machine[160];
	struct utsname u;
	int o, i, rc;
	FILE *cpuinfo;
	char line[256];

	while ((o = getopt_long(argc, argv, "j:d:v:bm:t:qh", longopts, NULL)) != -1) {
		switch (o) {
		case 'j':
			bench_opts.json = fopen(optarg, "we");
			if (!bench_opts.json) {
				perror(optarg);
				return 1;
			}
			break;
		case 'd':
			opt_device = optarg;
			break;
		case 'v':
			opt_vfio = optarg;
			break;
		case 'b':
			opt_bind_vfio = true;
			break;
		case 'm':
			opt_max_lock = parse_size(optarg);
			break;
		case 't':
			bench_opts.budget_s = strtod(optarg, NULL);
			break;
		case 'q':
			bench_opts.budget_s = 0.3;
			opt_max_lock = SZ_64M;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (i = 0; i < argc; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "",
			 argv[i]);
	uname(&u);
	snprintf(machine, sizeof(machine), "%s", u.machine);
	cpuinfo = fopen("/proc/cpuinfo", "re");
	while (cpuinfo && fgets(line, sizeof(line), cpuinfo)) {
		char *p = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && p) {
			p[strcspn(p, "\n")] = 0;
			snprintf(machine, sizeof(machine), "%s,%s", u.machine, p + 1);
			break;
		}
	}
	if (cpuinfo)
		fclose(cpuinfo);

	rc = setup_arena();
	if (rc) {
		fprintf(stderr, "gmbench: setting up the arena: %s\n", strerror(-rc));
		return 1;
	}
	printf("gmbench on %s %s (%s), %ld CPUs\n", u.sysname, u.release, machine,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("ratio = ours / peer (medians of per-operation times; < 1: ours is faster);"
	       " min and median over the samples\n");
	printf("Absolute times depend on the machine; under QEMU TCG (make bench) they are"
	       " distorted, and only the ratios mean anything.\n");
	json_begin(u.release, machine, sysconf(_SC_NPROCESSORS_ONLN), cmd);

	small_ops();
	bulk_ops();
	cold_ops();
	second_process_ops();
	thread_ops();
	lock_ops();
	/* guestmem maps memory only for a device bound to its driver. */
	if (opt_device && gm_pci_bind(opt_device, NULL, NULL, 0))
		fprintf(stderr, "gmbench: cannot bind %s to guestmem: %s\n", opt_device,
			gm_last_error()->message);
	iova_ops();
	lookup_ops();

	table_end();
	json_end();
	if (bench_opts.json)
		fclose(bench_opts.json);
	gm_release(E.gm);
	return 0;
}
