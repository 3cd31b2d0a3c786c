// SPDX-License-Identifier: GPL-2.0
/*
 * Every ioctl scenario under fault injection, in the shape of
 * tools/testing/selftests/iommu/iommufd_fail_nth.c.
 *
 * A scenario is one call - an ioctl, close() or mmap() of an object fd, or
 * a library call - made with /proc/thread-self/fail-nth armed: the n-th
 * allocation (slab or page allocator, order 0 included) inside it fails.
 * The sweep arms n = 1, 2, ... until the call runs without reaching an
 * n-th injection point; n - 1 is the number of points its call chain has.
 * After every try, the call either did all its work, or failed with
 * -ENOMEM and did none of it:
 *
 *  - no object fd, no mapping of one, no object in the registry (netlink
 *    dump of the objects this process made);
 *  - no lock in GUESTMEM_INFO: lock count, locked and pinned pages as
 *    before, no device attached that was not;
 *  - VmPin of the owner (this process) and the system's FOLL_PIN
 *    references (nr_foll_pin_acquired - nr_foll_pin_released) as before;
 *  - no fault report: an allocation failure is not a guest fault.
 *
 * No signal is ever sent here, so -EINTR would be as wrong as any other
 * errno.  The fixture teardown, run after every try, closes what the try
 * made and checks that the process is back to where the setup found it.
 * The debug kernel adds KASAN, lockdep, the DMA-API checks and
 * panic_on_warn, and the runner checks kmemleak after the run.
 *
 * The calls with allocation sites of guestmem's own in a row (create,
 * views, attach, lock) are swept a second time out of memory: from the
 * n-th allocation on, every allocation of the call fails (see
 * TEST_FAIL_NTH_OOM for why).
 *
 * Needs CONFIG_FAULT_INJECTION (fail-nth), CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC with their debugfs knobs, and root: the debug
 * lane.  Without them every test skips.  Each test logs its number of
 * injection points; the program ends with the total, "# fail-nth: N
 * injection points over M scenarios".
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/guestmem.h>
#include <linux/guestmem_netlink.h>
#include <linux/netlink.h>

#include "guestmem_raw.h"

#define MEM_PAGES	16

/* The memfd of file-backed objects, MEM_PAGES pages, made by the first setup. */
static int file_memfd = -1;
#define EDU_BDF		GM_TEST_EDU

/* ------------------------------------------------------------------ */
/* The raw calls (more in guestmem_raw.h): 0 or -errno. */

static int new_user(int dev, void *base, uint64_t len, int *fd)
{
	static const char name[] = "fail-nth";
	struct guestmem_create_user cmd = {
		.size = sizeof(cmd),
		.name_uptr = (uintptr_t)name,
		.name_len = sizeof(name) - 1,
		.base_uptr = (uintptr_t)base,
		.len = len,
	};
	int rc = gm_raw(dev, GUESTMEM_CREATE_USER, &cmd);

	*fd = rc ? -1 : (int)cmd.out_fd;
	return rc;
}

/*
 * Five backings in 16 KiB regions of @mem, two of them holes, so 8 region
 * slots: gpns 0-1 (region 0), 8-10 (region 2), 16-17 (region 4).
 */
static int new_multi(int dev, uint8_t *mem, struct guestmem_create_multi *cmd,
		     int *fd)
{
	static const char name[] = "fail-nth multi";
	struct guestmem_backing b[5] = {
		[0] = { .base_uptr = (uintptr_t)mem, .len = 2 * PAGE,
			.flags = GUESTMEM_BACKING_PRESENT },
		[2] = { .base_uptr = (uintptr_t)mem + 4 * PAGE, .len = 3 * PAGE,
			.flags = GUESTMEM_BACKING_PRESENT },
		[4] = { .base_uptr = (uintptr_t)mem + 8 * PAGE, .len = 2 * PAGE,
			.flags = GUESTMEM_BACKING_PRESENT },
	};
	int rc;

	*cmd = (struct guestmem_create_multi){
		.size = sizeof(*cmd),
		.name_uptr = (uintptr_t)name,
		.name_len = sizeof(name) - 1,
		.backing_count = 5,
		.region_size = 4 * PAGE,
		.backings_uptr = (uintptr_t)b,
	};
	rc = gm_raw(dev, GUESTMEM_CREATE_MULTI, cmd);
	*fd = rc ? -1 : (int)cmd->out_fd;
	return rc;
}

static int new_alloc(int dev, uint64_t len, int *fd)
{
	struct guestmem_create_alloc cmd = { .size = sizeof(cmd), .len = len };
	int rc = gm_raw(dev, GUESTMEM_CREATE_ALLOC, &cmd);

	*fd = rc ? -1 : (int)cmd.out_fd;
	return rc;
}

static int new_file(int dev, int memfd, uint64_t len, int *fd)
{
	struct guestmem_create_file cmd = {
		.size = sizeof(cmd), .fd = memfd, .len = len,
	};
	int rc = gm_raw(dev, GUESTMEM_CREATE_FILE, &cmd);

	*fd = rc ? -1 : (int)cmd.out_fd;
	return rc;
}

static int new_empty(int dev, int *fd)
{
	struct guestmem_create_empty cmd = { .size = sizeof(cmd) };
	int rc = gm_raw(dev, GUESTMEM_CREATE_EMPTY, &cmd);

	*fd = rc ? -1 : (int)cmd.out_fd;
	return rc;
}

static int subrange(int obj, uint64_t off, uint64_t len, uint32_t flags,
		    struct guestmem_subrange *cmd, int *fd)
{
	int rc;

	*cmd = (struct guestmem_subrange){
		.size = sizeof(*cmd), .flags = flags, .offset = off, .len = len,
	};
	rc = gm_raw(obj, GUESTMEM_SUBRANGE, cmd);
	*fd = rc ? -1 : (int)cmd->out_fd;
	return rc;
}

/* ------------------------------------------------------------------ */
/* What a leak would show up as. */

/* The objects this process made, counted in a dump of the registry. */
struct nl {
	int fd;
	uint16_t family;
	uint32_t seq;
};

#define NLA_OK_IN(nla, rem) \
	((rem) >= NLA_HDRLEN && (nla)->nla_len >= NLA_HDRLEN && \
	 (nla)->nla_len <= (rem))
#define NLA_NEXT_IN(nla, rem) \
	((rem) -= NLA_ALIGN((nla)->nla_len), \
	 (struct nlattr *)((char *)(nla) + NLA_ALIGN((nla)->nla_len)))

static struct nlmsghdr *nl_request(struct nl *nl, char *buf, uint16_t type,
				   uint16_t flags, uint8_t cmd)
{
	struct nlmsghdr *nlh = (void *)buf;
	struct genlmsghdr *genl = NLMSG_DATA(nlh);

	memset(buf, 0, NLMSG_LENGTH(GENL_HDRLEN));
	nlh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl->cmd = cmd;
	genl->version = 1;
	return nlh;
}

/* Open a generic netlink socket and resolve "guestmem": 0 or -errno. */
static int nl_open(struct nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char req[64], buf[4096];
	struct nlmsghdr *nlh = nl_request(nl, req, GENL_ID_CTRL, 0,
					  CTRL_CMD_GETFAMILY);
	struct nlattr *nla = (void *)((char *)nlh + nlh->nlmsg_len);
	ssize_t len;
	int rem;

	nla->nla_type = CTRL_ATTR_FAMILY_NAME;
	nla->nla_len = NLA_HDRLEN + sizeof(GUESTMEM_GENL_NAME);
	memcpy((char *)nla + NLA_HDRLEN, GUESTMEM_GENL_NAME,
	       sizeof(GUESTMEM_GENL_NAME));
	nlh->nlmsg_len += NLA_ALIGN(nla->nla_len);

	nl->family = 0;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0 || bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(nl->fd, req, nlh->nlmsg_len, 0) < 0)
		return -errno;
	len = recv(nl->fd, buf, sizeof(buf), 0);
	nlh = (void *)buf;
	if (len < 0)
		return -errno;
	if (!NLMSG_OK(nlh, (size_t)len) || nlh->nlmsg_type == NLMSG_ERROR)
		return -EPROTO;
	rem = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	for (nla = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	     NLA_OK_IN(nla, rem); nla = NLA_NEXT_IN(nla, rem))
		if (nla->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&nl->family, (char *)nla + NLA_HDRLEN, 2);
	return nl->family ? 0 : -EPROTO;
}

/* Does one GET reply describe an object this process created? */
static bool nl_is_mine(const struct nlmsghdr *nlh)
{
	int rem = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	struct nlattr *nla;
	uint32_t pid;

	for (nla = (void *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	     NLA_OK_IN(nla, rem); nla = NLA_NEXT_IN(nla, rem)) {
		if (nla->nla_type != GUESTMEM_A_OWNER_PID)
			continue;
		memcpy(&pid, (char *)nla + NLA_HDRLEN, sizeof(pid));
		return pid == (uint32_t)getpid();
	}
	return false;
}

/* The live objects this process created, or -errno. */
static int nl_count_mine(struct nl *nl)
{
	static char buf[32768];
	int tries;

	for (tries = 0; tries < 10; tries++) {
		struct nlmsghdr *req = nl_request(nl, buf, nl->family,
						  NLM_F_DUMP, GUESTMEM_CMD_GET);
		uint32_t seq = req->nlmsg_seq;
		bool intr = false, done = false;
		int n = 0;

		if (send(nl->fd, req, req->nlmsg_len, 0) < 0)
			return -errno;
		while (!done) {
			ssize_t len = recv(nl->fd, buf, sizeof(buf), 0);
			struct nlmsghdr *nlh;

			if (len < 0)
				return -errno;
			for (nlh = (void *)buf; NLMSG_OK(nlh, (size_t)len);
			     nlh = NLMSG_NEXT(nlh, len)) {
				if (nlh->nlmsg_seq != seq)
					continue;
				if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
					intr = true;
				if (nlh->nlmsg_type == NLMSG_ERROR) {
					struct nlmsgerr *e = NLMSG_DATA(nlh);

					return e->error ?: -EPROTO;
				}
				if (nlh->nlmsg_type == NLMSG_DONE) {
					done = true;
					break;
				}
				n += nl_is_mine(nlh);
			}
		}
		if (!intr)
			return n;
	}
	return -EAGAIN;
}

/* The FOLL_PIN count is the whole system's: nothing else pins in the VM. */
struct footprint {
	int fds;		/* open fds */
	int maps;		/* mappings of object fds */
	int objects;		/* live objects this process created */
	long vmpin;		/* VmPin, pages */
	long long pins;		/* FOLL_PIN references held */
};

/* @pins: count FOLL_PIN references too (the slow part), else -1. */
static struct footprint __footprint(struct nl *nl, bool pins)
{
	struct footprint fp = {
		.fds = gm_test_count_fds(),
		.maps = gm_test_count_maps(),
		.objects = nl_count_mine(nl),
		.vmpin = gm_test_vmpin_pages(),
		.pins = pins ? gm_test_foll_pins() : -1,
	};

	return fp;
}

static struct footprint footprint(struct nl *nl)
{
	return __footprint(nl, true);
}

/*
 * Every round of a sweep sets up the same state, so the footprint at each
 * of these marks is measured in the first round only (each test runs in a
 * child process of its own): before the setup makes anything, before it
 * makes what the scenario closes, right before the armed call.
 */
enum mark { AT_SETUP, AT_TARGET, AT_CALL, NR_MARKS };

static const struct footprint *footprint_at(struct nl *nl, enum mark mark)
{
	static struct footprint fp[NR_MARKS];
	static bool taken[NR_MARKS];

	if (!taken[mark]) {
		fp[mark] = footprint(nl);
		taken[mark] = true;
	}
	return &fp[mark];
}

/* Everything as in @want; @when says which try this is. */
static void __expect_footprint(struct __test_metadata *_metadata,
			       struct nl *nl, const struct footprint *want,
			       const char *when, unsigned int n, bool pins)
{
	struct footprint now = __footprint(nl, pins);

	EXPECT_EQ(want->fds, now.fds) TH_LOG("%s, n %u: fd leak", when, n);
	EXPECT_EQ(want->maps, now.maps)
		TH_LOG("%s, n %u: mapping leak", when, n);
	EXPECT_EQ(want->objects, now.objects)
		TH_LOG("%s, n %u: object leak", when, n);
	EXPECT_EQ(want->vmpin, now.vmpin)
		TH_LOG("%s, n %u: VmPin %ld, want %ld", when, n, now.vmpin,
		       want->vmpin);
	if (pins)
		EXPECT_EQ(want->pins, now.pins)
			TH_LOG("%s, n %u: %lld FOLL_PIN references, want %lld",
			       when, n, now.pins, want->pins);
}

#define expect_footprint(nl, want, when) \
	__expect_footprint(_metadata, nl, want, when, _nth->n, true)

/* After a call that pins nothing: FOLL_PIN is left to the teardown. */
#define expect_footprint_but_pins(nl, want, when) \
	__expect_footprint(_metadata, nl, want, when, _nth->n, false)

/* The lock state GUESTMEM_INFO reports for an object fd. */
struct locks {
	uint32_t count;
	uint64_t locked, pinned;
	bool attached;
};

static struct locks locks_of(int obj)
{
	struct guestmem_info info;
	struct locks l = { .count = ~0U };

	if (info_of(obj, &info))
		return l;
	l.count = info.out_lock_count;
	l.locked = info.out_locked_pages;
	l.pinned = info.out_pinned_pages;
	l.attached = info.out_flags & GUESTMEM_INFO_ATTACHED;
	return l;
}

static void __expect_locks(struct __test_metadata *_metadata, int obj,
			   const struct locks *want, unsigned int n)
{
	struct locks now = locks_of(obj);

	EXPECT_EQ(want->count, now.count) TH_LOG("n %u: lock count", n);
	EXPECT_EQ(want->locked, now.locked) TH_LOG("n %u: locked pages", n);
	EXPECT_EQ(want->pinned, now.pinned) TH_LOG("n %u: pinned pages", n);
	EXPECT_EQ(want->attached, now.attached) TH_LOG("n %u: attached", n);
}

#define expect_locks(obj, want) __expect_locks(_metadata, obj, want, _nth->n)

/* The one errno an injected allocation failure may surface as. */
#define expect_enomem(rc) do {					\
	int __rc = (rc);						\
									\
	EXPECT_EQ(-ENOMEM, __rc)					\
		TH_LOG("n %u: %d (%s)", _nth->n, __rc, strerror(-__rc));	\
} while (0)

/* ------------------------------------------------------------------ */
/* fail-nth */

#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAIL_PAGE_ALLOC	"/sys/kernel/debug/fail_page_alloc/"
/* More than any call chain here has: a runaway sweep is a failure. */
#define FAIL_NTH_MAX	400
#define FAIL_NTH_TIMEOUT 120

static bool have_fault_injection;
/* The round of the sweep running now, for the teardown's messages. */
static unsigned int fail_nth_round;

/* Shared with the test children: what the sweeps counted. */
static struct fail_nth_total {
	unsigned int points;
	unsigned int scenarios;
} *fail_nth_total;

/* Write @val to a debugfs/procfs knob: 0 or -1. */
static int write_knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * Which page allocations fail-nth may fail: from order 0 (the object's own
 * pages, page tables, IOMMU page tables), or from order 1 (the kernel's
 * default) where a sweep over thousands of order-0 pages would be
 * pointless.
 */
static void fail_nth_min_order(const char *order)
{
	write_knob(FAIL_PAGE_ALLOC "min-order", order);
}

/*
 * After the n-th allocation has failed, fail every later one too, in the
 * tasks that ask for it (make-it-fail): what a machine out of memory does.
 * The task filter goes on first and off last: probability 100 without it
 * would fail the next allocation of the whole system.
 */
static int fail_after_nth(const char *dir, bool on)
{
	static const char *const knobs[][3] = {
		/* knob, on, off (the kernel's default) */
		{ "task-filter", "Y", "N" }, { "interval", "1", "1" },
		{ "times", "-1", "1" }, { "space", "0", "0" },
		{ "probability", "100", "0" },
	};
	const int n = ARRAY_SIZE(knobs);
	char path[128];
	int i, k;

	for (i = 0; i < n; i++) {
		k = on ? i : n - 1 - i;
		snprintf(path, sizeof(path), "%s%s", dir, knobs[k][0]);
		if (write_knob(path, knobs[k][on ? 1 : 2]))
			return -1;
	}
	return 0;
}

/*
 * Let fail-nth reach sleeping allocations and page allocations of any
 * order, quietly, as iommufd_fail_nth.c does; and arm the failures after
 * the n-th for the tasks that set make-it-fail (none but ours does).
 * fail_nth_exit() restores the kernel's defaults that matter.
 */
static __attribute__((constructor)) void fail_nth_init(void)
{
	cpu_set_t cpu0;

	fail_nth_total = mmap(NULL, sizeof(*fail_nth_total),
			      PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fail_nth_total == MAP_FAILED) {
		fail_nth_total = NULL;
		return;
	}
	if (access("/proc/thread-self/fail-nth", W_OK))
		return;
	/* One CPU's slabs: fewer refills that come and go between calls. */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	sched_setaffinity(0, sizeof(cpu0), &cpu0);
	if (write_knob(FAILSLAB "ignore-gfp-wait", "N") ||
	    write_knob(FAILSLAB "verbose", "0") ||
	    write_knob(FAIL_PAGE_ALLOC "ignore-gfp-wait", "N") ||
	    write_knob(FAIL_PAGE_ALLOC "ignore-gfp-highmem", "N") ||
	    write_knob(FAIL_PAGE_ALLOC "verbose", "0") ||
	    write_knob(FAIL_PAGE_ALLOC "min-order", "0") ||
	    fail_after_nth(FAILSLAB, true) ||
	    fail_after_nth(FAIL_PAGE_ALLOC, true))
		return;
	have_fault_injection = true;
}

/* The test children _exit(); only the harness itself gets here. */
static __attribute__((destructor)) void fail_nth_exit(void)
{
	if (have_fault_injection) {
		fail_after_nth(FAILSLAB, false);
		fail_after_nth(FAIL_PAGE_ALLOC, false);
		write_knob(FAIL_PAGE_ALLOC "min-order", "1");
	}
	if (fail_nth_total && fail_nth_total->scenarios)
		printf("# fail-nth: %u injection points over %u scenarios\n",
		       fail_nth_total->points, fail_nth_total->scenarios);
}

/* One round of a sweep: which point is armed, and what became of it. */
struct fail_nth {
	unsigned int n;
	bool exhaust;		/* every allocation after the n-th fails too */
	int fd;			/* /proc/thread-self/fail-nth while armed */
	int mif;		/* /proc/thread-self/make-it-fail, exhaust */
	bool armed;		/* the scenario reached its armed call */
	bool injected;		/* ... and its n-th point failed */
};

static void __fail_nth_arm(struct __test_metadata *_metadata,
			   struct fail_nth *nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", nth->n);

	/* One armed call per scenario. */
	ASSERT_FALSE(nth->armed);
	nth->armed = true;
	nth->mif = -1;
	if (nth->exhaust) {
		nth->mif = open("/proc/thread-self/make-it-fail",
				O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, nth->mif);
	}
	nth->fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth->fd);
	ASSERT_EQ(len, write(nth->fd, buf, len));
	/* Counting down, fail-nth keeps make-it-fail from acting. */
	if (nth->exhaust)
		ASSERT_EQ(1, pwrite(nth->mif, "1", 1, 0));
}

/*
 * What is left of the count tells: 0 when the n-th point was reached
 * (and failed), else how many points short of it the call stopped.
 */
static void __fail_nth_disarm(struct __test_metadata *_metadata,
			      struct fail_nth *nth)
{
	ssize_t mif = nth->exhaust ? pwrite(nth->mif, "0", 1, 0) : 1;
	char buf[16] = "";
	ssize_t len = pread(nth->fd, buf, sizeof(buf) - 1, 0);
	ssize_t off = pwrite(nth->fd, "0", 1, 0);

	close(nth->fd);
	if (nth->mif >= 0)
		close(nth->mif);
	ASSERT_EQ(1, mif);
	ASSERT_LT(0, len);
	ASSERT_EQ(1, off);
	nth->injected = atoi(buf) == 0;
}

/*
 * The value of @expr, evaluated with fail-nth armed, errno kept.  Nothing
 * else may run while armed: every buffer the call writes is touched
 * beforehand, so that no page fault of this process takes the n-th
 * allocation (or, exhausting, any after it).
 */
#define fail_nth(expr) ({						\
	__typeof__(expr) __v;						\
	int __errno;							\
									\
	__fail_nth_arm(_metadata, _nth);				\
	__v = (expr);							\
	__errno = errno;						\
	__fail_nth_disarm(_metadata, _nth);				\
	errno = __errno;						\
	__v;								\
})

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail_nth_count(struct __test_metadata *_metadata,
			   unsigned int points, double start)
{
	TH_LOG("%u injection points (%.1f s)", points, now_s() - start);
	if (fail_nth_total) {
		fail_nth_total->points += points;
		fail_nth_total->scenarios++;
	}
}

/*
 * One sweep of scenario @fn: rounds n = 1, 2, ... until the armed call no
 * longer reaches its n-th injection point; that last round must work.
 * Between rounds the fixture is torn down (its leak check) and set up
 * again.
 */
#define __FAIL_NTH_SWEEP(fixture, fn, oom) do {				\
	struct fail_nth nth = { .n = 1, .exhaust = oom };		\
	double start = now_s();						\
	int rc = -1;							\
									\
	if (_metadata->skip)						\
		return;							\
	for (;; nth.n++) {						\
		ASSERT_GT(FAIL_NTH_MAX, nth.n);				\
		fail_nth_round = nth.n;					\
		nth.armed = false;					\
		nth.injected = false;					\
		rc = fn(_metadata, self, variant, &nth);		\
		if (_metadata->skip)					\
			return;						\
		ASSERT_TRUE(nth.armed);					\
		if (!nth.injected)					\
			break;						\
		fixture##_teardown(_metadata, self, variant);		\
		fixture##_setup(_metadata, self, variant);		\
		ASSERT_FALSE(_metadata->skip);				\
	}								\
	/* Nothing failed in the last round: it must work. */		\
	ASSERT_EQ(0, rc) TH_LOG("n %u: %d without injection", nth.n, rc); \
	fail_nth_count(_metadata, nth.n - 1, start);			\
} while (0)

/*
 * TEST_FAIL_NTH(fixture, name) { ... } - a scenario, swept.  Its body runs
 * once per round after the fixture setup, arms fail-nth around exactly one
 * call with fail_nth(), checks what the call left, and returns 0 if the
 * call worked, else its -errno.
 */
#define TEST_FAIL_NTH(fixture, name)					\
	static int fail_nth_##fixture##_##name(				\
		struct __test_metadata *_metadata,			\
		FIXTURE_DATA(fixture) *self,				\
		const FIXTURE_VARIANT(fixture) *variant,		\
		struct fail_nth *_nth);					\
	TEST_F_TIMEOUT(fixture, name, FAIL_NTH_TIMEOUT)			\
	{								\
		__FAIL_NTH_SWEEP(fixture, fail_nth_##fixture##_##name,	\
				 false);				\
	}								\
	static int fail_nth_##fixture##_##name(				\
		struct __test_metadata __attribute__((unused)) *_metadata, \
		FIXTURE_DATA(fixture) __attribute__((unused)) *self,	\
		const FIXTURE_VARIANT(fixture)				\
			__attribute__((unused)) *variant,		\
		struct fail_nth *_nth)

/*
 * TEST_FAIL_NTH_OOM(fixture, name) - scenario @name swept again, out of
 * memory: from the n-th allocation on, every allocation of the call fails.
 *
 * The number of allocations in a call is not the same from one call to
 * the next (slab refills behind KASAN's quarantine, stack depot pages,
 * percpu chunks: an identical call varies by one or two), so a plain
 * sweep can step over an allocation site.  Out of memory, the first site
 * that fails is the first one at or after n, and every site gets its turn.
 */
#define TEST_FAIL_NTH_OOM(fixture, name)				\
	TEST_F_TIMEOUT(fixture, name##_out_of_memory, FAIL_NTH_TIMEOUT)	\
	{								\
		__FAIL_NTH_SWEEP(fixture, fail_nth_##fixture##_##name,	\
				 true);					\
	}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* RAM for the user-backed objects: small pages, present, writable. */
static uint8_t *map_ram(void)
{
	uint8_t *mem = mmap(NULL, MEM_PAGES * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	madvise(mem, MEM_PAGES * PAGE, MADV_NOHUGEPAGE);
	memset(mem, 0x5a, MEM_PAGES * PAGE);
	return mem;
}

/*
 * What every fixture starts with: fault injection (else skip), the device,
 * the netlink socket, RAM, and the footprint before anything is made.  The
 * first three are made once per test and kept: each round would otherwise
 * spend more time on them than on the call it sweeps.
 */
struct base {
	int dev;
	struct nl nl;
	uint8_t *mem;
	struct footprint before;
};

static void base_setup(struct __test_metadata *_metadata, struct base *b)
{
	static struct base kept = { .dev = -1 };

	b->dev = -1;
	b->nl.fd = -1;
	b->mem = NULL;
	if (!have_fault_injection)
		SKIP(return, "no fault injection (fail-nth, failslab, fail_page_alloc)");
	if (kept.dev < 0) {
		kept.dev = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
		if (kept.dev < 0 && (errno == ENOENT || errno == ENODEV))
			SKIP(return, "guestmem module not loaded");
		ASSERT_LE(0, kept.dev);
		ASSERT_EQ(0, nl_open(&kept.nl));
		kept.mem = map_ram();
		ASSERT_NE(NULL, kept.mem);
		file_memfd = memfd_create("fail_nth", MFD_CLOEXEC);
		ASSERT_LE(0, file_memfd);
		ASSERT_EQ(0, ftruncate(file_memfd, MEM_PAGES * PAGE));
	}
	*b = kept;
	fail_nth_min_order("0");
	b->before = *footprint_at(&b->nl, AT_SETUP);
	ASSERT_LE(0, b->before.objects);
	ASSERT_LE(0, b->before.vmpin);
	ASSERT_LE(0, b->before.pins) TH_LOG("no nr_foll_pin_* in /proc/vmstat");
}

/* After the fixture closed what it made: back to where setup began. */
static void base_teardown(struct __test_metadata *_metadata, struct base *b)
{
	if (b->dev >= 0 && !_metadata->skip)
		__expect_footprint(_metadata, &b->nl, &b->before, "teardown",
				   fail_nth_round, true);
}

/* ------------------------------------------------------------------ */
/* The objects the scenarios work on. */

enum kind { USER, MULTI, ALLOC, EMPTY, FILE_BACKED };

static const uint32_t obj_type[] = {
	[USER] = GUESTMEM_OBJ_USER, [MULTI] = GUESTMEM_OBJ_MULTI,
	[ALLOC] = GUESTMEM_OBJ_ALLOC, [EMPTY] = GUESTMEM_OBJ_EMPTY,
	[FILE_BACKED] = GUESTMEM_OBJ_FILE,
};

/* An object of @kind over @mem (user kinds) or of 4 allocated pages. */
static int make_object(int dev, enum kind kind, uint8_t *mem, int *fd)
{
	struct guestmem_create_multi multi;

	switch (kind) {
	case USER:
		return new_user(dev, mem, MEM_PAGES * PAGE, fd);
	case MULTI:
		return new_multi(dev, mem, &multi, fd);
	case ALLOC:
		return new_alloc(dev, 4 * PAGE, fd);
	case FILE_BACKED:
		return new_file(dev, file_memfd, MEM_PAGES * PAGE, fd);
	default:
		return new_empty(dev, fd);
	}
}

/* @len bytes of @obj from guest address 0 read back as zeroes? */
static bool reads_zero(int obj, uint64_t gpa, uint64_t len)
{
	static uint8_t buf[4 * PAGE];
	struct guestmem_rw cmd = {
		.size = sizeof(cmd), .gpa = gpa, .len = len,
		.buf_uptr = (uintptr_t)buf,
	};
	uint64_t i;

	memset(buf, 0xff, sizeof(buf));
	if (len > sizeof(buf) || gm_raw(obj, GUESTMEM_READ, &cmd))
		return false;
	for (i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Creating objects: an object fd that works, or nothing at all. */

FIXTURE(create) {
	struct base b;
	int obj;
	void *map;
	struct gm *gm;
};

FIXTURE_SETUP(create)
{
	self->obj = -1;
	self->map = MAP_FAILED;
	self->gm = NULL;
	base_setup(_metadata, &self->b);
	if (_metadata->skip)
		return;
}

FIXTURE_TEARDOWN(create)
{
	bool made = self->obj >= 0 || self->map != MAP_FAILED || self->gm;

	if (self->map != MAP_FAILED)
		munmap(self->map, 4 * PAGE);
	self->map = MAP_FAILED;
	gm_release(self->gm);
	self->gm = NULL;
	close_fd(&self->obj);
	/* A failed create was checked against the same footprint already. */
	if (made)
		base_teardown(_metadata, &self->b);
}

/* The failed create left nothing: no fd, no object, no mapping. */
#define expect_nothing_made(rc) do {					\
	expect_enomem(rc);						\
	EXPECT_EQ(-1, self->obj);					\
	expect_footprint_but_pins(&self->b.nl, &self->b.before,	\
				  "failed create");			\
} while (0)

/* ... and one that worked made exactly one object, of this type. */
static void __expect_made(struct __test_metadata *_metadata,
			  FIXTURE_DATA(create) *self, uint32_t type)
{
	struct guestmem_info info;

	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_EQ(type, info.out_type);
	EXPECT_EQ(self->b.before.objects + 1, nl_count_mine(&self->b.nl));
	EXPECT_EQ(self->b.before.fds + 1, gm_test_count_fds());
}

#define expect_made(type) __expect_made(_metadata, self, type)

TEST_FAIL_NTH(create, user)
{
	int rc = fail_nth(new_user(self->b.dev, self->b.mem, MEM_PAGES * PAGE,
				   &self->obj));

	if (rc) {
		expect_nothing_made(rc);
		return rc;
	}
	expect_made(GUESTMEM_OBJ_USER);
	return 0;
}

TEST_FAIL_NTH(create, multi_region_with_holes)
{
	struct guestmem_create_multi cmd;
	struct guestmem_info info;
	int rc;

	rc = fail_nth(new_multi(self->b.dev, self->b.mem, &cmd, &self->obj));
	if (rc) {
		expect_nothing_made(rc);
		/* Out of memory is not a broken multi-region rule. */
		EXPECT_EQ(GUESTMEM_MR_OK, cmd.out_reason);
		return rc;
	}
	expect_made(GUESTMEM_OBJ_MULTI);
	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_EQ(8, info.out_region_count);
	return 0;
}

/* Every page of a small object is an injection point of its own. */
TEST_FAIL_NTH(create, allocated)
{
	int rc = fail_nth(new_alloc(self->b.dev, 4 * PAGE, &self->obj));

	if (rc) {
		expect_nothing_made(rc);
		return rc;
	}
	expect_made(GUESTMEM_OBJ_ALLOC);
	EXPECT_TRUE(reads_zero(self->obj, 0, 4 * PAGE));
	return 0;
}

TEST_FAIL_NTH_OOM(create, allocated)

/*
 * 64 MiB: the page array (128 KiB) is a kvcalloc(), a kmalloc() that falls
 * back to vmalloc().  With one failure the fallback always works; out of
 * memory it fails too, and the page array is not there, which the release
 * path used to walk anyway (review finding H1, fixed in 80d672f).  The
 * 16384 pages are not swept one by one (order 0 is left out here,
 * "allocated" does that).
 */
TEST_FAIL_NTH(create, allocated_64m)
{
	const uint64_t len = 64 * SZ_1M;
	struct guestmem_info info;
	int rc;

	fail_nth_min_order("1");
	rc = fail_nth(new_alloc(self->b.dev, len, &self->obj));
	fail_nth_min_order("0");
	if (rc) {
		expect_nothing_made(rc);
		return rc;
	}
	expect_made(GUESTMEM_OBJ_ALLOC);
	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_EQ(len, info.out_full_mapping_len);
	EXPECT_TRUE(reads_zero(self->obj, len - PAGE, PAGE));
	return 0;
}

TEST_FAIL_NTH_OOM(create, allocated_64m)

/* A file-backed object: the file held and counted as a writable mapping, or neither. */
TEST_FAIL_NTH(create, file)
{
	int rc = fail_nth(new_file(self->b.dev, file_memfd, MEM_PAGES * PAGE,
				   &self->obj));

	uint8_t b[16];

	if (rc) {
		expect_nothing_made(rc);
		return rc;
	}
	expect_made(GUESTMEM_OBJ_FILE);
	EXPECT_EQ(0, gm_read(self->obj, MEM_PAGES * PAGE - 16, b, 16, NULL));
	return 0;
}

TEST_FAIL_NTH(create, empty)
{
	int rc = fail_nth(new_empty(self->b.dev, &self->obj));

	if (rc) {
		expect_nothing_made(rc);
		return rc;
	}
	expect_made(GUESTMEM_OBJ_EMPTY);
	return 0;
}

/* mmap() of an allocated object: a mapping of its pages, or none. */
TEST_FAIL_NTH(create, mmap_of_allocated_memory)
{
	const struct footprint *before;
	uint8_t *map;

	ASSERT_EQ(0, new_alloc(self->b.dev, 4 * PAGE, &self->obj));
	before = footprint_at(&self->b.nl, AT_CALL);
	map = fail_nth(mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			    self->obj, 0));
	if (map == MAP_FAILED) {
		int rc = -errno;

		expect_enomem(rc);
		expect_footprint_but_pins(&self->b.nl, before, "failed mmap");
		return rc;
	}
	self->map = map;
	EXPECT_EQ(before->maps + 1, gm_test_count_maps());
	EXPECT_EQ(0, map[3 * PAGE]);
	map[3 * PAGE] = 0xa5;
	EXPECT_FALSE(reads_zero(self->obj, 3 * PAGE, 1));
	return 0;
}

/*
 * The library's gm_allocate(): open the device, CREATE_ALLOC, INFO twice
 * and mmap() - a handle, or no fd and no mapping left behind.
 */
TEST_FAIL_NTH(create, library_allocate)
{
	struct gm *warm;
	int rc;

	/* Warm malloc up: a page fault of its own would take the n-th. */
	ASSERT_EQ(0, gm_allocate(4 * PAGE, &warm));
	gm_release(warm);
	rc = fail_nth(gm_allocate(4 * PAGE, &self->gm));
	if (rc) {
		expect_enomem(rc);
		EXPECT_EQ(ENOMEM, gm_last_error()->errnum);
		expect_footprint_but_pins(&self->b.nl, &self->b.before,
					  "failed gm_allocate");
		self->gm = NULL;
		return rc;
	}
	EXPECT_EQ(self->b.before.maps + 1, gm_test_count_maps());
	EXPECT_EQ(self->b.before.objects + 1, nl_count_mine(&self->b.nl));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Calls on an object of each kind: views, INFO, device attach. */

FIXTURE(object) {
	struct base b;
	int obj;
	int view;
};

FIXTURE_VARIANT(object) {
	enum kind kind;
	uint64_t view_offset, view_len;	/* a view inside one region */
};

FIXTURE_VARIANT_ADD(object, user) {
	.kind = USER, .view_offset = PAGE, .view_len = 4 * PAGE,
};

FIXTURE_VARIANT_ADD(object, multi) {
	.kind = MULTI, .view_offset = 8 * PAGE, .view_len = 2 * PAGE,
};

FIXTURE_VARIANT_ADD(object, allocated) {
	.kind = ALLOC, .view_offset = PAGE, .view_len = 2 * PAGE,
};

FIXTURE_VARIANT_ADD(object, empty) {
	.kind = EMPTY,
};

FIXTURE_VARIANT_ADD(object, file) {
	.kind = FILE_BACKED, .view_offset = PAGE, .view_len = 4 * PAGE,
};

FIXTURE_SETUP(object)
{
	self->obj = -1;
	self->view = -1;
	base_setup(_metadata, &self->b);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, make_object(self->b.dev, variant->kind, self->b.mem,
				 &self->obj));
}

FIXTURE_TEARDOWN(object)
{
	close_fd(&self->view);
	close_fd(&self->obj);
	base_teardown(_metadata, &self->b);
}

/* A view, or no fd, no object and no fault report. */
static int __view_under_fail_nth(struct __test_metadata *_metadata,
				 FIXTURE_DATA(object) *self,
				 const FIXTURE_VARIANT(object) *variant,
				 struct fail_nth *_nth, uint32_t flags)
{
	const struct footprint *before = footprint_at(&self->b.nl, AT_CALL);
	struct locks held = locks_of(self->obj);
	struct guestmem_subrange cmd;
	struct guestmem_info info;
	int rc;

	rc = fail_nth(subrange(self->obj, variant->view_offset,
			       variant->view_len, flags, &cmd, &self->view));
	if (rc) {
		expect_enomem(rc);
		EXPECT_EQ(0, cmd.out_fault.flags);
		expect_locks(self->obj, &held);
		expect_footprint(&self->b.nl, before, "failed subrange");
		return rc;
	}
	ASSERT_EQ(0, info_of(self->view, &info));
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_SUBRANGE);
	EXPECT_EQ(variant->view_offset, info.out_subrange_offset);
	EXPECT_EQ(before->objects + 1, nl_count_mine(&self->b.nl));
	return 0;
}

TEST_FAIL_NTH(object, subrange)
{
	const struct footprint *before = footprint_at(&self->b.nl, AT_CALL);
	int rc = __view_under_fail_nth(_metadata, self, variant, _nth, 0);

	if (!rc)
		EXPECT_EQ(before->pins, gm_test_foll_pins());
	return rc;
}

/*
 * allow_preemptive_locking is best effort: whatever fails inside it, the
 * view is made, with its pages pinned (GUESTMEM_INFO_PREEMPTIVE) or with
 * none.  Only user memory and files are pinned (allocated memory needs no
 * pins), and without an injected failure they are.
 */
TEST_FAIL_NTH(object, subrange_with_preemptive_locking)
{
	const struct footprint *before = footprint_at(&self->b.nl, AT_CALL);
	long long pages = variant->view_len / PAGE;
	bool user = variant->kind == USER || variant->kind == MULTI ||
		    variant->kind == FILE_BACKED;
	struct guestmem_info info;
	int rc;

	rc = __view_under_fail_nth(_metadata, self, variant, _nth,
				   GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING);
	if (rc)
		return rc;
	ASSERT_EQ(0, info_of(self->view, &info));
	if (!(info.out_flags & GUESTMEM_INFO_PREEMPTIVE)) {
		EXPECT_TRUE(_nth->injected || !user)
			TH_LOG("n %u: not pinned, nothing failed", _nth->n);
		EXPECT_EQ(0, info.out_pinned_pages);
		EXPECT_EQ(before->pins, gm_test_foll_pins());
		EXPECT_EQ(before->vmpin, gm_test_vmpin_pages());
		return 0;
	}
	EXPECT_TRUE(user);
	EXPECT_EQ(pages, info.out_pinned_pages);
	EXPECT_EQ(before->pins + pages, gm_test_foll_pins());
	return 0;
}

TEST_FAIL_NTH_OOM(object, subrange_with_preemptive_locking)

TEST_FAIL_NTH(object, info)
{
	struct guestmem_region_info regions[8];
	struct guestmem_info info;
	char name[64];
	int rc;

	memset(regions, 0xff, sizeof(regions));
	memset(name, 0xff, sizeof(name));
	info = (struct guestmem_info){
		.size = sizeof(info),
		.name_uptr = (uintptr_t)name, .name_capacity = sizeof(name),
		.regions_uptr = (uintptr_t)regions, .region_capacity = 8,
	};
	rc = fail_nth(gm_raw(self->obj, GUESTMEM_INFO, &info));
	if (rc) {
		expect_enomem(rc);
		return rc;
	}
	EXPECT_EQ(obj_type[variant->kind], info.out_type);
	EXPECT_EQ(info.out_name_len, strlen(name));
	return 0;
}

/*
 * GUESTMEM_ATTACH_DEVICE: attached, or not attached and free to attach
 * (an allocated object is DMA-mapped as a whole here).
 */
TEST_FAIL_NTH(object, attach_device)
{
	const struct footprint *before = footprint_at(&self->b.nl, AT_CALL);
	struct locks held = locks_of(self->obj);
	uint64_t gpn = 3, iova = 0;
	struct guestmem_iova cmd;
	int rc;

	if (!have_edu())
		SKIP(return 0, "no edu device at " EDU_BDF);
	rc = fail_nth(attach_edu(self->obj));
	if (rc) {
		expect_enomem(rc);
		expect_locks(self->obj, &held);
		expect_footprint_but_pins(&self->b.nl, before, "failed attach");
		return rc;
	}
	EXPECT_TRUE(locks_of(self->obj).attached);
	EXPECT_EQ(-EBUSY, attach_edu(self->obj));
	if (variant->kind == ALLOC) {
		EXPECT_EQ(0, iova_of(self->obj, &gpn, 1, &iova, &cmd));
		EXPECT_NE(0, iova);
	}
	return 0;
}

TEST_FAIL_NTH_OOM(object, attach_device)

/* ------------------------------------------------------------------ */
/* Locks, and the calls on a lock: unlock, close, IOVAs. */

/* A lock as a scenario makes it: through what, of which pages. */
struct shape {
	enum kind kind;
	enum { DIRECT, VIEW, PREEMPTIVE_VIEW } through;
	bool attach;		/* edu attached, IOVAs asked with the lock */
	uint32_t flags;		/* GUESTMEM_LOCK_* */
	const uint64_t *gpns;
	unsigned int count;
	unsigned int distinct;	/* pages, a duplicate pinned once or twice */
	uint64_t run_gpn, run_len;	/* consecutive locked pages */
};

/* Views of the lock shapes: pages 4-11 of the user object. */
#define VIEW_OFFSET	(4 * PAGE)
#define VIEW_LEN	(8 * PAGE)

#define GPNS(...) \
	.gpns = (const uint64_t[]){ __VA_ARGS__ }, \
	.count = sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t)

/* What the lock and iova fixtures hold. */
struct env {
	struct base b;
	int obj, view;
	int target;			/* obj or view: locks go through it */
	struct footprint before_target;	/* before the target was made */
	uint32_t id;			/* the lock the scenario made */
	uint64_t iovas[16];		/* its IOVAs, with a device */
};

static void env_setup(struct __test_metadata *_metadata, struct env *e,
		      const struct shape *s)
{
	struct guestmem_subrange cmd;
	struct guestmem_info info;

	e->obj = -1;
	e->view = -1;
	e->target = -1;
	e->id = 0;
	base_setup(_metadata, &e->b);
	if (_metadata->skip)
		return;
	if (s->attach && !have_edu())
		SKIP(return, "no edu device at " EDU_BDF);
	ASSERT_EQ(0, make_object(e->b.dev, s->kind, e->b.mem, &e->obj));
	if (s->attach)
		ASSERT_EQ(0, attach_edu(e->obj));
	if (s->through == DIRECT) {
		e->before_target = e->b.before;
		e->target = e->obj;
		return;
	}
	e->before_target = *footprint_at(&e->b.nl, AT_TARGET);
	ASSERT_EQ(0, subrange(e->obj, VIEW_OFFSET, VIEW_LEN,
			      s->through == PREEMPTIVE_VIEW ?
			      GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING : 0,
			      &cmd, &e->view));
	ASSERT_EQ(0, info_of(e->view, &info));
	ASSERT_EQ(s->through == PREEMPTIVE_VIEW,
		  !!(info.out_flags & GUESTMEM_INFO_PREEMPTIVE));
	e->target = e->view;
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	close_fd(&e->view);
	close_fd(&e->obj);
	e->target = -1;
	base_teardown(_metadata, &e->b);
}

/* The lock of shape @s through the target: 0 or -errno. */
static int env_lock(struct env *e, const struct shape *s,
		    struct guestmem_lock_gpns *cmd)
{
	int rc;

	memset(e->iovas, 0, sizeof(e->iovas));
	rc = lock_gpns(e->target, s->gpns, s->count, s->flags,
		       s->attach ? e->iovas : NULL, cmd);
	e->id = rc ? 0 : cmd->out_lock_id;
	return rc;
}

/* Which entry's IOVA is @iova?  Some entry for the same gpn must have it. */
static bool lock_has_iova(const struct env *e, const struct shape *s,
			  uint64_t gpn, uint64_t iova)
{
	unsigned int i;

	for (i = 0; i < s->count; i++)
		if (s->gpns[i] == gpn && e->iovas[i] == iova)
			return true;
	return false;
}

/*
 * A lock that worked holds its pages: one more lock, each entry locked
 * (a duplicate once or twice), the pins INFO counts are the pins the
 * kernel took - none for allocated memory or borrowed from a preemptive
 * view - and, with a device, every page has the IOVA the lock returned.
 */
static void expect_locked(struct __test_metadata *_metadata,
			  const struct env *e, const struct shape *s,
			  const struct footprint *before,
			  const struct locks *held,
			  const struct guestmem_lock_gpns *cmd)
{
	bool pins = s->kind != ALLOC && s->through != PREEMPTIVE_VIEW;
	struct locks now = locks_of(e->target);
	long long pinned = gm_test_foll_pins() - before->pins;
	unsigned int i;

	EXPECT_NE(0, cmd->out_lock_id);
	EXPECT_EQ(held->count + 1, now.count);
	EXPECT_LE(s->distinct, now.locked - held->locked);
	EXPECT_GE(s->count, now.locked - held->locked);
	EXPECT_EQ(pinned, (long long)(now.pinned - held->pinned));
	EXPECT_LE(pins ? s->distinct : 0, pinned);
	EXPECT_GE(pins ? s->count : 0, pinned);
	if (!s->attach)
		return;
	EXPECT_TRUE(cmd->out_flags & GUESTMEM_LOCK_OUT_IOVAS);
	for (i = 0; i < s->count; i++) {
		struct guestmem_iova icmd;
		uint64_t iova = 0;

		EXPECT_EQ(0, iova_of(e->target, &s->gpns[i], 1, &iova, &icmd));
		EXPECT_TRUE(lock_has_iova(e, s, s->gpns[i], iova))
			TH_LOG("gpn %#llx: IOVA %#llx is no entry's",
			       (unsigned long long)s->gpns[i],
			       (unsigned long long)iova);
	}
}

/* The shapes of the lock fixture; lock_out_of_memory sweeps some again. */
#define CONTIGUOUS { .kind = USER, GPNS(0, 1, 2, 3, 4, 5, 6, 7), .distinct = 8 }
#define SCATTERED { .kind = USER, GPNS(9, 2, 14, 5, 11), .distinct = 5 }
#define DUPLICATES { .kind = USER, GPNS(3, 3, 7, 3, 8, 7), .distinct = 3 }
#define KERNEL_ACCESS { .kind = USER, .flags = GUESTMEM_LOCK_KERNEL_ACCESS, \
			GPNS(1, 4, 4, 6), .distinct = 3 }
#define MULTI_REGION { .kind = MULTI, GPNS(0, 1, 9, 10, 16, 17, 9), \
		       .distinct = 6 }
#define ALLOCATED { .kind = ALLOC, GPNS(0, 3, 3, 1), .distinct = 3 }
#define FILE_PAGES { .kind = FILE_BACKED, GPNS(0, 1, 2, 3, 1), .distinct = 4 }
#define ATTACHED_FILE { .kind = FILE_BACKED, .attach = true, GPNS(2, 0, 5, 2), \
			.distinct = 3 }
#define THROUGH_VIEW { .kind = USER, .through = VIEW, GPNS(0, 5, 2, 2, 7), \
		       .distinct = 4 }
#define PREEMPTIVE { .kind = USER, .through = PREEMPTIVE_VIEW, \
		     GPNS(0, 5, 2, 2, 7), .distinct = 4 }
/* The list of the lock test in guestmem_abi_lock.c, now with its IOVAs. */
#define ATTACHED { .kind = USER, .attach = true, GPNS(0, 1, 2, 3, 1), \
		   .distinct = 4 }
#define ATTACHED_VIEW { .kind = USER, .through = VIEW, .attach = true, \
			GPNS(1, 2, 3, 6, 2), .distinct = 4 }
#define ATTACHED_PREEMPTIVE { .kind = USER, .through = PREEMPTIVE_VIEW, \
			      .attach = true, GPNS(1, 2, 3, 6, 2), \
			      .distinct = 4 }
#define ATTACHED_ALLOCATED { .kind = ALLOC, .attach = true, \
			     GPNS(0, 3, 3, 1), .distinct = 3 }

/* GUESTMEM_LOCK_GPNS: the lock, or nothing pinned, charged or mapped. */
static int __lock_under_fail_nth(struct __test_metadata *_metadata,
				 struct env *e, const struct shape *s,
				 struct fail_nth *_nth)
{
	const struct footprint *before = footprint_at(&e->b.nl, AT_CALL);
	struct locks held = locks_of(e->target);
	struct guestmem_lock_gpns cmd;
	int rc;

	rc = fail_nth(env_lock(e, s, &cmd));
	if (rc) {
		expect_enomem(rc);
		EXPECT_EQ(0, cmd.out_lock_id);
		EXPECT_EQ(0, cmd.out_flags);
		EXPECT_EQ(0, cmd.out_fault.flags);
		expect_locks(e->target, &held);
		expect_footprint(&e->b.nl, before, "failed lock");
		return rc;
	}
	expect_locked(_metadata, e, s, before, &held, &cmd);
	return 0;
}

FIXTURE(lock) {
	struct env e;
};

FIXTURE_VARIANT(lock) {
	struct shape s;
};

FIXTURE_VARIANT_ADD(lock, contiguous) { .s = CONTIGUOUS };
FIXTURE_VARIANT_ADD(lock, scattered) { .s = SCATTERED };
FIXTURE_VARIANT_ADD(lock, duplicates) { .s = DUPLICATES };
FIXTURE_VARIANT_ADD(lock, kernel_access) { .s = KERNEL_ACCESS };
FIXTURE_VARIANT_ADD(lock, multi_region) { .s = MULTI_REGION };
FIXTURE_VARIANT_ADD(lock, allocated) { .s = ALLOCATED };
FIXTURE_VARIANT_ADD(lock, file) { .s = FILE_PAGES };
FIXTURE_VARIANT_ADD(lock, view) { .s = THROUGH_VIEW };
FIXTURE_VARIANT_ADD(lock, preemptive_view) { .s = PREEMPTIVE };
FIXTURE_VARIANT_ADD(lock, attached) { .s = ATTACHED };
FIXTURE_VARIANT_ADD(lock, attached_view) { .s = ATTACHED_VIEW };
FIXTURE_VARIANT_ADD(lock, attached_preemptive_view) {
	.s = ATTACHED_PREEMPTIVE
};
FIXTURE_VARIANT_ADD(lock, attached_allocated) { .s = ATTACHED_ALLOCATED };
FIXTURE_VARIANT_ADD(lock, attached_file) { .s = ATTACHED_FILE };

FIXTURE_SETUP(lock)
{
	env_setup(_metadata, &self->e, &variant->s);
}

FIXTURE_TEARDOWN(lock)
{
	env_teardown(_metadata, &self->e);
}

TEST_FAIL_NTH(lock, lock_gpns)
{
	return __lock_under_fail_nth(_metadata, &self->e, &variant->s, _nth);
}

/* GUESTMEM_UNLOCK_GPNS cannot fail: everything goes back. */
TEST_FAIL_NTH(lock, unlock)
{
	const struct footprint *before = footprint_at(&self->e.b.nl, AT_CALL);
	struct locks held = locks_of(self->e.target);
	struct guestmem_lock_gpns cmd;
	int rc;

	ASSERT_EQ(0, env_lock(&self->e, &variant->s, &cmd));
	rc = fail_nth(unlock_gpns(self->e.target, self->e.id));
	EXPECT_EQ(0, rc) TH_LOG("n %u: unlock failed: %d", _nth->n, rc);
	expect_locks(self->e.target, &held);
	expect_footprint(&self->e.b.nl, before, "unlock");
	return rc;
}

/*
 * close() of the object (or view) the locks were made through: release
 * cannot fail, and leaves nothing of it - the object, its locks, their
 * pins and DMA mappings.  Two locks, so that release walks a table.
 */
TEST_FAIL_NTH(lock, close_with_locks_held)
{
	struct guestmem_lock_gpns cmd;
	int rc, *fd;

	ASSERT_EQ(0, env_lock(&self->e, &variant->s, &cmd));
	ASSERT_EQ(0, env_lock(&self->e, &variant->s, &cmd));
	fd = self->e.target == self->e.view ? &self->e.view : &self->e.obj;
	rc = fail_nth(close(*fd));
	*fd = -1;
	self->e.target = -1;
	EXPECT_EQ(0, rc);
	expect_footprint(&self->e.b.nl, &self->e.before_target,
			 "close with locks held");
	return rc;
}

/*
 * GUESTMEM_LOCK_GPNS out of memory (see TEST_FAIL_NTH_OOM), for the shapes
 * whose error paths differ: user pages pinned, pages vmapped, pages of
 * the object itself, pins borrowed from a preemptive view, DMA-mapped.
 */
FIXTURE(lock_out_of_memory) {
	struct env e;
};

FIXTURE_VARIANT(lock_out_of_memory) {
	struct shape s;
};

FIXTURE_VARIANT_ADD(lock_out_of_memory, scattered) { .s = SCATTERED };
FIXTURE_VARIANT_ADD(lock_out_of_memory, kernel_access) {
	.s = KERNEL_ACCESS
};
FIXTURE_VARIANT_ADD(lock_out_of_memory, allocated) { .s = ALLOCATED };
FIXTURE_VARIANT_ADD(lock_out_of_memory, preemptive_view) {
	.s = PREEMPTIVE
};
FIXTURE_VARIANT_ADD(lock_out_of_memory, attached) { .s = ATTACHED };
FIXTURE_VARIANT_ADD(lock_out_of_memory, attached_view) {
	.s = ATTACHED_VIEW
};

FIXTURE_SETUP(lock_out_of_memory)
{
	env_setup(_metadata, &self->e, &variant->s);
}

FIXTURE_TEARDOWN(lock_out_of_memory)
{
	env_teardown(_metadata, &self->e);
}

TEST_FAIL_NTH(lock_out_of_memory, lock_gpns)
{
	_nth->exhaust = true;
	return __lock_under_fail_nth(_metadata, &self->e, &variant->s, _nth);
}

/* The IOVA queries of an attached object, on a lock made beforehand. */
FIXTURE(iova) {
	struct env e;
};

FIXTURE_VARIANT(iova) {
	struct shape s;
};

/* No page of the run twice: each has one IOVA. */
FIXTURE_VARIANT_ADD(iova, user) {
	.s = { .kind = USER, .attach = true, GPNS(0, 1, 2, 3, 9, 5, 9),
	       .distinct = 6, .run_gpn = 0, .run_len = 4 },
};

FIXTURE_VARIANT_ADD(iova, view) {
	.s = { .kind = USER, .through = VIEW, .attach = true,
	       GPNS(1, 2, 3, 6, 6), .distinct = 4, .run_gpn = 1,
	       .run_len = 3 },
};

FIXTURE_VARIANT_ADD(iova, allocated) {
	.s = { .kind = ALLOC, .attach = true, GPNS(0, 3, 3, 1),
	       .distinct = 3, .run_gpn = 0, .run_len = 4 },
};

FIXTURE_SETUP(iova)
{
	struct guestmem_lock_gpns cmd;

	env_setup(_metadata, &self->e, &variant->s);
	if (_metadata->skip)
		return;
	ASSERT_EQ(0, env_lock(&self->e, &variant->s, &cmd));
	ASSERT_TRUE(cmd.out_flags & GUESTMEM_LOCK_OUT_IOVAS);
}

FIXTURE_TEARDOWN(iova)
{
	env_teardown(_metadata, &self->e);
}

TEST_FAIL_NTH(iova, iova)
{
	const struct shape *s = &variant->s;
	const struct footprint *before = footprint_at(&self->e.b.nl, AT_CALL);
	struct guestmem_iova cmd;
	uint64_t iovas[16];
	unsigned int i;
	int rc;

	memset(iovas, 0, sizeof(iovas));
	rc = fail_nth(iova_of(self->e.target, s->gpns, s->count, iovas, &cmd));
	if (rc) {
		expect_enomem(rc);
		expect_footprint_but_pins(&self->e.b.nl, before, "failed iova");
		return rc;
	}
	for (i = 0; i < s->count; i++)
		EXPECT_TRUE(lock_has_iova(&self->e, s, s->gpns[i], iovas[i]))
			TH_LOG("entry %u: IOVA %#llx is no entry's", i,
			       (unsigned long long)iovas[i]);
	return 0;
}

TEST_FAIL_NTH(iova, iova_runs)
{
	const struct shape *s = &variant->s;
	const struct footprint *before = footprint_at(&self->e.b.nl, AT_CALL);
	struct guestmem_iova_run want[16], runs[16];
	struct guestmem_iova_runs cmd;
	unsigned int nr, i;
	int rc;

	nr = expected_runs(self->e.target, s->run_gpn, s->run_len, want);
	ASSERT_LT(0, nr);
	memset(runs, 0, sizeof(runs));
	rc = fail_nth(iova_runs_of(self->e.target, s->run_gpn, s->run_len, runs,
				   16, &cmd));
	if (rc) {
		expect_enomem(rc);
		expect_footprint_but_pins(&self->e.b.nl, before, "failed iova_runs");
		return rc;
	}
	EXPECT_EQ(s->run_len, cmd.out_gpn_count);
	ASSERT_EQ(nr, cmd.out_nr_runs);
	for (i = 0; i < nr; i++) {
		EXPECT_EQ(want[i].gpn, runs[i].gpn);
		EXPECT_EQ(want[i].npages, runs[i].npages);
		EXPECT_EQ(want[i].iova, runs[i].iova);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The library's lock_range: GUESTMEM_LOCK_GPNS with IOVAs, and segments. */

FIXTURE(library) {
	struct base b;
	struct gm *gm;
	struct gm_paged_range range;
	struct gm_locked_range *lr;
	size_t segments;
};

FIXTURE_VARIANT(library) {
	bool attach;
};

FIXTURE_VARIANT_ADD(library, plain) {
	.attach = false,
};

FIXTURE_VARIANT_ADD(library, attached) {
	.attach = true,
};

/* Bytes 100 .. 5 pages + 50 of pages 0, 1, 2, 5, 6, 9: three segments. */
static const uint64_t range_gpns[] = { 0, 1, 2, 5, 6, 9 };

FIXTURE_SETUP(library)
{
	self->gm = NULL;
	self->lr = NULL;
	base_setup(_metadata, &self->b);
	if (_metadata->skip)
		return;
	if (variant->attach && !have_edu())
		SKIP(return, "no edu device at " EDU_BDF);
	test_gm_ok(gm_new("fail-nth", self->b.mem, MEM_PAGES * PAGE, &self->gm));
	if (variant->attach)
		test_gm_ok(gm_attach_device(self->gm, EDU_BDF));
	test_gm_ok(gm_paged_range_init(&self->range, 100, 5 * PAGE + 50 - 100,
				       range_gpns, 6));
	/* Once unarmed: the segment count, and malloc warmed up. */
	test_gm_ok(gm_lock_range(self->gm, &self->range, &self->lr));
	self->segments = gm_locked_range_count(self->lr);
	gm_locked_range_release(self->lr);
	self->lr = NULL;
}

FIXTURE_TEARDOWN(library)
{
	gm_locked_range_release(self->lr);
	self->lr = NULL;
	gm_release(self->gm);
	self->gm = NULL;
	base_teardown(_metadata, &self->b);
}

TEST_FAIL_NTH(library, lock_range)
{
	const struct footprint *before = footprint_at(&self->b.nl, AT_CALL);
	struct locks held = locks_of(gm_fd(self->gm));
	struct gm_segment seg;
	size_t i;
	int rc;

	rc = fail_nth(gm_lock_range(self->gm, &self->range, &self->lr));
	if (rc) {
		expect_enomem(rc);
		EXPECT_EQ(NULL, self->lr);
		EXPECT_EQ(ENOMEM, gm_last_error()->errnum);
		expect_locks(gm_fd(self->gm), &held);
		expect_footprint(&self->b.nl, before, "failed lock_range");
		return rc;
	}
	ASSERT_EQ(self->segments, gm_locked_range_count(self->lr));
	for (i = 0; i < self->segments; i++) {
		ASSERT_EQ(0, gm_locked_range_segment(self->lr, i, &seg));
		EXPECT_NE(NULL, seg.va);
		EXPECT_EQ(variant->attach, seg.has_iova);
	}
	return 0;
}

TEST_HARNESS_MAIN
