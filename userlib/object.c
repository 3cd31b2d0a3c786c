// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Guest memory objects as handles: creation (new, new_multi_region,
 * allocate, empty, subrange), references (clone/release), the object fd
 * (fd/from_fd), and what can be asked of an object without touching guest
 * memory (format, full_mapping).  IOVAs are in dma.c.
 *
 * Lifetime: the kernel object lives as long as any fd refers to it; a
 * struct gm holds one fd and counts its own references.  A view made by
 * gm_subrange() has its own fd, and the kernel keeps the base object alive
 * for it, so views outlive the handle they were made from.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "direct.h"

int gm_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

static int gm_fail_create_errno(const char *name, int ret, const char *what)
{
	struct gm_fault f = { .errnum = -ret, .kind = GM_ERROR_OTHER, .op = GM_OP_CREATE };

	if (what)
		return gm_fail_usage(&f, name, "%s: %s", what, strerror(-ret));
	return gm_fail_usage(&f, name, "%s", strerror(-ret));
}

/* A creator called without a place for its result. */
#define gm_check_out(name, out)                                                \
	do {                                                                   \
		if (!(out))                                                    \
			return gm_fail_create_errno(name, -EINVAL,             \
						    "no place for the new object"); \
	} while (0)

/* The device is opened per creation, so the library holds no fd of its own. */
static int gm_open_device(const char *name)
{
	int fd = open(GM_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return gm_fail_create_errno(name, -errno, "cannot open " GM_DEVICE);
	return fd;
}

/* Run a device ioctl; returns the new object fd or a recorded -errno. */
static int gm_create(const char *name, unsigned long cmd, void *arg, uint32_t *out_fd)
{
	int dev, ret;

	dev = gm_open_device(name);
	if (dev < 0)
		return dev;
	ret = gm_ioctl(dev, cmd, arg);
	close(dev);
	if (ret)
		return gm_fail_create_errno(name, ret, NULL);
	return (int)*out_fd;
}

/*
 * Map what mmap() of the object fd reaches.  An object of one region is one
 * mapping (allocated memory, where failing is an error, as it always was;
 * a file).  For several regions the window is reserved PROT_NONE - holes and
 * user backings stay inaccessible - and each region with
 * GUESTMEM_REGION_MMAP is mapped over its slot; where that fails, the
 * object simply stays on the kernel path.
 */
static int gm_map_object(struct gm *gm, uint64_t size, uint64_t offset)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map;
	size_t i;

	if (size > SIZE_MAX)
		return 0;
	if (gm->region_count == 1) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, gm->fd, 0);
		/* A file may refuse (a seal added since): then the kernel path. */
		if (map == MAP_FAILED)
			return gm->type == GUESTMEM_OBJ_ALLOC ? -errno : 0;
	} else {
		map = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			   -1, 0);
		if (map == MAP_FAILED)
			return 0;
		for (i = 0; i < gm->region_count; i++) {
			const struct guestmem_region_info *ri = &gm->regions[i];
			uint64_t slot = (uint64_t)i << gm->region_bits;
			uint64_t len = (ri->len + page - 1) & ~(uint64_t)(page - 1);

			if (!(ri->flags & GUESTMEM_REGION_MMAP) || !len)
				continue;
			if (mmap(map + slot, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 gm->fd, (off_t)slot) == MAP_FAILED) {
				munmap(map, size);
				return 0;
			}
		}
	}
	gm->map = map;
	gm->map_len = size;
	gm->map_offset = offset;
	return 0;
}

/* Read the object's description: once for the sizes, once for the arrays. */
static int gm_query_info(struct gm *gm)
{
	struct guestmem_info info = { .size = sizeof(info) };
	int ret;

	ret = gm_ioctl(gm->fd, GUESTMEM_INFO, &info);
	if (ret)
		return ret;
	gm->name = calloc(1, info.out_name_len + 1);
	gm->region_count = info.out_region_count;
	gm->regions = calloc(gm->region_count ? gm->region_count : 1, sizeof(*gm->regions));
	if (!gm->name || !gm->regions)
		return -ENOMEM;

	info = (struct guestmem_info){
		.size = sizeof(info),
		.name_uptr = (uintptr_t)gm->name,
		.name_capacity = info.out_name_len + 1,
		.regions_uptr = (uintptr_t)gm->regions,
		.region_capacity = (uint32_t)gm->region_count,
	};
	ret = gm_ioctl(gm->fd, GUESTMEM_INFO, &info);
	if (ret)
		return ret;
	gm->type = info.out_type;
	gm->info_flags = info.out_flags;
	gm->region_bits = info.out_region_bits;
	gm->invalid_mask = info.out_invalid_mask;
	gm->region_mask = info.out_region_mask;
	gm->view_offset = info.out_subrange_offset;
	gm->full_mapping_va = info.out_full_mapping_va;
	gm->full_mapping_len = info.out_full_mapping_len;
	gm->info_pid = getpid();
	gm->owner_epoch = gm_direct_epoch();

	if ((gm->info_flags & GUESTMEM_INFO_MMAP) && info.out_mmap_size)
		return gm_map_object(gm, info.out_mmap_size, info.out_mmap_offset);
	return 0;
}

static void gm_destroy(struct gm *gm)
{
	gm_direct_release(gm);
	if (gm->map)
		munmap(gm->map, gm->map_len);
	if (gm->fd >= 0)
		close(gm->fd);
	free(gm->regions);
	free(gm->name);
	free(gm);
}

static int gm_adopt_fd(int fd, struct gm **out)
{
	char what[32];
	struct gm *gm;
	int ret;

	gm = calloc(1, sizeof(*gm));
	if (!gm) {
		close(fd);
		return gm_fail_create_errno("", -ENOMEM, NULL);
	}
	atomic_init(&gm->refs, 1);
	gm->fd = fd;
	ret = gm_query_info(gm);
	if (ret) {
		snprintf(what, sizeof(what), "fd %d", fd);
		gm_destroy(gm);
		if (ret == -ENOTTY)
			return gm_fail_create_errno(what, ret, "not a guest memory object");
		return gm_fail_create_errno(what, ret, "cannot describe the object");
	}
	*out = gm;
	return 0;
}

int gm_new(const char *debug_name, void *base, size_t len, struct gm **out)
{
	const char *name = debug_name ? debug_name : "";
	struct guestmem_create_user a = {
		.size = sizeof(a),
		.name_uptr = (uintptr_t)name,
		.name_len = (uint32_t)strlen(name),
		.base_uptr = (uintptr_t)base,
		.len = len,
	};
	int fd;

	gm_check_out(name, out);
	if (!base)
		return gm_fail_create_errno(name, -EINVAL, "the base address is NULL");
	if (strlen(name) > UINT32_MAX)
		return gm_fail_create_errno(name, -ENAMETOOLONG, NULL);
	fd = gm_create(name, GUESTMEM_CREATE_USER, &a, &a.out_fd);
	if (fd < 0)
		return fd;
	return gm_adopt_fd(fd, out);
}

/* The seed's MultiRegionError messages, from the kernel's verdict. */
static int gm_fail_multi(const char *name, const struct guestmem_create_multi *a,
			 const struct gm_backing *backings)
{
	switch (a->out_reason) {
	case GUESTMEM_MR_NOT_POWER_OF_TWO:
		return gm_fail_create(EINVAL, name, "region size 0x%" PRIx64 " is not a power of 2",
				      (uint64_t)a->region_size);
	case GUESTMEM_MR_REGION_TOO_SMALL:
		return gm_fail_create(EINVAL, name,
				      "region size 0x%" PRIx64 " is smaller than a page",
				      (uint64_t)a->region_size);
	case GUESTMEM_MR_TOO_MANY_REGIONS:
		return gm_fail_create(EINVAL, name,
				      "too many regions (%" PRIu64 ") for region size 0x%" PRIx64
				      "; max is %" PRIu64, (uint64_t)a->out_region_count,
				      (uint64_t)a->region_size, (uint64_t)a->out_max_region_count);
	case GUESTMEM_MR_BACKING_TOO_LARGE:
		return gm_fail_create(EINVAL, name,
				      "backing size 0x%zx is too large for region size 0x%" PRIx64,
				      backings[a->out_bad_index].len, (uint64_t)a->region_size);
	default:
		return gm_fail_create_errno(name, -EINVAL, NULL);
	}
}

/*
 * gm_new_multi_region() of libguestmem 1.1: struct gm_backing with files.
 * Both versions are defined with .symver (the 1.1 one as the default), so
 * that the shared library exports both and a static link takes 1.1.
 */
__attribute__((symver("gm_new_multi_region@@LIBGUESTMEM_1.1"), visibility("default")))
int gm_new_multi_region_1_1(const char *debug_name, uint64_t region_size,
			    const struct gm_backing *backings, size_t count, struct gm **out);
int gm_new_multi_region_1_1(const char *debug_name, uint64_t region_size,
			    const struct gm_backing *backings, size_t count, struct gm **out)
{
	const char *name = debug_name ? debug_name : "";
	struct guestmem_create_multi a = {
		.size = sizeof(a),
		.name_uptr = (uintptr_t)name,
		.name_len = (uint32_t)strlen(name),
		.region_size = region_size,
	};
	struct guestmem_backing *kb;
	size_t i;
	int fd;

	gm_check_out(name, out);
	if (count && !backings)
		return gm_fail_create_errno(name, -EINVAL, "the backings array is NULL");
	if (count > UINT32_MAX)
		return gm_fail_create_errno(name, -ENOSPC, "too many backings");
	kb = calloc(count ? count : 1, sizeof(*kb));
	if (!kb)
		return gm_fail_create_errno(name, -ENOMEM, NULL);
	for (i = 0; i < count; i++) {
		switch (backings[i].kind) {
		case GM_BACKING_MEMORY:
			if (!backings[i].base)
				continue;
			kb[i].base_uptr = (uintptr_t)backings[i].base;
			kb[i].flags = GUESTMEM_BACKING_PRESENT;
			break;
		case GM_BACKING_FILE:
			kb[i].offset = backings[i].offset;
			kb[i].fd = backings[i].fd;
			kb[i].flags = GUESTMEM_BACKING_PRESENT | GUESTMEM_BACKING_FILE;
			break;
		default:
			free(kb);
			return gm_fail_create_errno(name, -EINVAL, "unknown backing kind");
		}
		kb[i].len = backings[i].len;
	}
	a.backing_count = (uint32_t)count;
	a.backings_uptr = (uintptr_t)kb;
	fd = gm_create(name, GUESTMEM_CREATE_MULTI, &a, &a.out_fd);
	free(kb);
	if (fd == -EINVAL && a.out_reason != GUESTMEM_MR_OK)
		return gm_fail_multi(name, &a, backings);
	if (fd < 0)
		return fd;
	return gm_adopt_fd(fd, out);
}

/* libguestmem 1.0's struct gm_backing: user memory only. */
struct gm_backing_1_0 {
	void *base;
	size_t len;
};

__attribute__((symver("gm_new_multi_region@LIBGUESTMEM_1.0"), visibility("default")))
int gm_new_multi_region_1_0(const char *debug_name, uint64_t region_size,
			    const struct gm_backing_1_0 *backings, size_t count, struct gm **out);
int gm_new_multi_region_1_0(const char *debug_name, uint64_t region_size,
			    const struct gm_backing_1_0 *backings, size_t count, struct gm **out)
{
	struct gm_backing *b = NULL;
	size_t i;
	int ret;

	if (count && backings) {
		b = calloc(count, sizeof(*b));
		if (!b)
			return gm_fail_create_errno(debug_name ? debug_name : "", -ENOMEM, NULL);
		for (i = 0; i < count; i++) {
			b[i].base = backings[i].base;
			b[i].len = backings[i].len;
		}
	}
	ret = gm_new_multi_region_1_1(debug_name, region_size, b, count, out);
	free(b);
	return ret;
}

int gm_new_file(const char *debug_name, int fd, uint64_t offset, size_t len, struct gm **out)
{
	const char *name = debug_name ? debug_name : "";
	struct guestmem_create_file a = {
		.size = sizeof(a),
		.name_uptr = (uintptr_t)name,
		.name_len = (uint32_t)strlen(name),
		.fd = fd,
		.offset = offset,
		.len = len,
	};
	int obj;

	gm_check_out(name, out);
	if (strlen(name) > UINT32_MAX)
		return gm_fail_create_errno(name, -ENAMETOOLONG, NULL);
	obj = gm_create(name, GUESTMEM_CREATE_FILE, &a, &a.out_fd);
	if (obj < 0)
		return obj;
	return gm_adopt_fd(obj, out);
}

int gm_allocate(size_t size, struct gm **out)
{
	struct guestmem_create_alloc a = { .size = sizeof(a), .len = size };
	int fd;

	gm_check_out("heap", out);
	fd = gm_create("heap", GUESTMEM_CREATE_ALLOC, &a, &a.out_fd);
	if (fd < 0)
		return fd;
	return gm_adopt_fd(fd, out);
}

int gm_empty(struct gm **out)
{
	struct guestmem_create_empty a = { .size = sizeof(a) };
	int fd;

	gm_check_out("empty", out);
	fd = gm_create("empty", GUESTMEM_CREATE_EMPTY, &a, &a.out_fd);
	if (fd < 0)
		return fd;
	return gm_adopt_fd(fd, out);
}

int gm_subrange(struct gm *gm, uint64_t offset, uint64_t len, bool allow_preemptive_locking,
		struct gm **out)
{
	struct guestmem_subrange a = {
		.size = sizeof(a),
		.flags = allow_preemptive_locking ? GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING : 0,
		.offset = offset,
		.len = len,
	};
	int ret;

	gm_check_out(gm->name, out);
	ret = gm_ioctl(gm->fd, GUESTMEM_SUBRANGE, &a);
	if (ret)
		return gm_fail_ioctl(gm, ret, GM_OP_SUBRANGE, true, offset, len, &a.out_fault);
	ret = gm_adopt_fd((int)a.out_fd, out);
	if (!ret)
		gm_direct_inherit(gm, *out, offset);
	return ret;
}

struct gm *gm_clone(struct gm *gm)
{
	if (gm)
		atomic_fetch_add_explicit(&gm->refs, 1, memory_order_relaxed);
	return gm;
}

void gm_release(struct gm *gm)
{
	if (gm && atomic_fetch_sub_explicit(&gm->refs, 1, memory_order_acq_rel) == 1)
		gm_destroy(gm);
}

int gm_fd(const struct gm *gm)
{
	return gm->fd;
}

int gm_from_fd(int fd, struct gm **out)
{
	char what[32];
	int dup;

	snprintf(what, sizeof(what), "fd %d", fd);
	gm_check_out(what, out);
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return gm_fail_create_errno(what, -errno, "cannot duplicate the fd");
	return gm_adopt_fd(dup, out);
}

/* Like snprintf into a moving window; keeps counting once the buffer is full. */
struct gm_out {
	char *buf;
	size_t len, pos;
};

static __attribute__((format(printf, 2, 3))) void gm_out(struct gm_out *o, const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/*
 * The seed's Debug prints region_def and regions; we add the debug name
 * (which the seed's Debug leaves out) and whether the memory is allocated.
 */
int gm_format(const struct gm *gm, char *buf, size_t len)
{
	struct guestmem_info info = { .size = sizeof(info) };
	struct gm_out o = { buf, len, 0 };
	bool base_iova;
	size_t i;

	/* Attach happens after creation: ask for the IOVA state now. */
	base_iova = !gm_ioctl(gm->fd, GUESTMEM_INFO, &info) &&
		    (info.out_flags & GUESTMEM_INFO_BASE_IOVA);

	if (buf && len)
		buf[0] = '\0';
	gm_out(&o, "GuestMemory { debug_name: \"%s\", region_def: RegionDefinition { "
	       "invalid_mask: 0x%" PRIx64 ", region_mask: 0x%" PRIx64 ", region_bits: %u }, "
	       "regions: [", gm->name, gm->invalid_mask, gm->region_mask, gm->region_bits);
	for (i = 0; i < gm->region_count; i++) {
		const struct guestmem_region_info *r = &gm->regions[i];

		gm_out(&o, "%sMemoryRegion { mapping: ", i ? ", " : "");
		if (!(r->flags & GUESTMEM_REGION_MAPPED))
			gm_out(&o, "None");
		else if (r->flags & GUESTMEM_REGION_HAS_VA)
			gm_out(&o, "Some(0x%" PRIx64 ")", (uint64_t)r->va);
		else if (gm_map_va(gm, i, 0))
			gm_out(&o, "Some(%p)", (void *)gm_map_va(gm, i, 0));
		else
			gm_out(&o, "Some(owner's address space)");
		gm_out(&o, ", len: 0x%" PRIx64 ", base_iova: ", (uint64_t)r->len);
		if (base_iova)
			gm_out(&o, "Some(0x%" PRIx64 ") }", (uint64_t)info.out_base_iova);
		else
			gm_out(&o, "None }");
	}
	gm_out(&o, "], allocated: %s }", gm->type == GUESTMEM_OBJ_ALLOC ? "true" : "false");
	return o.pos > INT32_MAX ? INT32_MAX : (int)o.pos;
}

int gm_full_mapping(struct gm *gm, void **base, size_t *len)
{
	struct gm_fault f = { .errnum = ENOENT, .kind = GM_ERROR_OTHER, .op = GM_OP_FULL_MAPPING };

	if (!(gm->info_flags & GUESTMEM_INFO_FULL_MAPPING))
		return gm_fail_usage(&f, gm->name, "the memory is not one mapped region");
	if (gm->info_flags & GUESTMEM_INFO_FULL_MAPPING_VA) {
		*base = (void *)(uintptr_t)gm->full_mapping_va;
		*len = gm->full_mapping_len;
		return 0;
	}
	if ((gm->info_flags & GUESTMEM_INFO_MMAP) && (gm->map || !gm->full_mapping_len)) {
		*base = gm->map ? (char *)gm->map + gm->map_offset : NULL;
		*len = gm->full_mapping_len;
		return 0;
	}
	/* A hugetlbfs file, or one that refused the mapping (a seal). */
	if (gm->regions[0].flags & GUESTMEM_REGION_FILE)
		return gm_fail_usage(&f, gm->name, "the file is not mapped in this process");
	return gm_fail_usage(&f, gm->name,
			     "the mapping is in the address space of the process that created it");
}
