// SPDX-License-Identifier: GPL-2.0
/*
 * gmem - show guestmem objects and follow their events, over the generic
 * netlink family "guestmem" (<linux/guestmem_netlink.h>), with libmnl; and
 * bind PCI devices to guestmem's driver (libguestmem's gm_pci_bind()).
 *
 *	gmem [-j [-p]] show [ID]
 *	gmem [-j] monitor
 *	gmem bind BDF [DRIVER]
 *	gmem unbind BDF
 *
 * The family and its "events" group are resolved by name; unknown
 * attributes are skipped, so an older gmem reads a newer module.  A dump
 * interrupted by objects coming or going (NLM_F_DUMP_INTR) is retried.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <guestmem.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/guestmem_netlink.h>

#define GMEM_DUMP_RETRIES 10

struct gmem_nl {
	struct mnl_socket *nl;
	unsigned int portid;
	uint16_t family;
	uint32_t events_grp;
	char buf[32768];	/* >= MNL_SOCKET_BUFFER_SIZE (a page, up to 8K) */
};

/* One object, as the attributes say; absent ones stay NULL. */
struct gmem_obj {
	const struct nlattr *tb[GUESTMEM_A_MAX + 1];
	uint8_t cmd;
};

struct gmem_list {
	struct gmem_obj *objs;
	void **msgs;
	size_t n, cap;
	bool intr;
};

static bool opt_json, opt_pretty;
static volatile sig_atomic_t gmem_stop;

static const char *const gmem_kinds[] = {
	[GUESTMEM_NL_KIND_USER] = "user",
	[GUESTMEM_NL_KIND_MULTI] = "multi",
	[GUESTMEM_NL_KIND_ALLOC] = "alloc",
	[GUESTMEM_NL_KIND_EMPTY] = "empty",
	[GUESTMEM_NL_KIND_SUBRANGE] = "subrange",
	[GUESTMEM_NL_KIND_FILE] = "file",
};

static const char *const gmem_events[] = {
	[GUESTMEM_CMD_GET] = "object",
	[GUESTMEM_CMD_OBJ_NEW] = "created",
	[GUESTMEM_CMD_OBJ_DEL] = "destroyed",
	[GUESTMEM_CMD_DEV_ATTACH] = "attached",
	[GUESTMEM_CMD_LOCK_FAIL] = "lock-failed",
};

/* How each attribute is named in JSON, and its type. */
enum gmem_type { GMEM_U32, GMEM_U64, GMEM_STR };

static const struct {
	const char *name;
	enum gmem_type type;
} gmem_attrs[GUESTMEM_A_MAX + 1] = {
	[GUESTMEM_A_ID] = { "id", GMEM_U32 },
	[GUESTMEM_A_NAME] = { "name", GMEM_STR },
	[GUESTMEM_A_KIND] = { "kind", GMEM_U32 },
	[GUESTMEM_A_BASE_ID] = { "base_id", GMEM_U32 },
	[GUESTMEM_A_OWNER_PID] = { "pid", GMEM_U32 },
	[GUESTMEM_A_OWNER_UID] = { "uid", GMEM_U32 },
	[GUESTMEM_A_OWNER_COMM] = { "comm", GMEM_STR },
	[GUESTMEM_A_CREATED_NS] = { "created_ns", GMEM_U64 },
	[GUESTMEM_A_SIZE] = { "size", GMEM_U64 },
	[GUESTMEM_A_REGION_COUNT] = { "region_count", GMEM_U32 },
	[GUESTMEM_A_REGION_SIZE] = { "region_size", GMEM_U64 },
	[GUESTMEM_A_LOCK_COUNT] = { "locks_held", GMEM_U32 },
	[GUESTMEM_A_LOCKED_PAGES] = { "locked_pages", GMEM_U64 },
	[GUESTMEM_A_PINNED_PAGES] = { "pinned_pages", GMEM_U64 },
	[GUESTMEM_A_DMA_MAPPED] = { "dma_mapped", GMEM_U64 },
	[GUESTMEM_A_DEVICE] = { "device", GMEM_STR },
	[GUESTMEM_A_FILES] = { "files", GMEM_U32 },
	[GUESTMEM_A_SUBRANGES] = { "subranges", GMEM_U32 },
	[GUESTMEM_A_READS] = { "reads", GMEM_U64 },
	[GUESTMEM_A_WRITES] = { "writes", GMEM_U64 },
	[GUESTMEM_A_BYTES] = { "bytes", GMEM_U64 },
	[GUESTMEM_A_FAULTS] = { "faults", GMEM_U64 },
	[GUESTMEM_A_LOCKS] = { "lock_calls", GMEM_U64 },
	[GUESTMEM_A_UNLOCKS] = { "unlock_calls", GMEM_U64 },
	[GUESTMEM_A_LOCK_FAILURES] = { "lock_failures", GMEM_U64 },
};

static void gmem_die(const char *what)
{
	fprintf(stderr, "gmem: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct nlmsghdr *gmem_msg(struct gmem_nl *g, uint16_t type,
				 uint16_t flags, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(g->buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = time(NULL);
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

/* Send @nlh and run @cb over the answer until the ack or NLMSG_DONE. */
static int gmem_talk(struct gmem_nl *g, struct nlmsghdr *nlh,
		     mnl_cb_t cb, void *data)
{
	unsigned int seq = nlh->nlmsg_seq;
	int rc;

	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		gmem_die("sendto");
	do {
		rc = mnl_socket_recvfrom(g->nl, g->buf, sizeof(g->buf));
		if (rc <= 0)
			return -1;
		rc = mnl_cb_run(g->buf, rc, seq, g->portid, cb, data);
	} while (rc > 0);
	return rc;
}

static int gmem_grp_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, CTRL_ATTR_MCAST_GRP_MAX) < 0)
		return MNL_CB_OK;
	if (type == CTRL_ATTR_MCAST_GRP_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	if (type == CTRL_ATTR_MCAST_GRP_NAME &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int gmem_family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct gmem_nl *g = data;
	struct nlattr *attr, *grp;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			g->family = mnl_attr_get_u16(attr);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(grp, attr) {
				const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = {};

				if (mnl_attr_parse_nested(grp, gmem_grp_cb, tb) < 0)
					return MNL_CB_ERROR;
				if (tb[CTRL_ATTR_MCAST_GRP_ID] && tb[CTRL_ATTR_MCAST_GRP_NAME] &&
				    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
					    GUESTMEM_GENL_MCGRP_EVENTS))
					g->events_grp = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
			}
			break;
		}
	}
	return MNL_CB_OK;
}

static void gmem_open(struct gmem_nl *g)
{
	struct nlmsghdr *nlh;

	g->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!g->nl)
		gmem_die("netlink socket");
	if (mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		gmem_die("netlink bind");
	g->portid = mnl_socket_get_portid(g->nl);

	nlh = gmem_msg(g, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, GUESTMEM_GENL_NAME);
	if (gmem_talk(g, nlh, gmem_family_cb, g) < 0 || !g->family) {
		if (errno == ENOENT) {
			fprintf(stderr, "gmem: the guestmem module is not loaded (no generic netlink family \"%s\")\n",
				GUESTMEM_GENL_NAME);
			exit(2);
		}
		gmem_die("resolving the guestmem family");
	}
}

static int gmem_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);
	static const enum mnl_attr_data_type mnl_types[] = {
		[GMEM_U32] = MNL_TYPE_U32,
		[GMEM_U64] = MNL_TYPE_U64,
		[GMEM_STR] = MNL_TYPE_NUL_STRING,
	};

	/* Newer modules may send more: skip what we do not know. */
	if (mnl_attr_type_valid(attr, GUESTMEM_A_MAX) < 0 || !gmem_attrs[type].name)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, mnl_types[gmem_attrs[type].type]) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int gmem_parse(const struct nlmsghdr *nlh, struct gmem_obj *o)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	memset(o, 0, sizeof(*o));
	o->cmd = genl->cmd;
	if (mnl_attr_parse(nlh, sizeof(*genl), gmem_attr_cb, o->tb) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/* Dump messages are copied: the receive buffer is reused. */
static int gmem_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct gmem_list *l = data;
	void *copy;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		l->intr = true;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->objs = realloc(l->objs, l->cap * sizeof(*l->objs));
		l->msgs = realloc(l->msgs, l->cap * sizeof(*l->msgs));
		if (!l->objs || !l->msgs)
			gmem_die("realloc");
	}
	copy = malloc(nlh->nlmsg_len);
	if (!copy)
		gmem_die("malloc");
	memcpy(copy, nlh, nlh->nlmsg_len);
	l->msgs[l->n] = copy;
	if (gmem_parse(copy, &l->objs[l->n]) != MNL_CB_OK)
		return MNL_CB_ERROR;
	l->n++;
	return MNL_CB_OK;
}

static void gmem_list_clear(struct gmem_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->msgs[i]);
	l->n = 0;
	l->intr = false;
}

static uint64_t gmem_u(const struct gmem_obj *o, int type)
{
	const struct nlattr *a = o->tb[type];

	if (!a)
		return 0;
	return gmem_attrs[type].type == GMEM_U64 ? mnl_attr_get_u64(a) :
						   mnl_attr_get_u32(a);
}

/*
 * The length of the well-formed UTF-8 sequence at @p (Unicode table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0.  @p is
 * NUL-terminated, and NUL is never a continuation byte.
 */
static int gmem_utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Room for a string attribute as gmem_s() writes it: 4 bytes per byte. */
#define GMEM_TEXT_MAX (4 * 4096 + 1)

/*
 * A string attribute for the table and the monitor lines, "-" if absent.
 * Names and comms are any bytes but NUL; written to a terminal, control
 * characters could move the cursor or retitle the window.  So C0 and C1
 * controls, DEL and bytes that are not well-formed UTF-8 become \xHH, and
 * a backslash becomes \\; the JSON output has the exact text.
 */
static const char *gmem_s(const struct gmem_obj *o, int type, char *buf, size_t len)
{
	const unsigned char *p;
	size_t k = 0;
	int n;

	if (!o->tb[type])
		return "-";
	for (p = mnl_attr_get_payload(o->tb[type]); *p && k + 5 < len; p += n) {
		n = *p >= 0x80 ? gmem_utf8_len(p) : 1;
		if (*p == '\\') {
			k += snprintf(buf + k, len - k, "\\\\");
		} else if (*p >= 0x20 && *p < 0x7f) {
			buf[k++] = *p;
		} else if (n > 1 && !(p[0] == 0xc2 && p[1] < 0xa0) && k + n < len) {
			memcpy(buf + k, p, n);
			k += n;
		} else {
			k += snprintf(buf + k, len - k, "\\x%02x", *p);
			n = 1;
		}
	}
	buf[k] = '\0';
	return buf;
}

static const char *gmem_kind(const struct gmem_obj *o)
{
	uint64_t k = gmem_u(o, GUESTMEM_A_KIND);

	return k < sizeof(gmem_kinds) / sizeof(gmem_kinds[0]) && gmem_kinds[k] ?
	       gmem_kinds[k] : "?";
}

static void gmem_size(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "BKMGTPE";
	int u = 0;

	while (v >= 1024 && !(v & 1023) && u < 6) {
		v >>= 10;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
}

/*
 * @s as a JSON string.  Debug names and comms are any bytes but NUL, and
 * the output must stay valid JSON (RFC 8259: UTF-8 text) whatever they
 * hold: well-formed UTF-8 is copied as it is; '"' and '\' are escaped;
 * control characters (U+0000-U+001F, U+007F-U+009F) become \b, \f, \n,
 * \r, \t or \u00XX, and U+2028 and U+2029 \u2028 and \u2029; every byte
 * that is not part of a well-formed UTF-8 sequence becomes \ufffd, the
 * replacement character (so such a name is shown, not reproduced).  See
 * gmem(8), "JSON".
 */
static void gmem_json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	putchar('"');
	for (; *p; p += n) {
		n = 1;
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\b':
			fputs("\\b", stdout);
			break;
		case '\f':
			fputs("\\f", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				printf("\\u%04x", *p);
			} else if (*p < 0x80) {
				putchar(*p);
			} else {
				n = gmem_utf8_len(p);
				if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
					/* C1 controls, like C0 ones. */
					printf("\\u%04x", p[1]);
				} else if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
					   (p[2] == 0xa8 || p[2] == 0xa9)) {
					/* U+2028, U+2029: line breaks to JavaScript. */
					printf("\\u%02x%02x", 0x20, p[2] - 0x80);
				} else if (n) {
					fwrite(p, 1, n, stdout);
				} else {
					fputs("\\ufffd", stdout);
					n = 1;
				}
			}
		}
	}
	putchar('"');
}

static void gmem_print_json(const struct gmem_obj *o, const char *indent)
{
	const char *sep = opt_pretty ? ",\n" : ",";
	bool first = true;
	int t;

	printf("{%s", opt_pretty ? "\n" : "");
	if (o->cmd != GUESTMEM_CMD_GET && o->cmd < sizeof(gmem_events) / sizeof(gmem_events[0])) {
		printf("%s%s\"event\":%s\"%s\"", indent, opt_pretty ? "  " : "",
		       opt_pretty ? " " : "", gmem_events[o->cmd]);
		first = false;
	}
	for (t = 1; t <= GUESTMEM_A_MAX; t++) {
		if (!o->tb[t])
			continue;
		printf("%s%s%s\"%s\":%s", first ? "" : sep, indent,
		       opt_pretty ? "  " : "", gmem_attrs[t].name, opt_pretty ? " " : "");
		first = false;
		if (t == GUESTMEM_A_KIND)
			printf("\"%s\"", gmem_kind(o));
		else if (gmem_attrs[t].type == GMEM_STR)
			gmem_json_str(mnl_attr_get_str(o->tb[t]));
		else
			printf("%" PRIu64, gmem_u(o, t));
	}
	printf("%s%s}", opt_pretty ? "\n" : "", opt_pretty ? indent : "");
}

#define GMEM_ROW "%-6s %-8s %-16s %-7s %-15s %7s %7s %8s %8s %8s %-12s %5s\n"

static void gmem_print_row(const struct gmem_obj *o)
{
	char id[16], pid[16], size[24], regions[16], locked[24], pinned[24], dma[24], files[16];
	char name[GMEM_TEXT_MAX], comm[GMEM_TEXT_MAX], dev[GMEM_TEXT_MAX];

	snprintf(id, sizeof(id), "%" PRIu64, gmem_u(o, GUESTMEM_A_ID));
	snprintf(pid, sizeof(pid), "%" PRIu64, gmem_u(o, GUESTMEM_A_OWNER_PID));
	gmem_size(size, sizeof(size), gmem_u(o, GUESTMEM_A_SIZE));
	snprintf(regions, sizeof(regions), "%" PRIu64, gmem_u(o, GUESTMEM_A_REGION_COUNT));
	snprintf(locked, sizeof(locked), "%" PRIu64, gmem_u(o, GUESTMEM_A_LOCKED_PAGES));
	snprintf(pinned, sizeof(pinned), "%" PRIu64, gmem_u(o, GUESTMEM_A_PINNED_PAGES));
	if (o->tb[GUESTMEM_A_DMA_MAPPED])
		gmem_size(dma, sizeof(dma), gmem_u(o, GUESTMEM_A_DMA_MAPPED));
	else
		snprintf(dma, sizeof(dma), "-");
	snprintf(files, sizeof(files), "%" PRIu64, gmem_u(o, GUESTMEM_A_FILES));
	printf(GMEM_ROW, id, gmem_kind(o), gmem_s(o, GUESTMEM_A_NAME, name, sizeof(name)),
	       pid, gmem_s(o, GUESTMEM_A_OWNER_COMM, comm, sizeof(comm)), size, regions,
	       locked, pinned, dma, gmem_s(o, GUESTMEM_A_DEVICE, dev, sizeof(dev)), files);
}

static int gmem_show(struct gmem_nl *g, const char *id)
{
	struct gmem_list l = {};
	struct nlmsghdr *nlh;
	int tries, rc = -1;
	size_t i;

	for (tries = 0; tries < GMEM_DUMP_RETRIES; tries++) {
		gmem_list_clear(&l);
		if (id) {
			char *end;
			unsigned long v = strtoul(id, &end, 0);

			if (*end || !*id || v > UINT32_MAX) {
				fprintf(stderr, "gmem: bad object id '%s'\n", id);
				return 1;
			}
			nlh = gmem_msg(g, g->family, NLM_F_ACK, GUESTMEM_CMD_GET,
				       GUESTMEM_GENL_VERSION);
			mnl_attr_put_u32(nlh, GUESTMEM_A_ID, v);
		} else {
			nlh = gmem_msg(g, g->family, NLM_F_DUMP,
				       GUESTMEM_CMD_GET, GUESTMEM_GENL_VERSION);
		}
		rc = gmem_talk(g, nlh, gmem_list_cb, &l);
		if (rc < 0) {
			if (id && errno == ENOENT) {
				fprintf(stderr, "gmem: no object %s (or not yours)\n", id);
				return 1;
			}
			gmem_die("GET");
		}
		if (!l.intr)
			break;
	}
	if (l.intr) {
		fprintf(stderr, "gmem: objects kept changing during the dump\n");
		return 1;
	}

	if (opt_json && !l.n) {
		printf("[]\n");
	} else if (opt_json) {
		printf("[%s", opt_pretty ? "\n" : "");
		for (i = 0; i < l.n; i++) {
			if (i)
				printf(",%s", opt_pretty ? "\n" : "");
			if (opt_pretty)
				printf("  ");
			gmem_print_json(&l.objs[i], opt_pretty ? "  " : "");
		}
		printf("%s]\n", opt_pretty ? "\n" : "");
	} else {
		printf(GMEM_ROW, "ID", "KIND", "NAME", "PID", "COMM", "SIZE",
		       "REGIONS", "LOCKED", "PINNED", "DMA", "DEVICE", "FILES");
		for (i = 0; i < l.n; i++)
			gmem_print_row(&l.objs[i]);
	}
	gmem_list_clear(&l);
	free(l.objs);
	free(l.msgs);
	return 0;
}

static int gmem_event_cb(const struct nlmsghdr *nlh, void *data)
{
	static char name[GMEM_TEXT_MAX], comm[GMEM_TEXT_MAX], dev[GMEM_TEXT_MAX];
	struct gmem_obj o;
	char size[24];

	if (gmem_parse(nlh, &o) != MNL_CB_OK)
		return MNL_CB_ERROR;
	if (opt_json) {
		gmem_print_json(&o, "");
		putchar('\n');
	} else {
		gmem_size(size, sizeof(size), gmem_u(&o, GUESTMEM_A_SIZE));
		printf("[%s] id %" PRIu64 " pid %" PRIu64 " comm %s kind %s name %s size %s",
		       o.cmd < sizeof(gmem_events) / sizeof(gmem_events[0]) &&
		       gmem_events[o.cmd] ? gmem_events[o.cmd] : "?",
		       gmem_u(&o, GUESTMEM_A_ID), gmem_u(&o, GUESTMEM_A_OWNER_PID),
		       gmem_s(&o, GUESTMEM_A_OWNER_COMM, comm, sizeof(comm)), gmem_kind(&o),
		       gmem_s(&o, GUESTMEM_A_NAME, name, sizeof(name)), size);
		if (o.tb[GUESTMEM_A_DEVICE])
			printf(" device %s", gmem_s(&o, GUESTMEM_A_DEVICE, dev, sizeof(dev)));
		if (o.cmd == GUESTMEM_CMD_LOCK_FAIL)
			printf(" pinned %" PRIu64 " lock_failures %" PRIu64,
			       gmem_u(&o, GUESTMEM_A_PINNED_PAGES),
			       gmem_u(&o, GUESTMEM_A_LOCK_FAILURES));
		putchar('\n');
	}
	fflush(stdout);
	return MNL_CB_OK;
}

static void gmem_on_signal(int sig)
{
	gmem_stop = 1;
}

static int gmem_monitor(struct gmem_nl *g)
{
	struct sigaction sa = { .sa_handler = gmem_on_signal };
	int grp = g->events_grp, rc;

	if (!grp) {
		fprintf(stderr, "gmem: the guestmem family has no \"%s\" group\n",
			GUESTMEM_GENL_MCGRP_EVENTS);
		return 1;
	}
	if (mnl_socket_setsockopt(g->nl, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		if (errno == EPERM) {
			fprintf(stderr, "gmem: joining the events group needs CAP_NET_ADMIN\n");
			return 1;
		}
		gmem_die("NETLINK_ADD_MEMBERSHIP");
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!gmem_stop) {
		rc = mnl_socket_recvfrom(g->nl, g->buf, sizeof(g->buf));
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				fprintf(stderr, "gmem: events lost (receive buffer overrun)\n");
				continue;
			}
			gmem_die("recvfrom");
		}
		if (mnl_cb_run(g->buf, rc, 0, 0, gmem_event_cb, NULL) < 0)
			gmem_die("parsing an event");
	}
	return 0;
}

/*
 * gmem bind BDF [DRIVER]: bind a PCI device to guestmem (or DRIVER, "" for
 * none) with driver_override; gmem unbind BDF: leave it without a driver.
 */
static int gmem_bind(const char *bdf, const char *driver)
{
	char old[64];

	if (gm_pci_bind(bdf, driver, old, sizeof(old))) {
		fprintf(stderr, "gmem: %s\n", gm_last_error()->message);
		return 1;
	}
	printf("%s: %s (was: %s)\n", bdf, driver[0] ? driver : "no driver",
	       old[0] ? old : "no driver");
	return 0;
}

static void gmem_usage(FILE *f)
{
	fprintf(f,
		"usage: gmem [-j [-p]] show [ID]\n"
		"       gmem [-j] monitor\n"
		"       gmem bind BDF [DRIVER]   (default DRIVER: guestmem)\n"
		"       gmem unbind BDF\n"
		"  -j, --json    JSON output\n"
		"  -p, --pretty  indented JSON\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct gmem_nl g;
	const char *cmd;
	int c, rc;

	while ((c = getopt_long(argc, argv, "jph", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			opt_json = true;
			break;
		case 'p':
			opt_json = opt_pretty = true;
			break;
		case 'h':
			gmem_usage(stdout);
			return 0;
		default:
			gmem_usage(stderr);
			return 1;
		}
	}
	cmd = optind < argc ? argv[optind++] : "show";
	if (!strcmp(cmd, "bind") && (argc - optind == 1 || argc - optind == 2))
		return gmem_bind(argv[optind], optind + 1 < argc ? argv[optind + 1] :
				 "guestmem");
	if (!strcmp(cmd, "unbind") && argc - optind == 1)
		return gmem_bind(argv[optind], "");
	if (strcmp(cmd, "show") && strcmp(cmd, "monitor")) {
		gmem_usage(stderr);
		return 1;
	}
	if ((!strcmp(cmd, "show") && argc - optind > 1) ||
	    (!strcmp(cmd, "monitor") && argc != optind)) {
		gmem_usage(stderr);
		return 1;
	}
	gmem_open(&g);
	if (!strcmp(cmd, "show"))
		rc = gmem_show(&g, optind < argc ? argv[optind] : NULL);
	else
		rc = gmem_monitor(&g);
	mnl_socket_close(g.nl);
	return rc;
}
