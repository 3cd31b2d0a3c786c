// SPDX-License-Identifier: GPL-2.0
/*
 * Who pays for what guestmem pins and allocates, and that no process can
 * slip out of it.  The rules (Documentation/guestmem.rst, "Accounting"):
 *
 *  - pinned pages are charged to the user of the process that locks,
 *    against that process's RLIMIT_MEMLOCK, unless it has CAP_IPC_LOCK at
 *    that moment; the charge lasts as long as the pins, whatever becomes of
 *    the process, its mm, or the object's owner;
 *  - a page is pinned, and charged, once per lock however often its gpn is
 *    listed, and a lock charges before it pins, so a failing lock never
 *    holds more pins than the budget;
 *  - allocated objects charge their pages the same way;
 *  - what costs kernel memory without a charge is capped per object.
 *
 * Each subject runs as an unprivileged user (setresuid, no capabilities, a
 * uid of its own per test so that charges of one test never meet another's)
 * in a child process that reports through its exit status: 0 is success,
 * another number names the check that failed.  The parent, root, reads
 * what only root may read (FOLL_PIN counters, vmallocinfo, parameters).
 *
 * Pages here are kernel pages (HPAGE): what a lock pins, and what VmPin,
 * RLIMIT_MEMLOCK and the charges count.  With 4 KiB pages each is one gpn;
 * with 64 KiB pages a lock pins the page of a gpn once for all of its
 * SUBPAGES gpns, so the subjects lock every gpn of the pages they spend.
 */
#include <linux/guestmem.h>
#include <sys/ioctl.h>

#include "guestmem_utils.h"

#define LIMIT		8               /* RLIMIT_MEMLOCK of the subjects, in kernel pages */
#define GREEDY		(SZ_4M / HPAGE)	/* kernel pages of 4 MiB: far past LIMIT */
#define PARAMS		"/sys/module/guestmem/parameters/"

/*
 * Fresh, populated memory of @pages kernel pages and an object over it:
 * whole pages, so that every gpn of it can be locked.
 */
static struct gm *object_over(size_t pages, const char *name)
{
	struct gm *gm = NULL;
	void *mem;

	mem = mmap(NULL, pages * HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED || gm_new(name, mem, pages * HPAGE, &gm))
		return NULL;
	return gm;
}

/* Lock gpns @first .. @first + @n - 1. */
static int lock_gpns(struct gm *gm, uint64_t first, size_t n,
		     struct gm_locked_pages **lp)
{
	uint64_t *gpns = calloc(n ? n : 1, sizeof(*gpns));
	size_t i;
	int rc;

	if (!gpns)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		gpns[i] = first + i;
	rc = gm_lock_gpns(gm, false, gpns, n, lp);
	free(gpns);
	return rc;
}

/* Lock every gpn of kernel pages @first .. @first + @n - 1: @n pins. */
static int lock_pages(struct gm *gm, uint64_t first, size_t n,
		      struct gm_locked_pages **lp)
{
	return lock_gpns(gm, first * SUBPAGES, n * SUBPAGES, lp);
}

/* Run @fn as the unprivileged user @uid (RLIMIT_MEMLOCK @limit kernel pages). */
static int as_user(uid_t uid, long limit, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (gm_test_become_user(uid, true, limit))
			_exit(100);
		_exit(fn(arg));
	}
	return gm_test_wait(pid);
}

FIXTURE(acct) {
	bool ready;
};

FIXTURE_SETUP(acct)
{
	gm_require_module();
	ASSERT_EQ(0, gm_test_grant_device_group());
	self->ready = true;
}

FIXTURE_TEARDOWN(acct)
{
}

static int pins_up_to_the_limit(void *arg)
{
	struct gm_locked_pages *a, *b;
	struct gm *gm = object_over(2 * LIMIT, "limit");
	long pinned = gm_test_vmpin_pages();

	if (!gm)
		return 1;
	if (lock_pages(gm, 0, LIMIT, &a))
		return 2;
	/* One more gpn, of one more page, is one page too many. */
	if (lock_gpns(gm, LIMIT * SUBPAGES, 1, &b) != -ENOMEM)
		return 3;
	if (strcmp(gm_last_error()->message,
		   "guest memory 'limit': lock error: Cannot allocate memory"))
		return 4;
	if (gm_test_vmpin_pages() != pinned + LIMIT)
		return 5;
	gm_locked_pages_release(a);
	if (gm_test_vmpin_pages() != pinned)
		return 6;
	if (lock_pages(gm, LIMIT, LIMIT, &b))
		return 7;
	gm_locked_pages_release(b);
	gm_release(gm);
	return 0;
}

TEST_F(acct, an_unprivileged_user_pins_up_to_its_limit_and_no_further)
{
	EXPECT_EQ(0, as_user(4301, LIMIT, pins_up_to_the_limit, NULL));
}

/* Lock the whole budget and keep it in an object that survives exec. */
static struct gm *spend_the_budget(struct gm_locked_pages **lp)
{
	struct gm *gm = object_over(LIMIT, "spent");

	if (!gm || lock_pages(gm, 0, LIMIT, lp))
		return NULL;
	return gm;
}

/* A process of the same user, with the budget spent elsewhere: no room. */
static int no_room_left(void)
{
	struct gm_locked_pages *lp = (void *)1;
	struct gm *gm = object_over(1, "late");

	if (!gm)
		return 20;
	if (lock_gpns(gm, 0, 1, &lp) != -ENOMEM || lp)
		return 21;
	gm_release(gm);
	return 0;
}

/*
 * The image exec'd by carry_locks_across_exec() stops here, before the
 * harness starts: it checks that the object it carries still holds the
 * locks of the old image, and that their charge still counts.
 */
static void __attribute__((constructor)) exec_probe(void)
{
	const char *fd = getenv("GM_TEST_EXEC_PROBE_FD");
	struct guestmem_info info = { .size = sizeof(info) };

	if (!fd)
		return;
	if (ioctl(atoi(fd), GUESTMEM_INFO, &info))
		_exit(10);
	if (info.out_lock_count != 1 || info.out_pinned_pages != LIMIT)
		_exit(11);
	_exit(no_room_left());
}

static int carry_locks_across_exec(void *arg)
{
	struct gm_locked_pages *lp;
	struct gm *gm = spend_the_budget(&lp);
	char fd[16];

	if (!gm)
		return 1;
	/* The object, its locks and their charge go with the fd. */
	if (fcntl(gm_fd(gm), F_SETFD, 0))
		return 2;
	snprintf(fd, sizeof(fd), "%d", gm_fd(gm));
	setenv("GM_TEST_EXEC_PROBE_FD", fd, 1);
	execl("/proc/self/exe", "guestmem_accounting", (char *)NULL);
	return 3;
}

static int lock_the_whole_budget(void *arg)
{
	struct gm_locked_pages *lp;
	struct gm *gm = spend_the_budget(&lp);

	if (!gm)
		return 1;
	gm_locked_pages_release(lp);
	gm_release(gm);
	return 0;
}

/*
 * exec() gives the process a new mm, whose own counters start at zero: the
 * pins the old image left in an object that the new one carries stay
 * charged to the user until the object goes (review finding H2).
 */
TEST_F(acct, exec_does_not_give_a_fresh_budget)
{
	EXPECT_EQ(0, as_user(4302, LIMIT, carry_locks_across_exec, NULL));
	/* Once that process is gone, so are its pins and their charge. */
	EXPECT_EQ(0, as_user(4302, LIMIT, lock_the_whole_budget, NULL));
}

static int fork_then_lock(void *arg)
{
	struct gm_locked_pages *lp;
	struct gm *gm = spend_the_budget(&lp);
	pid_t pid;

	if (!gm)
		return 1;
	pid = fork();
	if (pid == 0)
		_exit(no_room_left());
	return gm_test_wait(pid);
}

/* A fork child, with memory and an object of its own, shares the budget. */
TEST_F(acct, fork_children_share_the_users_budget)
{
	EXPECT_EQ(0, as_user(4303, LIMIT, fork_then_lock, NULL));
}

static int sv[2];

static int spend_and_send(void *arg)
{
	struct gm_locked_pages *lp;
	struct gm *gm = spend_the_budget(&lp);

	if (!gm || gm_test_send_fd(sv[0], gm_fd(gm)))
		return 1;
	return 0;       /* exits with the locks held by the object in flight */
}

static int receive_then_lock(void *arg)
{
	struct gm_locked_pages *lp;
	int fd = gm_test_recv_fd(sv[1]);
	int rc;

	if (fd < 0)
		return 1;
	rc = no_room_left();
	if (rc)
		return rc;
	/* The last reference to the object: its locks and charge go. */
	close(fd);
	return lock_the_whole_budget(&lp);
}

/*
 * The owner locks, passes the object over a unix socket and exits: the
 * pins, kept by the object, stay charged to the user who made them.
 */
TEST_F(acct, a_passed_object_keeps_its_charge_after_the_owner_exits)
{
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(0, as_user(4304, LIMIT, spend_and_send, NULL));
	/* What was sent stays queued; if nothing was, the receiver sees EOF. */
	close(sv[0]);
	EXPECT_EQ(0, as_user(4304, LIMIT, receive_then_lock, NULL));
	close(sv[1]);
}

static int lock_roots_object(void *arg)
{
	struct gm *gm = arg;
	struct gm_locked_pages *lp = (void *)1;

	if (lock_pages(gm, 0, 4, &lp) != -ENOMEM || lp)
		return 1;
	if (lock_pages(gm, 0, 2, &lp))
		return 2;
	gm_locked_pages_release(lp);
	return 0;
}

/*
 * CAP_IPC_LOCK is the locking process's, when it locks: an object made by
 * root (who has it) does not lift the limit of a user it is handed to.
 */
TEST_F(acct, the_creators_cap_ipc_lock_does_not_pass_with_the_object)
{
	struct gm *gm = object_over(4, "roots");

	ASSERT_NE(NULL, gm);
	EXPECT_EQ(0, as_user(4305, 2, lock_roots_object, gm));
	gm_release(gm);
}

static int lock_repeats(void *arg)
{
	struct gm_locked_pages *a, *b;
	static uint64_t zeros[65536];
	/* gpn 0 and the first gpn of the next kernel page, over and over. */
	const uint64_t two[] = { SUBPAGES, 0, SUBPAGES, 0, SUBPAGES };
	struct gm *gm = object_over(4, "repeats");
	long pinned = gm_test_vmpin_pages();

	if (!gm)
		return 1;
	/* 65536 entries, one page: one pin, one page of a 2-page budget. */
	if (gm_lock_gpns(gm, false, zeros, 65536, &a))
		return 2;
	if (gm_locked_pages_count(a) != 65536)
		return 3;
	if (gm_test_vmpin_pages() != pinned + 1)
		return 4;
	/* Two distinct pages do not fit beside it... */
	if (gm_lock_gpns(gm, false, two, 5, &b) != -ENOMEM)
		return 5;
	gm_locked_pages_release(a);
	/* ...and fit alone. */
	if (gm_lock_gpns(gm, false, two, 5, &b))
		return 6;
	if (gm_test_vmpin_pages() != pinned + 2)
		return 7;
	gm_locked_pages_release(b);
	gm_release(gm);
	return 0;
}

/* Review finding M2: repeats used to be pinned, and charged, each time. */
TEST_F(acct, a_gpn_listed_many_times_is_pinned_and_charged_once)
{
	EXPECT_EQ(0, as_user(4306, 2, lock_repeats, NULL));
}

static int lock_far_too_much(void *arg)
{
	struct gm_locked_pages *lp = (void *)1;
	struct gm *gm = object_over(GREEDY, "greedy");

	if (!gm)
		return 1;
	if (lock_pages(gm, 0, GREEDY, &lp) != -ENOMEM || lp)
		return 2;
	gm_release(gm);
	return 0;
}

/*
 * A lock charges before it pins, a batch at a time: one far over the
 * limit fails without ever holding more pins than the budget (the kernel's
 * FOLL_PIN counters count every pin taken, even one given back at once).
 */
TEST_F(acct, a_lock_over_the_limit_never_pins_past_the_budget)
{
	long long acquired = gm_test_vmstat("nr_foll_pin_acquired");

	if (acquired < 0)
		SKIP(return, "no nr_foll_pin_acquired in /proc/vmstat");
	EXPECT_EQ(0, as_user(4307, LIMIT, lock_far_too_much, NULL));
	EXPECT_GE(acquired + LIMIT, gm_test_vmstat("nr_foll_pin_acquired"));
}

static int allocate_up_to_the_limit(void *arg)
{
	struct gm *a, *b = NULL;
	pid_t pid;
	int rc;

	if (gm_allocate(2 * LIMIT * HPAGE, &a))
		return 1;
	if (gm_allocate(SZ_4K, &b) != -ENOMEM || b)
		return 2;
	pid = fork();
	if (pid == 0)
		_exit(gm_allocate(SZ_4K, &b) == -ENOMEM ? 0 : 3);
	rc = gm_test_wait(pid);
	if (rc)
		return rc;
	gm_release(a);
	if (gm_allocate(2 * LIMIT * HPAGE, &b))
		return 4;
	gm_release(b);
	return 0;
}

/*
 * Allocated objects are unevictable kernel memory in no process's RSS:
 * charged to the creating user like pins (review finding M1).
 */
TEST_F(acct, allocated_memory_is_charged_to_the_user)
{
	EXPECT_EQ(0, as_user(4308, 2 * LIMIT, allocate_up_to_the_limit, NULL));
}

/*
 * A read-only lock pins (readable) pages like any other and is charged the
 * same; a writable lock of read-only memory fails and charges nothing.
 */
static int read_only_locks_pay_too(void *arg)
{
	struct gm_locked_pages *a, *b = (void *)1;
	size_t i, n = (LIMIT + 1) * SUBPAGES, len = (LIMIT + 1) * HPAGE;
	uint64_t *gpns = calloc(n, sizeof(*gpns));
	long pinned = gm_test_vmpin_pages();
	struct gm *gm;
	uint8_t *mem;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!gpns || mem == MAP_FAILED)
		return 1;
	memset(mem, 0x3c, len);
	if (mprotect(mem, len, PROT_READ) || gm_new("ro", mem, len, &gm))
		return 2;
	for (i = 0; i < n; i++)
		gpns[i] = i;
	if (gm_lock_gpns(gm, false, gpns, 1, &b) != -EFAULT || b)
		return 3;
	if (gm_test_vmpin_pages() != pinned)
		return 4;
	/* Every gpn of LIMIT kernel pages: the whole budget. */
	if (gm_lock_gpns_read_only(gm, false, gpns, LIMIT * SUBPAGES, &a))
		return 5;
	if (gm_test_vmpin_pages() != pinned + LIMIT)
		return 6;
	if (gm_lock_gpns_read_only(gm, false, gpns + LIMIT * SUBPAGES, 1, &b) != -ENOMEM)
		return 7;
	gm_locked_pages_release(a);
	if (gm_test_vmpin_pages() != pinned)
		return 8;
	gm_release(gm);
	free(gpns);
	return 0;
}

TEST_F(acct, read_only_locks_are_charged_as_writable_ones)
{
	EXPECT_EQ(0, as_user(4309, LIMIT, read_only_locks_pay_too, NULL));
}

/* Kernel mappings that guestmem made (vmalloc areas of guestmem code). */
static int guestmem_vmaps(void)
{
	FILE *f = fopen("/proc/vmallocinfo", "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "[guestmem]") && strstr(line, " vmap");
	fclose(f);
	return n;
}

/*
 * with_kernel_access from user space makes no kernel mapping: the pages
 * are pinned, which is all the kernel needs, and only an in-kernel
 * consumer could use a vmap (review finding M3: up to 4 GiB of vmalloc
 * space per lock, without any charge).
 */
TEST_F(acct, kernel_access_locks_from_user_space_map_nothing)
{
	static const uint64_t gpns[] = { 0, 1, 2, 3 };
	struct gm_locked_pages *a, *u;
	struct gm *alloc, *user;
	int before = guestmem_vmaps();

	if (before < 0)
		SKIP(return, "no /proc/vmallocinfo");
	test_gm_ok(gm_allocate(4 * SZ_4K, &alloc));
	user = object_over(4, "kaccess");
	ASSERT_NE(NULL, user);
	test_gm_ok(gm_lock_gpns(alloc, true, gpns, 4, &a));
	test_gm_ok(gm_lock_gpns(user, true, gpns, 4, &u));
	EXPECT_EQ(before, guestmem_vmaps());
	/* The pages are still the object's, and reachable as before. */
	EXPECT_EQ(4, gm_locked_pages_count(a));
	gm_locked_pages_release(a);
	gm_locked_pages_release(u);
	gm_release(alloc);
	gm_release(user);
}

static long read_param(const char *name)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	close(fd);
	return buf[0] ? strtol(buf, NULL, 0) : -1;
}

/* 0, or -errno of the write. */
static int write_param(const char *name, long val)
{
	char path[128], buf[32];
	int fd, rc = 0;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	snprintf(buf, sizeof(buf), "%ld", val);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, strlen(buf)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Locks of allocated memory, or borrowed from a preemptive view, pin and
 * charge nothing but still cost kernel memory: locks and their entries are
 * capped per object (review finding M3).
 */
TEST_F(acct, locks_and_locked_pages_per_object_are_capped)
{
	struct gm_locked_pages *a, *b, *c = (void *)1;
	long max_locks = read_param("max_locks");
	long max_pages = read_param("max_object_lock_pages");
	struct gm *gm;

	ASSERT_LT(0, max_locks);
	ASSERT_LT(0, max_pages);
	test_gm_ok(gm_allocate(16 * SZ_4K, &gm));
	ASSERT_EQ(0, write_param("max_object_lock_pages", 10));
	test_gm_ok(lock_gpns(gm, 0, 8, &a));
	test_gm_err(ENOSPC, GM_ERROR_OTHER,
		    "guest memory 'heap': lock error: No space left on device",
		    lock_gpns(gm, 0, 3, &c));
	EXPECT_EQ(NULL, c);
	test_gm_ok(lock_gpns(gm, 8, 2, &b));
	ASSERT_EQ(0, write_param("max_object_lock_pages", max_pages));
	ASSERT_EQ(0, write_param("max_locks", 2));
	test_gm_fails(ENOSPC, GM_ERROR_OTHER, lock_gpns(gm, 0, 1, &c));
	gm_locked_pages_release(b);
	test_gm_ok(lock_gpns(gm, 0, 1, &b));
	ASSERT_EQ(0, write_param("max_locks", max_locks));
	gm_locked_pages_release(a);
	gm_locked_pages_release(b);
	gm_release(gm);
}

/*
 * Each limit has a ceiling past which the arrays it sizes would outgrow
 * kvmalloc(), which warns: even root cannot set past it (review L7).
 */
TEST_F(acct, limits_refuse_values_past_their_ceiling)
{
	static const struct { const char *name; long bad; } rows[] = {
		{ "max_lock_pages", 1L << 30 },
		{ "max_alloc_bytes", (1L << 39) + 1 },
		{ "max_regions", 1L << 24 },
		{ "max_name_len", 1L << 20 },
		{ "max_locks", 1L << 30 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		long old = read_param(rows[i].name);

		ASSERT_LE(0, old) TH_LOG("%s", rows[i].name);
		EXPECT_EQ(-EINVAL, write_param(rows[i].name, rows[i].bad))
			TH_LOG("%s", rows[i].name);
		EXPECT_EQ(old, read_param(rows[i].name)) TH_LOG("%s", rows[i].name);
		/* Whatever happened, leave the limit as it was. */
		write_param(rows[i].name, old);
	}
}

TEST_HARNESS_MAIN
