// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem introspection: the object registry and the generic netlink
 * family "guestmem" (<linux/guestmem_netlink.h>).
 *
 * Every published object (views included) gets an id in gm_registry when
 * its fd is made and loses it first thing in its release; nothing else
 * touches the registry, so the data path never does.  The family is read
 * only: GET (doit by id, or a dump of every visible object) and the
 * "events" multicast group.
 *
 * A dump looks each object up under the registry's xa_lock and takes a
 * reference with kref_get_unless_zero(): an object in release has already
 * left the registry or is leaving it (its kref is zero), and its memory
 * stays until gm_registry_del() has taken the same xa_lock.  The cursor is
 * the next id to look at (cb->args[0]); gm_registry_gen changes with every
 * registration, so a dump that races with one is flagged NLM_F_DUMP_INTR.
 *
 * Visibility: CAP_SYS_ADMIN (of the socket opener and the caller) sees
 * everything; anyone else sees the objects created with their effective
 * uid.  The creator's uid is set before the object enters the registry and
 * never changes, so it is checked before a reference is taken: a dump never
 * ends up running the teardown of an object its reader may not see.  The
 * creator's pid and uid are reported as the reader sees them (its pid and
 * user namespaces); events, which have no reader, carry the initial
 * namespaces' values.  Joining "events" needs CAP_NET_ADMIN
 * (GENL_MCAST_CAP_NET_ADMIN).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/pci.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>
#include <linux/guestmem_netlink.h>

#include "guestmem_private.h"

static DEFINE_XARRAY_ALLOC1(gm_registry);
static u32 gm_registry_next;
/* Starts at 1: genl_dump_check_consistent() ignores a zero seq. */
static atomic_t gm_registry_gen = ATOMIC_INIT(1);
static bool gm_nl_ready;

enum gm_nl_mcgrp {
	GM_NL_MCGRP_EVENTS,
};

static const struct genl_multicast_group gm_nl_mcgrps[] = {
	[GM_NL_MCGRP_EVENTS] = {
		.name = GUESTMEM_GENL_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family gm_nl_family;

/**
 * gm_registry_add() - give a new object its id and record its creator
 * @obj: an object about to get its fd, in the creator's context
 *
 * Return: 0 or a negative errno (-ENOMEM, -EBUSY when every id is taken).
 */
int gm_registry_add(struct guestmem *obj)
{
	int rc;

	obj->creator_pid = get_pid(task_tgid(current));
	obj->creator_uid = current_euid();
	get_task_comm(obj->creator_comm, current);
	obj->created_ns = ktime_get_real_ns();
	rc = xa_alloc_cyclic(&gm_registry, &obj->id, obj, xa_limit_32b,
			     &gm_registry_next, GFP_KERNEL_ACCOUNT);
	if (rc < 0)
		return rc;
	atomic_inc(&gm_registry_gen);
	return 0;
}

/**
 * gm_registry_del() - announce an object's end and drop its id
 * @obj: an object in release (no references left); may be unregistered
 */
void gm_registry_del(struct guestmem *obj)
{
	if (obj->id) {
		if (obj->announced)
			gm_nl_notify(obj, GUESTMEM_CMD_OBJ_DEL);
		xa_erase(&gm_registry, obj->id);
		atomic_inc(&gm_registry_gen);
		obj->id = 0;
	}
	/* After the event, which names the creator. */
	put_pid(obj->creator_pid);
	obj->creator_pid = NULL;
}

static u32 gm_nl_kind(struct guestmem *obj)
{
	if (obj->base)
		return GUESTMEM_NL_KIND_SUBRANGE;
	switch (obj->mem->type) {
	case GUESTMEM_OBJ_USER:
		return GUESTMEM_NL_KIND_USER;
	case GUESTMEM_OBJ_MULTI:
		return GUESTMEM_NL_KIND_MULTI;
	case GUESTMEM_OBJ_ALLOC:
		return GUESTMEM_NL_KIND_ALLOC;
	case GUESTMEM_OBJ_FILE:
		return GUESTMEM_NL_KIND_FILE;
	default:
		return GUESTMEM_NL_KIND_EMPTY;
	}
}

static u64 gm_nl_size(struct guestmem *obj)
{
	u64 size = 0;
	u32 i;

	if (obj->base)
		return obj->view_len;
	for (i = 0; i < obj->mem->nr_regions; i++)
		size += obj->mem->regions[i].len;
	return size;
}

static int gm_nl_put_u64(struct sk_buff *msg, int attr, u64 val)
{
	return nla_put_u64_64bit(msg, attr, val, GUESTMEM_A_PAD);
}

/* The lock and device attributes, under mem->lock_mutex. */
static int gm_nl_fill_locks(struct sk_buff *msg, struct guestmem *obj)
{
	struct gm_mem *mem = obj->mem;
	int rc = 0;

	mutex_lock(&mem->lock_mutex);
	if (nla_put_u32(msg, GUESTMEM_A_LOCK_COUNT, obj->lock_count) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_LOCKED_PAGES, obj->locked_pages) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_PINNED_PAGES, obj->pinned_pages))
		rc = -EMSGSIZE;
	else if (!obj->base &&
		 gm_nl_put_u64(msg, GUESTMEM_A_DMA_MAPPED,
			       (u64)mem->mapped_pages << PAGE_SHIFT))
		rc = -EMSGSIZE;
	else if (mem->dma &&
		 nla_put_string(msg, GUESTMEM_A_DEVICE,
				pci_name(mem->dma->gpci->pdev)))
		rc = -EMSGSIZE;
	mutex_unlock(&mem->lock_mutex);
	return rc;
}

static int gm_nl_fill_stats(struct sk_buff *msg,
			    struct gm_obj_stats __percpu *pcpu)
{
	struct gm_obj_stats st = {};
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct gm_obj_stats *c = per_cpu_ptr(pcpu, cpu);

		st.reads += READ_ONCE(c->reads);
		st.writes += READ_ONCE(c->writes);
		st.bytes += READ_ONCE(c->bytes);
		st.faults += READ_ONCE(c->faults);
		st.locks += READ_ONCE(c->locks);
		st.unlocks += READ_ONCE(c->unlocks);
		st.lock_failures += READ_ONCE(c->lock_failures);
	}
	if (gm_nl_put_u64(msg, GUESTMEM_A_READS, st.reads) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_WRITES, st.writes) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_BYTES, st.bytes) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_FAULTS, st.faults) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_LOCKS, st.locks) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_UNLOCKS, st.unlocks) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_LOCK_FAILURES, st.lock_failures))
		return -EMSGSIZE;
	return 0;
}

/*
 * One object as one message: the dump, the doit reply and every event use
 * this.  @cb is the dump's callback (for the consistency flag), else NULL.
 */
/*
 * @to_current: the message is for the calling process (a reply or a dump:
 * its namespaces translate the creator's pid and uid); else an event.
 */
static int gm_nl_fill(struct sk_buff *msg, struct guestmem *obj, u8 cmd,
		      u32 portid, u32 seq, int flags,
		      struct netlink_callback *cb, bool to_current)
{
	struct pid_namespace *pidns = to_current ?
		task_active_pid_ns(current) : &init_pid_ns;
	struct user_namespace *userns = to_current ?
		current_user_ns() : &init_user_ns;
	u64 region_size = obj->region_bits >= 63 ? 1ULL << 63 :
			  1ULL << obj->region_bits;
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &gm_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (nla_put_u32(msg, GUESTMEM_A_ID, obj->id) ||
	    nla_put_string(msg, GUESTMEM_A_NAME, obj->mem->name) ||
	    nla_put_u32(msg, GUESTMEM_A_KIND, gm_nl_kind(obj)) ||
	    (obj->base &&
	     nla_put_u32(msg, GUESTMEM_A_BASE_ID, obj->base->id)) ||
	    nla_put_u32(msg, GUESTMEM_A_OWNER_PID,
			pid_nr_ns(obj->creator_pid, pidns)) ||
	    nla_put_u32(msg, GUESTMEM_A_OWNER_UID,
			from_kuid_munged(userns, obj->creator_uid)) ||
	    nla_put_string(msg, GUESTMEM_A_OWNER_COMM, obj->creator_comm) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_CREATED_NS, obj->created_ns) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_SIZE, gm_nl_size(obj)) ||
	    nla_put_u32(msg, GUESTMEM_A_REGION_COUNT, obj->region_count) ||
	    gm_nl_put_u64(msg, GUESTMEM_A_REGION_SIZE, region_size) ||
	    nla_put_u32(msg, GUESTMEM_A_FILES, atomic_read(&obj->nr_files)) ||
	    nla_put_u32(msg, GUESTMEM_A_SUBRANGES, atomic_read(&obj->mem->nr_views)) ||
	    gm_nl_fill_locks(msg, obj) ||
	    gm_nl_fill_stats(msg, obj->stats))
		goto out_cancel;
	genlmsg_end(msg, hdr);
	return 0;

out_cancel:
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

/**
 * gm_nl_notify() - send an event to the "events" group
 * @obj: the object the event is about
 * @cmd: GUESTMEM_CMD_OBJ_NEW, _OBJ_DEL, _DEV_ATTACH or _LOCK_FAIL
 *
 * Context: process context, no spinlock held; mem->lock_mutex must
 * not be held (the fill takes it).
 */
void gm_nl_notify(struct guestmem *obj, u8 cmd)
{
	struct sk_buff *msg;

	if (!READ_ONCE(gm_nl_ready) || !obj->id ||
	    !genl_has_listeners(&gm_nl_family, &init_net, GM_NL_MCGRP_EVENTS))
		return;
	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (gm_nl_fill(msg, obj, cmd, 0, 0, 0, NULL, false)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_multicast(&gm_nl_family, msg, 0, GM_NL_MCGRP_EVENTS,
			  GFP_KERNEL);
}

static bool gm_nl_visible(struct guestmem *obj, bool privileged, kuid_t uid)
{
	return privileged || uid_eq(obj->creator_uid, uid);
}

static int gm_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	bool privileged = netlink_capable(skb, CAP_SYS_ADMIN);
	struct guestmem *obj = NULL;
	struct sk_buff *msg;
	unsigned long id;
	int rc;

	if (info->attrs[GUESTMEM_A_FD]) {
		/* doit runs in the sender's context: its fd table. */
		obj = gm_obj_get_fd(nla_get_u32(info->attrs[GUESTMEM_A_FD]));
		if (IS_ERR(obj))
			return -EBADF;
		privileged = true;
	} else if (info->attrs[GUESTMEM_A_ID]) {
		id = nla_get_u32(info->attrs[GUESTMEM_A_ID]);
		xa_lock(&gm_registry);
		obj = xa_load(&gm_registry, id);
		if (obj && (!gm_nl_visible(obj, privileged, current_euid()) ||
			    !kref_get_unless_zero(&obj->ref)))
			obj = NULL;
		xa_unlock(&gm_registry);
		if (!obj)
			return -ENOENT;
	} else {
		NL_SET_ERR_MSG(info->extack, "GUESTMEM_A_ID or GUESTMEM_A_FD needed");
		return -EINVAL;
	}
	if (!gm_nl_visible(obj, privileged, current_euid())) {
		rc = -ENOENT;
		goto out_put_obj;
	}
	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		rc = -ENOMEM;
		goto out_put_obj;
	}
	rc = gm_nl_fill(msg, obj, GUESTMEM_CMD_GET, info->snd_portid,
			info->snd_seq, 0, NULL, true);
	if (rc)
		goto out_free_msg;
	gm_obj_put(obj);
	return genlmsg_reply(msg, info);

out_free_msg:
	nlmsg_free(msg);
out_put_obj:
	gm_obj_put(obj);
	return rc;
}

/* cb->args: [0] next id, [1] privileged, [2] the caller's euid */
static int gm_nl_get_start(struct netlink_callback *cb)
{
	cb->args[0] = 0;
	cb->args[1] = netlink_capable(cb->skb, CAP_SYS_ADMIN);
	cb->args[2] = __kuid_val(current_euid());
	return 0;
}

static int gm_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	kuid_t uid = KUIDT_INIT((uid_t)cb->args[2]);
	bool privileged = cb->args[1];
	unsigned long id = cb->args[0];
	struct guestmem *obj;
	int rc;

	cb->seq = atomic_read(&gm_registry_gen);
	for (;; id++) {
		xa_lock(&gm_registry);
		for (;;) {
			obj = xa_find(&gm_registry, &id, ULONG_MAX, XA_PRESENT);
			if (!obj || (gm_nl_visible(obj, privileged, uid) &&
				     kref_get_unless_zero(&obj->ref)))
				break;
			id++;
		}
		xa_unlock(&gm_registry);
		if (!obj)
			break;
		/* A dump runs in the reader's recvmsg(). */
		rc = gm_nl_fill(skb, obj, GUESTMEM_CMD_GET,
				NETLINK_CB(cb->skb).portid,
				cb->nlh->nlmsg_seq, NLM_F_MULTI, cb, true);
		gm_obj_put(obj);
		if (rc)
			break;
	}
	cb->args[0] = id;
	return skb->len;
}

static const struct nla_policy gm_nl_get_policy[GUESTMEM_A_FD + 1] = {
	[GUESTMEM_A_ID] = { .type = NLA_U32 },
	[GUESTMEM_A_FD] = { .type = NLA_U32 },
};

static const struct genl_ops gm_nl_ops[] = {
	{
		.cmd = GUESTMEM_CMD_GET,
		.doit = gm_nl_get_doit,
		.start = gm_nl_get_start,
		.dumpit = gm_nl_get_dumpit,
		.policy = gm_nl_get_policy,
		.maxattr = ARRAY_SIZE(gm_nl_get_policy) - 1,
	},
};

/* resv_start_op stays 0: every op of this new family is strict. */
static struct genl_family gm_nl_family __ro_after_init = {
	.name = GUESTMEM_GENL_NAME,
	.version = GUESTMEM_GENL_VERSION,
	.maxattr = GUESTMEM_A_MAX,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = gm_nl_ops,
	.n_ops = ARRAY_SIZE(gm_nl_ops),
	.mcgrps = gm_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(gm_nl_mcgrps),
};

/**
 * gm_nl_init() - register the family
 *
 * Return: 0 or a negative errno.
 */
int gm_nl_init(void)
{
	int rc;

	rc = genl_register_family(&gm_nl_family);
	if (rc)
		return rc;
	WRITE_ONCE(gm_nl_ready, true);
	return 0;
}

/**
 * gm_nl_exit() - unregister the family (no object is left)
 */
void gm_nl_exit(void)
{
	WRITE_ONCE(gm_nl_ready, false);
	genl_unregister_family(&gm_nl_family);
	WARN_ON(!xa_empty(&gm_registry));
}
