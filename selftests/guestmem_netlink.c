// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "guestmem": the dump and the doit report
 * exactly the objects this test made, with their sizes, owner, locks and
 * device; counters move with the calls; objects vanish when closed; events
 * arrive in order; an unprivileged process sees only its own objects and
 * cannot join the events group; a dump of 2000+ objects returns each once;
 * `gmem show -j` is valid JSON and agrees with the dump, whatever bytes the
 * debug names and command names hold.
 *
 * The netlink client here is a few plain socket calls (the selftests link
 * statically, and libmnl ships no static library), so it checks the kernel
 * independently of gmem's own libmnl code.
 */
#include <ctype.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/guestmem_netlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "guestmem_utils.h"

#define EDU_BDF "0000:00:03.0"
#define NOBODY 65534

/* One object as a GET reply or an event reports it. */
struct nl_obj {
	uint8_t cmd;
	uint32_t id, kind, base_id, pid, uid, region_count, lock_count, files, subranges;
	uint64_t size, region_size, locked, pinned, dma_mapped;
	uint64_t reads, writes, bytes, faults, locks, unlocks, lock_failures;
	char name[64], comm[16], device[32];
};

struct nl {
	int fd;
	uint16_t family;
	uint32_t events;
	uint32_t seq;
};

static void nl_put(struct nlmsghdr *nlh, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *nla = (void *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

static struct nlmsghdr *nl_msg(struct nl *nl, char *buf, uint16_t type, uint16_t flags,
			       uint8_t cmd)
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

#define nl_for_each_attr(nla, start, len, rem)                                    \
	for (nla = (struct nlattr *)(start), rem = (int)(len);                       \
	     rem >= NLA_HDRLEN && nla->nla_len >= NLA_HDRLEN && nla->nla_len <= rem;  \
	     rem -= NLA_ALIGN(nla->nla_len),                                          \
	     nla = (struct nlattr *)((char *)nla + NLA_ALIGN(nla->nla_len)))

#define NL_ATTRS(nlh) ((char *)NLMSG_DATA(nlh) + GENL_HDRLEN)
#define NL_ATTRLEN(nlh) ((nlh)->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN)
#define NLA_DATA(nla) ((char *)(nla) + NLA_HDRLEN)

static uint64_t nla_uint(const struct nlattr *nla)
{
	uint32_t v32;
	uint64_t v;

	if (nla->nla_len == NLA_HDRLEN + 8) {
		memcpy(&v, NLA_DATA(nla), 8);
		return v;
	}
	memcpy(&v32, NLA_DATA(nla), 4);
	return v32;
}

static void nla_str(char *dst, size_t len, const struct nlattr *nla)
{
	snprintf(dst, len, "%.*s", (int)(nla->nla_len - NLA_HDRLEN), NLA_DATA(nla));
}

static void nl_parse(const struct nlmsghdr *nlh, struct nl_obj *o)
{
	const struct genlmsghdr *genl = NLMSG_DATA(nlh);
	struct nlattr *nla;
	int rem;

	memset(o, 0, sizeof(*o));
	o->cmd = genl->cmd;
	nl_for_each_attr(nla, NL_ATTRS(nlh), NL_ATTRLEN(nlh), rem) {
		switch (nla->nla_type) {
		case GUESTMEM_A_ID: o->id = nla_uint(nla); break;
		case GUESTMEM_A_NAME: nla_str(o->name, sizeof(o->name), nla); break;
		case GUESTMEM_A_KIND: o->kind = nla_uint(nla); break;
		case GUESTMEM_A_BASE_ID: o->base_id = nla_uint(nla); break;
		case GUESTMEM_A_OWNER_PID: o->pid = nla_uint(nla); break;
		case GUESTMEM_A_OWNER_UID: o->uid = nla_uint(nla); break;
		case GUESTMEM_A_OWNER_COMM: nla_str(o->comm, sizeof(o->comm), nla); break;
		case GUESTMEM_A_SIZE: o->size = nla_uint(nla); break;
		case GUESTMEM_A_REGION_COUNT: o->region_count = nla_uint(nla); break;
		case GUESTMEM_A_REGION_SIZE: o->region_size = nla_uint(nla); break;
		case GUESTMEM_A_LOCK_COUNT: o->lock_count = nla_uint(nla); break;
		case GUESTMEM_A_LOCKED_PAGES: o->locked = nla_uint(nla); break;
		case GUESTMEM_A_PINNED_PAGES: o->pinned = nla_uint(nla); break;
		case GUESTMEM_A_DMA_MAPPED: o->dma_mapped = nla_uint(nla); break;
		case GUESTMEM_A_DEVICE: nla_str(o->device, sizeof(o->device), nla); break;
		case GUESTMEM_A_FILES: o->files = nla_uint(nla); break;
		case GUESTMEM_A_SUBRANGES: o->subranges = nla_uint(nla); break;
		case GUESTMEM_A_READS: o->reads = nla_uint(nla); break;
		case GUESTMEM_A_WRITES: o->writes = nla_uint(nla); break;
		case GUESTMEM_A_BYTES: o->bytes = nla_uint(nla); break;
		case GUESTMEM_A_FAULTS: o->faults = nla_uint(nla); break;
		case GUESTMEM_A_LOCKS: o->locks = nla_uint(nla); break;
		case GUESTMEM_A_UNLOCKS: o->unlocks = nla_uint(nla); break;
		case GUESTMEM_A_LOCK_FAILURES: o->lock_failures = nla_uint(nla); break;
		}
	}
}

/*
 * Send @req and collect the reply messages (up to @cap) until NLMSG_DONE or
 * the ack.  Returns the number of messages, or -errno; *intr tells whether
 * a message carried NLM_F_DUMP_INTR.
 */
static int nl_run(struct nl *nl, struct nlmsghdr *req, struct nl_obj *objs, int cap,
		  bool *intr)
{
	static char buf[65536];
	int n = 0;

	*intr = false;
	if (send(nl->fd, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nl->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;

		if (len < 0)
			return -errno;
		for (nlh = (void *)buf; NLMSG_OK(nlh, (size_t)len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				*intr = true;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return n;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error ? e->error : n;
			}
			if (n < cap)
				nl_parse(nlh, &objs[n]);
			n++;
		}
	}
}

static int nl_grp_id(struct nlattr *grps, uint32_t *id)
{
	struct nlattr *grp, *a;
	int rem, rem2;

	nl_for_each_attr(grp, NLA_DATA(grps), grps->nla_len - NLA_HDRLEN, rem) {
		uint32_t gid = 0;
		bool match = false;

		nl_for_each_attr(a, NLA_DATA(grp), grp->nla_len - NLA_HDRLEN, rem2) {
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				gid = nla_uint(a);
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				match = !strcmp(NLA_DATA(a), GUESTMEM_GENL_MCGRP_EVENTS);
		}
		if (match) {
			*id = gid;
			return 0;
		}
	}
	return -ENOENT;
}

/* Open a socket and resolve the family and its group by name. */
static int nl_open(struct nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char req[256], buf[8192];
	struct nlmsghdr *nlh = (void *)buf;
	struct nlattr *nla;
	ssize_t len;
	int rem;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0 || bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	nl_msg(nl, req, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);
	nl_put((void *)req, CTRL_ATTR_FAMILY_NAME, GUESTMEM_GENL_NAME,
	       sizeof(GUESTMEM_GENL_NAME));
	if (send(nl->fd, req, ((struct nlmsghdr *)req)->nlmsg_len, 0) < 0)
		return -errno;
	len = recv(nl->fd, buf, sizeof(buf), 0);
	if (len < 0)
		return -errno;
	if (nlh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(nlh))->error ?: -EPROTO;
	nl_for_each_attr(nla, NL_ATTRS(nlh), NL_ATTRLEN(nlh), rem) {
		if (nla->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&nl->family, NLA_DATA(nla), 2);
		if (nla->nla_type == CTRL_ATTR_MCAST_GROUPS)
			nl_grp_id(nla, &nl->events);
	}
	return nl->family && nl->events ? 0 : -EPROTO;
}

/*
 * A whole dump, retried while it is interrupted (any object created or
 * destroyed anywhere meanwhile; a previous test's objects may still be
 * going away).  Returns the count or -errno.
 */
static int nl_dump(struct nl *nl, struct nl_obj *objs, int cap)
{
	char req[64];
	bool intr;
	int n, tries;

	for (tries = 0; tries < 100; tries++) {
		n = nl_run(nl, nl_msg(nl, req, nl->family, NLM_F_DUMP, GUESTMEM_CMD_GET),
			   objs, cap, &intr);
		if (n < 0 || !intr)
			return n;
		usleep(20 * 1000);
	}
	return -EAGAIN;
}

static int nl_get(struct nl *nl, uint32_t id, struct nl_obj *o)
{
	struct nlmsghdr *req;
	char buf[64];
	bool intr;
	int n;

	req = nl_msg(nl, buf, nl->family, NLM_F_ACK, GUESTMEM_CMD_GET);
	nl_put(req, GUESTMEM_A_ID, &id, sizeof(id));
	n = nl_run(nl, req, o, 1, &intr);
	return n < 0 ? n : n == 1 ? 0 : -EPROTO;
}

static int nl_join(struct nl *nl)
{
	return setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &nl->events,
			  sizeof(nl->events)) ? -errno : 0;
}

/* The next event for an object of process @pid, or -ETIMEDOUT. */
static int nl_event(struct nl *nl, pid_t pid, struct nl_obj *o, int timeout_ms)
{
	static char buf[16384];
	struct pollfd p = { .fd = nl->fd, .events = POLLIN };

	while (poll(&p, 1, timeout_ms) == 1) {
		ssize_t len = recv(nl->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;

		if (len < 0)
			return -errno;
		for (nlh = (void *)buf; NLMSG_OK(nlh, (size_t)len); nlh = NLMSG_NEXT(nlh, len)) {
			nl_parse(nlh, o);
			if (o->pid == (uint32_t)pid)
				return 0;
		}
	}
	return -ETIMEDOUT;
}

/* Our objects in a dump: those created by this process. */
static int nl_dump_mine(struct nl *nl, struct nl_obj *mine, int cap)
{
	static struct nl_obj all[4096];
	int n, i, k = 0;

	n = nl_dump(nl, all, 4096);
	if (n < 0)
		return n;
	for (i = 0; i < n && i < 4096; i++)
		if (all[i].pid == (uint32_t)getpid() && k < cap)
			mine[k++] = all[i];
	return k;
}

static struct nl_obj *nl_find(struct nl_obj *objs, int n, uint32_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (objs[i].id == id)
			return &objs[i];
	return NULL;
}

#define nl_require(nl)                                                        \
	do {                                                                  \
		int __rc;                                                     \
		gm_require_module();                                          \
		__rc = nl_open(nl);                                           \
		if (__rc == -ENOENT)                                          \
			SKIP(return, "no generic netlink family guestmem");   \
		ASSERT_EQ(0, __rc);                                           \
	} while (0)

FIXTURE(nl) {
	struct nl nl;
	uint8_t *mem;
	struct gm *user, *heap, *view;
};

FIXTURE_SETUP(nl)
{
	nl_require(&self->nl);
	self->mem = mmap(NULL, 16 * SZ_4K, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	test_gm_ok(gm_new("nl-user", self->mem, 16 * SZ_4K, &self->user));
	test_gm_ok(gm_allocate(8 * SZ_4K, &self->heap));
	test_gm_ok(gm_subrange(self->user, 4 * SZ_4K, 4 * SZ_4K, false, &self->view));
}

FIXTURE_TEARDOWN(nl)
{
	gm_release(self->view);
	gm_release(self->heap);
	gm_release(self->user);
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, 16 * SZ_4K);
	if (self->nl.fd > 0)
		close(self->nl.fd);
}

TEST_F(nl, dump_lists_exactly_our_objects)
{
	struct gm_stats su, sh, sv;
	struct nl_obj mine[8], *u, *h, *v;
	int n;

	test_gm_ok(gm_stats(self->user, &su));
	test_gm_ok(gm_stats(self->heap, &sh));
	test_gm_ok(gm_stats(self->view, &sv));
	n = nl_dump_mine(&self->nl, mine, 8);
	ASSERT_EQ(3, n);
	u = nl_find(mine, n, su.id);
	h = nl_find(mine, n, sh.id);
	v = nl_find(mine, n, sv.id);
	ASSERT_NE(NULL, u);
	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, v);

	EXPECT_EQ(GUESTMEM_NL_KIND_USER, u->kind);
	EXPECT_STREQ("nl-user", u->name);
	EXPECT_EQ(16 * SZ_4K, u->size);
	EXPECT_EQ(1, u->region_count);
	EXPECT_EQ(getuid(), u->uid);
	EXPECT_EQ(1, u->files);
	EXPECT_EQ(1, u->subranges);
	EXPECT_EQ(0, u->locked);
	EXPECT_STREQ("", u->device);

	EXPECT_EQ(GUESTMEM_NL_KIND_ALLOC, h->kind);
	EXPECT_STREQ("heap", h->name);
	EXPECT_EQ(8 * SZ_4K, h->size);

	EXPECT_EQ(GUESTMEM_NL_KIND_SUBRANGE, v->kind);
	EXPECT_EQ(su.id, v->base_id);
	EXPECT_EQ(4 * SZ_4K, v->size);

	/* gm_stats() is the same record. */
	EXPECT_EQ(u->size, su.size);
	EXPECT_EQ(getpid(), su.owner_pid);
	EXPECT_EQ(GUESTMEM_NL_KIND_SUBRANGE, sv.kind);
	EXPECT_EQ(su.id, sv.base_id);
}

/*
 * The counters are the kernel's: they count the ioctls that reach it.  The
 * owner's own accesses go direct and are not counted (guestmem_direct.c
 * proves it), so this test asks for the kernel path.
 */
TEST_F(nl, counts_follow_lock_unlock_and_io)
{
	static const uint64_t gpns[] = { 0, 1, 5 };
	struct gm_locked_pages *lp;
	struct gm_stats st;
	struct nl_obj o;
	char buf[100] = "x";

	gm_set_direct(false);

	test_gm_ok(gm_stats(self->user, &st));
	test_gm_ok(gm_lock_gpns(self->user, false, gpns, 3, &lp));
	ASSERT_EQ(0, nl_get(&self->nl, st.id, &o));
	EXPECT_EQ(1, o.lock_count);
	EXPECT_EQ(3, o.locked);
	/* Kernel pages: 3 with 4 KiB pages, 1 with 64 KiB. */
	EXPECT_EQ(gm_test_pages_of(self->mem, gpns, 3), o.pinned);
	EXPECT_EQ(1, o.locks);
	gm_locked_pages_release(lp);
	ASSERT_EQ(0, nl_get(&self->nl, st.id, &o));
	EXPECT_EQ(0, o.lock_count);
	EXPECT_EQ(0, o.locked);
	EXPECT_EQ(0, o.pinned);
	EXPECT_EQ(1, o.unlocks);

	test_gm_ok(gm_write_at(self->user, 0, buf, sizeof(buf)));
	test_gm_ok(gm_read_at(self->user, 0, buf, sizeof(buf)));
	EXPECT_GT(0, gm_read_at(self->user, 1ULL << 40, buf, 1));
	ASSERT_EQ(0, nl_get(&self->nl, st.id, &o));
	EXPECT_EQ(1, o.writes);
	EXPECT_EQ(2, o.reads);
	EXPECT_EQ(200, o.bytes);
	EXPECT_EQ(1, o.faults);
}

TEST_F(nl, closed_objects_are_gone)
{
	struct gm_stats st;
	struct nl_obj o, mine[8];

	test_gm_ok(gm_stats(self->heap, &st));
	gm_release(self->heap);
	self->heap = NULL;
	EXPECT_EQ(-ENOENT, nl_get(&self->nl, st.id, &o));
	EXPECT_EQ(2, nl_dump_mine(&self->nl, mine, 8));
	EXPECT_EQ(NULL, nl_find(mine, 2, st.id));
}

TEST_F(nl, attached_device_and_mapped_bytes)
{
	struct gm_stats st;
	struct nl_obj o;
	int rc;

	if (geteuid())
		SKIP(return, "needs root (CAP_SYS_RAWIO) to attach");
	gm_test_bind(EDU_BDF);
	rc = gm_attach_device(self->heap, EDU_BDF);
	if (rc == -ENODEV)
		SKIP(return, "no edu device at " EDU_BDF);
	test_gm_ok(rc);
	test_gm_ok(gm_stats(self->heap, &st));
	ASSERT_EQ(0, nl_get(&self->nl, st.id, &o));
	EXPECT_STREQ(EDU_BDF, o.device);
	/* Allocated memory is whole kernel pages, each mapped: 8 * 4 KiB or 64 KiB. */
	EXPECT_EQ(HPAGE_ROUNDUP(8 * SZ_4K), o.dma_mapped);
	EXPECT_STREQ(EDU_BDF, st.device);
}

/*
 * Events, in order, for one object made by a child without CAP_IPC_LOCK
 * under a tiny RLIMIT_MEMLOCK (one kernel page): created, device attached,
 * lock failed (a gpn of each of four kernel pages), destroyed.
 */
TEST(events_arrive_in_order)
{
	const uint64_t gpns[] = { 0, SUBPAGES, 2 * SUBPAGES, 3 * SUBPAGES };
	struct nl_obj o;
	bool attach = true;
	struct nl nl;
	uint32_t id;
	pid_t pid;
	int status;

	nl_require(&nl);
	if (geteuid())
		SKIP(return, "needs CAP_NET_ADMIN for the events group");
	ASSERT_EQ(0, nl_join(&nl));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { HPAGE, HPAGE };
		struct gm_locked_pages *lp;
		uint8_t *mem;
		struct gm *gm;

		if (gm_test_drop_cap(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(2);
		mem = mmap(NULL, 8 * HPAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (mem == MAP_FAILED || gm_new("nl-events", mem, 8 * HPAGE, &gm))
			_exit(3);
		gm_test_bind(EDU_BDF);
		if (gm_attach_device(gm, EDU_BDF) == -ENODEV)
			attach = false;
		if (gm_lock_gpns(gm, false, gpns, 4, &lp) != -ENOMEM)
			_exit(4);
		gm_release(gm);
		_exit(attach ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_GE(1, WEXITSTATUS(status)) TH_LOG("child failed at step %d", WEXITSTATUS(status));
	attach = WEXITSTATUS(status) == 0;

	ASSERT_EQ(0, nl_event(&nl, pid, &o, 2000));
	EXPECT_EQ(GUESTMEM_CMD_OBJ_NEW, o.cmd);
	EXPECT_STREQ("nl-events", o.name);
	id = o.id;
	if (attach) {
		ASSERT_EQ(0, nl_event(&nl, pid, &o, 2000));
		EXPECT_EQ(GUESTMEM_CMD_DEV_ATTACH, o.cmd);
		EXPECT_EQ(id, o.id);
		EXPECT_STREQ(EDU_BDF, o.device);
	}
	ASSERT_EQ(0, nl_event(&nl, pid, &o, 2000));
	EXPECT_EQ(GUESTMEM_CMD_LOCK_FAIL, o.cmd);
	EXPECT_EQ(id, o.id);
	ASSERT_EQ(0, nl_event(&nl, pid, &o, 2000));
	EXPECT_EQ(GUESTMEM_CMD_OBJ_DEL, o.cmd);
	EXPECT_EQ(id, o.id);
	EXPECT_EQ(1, o.lock_failures);
	EXPECT_EQ(-ETIMEDOUT, nl_event(&nl, pid, &o, 100));
	close(nl.fd);
}

/*
 * Any user can make locks fail at will: the "lock failed" events of one
 * object come in a burst of at most 10, then 2 a second, so that a loop of
 * failures cannot flood the monitors of every other object (review L5).
 * The per-object counter still counts every failure.  Each lock wants two
 * kernel pages, over a limit of one.
 */
TEST(lock_failed_events_are_rate_limited)
{
	const uint64_t gpns[] = { 0, SUBPAGES };
	int failed = 0, events = 0;
	struct nl_obj o;
	struct nl nl;
	pid_t pid;

	nl_require(&nl);
	if (geteuid())
		SKIP(return, "needs CAP_NET_ADMIN for the events group");
	ASSERT_EQ(0, nl_join(&nl));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { HPAGE, HPAGE };
		struct gm_locked_pages *lp;
		uint8_t *mem;
		struct gm *gm;
		int i;

		if (gm_test_drop_cap(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(2);
		mem = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (mem == MAP_FAILED || gm_new("nl-flood", mem, 2 * HPAGE, &gm))
			_exit(3);
		for (i = 0; i < 100; i++)
			if (gm_lock_gpns(gm, false, gpns, 2, &lp) != -ENOMEM)
				_exit(4);
		gm_release(gm);
		_exit(0);
	}
	ASSERT_EQ(0, gm_test_wait(pid));
	while (nl_event(&nl, pid, &o, 2000) == 0 && o.cmd != GUESTMEM_CMD_OBJ_DEL)
		events += o.cmd == GUESTMEM_CMD_LOCK_FAIL;
	ASSERT_EQ(GUESTMEM_CMD_OBJ_DEL, o.cmd);
	failed = o.lock_failures;
	TH_LOG("%d lock failures, %d events", failed, events);
	EXPECT_EQ(100, failed);
	EXPECT_LE(1, events);
	EXPECT_GE(20, events);
	close(nl.fd);
}

/*
 * The creator's pid is reported as the reader sees it: a process in a pid
 * namespace of its own is pid 1 to itself and its global pid to the
 * initial namespace (review L5: everyone used to get the global pid).
 */
TEST(the_owner_pid_is_translated_into_the_readers_pid_namespace)
{
	int report[2], data[2], hold[2];
	uint32_t msg[2] = { 0, 0 };
	struct nl_obj o;
	struct nl nl;
	pid_t pid, inner = 0;

	nl_require(&nl);
	/* Two pipes: the two children write in either order. */
	ASSERT_EQ(0, pipe(report));
	ASSERT_EQ(0, pipe(data));
	ASSERT_EQ(0, pipe(hold));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (unshare(CLONE_NEWPID))
			_exit(2);
		inner = fork();
		if (inner == 0) {
			struct gm_stats st;
			struct nl nl2;
			struct nl_obj me;
			struct gm *gm;
			char c;

			if (gm_empty(&gm) || gm_stats(gm, &st) || nl_open(&nl2) ||
			    nl_get(&nl2, st.id, &me))
				_exit(3);
			msg[0] = st.id;
			msg[1] = me.pid;
			if (write(data[1], msg, sizeof(msg)) != sizeof(msg))
				_exit(4);
			/* Keep the object until the parent has looked. */
			close(hold[1]);
			if (read(hold[0], &c, 1) != 1)
				_exit(5);
			_exit(0);
		}
		if (write(report[1], &inner, sizeof(inner)) != sizeof(inner))
			_exit(6);
		_exit(gm_test_wait(inner));
	}
	close(report[1]);
	close(data[1]);
	if (read(report[0], &inner, sizeof(inner)) != sizeof(inner)) {
		if (gm_test_wait(pid) == 2)
			SKIP(return, "no pid namespaces");
		ASSERT_TRUE(false) TH_LOG("the namespace child failed");
	}
	ASSERT_EQ(sizeof(msg), read(data[0], msg, sizeof(msg)));
	/* Itself: pid 1 of its namespace. */
	EXPECT_EQ(1, msg[1]);
	ASSERT_EQ(0, nl_get(&nl, msg[0], &o));
	/* Us: the pid the initial namespace gave it. */
	EXPECT_EQ((uint32_t)inner, o.pid);
	ASSERT_EQ(1, write(hold[1], "x", 1));
	EXPECT_EQ(0, gm_test_wait(pid));
	close(nl.fd);
}

/*
 * As nobody, without capabilities: the dump shows only the objects made
 * with that uid, GET of another's object is ENOENT, and the events group
 * is closed.  Exit code: the first step that failed.
 */
static int unprivileged_child(uint32_t root_id)
{
	static struct nl_obj objs[4096];
	struct nl_obj o;
	uint8_t *mem;
	struct gm *gm;
	struct gm_stats st;
	struct nl nl;
	int n, i, rc;

	if (gm_test_become_user(NOBODY, true, -1))
		return 10;
	mem = mmap(NULL, 4 * SZ_4K, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return 11;
	rc = gm_new("nl-nobody", mem, 4 * SZ_4K, &gm);
	if (rc) {
		fprintf(stderr, "# gm_new as nobody: %s\n", strerror(-rc));
		return 19;
	}
	rc = gm_stats(gm, &st);
	if (rc) {
		fprintf(stderr, "# gm_stats as nobody: %s\n", strerror(-rc));
		return 20;
	}
	if (nl_open(&nl))
		return 12;
	n = nl_dump(&nl, objs, 4096);
	if (n < 1)
		return 13;
	for (i = 0; i < n; i++)
		if (objs[i].uid != NOBODY)
			return 14;
	if (!nl_find(objs, n, st.id))
		return 15;
	if (nl_get(&nl, root_id, &o) != -ENOENT)
		return 16;
	if (nl_get(&nl, st.id, &o) || strcmp(o.name, "nl-nobody"))
		return 17;
	if (nl_join(&nl) != -EPERM)
		return 18;
	gm_release(gm);
	return 0;
}

TEST_F(nl, unprivileged_sees_only_its_own)
{
	struct gm_stats st;
	pid_t pid;
	int status;

	if (geteuid())
		SKIP(return, "needs root to become nobody");
	ASSERT_EQ(0, gm_test_grant_device_group());
	test_gm_ok(gm_stats(self->user, &st));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(unprivileged_child(st.id));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("unprivileged child failed at step %d",
						  WEXITSTATUS(status));
}

/*
 * More objects than fit in one dump batch: each exactly once.  The ids come
 * from the dump itself (gm_stats() per object would open 2100 sockets):
 * 2100 distinct ids of ours, and we made exactly 2100.  The debug kernel
 * needs more than the harness's default 30 s.
 */
FIXTURE(many) {
	struct nl nl;
};

FIXTURE_SETUP(many)
{
	nl_require(&self->nl);
}

FIXTURE_TEARDOWN(many)
{
	if (self->nl.fd > 0)
		close(self->nl.fd);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

TEST_F_TIMEOUT(many, dump_of_2100_objects_returns_each_once, 300)
{
	enum { N = 2100 };
	static struct nl_obj objs[4096];
	struct rlimit rl = { N + 256, N + 256 };
	static struct gm *gms[N];
	static uint32_t ids[4096];
	int n, i, mine = 0;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		SKIP(return, "cannot raise RLIMIT_NOFILE to %d", N + 256);
	for (i = 0; i < N; i++)
		test_gm_ok(gm_empty(&gms[i]));
	n = nl_dump(&self->nl, objs, 4096);
	ASSERT_LE(N, n);
	ASSERT_GE(4096, n);
	for (i = 0; i < n; i++)
		if (objs[i].pid == (uint32_t)getpid())
			ids[mine++] = objs[i].id;
	EXPECT_EQ(N, mine);
	qsort(ids, mine, sizeof(ids[0]), cmp_u32);
	for (i = 1; i < mine; i++)
		EXPECT_NE(ids[i - 1], ids[i]) TH_LOG("id %u twice", ids[i]);
	for (i = 0; i < N; i++)
		gm_release(gms[i]);
}

/*
 * A small JSON reader, enough for gmem's output: an array of flat objects
 * whose values are strings or unsigned integers.  It is strict where gmem
 * could go wrong: raw control characters and bytes that are not
 * well-formed UTF-8 are refused, and escapes are decoded (\\uXXXX, with
 * surrogate pairs, to UTF-8).  Returns the number of objects, or -1 if the
 * text is not such JSON.
 */
struct json_obj {
	uint64_t id, pid, size, locked_pages;
	char name[64], comm[64];
};

static void json_ws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

/* Append code point @cp as UTF-8, if it fits. */
static void json_put_utf8(char *out, size_t len, size_t *k, uint32_t cp)
{
	char b[4];
	int n, i;

	if (cp < 0x80) {
		b[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | cp >> 6;
		b[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | cp >> 12;
		b[1] = 0x80 | (cp >> 6 & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | cp >> 18;
		b[1] = 0x80 | (cp >> 12 & 0x3f);
		b[2] = 0x80 | (cp >> 6 & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	for (i = 0; i < n && *k + 1 < len; i++)
		out[(*k)++] = b[i];
}

/* Decode the UTF-8 sequence at @p into *@cp; its length, or 0 if ill-formed. */
static int json_utf8(const unsigned char *p, uint32_t *cp)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	int n, i;

	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if (*cp < min[n] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

static int json_hex4(const char *p, uint32_t *v)
{
	int h;

	*v = 0;
	for (h = 0; h < 4; h++) {
		if (!isxdigit((unsigned char)p[h]))
			return -1;
		*v = *v << 4 | (isdigit((unsigned char)p[h]) ? p[h] - '0' :
				(tolower((unsigned char)p[h]) - 'a' + 10));
	}
	return 0;
}

static int json_string(const char **p, char *out, size_t len)
{
	/* Pairs: the letter after the backslash, the character it stands for. */
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const unsigned char *s;
	size_t k = 0;
	uint32_t cp, lo;
	const char *e;
	int n;

	if (**p != '"')
		return -1;
	for ((*p)++; **p != '"';) {
		s = (const unsigned char *)*p;
		if (*s < 0x20)
			return -1;      /* NUL or a raw control character */
		if (*s >= 0x80) {
			n = json_utf8(s, &cp);
			if (!n)
				return -1;
			json_put_utf8(out, len, &k, cp);
			*p += n;
			continue;
		}
		if (*s != '\\') {
			json_put_utf8(out, len, &k, *s);
			(*p)++;
			continue;
		}
		if (s[1] == 'u') {
			if (json_hex4(*p + 2, &cp))
				return -1;
			*p += 6;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;      /* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if ((*p)[0] != '\\' || (*p)[1] != 'u' || json_hex4(*p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				*p += 6;
			}
			json_put_utf8(out, len, &k, cp);
			continue;
		}
		for (e = esc; *e && *e != s[1]; e += 2)
			;
		if (!*e || !s[1])
			return -1;
		json_put_utf8(out, len, &k, (unsigned char)e[1]);
		*p += 2;
	}
	(*p)++;
	if (len)
		out[k] = 0;
	return 0;
}

static int json_parse(const char *p, struct json_obj *objs, int cap)
{
	int n = 0;

	json_ws(&p);
	if (*p++ != '[')
		return -1;
	json_ws(&p);
	if (*p == ']')
		goto out_end;
	for (;;) {
		struct json_obj o = { 0 };

		json_ws(&p);
		if (*p++ != '{')
			return -1;
		for (;;) {
			char key[32], sval[64];
			uint64_t v = 0;
			bool num = false;

			json_ws(&p);
			if (json_string(&p, key, sizeof(key)))
				return -1;
			json_ws(&p);
			if (*p++ != ':')
				return -1;
			json_ws(&p);
			if (*p == '"') {
				if (json_string(&p, sval, sizeof(sval)))
					return -1;
			} else if (isdigit((unsigned char)*p)) {
				for (; isdigit((unsigned char)*p); p++)
					v = v * 10 + (*p - '0');
				num = true;
			} else {
				return -1;
			}
			if (!strcmp(key, "id") && num)
				o.id = v;
			else if (!strcmp(key, "pid") && num)
				o.pid = v;
			else if (!strcmp(key, "size") && num)
				o.size = v;
			else if (!strcmp(key, "locked_pages") && num)
				o.locked_pages = v;
			else if (!strcmp(key, "name") && !num)
				snprintf(o.name, sizeof(o.name), "%s", sval);
			else if (!strcmp(key, "comm") && !num)
				snprintf(o.comm, sizeof(o.comm), "%s", sval);
			json_ws(&p);
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p++ != '}')
				return -1;
			break;
		}
		if (n < cap)
			objs[n] = o;
		n++;
		json_ws(&p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != ']')
			return -1;
		break;
	}
out_end:
	p++;
	json_ws(&p);
	return *p ? -1 : n;
}

static int run_gmem(const char *args, char *out, size_t len)
{
	char cmd[128];
	size_t k = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "gmem %s 2>&1", args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (k + 1 < len && !feof(f))
		k += fread(out + k, 1, len - 1 - k, f);
	out[k] = 0;
	return pclose(f);
}

TEST_F(nl, gmem_show_json_matches_the_dump)
{
	static const uint64_t gpns[] = { 2, 3 };
	static char out[1 << 20];
	static struct json_obj js[4096];
	struct nl_obj mine[8];
	struct gm_locked_pages *lp;
	int n, nj, i, j, found = 0, rc;

	if (access("/bin/gmem", X_OK) && system("command -v gmem >/dev/null 2>&1"))
		SKIP(return, "no gmem in PATH (the VM ships it in /bin)");
	test_gm_ok(gm_lock_gpns(self->user, false, gpns, 2, &lp));
	n = nl_dump_mine(&self->nl, mine, 8);
	ASSERT_EQ(3, n);
	for (i = 0; i < 2; i++) {
		rc = run_gmem(i ? "-p show" : "-j show", out, sizeof(out));
		ASSERT_EQ(0, rc) TH_LOG("gmem: %s", out);
		nj = json_parse(out, js, 4096);
		ASSERT_LE(3, nj) TH_LOG("not JSON: %s", out);
		for (j = 0, found = 0; j < nj && j < 4096; j++) {
			struct nl_obj *o = nl_find(mine, n, js[j].id);

			if (js[j].pid != (uint64_t)getpid())
				continue;
			ASSERT_NE(NULL, o);
			EXPECT_EQ(o->size, js[j].size);
			EXPECT_EQ(o->locked, js[j].locked_pages);
			EXPECT_STREQ(o->name, js[j].name);
			found++;
		}
		EXPECT_EQ(3, found);
	}
	rc = run_gmem("show", out, sizeof(out));
	EXPECT_EQ(0, rc);
	EXPECT_NE(NULL, strstr(out, "nl-user")) TH_LOG("%s", out);
	gm_locked_pages_release(lp);
}

/*
 * Debug names and command names are any bytes but NUL.  Whatever they
 * hold, `gmem -j show` stays JSON that a strict reader accepts (UTF-8,
 * every control character escaped, no field injected), a name that is
 * UTF-8 reads back byte for byte, and each byte that is not well-formed
 * UTF-8 reads back as U+FFFD.  The table shows no raw control character.
 */
TEST_F(nl, gmem_json_survives_hostile_names)
{
#define FFFD "\xef\xbf\xbd"
	static const struct {
		const char *name, *json;
	} cases[] = {
		{ "quote\"d", "quote\"d" },
		{ "back\\slash\\", "back\\slash\\" },
		{ "new\nline\r\ttab\b\f", "new\nline\r\ttab\b\f" },
		{ "ctl\x01\x1b[31m\x1f\x7f", "ctl\x01\x1b[31m\x1f\x7f" },
		{ "\",\"id\":0,\"name\":\"x", "\",\"id\":0,\"name\":\"x" },
		{ "}],[{", "}],[{" },
		{ "utf8 \xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", "utf8 \xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80" },
		{ "c1\xc2\x9b ls\xe2\x80\xa8", "c1\xc2\x9b ls\xe2\x80\xa8" },
		{ "bad\xff\xfe", "bad" FFFD FFFD },
		{ "cut\xe2\x9c", "cut" FFFD FFFD },
		{ "overlong\xc0\xaf", "overlong" FFFD FFFD },
		{ "surrogate\xed\xa0\x80", "surrogate" FFFD FFFD FFFD },
		{ "above\xf4\x90\x80\x80", "above" FFFD FFFD FFFD FFFD },
	};
	static const char comm[] = "c\"\\\n\xff";
	static char out[1 << 20];
	static struct json_obj js[4096];
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	struct gm *gms[sizeof(cases) / sizeof(cases[0])];
	uint32_t ids[sizeof(cases) / sizeof(cases[0])];
	char saved_comm[17] = "";
	struct gm_stats st;
	int nj, rc, mode;
	size_t i, k;

	if (access("/bin/gmem", X_OK) && system("command -v gmem >/dev/null 2>&1"))
		SKIP(return, "no gmem in PATH (the VM ships it in /bin)");
	/* The first object's creator has a hostile comm too. */
	ASSERT_EQ(0, prctl(PR_GET_NAME, saved_comm));
	ASSERT_EQ(0, prctl(PR_SET_NAME, comm));
	for (i = 0; i < n; i++) {
		test_gm_ok(gm_new(cases[i].name, self->mem, SZ_4K, &gms[i]));
		if (!i)
			ASSERT_EQ(0, prctl(PR_SET_NAME, saved_comm));
		test_gm_ok(gm_stats(gms[i], &st));
		ids[i] = st.id;
	}

	for (mode = 0; mode < 2; mode++) {
		rc = run_gmem(mode ? "-p show" : "-j show", out, sizeof(out));
		ASSERT_EQ(0, rc) TH_LOG("gmem: %s", out);
		nj = json_parse(out, js, 4096);
		ASSERT_LE((int)n, nj) TH_LOG("not strict JSON: %s", out);
		for (i = 0; i < n; i++) {
			for (k = 0; k < (size_t)nj && k < 4096 && js[k].id != ids[i]; k++)
				;
			ASSERT_LT(k, (size_t)nj) TH_LOG("object %u missing", ids[i]);
			EXPECT_STREQ(cases[i].json, js[k].name) TH_LOG("case %zu", i);
			if (!i)
				EXPECT_STREQ("c\"\\\n" FFFD, js[k].comm);
		}
	}

	/* The dump itself carries the exact bytes. */
	{
		struct nl_obj mine[32];
		int nm = nl_dump_mine(&self->nl, mine, 32);
		struct nl_obj *o;

		for (i = 0; i < n; i++) {
			o = nl_find(mine, nm, ids[i]);
			ASSERT_NE(NULL, o);
			EXPECT_STREQ(cases[i].name, o->name);
		}
	}

	rc = run_gmem("show", out, sizeof(out));
	EXPECT_EQ(0, rc);
	for (k = 0; out[k]; k++)
		EXPECT_TRUE(out[k] == '\n' || ((unsigned char)out[k] >= 0x20 && out[k] != 0x7f))
			TH_LOG("raw byte 0x%02x at %zu in the table", (unsigned char)out[k], k);
	EXPECT_NE(NULL, strstr(out, "ctl\\x01\\x1b[31m\\x1f\\x7f")) TH_LOG("%s", out);

	for (i = 0; i < n; i++)
		gm_release(gms[i]);
#undef FFFD
}

TEST_HARNESS_MAIN
