// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gm_stats(): one object's introspection record, from the generic netlink
 * family "guestmem" (GET with GUESTMEM_A_FD: the kernel looks the fd up in
 * our own fd table).  Plain netlink sockets, so that the library needs no
 * libmnl; gmem(8) is the full client.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/guestmem_netlink.h>
#include <linux/netlink.h>

#include "internal.h"

struct gm_nl_req {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	char attrs[64];
};

static void gm_nl_put(struct gm_nl_req *req, uint16_t type, const void *data,
		      uint16_t len)
{
	struct nlattr *nla = (void *)((char *)req + NLMSG_ALIGN(req->nlh.nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	memcpy((char *)nla + NLA_HDRLEN, data, len);
	req->nlh.nlmsg_len = NLMSG_ALIGN(req->nlh.nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

/* Send @req, receive one reply into @buf; returns its length or -errno. */
static int gm_nl_call(int sock, struct gm_nl_req *req, char *buf, size_t len)
{
	struct nlmsghdr *nlh = (void *)buf;
	ssize_t n;

	req->nlh.nlmsg_flags = NLM_F_REQUEST;
	req->nlh.nlmsg_seq++;
	if (send(sock, req, req->nlh.nlmsg_len, 0) < 0)
		return -errno;
	do {
		n = recv(sock, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(nlh, (size_t)n))
		return -EPROTO;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *err = NLMSG_DATA(nlh);

		return err->error ? err->error : -EPROTO;
	}
	return n;
}

/* Visit each attribute of the genl message in @nlh. */
#define gm_nl_for_each_attr(nla, nlh, rem)                                          \
	for (nla = (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN),           \
	     rem = (int)(nlh)->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;                 \
	     rem >= NLA_HDRLEN && nla->nla_len >= NLA_HDRLEN && nla->nla_len <= rem;   \
	     rem -= NLA_ALIGN(nla->nla_len),                                           \
	     nla = (struct nlattr *)((char *)nla + NLA_ALIGN(nla->nla_len)))

static int gm_nl_family(int sock, struct gm_nl_req *req, uint16_t *family)
{
	char buf[8192];
	struct nlmsghdr *nlh = (void *)buf;
	struct nlattr *nla;
	int rem, n;

	req->nlh.nlmsg_type = GENL_ID_CTRL;
	req->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req->genl.cmd = CTRL_CMD_GETFAMILY;
	req->genl.version = 1;
	gm_nl_put(req, CTRL_ATTR_FAMILY_NAME, GUESTMEM_GENL_NAME, sizeof(GUESTMEM_GENL_NAME));
	n = gm_nl_call(sock, req, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -EOPNOTSUPP : n;
	gm_nl_for_each_attr(nla, nlh, rem) {
		if (nla->nla_type == CTRL_ATTR_FAMILY_ID && nla->nla_len >= NLA_HDRLEN + 2) {
			memcpy(family, (char *)nla + NLA_HDRLEN, sizeof(*family));
			return 0;
		}
	}
	return -EPROTO;
}

static void gm_stats_attr(struct gm_stats *st, const struct nlattr *nla)
{
	const void *data = (const char *)nla + NLA_HDRLEN;
	size_t len = nla->nla_len - NLA_HDRLEN;
	uint64_t v = 0;

	if (len == 4) {
		uint32_t v32;

		memcpy(&v32, data, 4);
		v = v32;
	} else if (len == 8) {
		memcpy(&v, data, 8);
	}
	switch (nla->nla_type) {
	case GUESTMEM_A_ID: st->id = v; break;
	case GUESTMEM_A_KIND: st->kind = v; break;
	case GUESTMEM_A_BASE_ID: st->base_id = v; break;
	case GUESTMEM_A_OWNER_PID: st->owner_pid = v; break;
	case GUESTMEM_A_OWNER_UID: st->owner_uid = v; break;
	case GUESTMEM_A_OWNER_COMM:
		snprintf(st->owner_comm, sizeof(st->owner_comm), "%.*s", (int)len, (const char *)data);
		break;
	case GUESTMEM_A_CREATED_NS: st->created_ns = v; break;
	case GUESTMEM_A_SIZE: st->size = v; break;
	case GUESTMEM_A_REGION_COUNT: st->region_count = v; break;
	case GUESTMEM_A_REGION_SIZE: st->region_size = v; break;
	case GUESTMEM_A_LOCK_COUNT: st->lock_count = v; break;
	case GUESTMEM_A_LOCKED_PAGES: st->locked_pages = v; break;
	case GUESTMEM_A_PINNED_PAGES: st->pinned_pages = v; break;
	case GUESTMEM_A_DMA_MAPPED: st->dma_mapped = v; break;
	case GUESTMEM_A_DEVICE:
		snprintf(st->device, sizeof(st->device), "%.*s", (int)len, (const char *)data);
		break;
	case GUESTMEM_A_FILES: st->files = v; break;
	case GUESTMEM_A_SUBRANGES: st->subranges = v; break;
	case GUESTMEM_A_READS: st->reads = v; break;
	case GUESTMEM_A_WRITES: st->writes = v; break;
	case GUESTMEM_A_BYTES: st->bytes = v; break;
	case GUESTMEM_A_FAULTS: st->faults = v; break;
	case GUESTMEM_A_LOCKS: st->lock_calls = v; break;
	case GUESTMEM_A_UNLOCKS: st->unlock_calls = v; break;
	case GUESTMEM_A_LOCK_FAILURES: st->lock_failures = v; break;
	default: break;         /* newer attributes: skipped */
	}
}

int gm_stats(struct gm *gm, struct gm_stats *out)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct gm_nl_req req = { 0 };
	char buf[8192];
	struct nlmsghdr *nlh = (void *)buf;
	struct nlattr *nla;
	uint16_t family;
	uint32_t fd = gm_fd(gm);
	int sock, rem, n;

	sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (sock < 0)
		return -errno;
	if (bind(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		n = -errno;
		goto out_close;
	}
	n = gm_nl_family(sock, &req, &family);
	if (n < 0)
		goto out_close;

	req.nlh.nlmsg_type = family;
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.genl.cmd = GUESTMEM_CMD_GET;
	req.genl.version = GUESTMEM_GENL_VERSION;
	gm_nl_put(&req, GUESTMEM_A_FD, &fd, sizeof(fd));
	n = gm_nl_call(sock, &req, buf, sizeof(buf));
	if (n < 0)
		goto out_close;
	memset(out, 0, sizeof(*out));
	gm_nl_for_each_attr(nla, nlh, rem)
		gm_stats_attr(out, nla);
	n = 0;
out_close:
	close(sock);
	return n;
}
