// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The per-thread error record behind gm_last_error().
 *
 * The seed returns a GuestMemoryError whose Display is the only text callers
 * see; libguestmem returns -errno and keeps the same information here, with
 * the message formatted byte for byte as the seed formats it (spec §4):
 *
 *   guest memory '{name}': {op} error: failed to access {start:#x}-{end:#x}
 *   guest memory '{name}': {op} error: failed to access memory
 *
 * followed by " at {gpa:#x}" when a precise GPA is known and differs from
 * the start of the range.  Rust's {:#x} prints 0 as "0x0", so the hex is
 * written as "0x%" PRIx64, never "%#" PRIx64.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct gm_error_slot {
	struct gm_error err;
	char name[GM_NAME_MAX];
	char cause[256];
	char message[GM_NAME_MAX + 1024];
};

static __thread struct gm_error_slot gm_tls_error;

const struct gm_error *gm_last_error(void)
{
	struct gm_error_slot *s = &gm_tls_error;

	/* Nothing recorded yet: errnum 0 and empty strings, never NULL. */
	if (!s->err.message) {
		s->err.debug_name = s->name;
		s->err.cause = s->cause;
		s->err.message = s->message;
	}
	return &s->err;
}

static const char *const gm_op_names[] = {
	[GM_OP_READ] = "read",
	[GM_OP_WRITE] = "write",
	[GM_OP_FILL] = "fill",
	[GM_OP_COMPARE_EXCHANGE] = "compare exchange",
	[GM_OP_LOCK] = "lock",
	[GM_OP_SUBRANGE] = "subrange",
	[GM_OP_PROBE] = "probe",
	[GM_OP_CREATE] = "create",
	[GM_OP_FULL_MAPPING] = "full mapping",
	[GM_OP_IOVA] = "iova",
	[GM_OP_ATTACH] = "attach device",
	[GM_OP_PCI] = "pci device",
};

static const char *gm_op_name(enum gm_op op)
{
	if ((unsigned int)op < sizeof(gm_op_names) / sizeof(gm_op_names[0]))
		return gm_op_names[op];
	return "unknown";
}

/* Fill everything but the message; returns the slot. */
static struct gm_error_slot *gm_error_begin(const struct gm_fault *f, const char *name,
					    const char *cause)
{
	struct gm_error_slot *s = &gm_tls_error;

	memset(&s->err, 0, sizeof(s->err));
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	snprintf(s->cause, sizeof(s->cause), "%s", cause ? cause : "");
	s->err.errnum = f->errnum;
	s->err.kind = f->kind;
	s->err.op = f->op;
	s->err.has_range = f->has_range;
	s->err.range_start = f->range_start;
	s->err.range_end = f->range_end;
	/* The seed drops its "no precise address" sentinel from messages. */
	s->err.has_gpa = f->has_gpa && f->gpa != GM_INVALID_ERROR_GPA;
	s->err.gpa = s->err.has_gpa ? f->gpa : 0;
	s->err.debug_name = s->name;
	s->err.cause = s->cause;
	s->err.message = s->message;
	return s;
}

static void gm_format_error_message(char *buf, size_t len, const char *name, enum gm_op op,
				    bool has_range, uint64_t start, uint64_t end,
				    bool has_gpa, uint64_t gpa)
{
	int n;

	n = snprintf(buf, len, "guest memory '%s': %s error: failed to access ",
		     name, gm_op_name(op));
	if (n < 0 || (size_t)n >= len)
		return;
	if (has_range)
		n += snprintf(buf + n, len - n, "0x%" PRIx64 "-0x%" PRIx64, start, end);
	else
		n += snprintf(buf + n, len - n, "memory");
	if (n < 0 || (size_t)n >= len)
		return;
	if (has_gpa && (!has_range || gpa != start))
		snprintf(buf + n, len - n, " at 0x%" PRIx64, gpa);
}

int gm_fail(const struct gm_fault *f, const char *name, const char *cause_fmt, ...)
{
	struct gm_error_slot *s;
	char cause[256];
	va_list ap;

	va_start(ap, cause_fmt);
	vsnprintf(cause, sizeof(cause), cause_fmt, ap);
	va_end(ap);

	s = gm_error_begin(f, name, cause);
	gm_format_error_message(s->message, sizeof(s->message), s->name, s->err.op,
				s->err.has_range, s->err.range_start, s->err.range_end,
				s->err.has_gpa, s->err.gpa);
	return -f->errnum;
}

int gm_fail_usage(const struct gm_fault *f, const char *name, const char *cause_fmt, ...)
{
	struct gm_error_slot *s;
	char cause[256];
	va_list ap;

	va_start(ap, cause_fmt);
	vsnprintf(cause, sizeof(cause), cause_fmt, ap);
	va_end(ap);

	s = gm_error_begin(f, name, cause);
	snprintf(s->message, sizeof(s->message), "guest memory '%s': %s error: %s",
		 s->name, gm_op_name(s->err.op), s->cause);
	return -f->errnum;
}

int gm_fail_create(int errnum, const char *name, const char *msg_fmt, ...)
{
	struct gm_fault f = { .errnum = errnum, .kind = GM_ERROR_OTHER, .op = GM_OP_CREATE };
	struct gm_error_slot *s;
	char msg[256];
	va_list ap;

	va_start(ap, msg_fmt);
	vsnprintf(msg, sizeof(msg), msg_fmt, ap);
	va_end(ap);

	/* MultiRegionError's Display is the whole message; it names no memory. */
	s = gm_error_begin(&f, name, msg);
	snprintf(s->message, sizeof(s->message), "%s", msg);
	return -errnum;
}

static const char *gm_cause_text(uint32_t cause)
{
	switch (cause) {
	case GUESTMEM_CAUSE_NO_MEMORY:
		return "no memory at address";
	case GUESTMEM_CAUSE_NOT_MAPPED:
		return "the specified page is not mapped";
	case GUESTMEM_CAUSE_NOT_LOCKABLE:
		return "memory not lockable";
	case GUESTMEM_CAUSE_NO_FALLBACK:
		return "no fallback for this operation";
	case GUESTMEM_CAUSE_OWNER_EXITED:
		return "the process that created the memory has exited";
	default:
		return "unknown cause";
	}
}

int gm_fail_ioctl(const struct gm *gm, int ret, enum gm_op op, bool has_range,
		  uint64_t gpa, uint64_t len, const struct guestmem_fault *kf)
{
	struct gm_fault f = {
		.errnum = -ret,
		.kind = GM_ERROR_OTHER,
		.op = op,
		.has_range = has_range,
		.range_start = gpa,
		.range_end = gpa + len,         /* wrapping, as the seed does */
	};

	if (!(kf->flags & GUESTMEM_FAULT_VALID)) {
		/* Not about guest memory: the caller's buffer, list or arguments. */
		f.has_range = false;
		if (f.errnum == EFAULT)
			return gm_fail_usage(&f, gm->name,
					     "the caller's buffer or page list is not accessible");
		return gm_fail_usage(&f, gm->name, "%s", strerror(f.errnum));
	}
	f.kind = (enum gm_error_kind)kf->kind;
	if (kf->flags & GUESTMEM_FAULT_HAS_GPA) {
		f.has_gpa = true;
		f.gpa = kf->gpa;
	}
	if (kf->cause == GUESTMEM_CAUSE_INVALID_GPN)
		return gm_fail(&f, gm->name, "invalid guest page number 0x%" PRIx64,
			       (uint64_t)kf->gpn);
	return gm_fail(&f, gm->name, "%s", gm_cause_text(kf->cause));
}
