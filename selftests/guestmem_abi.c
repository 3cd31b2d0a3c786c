// SPDX-License-Identifier: GPL-2.0
/*
 * The raw ioctl ABI of /dev/guestmem and its object fds, without the
 * library: struct sizes, the size/flags/reserved rules of every ioctl, the
 * errno contract, and each validation rule with otherwise valid input.
 * Shaped after tools/testing/selftests/iommu/iommufd.c.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/guestmem.h>
#include <guestmem.h>

#include "kselftest_harness.h"

#pragma GCC diagnostic ignored "-Wsign-compare"

/* The uapi sizes are ABI (the kernel asserts the same numbers). */
static_assert(sizeof(struct guestmem_fault) == 32, "");
static_assert(sizeof(struct guestmem_create_user) == 48, "");
static_assert(sizeof(struct guestmem_backing) == 24, "");
static_assert(sizeof(struct guestmem_create_multi) == 72, "");
static_assert(sizeof(struct guestmem_create_alloc) == 32, "");
static_assert(sizeof(struct guestmem_create_empty) == 16, "");
static_assert(sizeof(struct guestmem_rw) == 64, "");
static_assert(sizeof(struct guestmem_fill) == 64, "");
static_assert(sizeof(struct guestmem_cmpxchg) == 88, "");
static_assert(sizeof(struct guestmem_probe_gpns) == 56, "");
static_assert(sizeof(struct guestmem_range) == 88, "");
static_assert(sizeof(struct guestmem_subrange) == 64, "");
static_assert(sizeof(struct guestmem_region_info) == 24, "");
static_assert(sizeof(struct guestmem_info) == 144, "");
static_assert(sizeof(struct guestmem_lock_gpns) == 72, "");
static_assert(sizeof(struct guestmem_unlock_gpns) == 16, "");
static_assert(sizeof(struct guestmem_iova) == 64, "");
static_assert(sizeof(struct guestmem_attach_device) == 24, "");
static_assert(sizeof(struct guestmem_iova_run) == 24, "");
static_assert(sizeof(struct guestmem_iova_runs) == 88, "");

#define PAGE 4096UL
#define MEM_PAGES 4

/* Layer 1: the raw call, 0 or -errno. */
static int gm_raw(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* Layer 3: exactly this errno. */
#define test_err(_errno, fd, cmd, arg) \
	EXPECT_EQ(-(_errno), gm_raw(fd, cmd, arg))

static int open_dev(void)
{
	return open("/dev/guestmem", O_RDWR | O_CLOEXEC);
}

static int create_user(int dev, void *base, uint64_t len, const char *name)
{
	struct guestmem_create_user cmd = {
		.size = sizeof(cmd),
		.name_uptr = (uintptr_t)name,
		.name_len = strlen(name),
		.base_uptr = (uintptr_t)base,
		.len = len,
	};
	int rc = gm_raw(dev, GUESTMEM_CREATE_USER, &cmd);

	return rc ? rc : (int)cmd.out_fd;
}

static int create_alloc(int dev, uint64_t len)
{
	struct guestmem_create_alloc cmd = { .size = sizeof(cmd), .len = len };
	int rc = gm_raw(dev, GUESTMEM_CREATE_ALLOC, &cmd);

	return rc ? rc : (int)cmd.out_fd;
}

static int create_empty(int dev)
{
	struct guestmem_create_empty cmd = { .size = sizeof(cmd) };
	int rc = gm_raw(dev, GUESTMEM_CREATE_EMPTY, &cmd);

	return rc ? rc : (int)cmd.out_fd;
}

static int gm_read(int obj, uint64_t gpa, void *buf, uint64_t len,
		   struct guestmem_fault *fault)
{
	struct guestmem_rw cmd = {
		.size = sizeof(cmd), .gpa = gpa, .len = len,
		.buf_uptr = (uintptr_t)buf,
	};
	int rc = gm_raw(obj, GUESTMEM_READ, &cmd);

	if (fault)
		*fault = cmd.out_fault;
	return rc;
}

static int gm_write(int obj, uint64_t gpa, const void *buf, uint64_t len,
		    struct guestmem_fault *fault)
{
	struct guestmem_rw cmd = {
		.size = sizeof(cmd), .gpa = gpa, .len = len,
		.buf_uptr = (uintptr_t)buf,
	};
	int rc = gm_raw(obj, GUESTMEM_WRITE, &cmd);

	if (fault)
		*fault = cmd.out_fault;
	return rc;
}

/*
 * Fixture: /dev/guestmem, and a user-backed object "abi" over 4 pages of
 * which page 1 is PROT_NONE and page 2 read-only.
 */
FIXTURE(abi) {
	int dev;
	int obj;
	uint8_t *mem;
};

FIXTURE_SETUP(abi)
{
	self->dev = open_dev();
	self->obj = -1;
	self->mem = MAP_FAILED;
	if (self->dev < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_LE(0, self->dev);
	self->mem = mmap(NULL, MEM_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, 0x5a, MEM_PAGES * PAGE);
	ASSERT_EQ(0, mprotect(self->mem + PAGE, PAGE, PROT_NONE));
	ASSERT_EQ(0, mprotect(self->mem + 2 * PAGE, PAGE, PROT_READ));
	self->obj = create_user(self->dev, self->mem, MEM_PAGES * PAGE, "abi");
	ASSERT_LE(0, self->obj);
}

FIXTURE_TEARDOWN(abi)
{
	if (self->obj >= 0)
		close(self->obj);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM_PAGES * PAGE);
	if (self->dev >= 0)
		close(self->dev);
}

/*
 * One length test: the valid struct @arg of @size bytes must fail with
 * EINVAL when its size field is one short, E2BIG when 8 bytes longer with a
 * nonzero tail, and succeed when 8 bytes longer with a zero tail (which the
 * kernel must leave untouched).  A returned fd (create, subrange) is closed.
 */
static void length_test(struct __test_metadata *_metadata, int fd,
			unsigned long cmd, const void *arg, size_t size,
			size_t out_fd_off)
{
	uint64_t buf[32] = {};
	uint8_t *tail = (uint8_t *)buf + size;
	uint32_t *size_field = (uint32_t *)buf;

	ASSERT_GE(sizeof(buf), size + 8);
	memcpy(buf, arg, size);

	*size_field = 0;
	EXPECT_EQ(-EINVAL, gm_raw(fd, cmd, buf));
	*size_field = size - 1;
	EXPECT_EQ(-EINVAL, gm_raw(fd, cmd, buf));

	*size_field = size + 8;
	tail[7] = 1;
	EXPECT_EQ(-E2BIG, gm_raw(fd, cmd, buf));

	tail[7] = 0;
	EXPECT_EQ(0, gm_raw(fd, cmd, buf));
	EXPECT_EQ(0, memcmp(tail, "\0\0\0\0\0\0\0\0", 8));
	if (out_fd_off) {
		uint32_t out_fd;

		memcpy(&out_fd, (uint8_t *)buf + out_fd_off, sizeof(out_fd));
		EXPECT_EQ(FD_CLOEXEC, fcntl(out_fd, F_GETFD));
		EXPECT_EQ(0, close(out_fd));
	}
}

#define TEST_LENGTH(fd, cmd, st) \
	length_test(_metadata, fd, cmd, &st, sizeof(st), 0)
#define TEST_LENGTH_FD(fd, cmd, st) \
	length_test(_metadata, fd, cmd, &st, sizeof(st), offsetof(typeof(st), out_fd))

/*
 * Valid example arguments for every ioctl, built around the fixture.
 * @buf is a scratch buffer of at least PAGE bytes.
 */
struct valid_args {
	struct guestmem_create_user create_user;
	struct guestmem_create_multi create_multi;
	struct guestmem_backing backings[3];
	struct guestmem_create_alloc create_alloc;
	struct guestmem_create_empty create_empty;
	struct guestmem_rw rw;
	struct guestmem_fill fill;
	struct guestmem_cmpxchg cmpxchg;
	struct guestmem_probe_gpns probe;
	struct guestmem_range range;
	struct guestmem_subrange subrange;
	struct guestmem_info info;
	struct guestmem_lock_gpns lock;
	struct guestmem_unlock_gpns unlock;
	struct guestmem_iova iova;
	struct guestmem_attach_device attach;
	struct guestmem_iova_runs iova_runs;
	struct guestmem_iova_run runs[2];
	uint64_t gpns[2];
	uint64_t iovas[2];
	uint8_t buf[PAGE];
};

static void valid_args_init(struct valid_args *v, uint8_t *mem)
{
	memset(v, 0, sizeof(*v));
	v->create_user = (struct guestmem_create_user){
		.size = sizeof(v->create_user),
		.name_uptr = (uintptr_t)"abi", .name_len = 3,
		.base_uptr = (uintptr_t)mem, .len = PAGE,
	};
	v->backings[0] = (struct guestmem_backing){
		.base_uptr = (uintptr_t)mem, .len = PAGE,
		.flags = GUESTMEM_BACKING_PRESENT,
	};
	v->backings[2] = v->backings[0];
	v->create_multi = (struct guestmem_create_multi){
		.size = sizeof(v->create_multi),
		.name_uptr = (uintptr_t)"multi", .name_len = 5,
		.backing_count = 3, .region_size = 1ULL << 30,
		.backings_uptr = (uintptr_t)v->backings,
	};
	v->create_alloc = (struct guestmem_create_alloc){
		.size = sizeof(v->create_alloc), .len = PAGE,
	};
	v->create_empty = (struct guestmem_create_empty){
		.size = sizeof(v->create_empty),
	};
	v->rw = (struct guestmem_rw){
		.size = sizeof(v->rw), .gpa = 0, .len = 8,
		.buf_uptr = (uintptr_t)v->buf,
	};
	v->fill = (struct guestmem_fill){
		.size = sizeof(v->fill), .gpa = 0, .len = 8, .val = 0x5a,
	};
	v->cmpxchg = (struct guestmem_cmpxchg){
		.size = sizeof(v->cmpxchg), .gpa = 8, .len = 8,
		.current_val = 0x5a5a5a5a5a5a5a5aULL,
		.new_val = 0x5a5a5a5a5a5a5a5aULL,
	};
	v->gpns[0] = 0;
	v->gpns[1] = 3;
	v->probe = (struct guestmem_probe_gpns){
		.size = sizeof(v->probe),
		.gpns_uptr = (uintptr_t)v->gpns, .gpn_count = 2,
	};
	v->range = (struct guestmem_range){
		.size = sizeof(v->range),
		.gpns_uptr = (uintptr_t)v->gpns, .gpn_count = 1,
		.offset = 16, .len = 64, .buf_uptr = (uintptr_t)v->buf,
	};
	v->subrange = (struct guestmem_subrange){
		.size = sizeof(v->subrange), .offset = 16, .len = 64,
	};
	v->info = (struct guestmem_info){ .size = sizeof(v->info) };
	v->lock = (struct guestmem_lock_gpns){
		.size = sizeof(v->lock),
		.gpns_uptr = (uintptr_t)v->gpns, .gpn_count = 2,
		.iovas_uptr = (uintptr_t)v->iovas,
	};
	v->unlock = (struct guestmem_unlock_gpns){ .size = sizeof(v->unlock) };
	v->iova = (struct guestmem_iova){
		.size = sizeof(v->iova), .gpns_uptr = (uintptr_t)v->gpns,
		.iovas_uptr = (uintptr_t)v->iovas,
	};
	v->iova_runs = (struct guestmem_iova_runs){
		.size = sizeof(v->iova_runs), .runs_uptr = (uintptr_t)v->runs,
		.max_runs = 2,
	};
	/* The test VM's edu device, 0000:00:03.0. */
	v->attach = (struct guestmem_attach_device){
		.size = sizeof(v->attach), .pci_devfn = 3 << 3,
	};
}

#define EDU_SYSFS "/sys/bus/pci/devices/0000:00:03.0"

/* The edu device exists, and is bound to guestmem (attach needs that). */
static bool have_edu(void)
{
	return access(EDU_SYSFS, F_OK) == 0 &&
	       gm_pci_bind("0000:00:03.0", NULL, NULL, 0) == 0;
}

/*
 * GUESTMEM_INFO grew (issue 4): its first version, 112 bytes, is still
 * accepted and gets exactly 112 bytes back; below it is EINVAL.
 */
#define INFO_V1_SIZE 112

static void info_length_test(struct __test_metadata *_metadata, int fd)
{
	uint8_t buf[sizeof(struct guestmem_info) + 8];
	struct guestmem_info *info = (struct guestmem_info *)buf;

	memset(buf, 0, sizeof(buf));
	info->size = INFO_V1_SIZE - 1;
	EXPECT_EQ(-EINVAL, gm_raw(fd, GUESTMEM_INFO, buf));
	memset(buf + INFO_V1_SIZE, 0xee, sizeof(buf) - INFO_V1_SIZE);
	info->size = INFO_V1_SIZE;
	EXPECT_EQ(0, gm_raw(fd, GUESTMEM_INFO, buf));
	EXPECT_EQ(0xee, buf[INFO_V1_SIZE]);
	EXPECT_EQ(0xee, buf[sizeof(buf) - 1]);
	memset(buf, 0, sizeof(buf));
	info->size = sizeof(buf);
	buf[sizeof(buf) - 1] = 1;
	EXPECT_EQ(-E2BIG, gm_raw(fd, GUESTMEM_INFO, buf));
	buf[sizeof(buf) - 1] = 0;
	EXPECT_EQ(0, gm_raw(fd, GUESTMEM_INFO, buf));
	EXPECT_EQ(0, buf[sizeof(buf) - 1]);
}

TEST_F(abi, every_ioctl_checks_its_length)
{
	struct valid_args *v = malloc(sizeof(*v));
	struct guestmem_range fill_range;

	ASSERT_NE(NULL, v);
	valid_args_init(v, self->mem);
	TEST_LENGTH_FD(self->dev, GUESTMEM_CREATE_USER, v->create_user);
	TEST_LENGTH_FD(self->dev, GUESTMEM_CREATE_MULTI, v->create_multi);
	TEST_LENGTH_FD(self->dev, GUESTMEM_CREATE_ALLOC, v->create_alloc);
	TEST_LENGTH_FD(self->dev, GUESTMEM_CREATE_EMPTY, v->create_empty);
	TEST_LENGTH(self->obj, GUESTMEM_READ, v->rw);
	TEST_LENGTH(self->obj, GUESTMEM_WRITE, v->rw);
	TEST_LENGTH(self->obj, GUESTMEM_READ_PLAIN, v->rw);
	TEST_LENGTH(self->obj, GUESTMEM_WRITE_PLAIN, v->rw);
	TEST_LENGTH(self->obj, GUESTMEM_FILL, v->fill);
	TEST_LENGTH(self->obj, GUESTMEM_COMPARE_EXCHANGE, v->cmpxchg);
	TEST_LENGTH(self->obj, GUESTMEM_PROBE_GPNS, v->probe);
	TEST_LENGTH(self->obj, GUESTMEM_RANGE_READ, v->range);
	TEST_LENGTH(self->obj, GUESTMEM_RANGE_WRITE, v->range);
	fill_range = v->range;
	fill_range.buf_uptr = 0;
	fill_range.val = 0x5a;
	TEST_LENGTH(self->obj, GUESTMEM_RANGE_FILL, fill_range);
	TEST_LENGTH_FD(self->obj, GUESTMEM_SUBRANGE, v->subrange);
	info_length_test(_metadata, self->obj);
	TEST_LENGTH(self->obj, GUESTMEM_LOCK_GPNS, v->lock);
	/* Exactly one call of a length test succeeds: one lock to unlock. */
	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_LOCK_GPNS, &v->lock));
	v->unlock.lock_id = v->lock.out_lock_id;
	TEST_LENGTH(self->obj, GUESTMEM_UNLOCK_GPNS, v->unlock);
	TEST_LENGTH(self->obj, GUESTMEM_IOVA, v->iova);
	TEST_LENGTH(self->obj, GUESTMEM_IOVA_RUNS, v->iova_runs);
	if (have_edu()) {
		int fd = create_empty(self->dev);

		ASSERT_LE(0, fd);
		TEST_LENGTH(fd, GUESTMEM_ATTACH_DEVICE, v->attach);
		close(fd);
	}
	free(v);
}

/*
 * A struct larger than a page is refused before its tail is read: the
 * kernel would otherwise scan up to 4 GiB of the caller's memory for
 * nonzero bytes (clone3, openat2 and perf refuse the same way; review L2).
 */
TEST_F(abi, a_size_past_a_page_is_e2big_even_with_a_zero_tail)
{
	uint8_t *buf = calloc(1, 2 * PAGE);
	struct guestmem_info *info = (void *)buf;

	ASSERT_NE(NULL, buf);
	info->size = PAGE;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_INFO, buf));
	info->size = PAGE + 8;
	EXPECT_EQ(-E2BIG, gm_raw(self->obj, GUESTMEM_INFO, buf));
	info->size = UINT32_MAX;
	EXPECT_EQ(-E2BIG, gm_raw(self->obj, GUESTMEM_INFO, buf));
	free(buf);
}

/* Call @cmd with a copy of @arg whose u32 at byte @off is @val. */
static int with_u32(int fd, unsigned long cmd, const void *arg, size_t size,
		    size_t off, uint32_t val)
{
	uint64_t buf[32];

	memcpy(buf, arg, size);
	memcpy((uint8_t *)buf + off, &val, sizeof(val));
	return gm_raw(fd, cmd, buf);
}

#define EXPECT_FIELD(_errno, fd, cmd, st, field, val)			\
	EXPECT_EQ(-(_errno), with_u32(fd, cmd, &st, sizeof(st),		\
				      offsetof(typeof(st), field), val))	\
		TH_LOG(#cmd "." #field " = %#x", (unsigned int)(val))

TEST_F(abi, unknown_flags_are_eopnotsupp)
{
	struct valid_args *v = malloc(sizeof(*v));
	struct guestmem_range fill_range;

	ASSERT_NE(NULL, v);
	valid_args_init(v, self->mem);
	fill_range = v->range;
	fill_range.buf_uptr = 0;
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_USER,
		     v->create_user, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_MULTI,
		     v->create_multi, flags, 1U << 31);
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_ALLOC,
		     v->create_alloc, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_EMPTY,
		     v->create_empty, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_READ, v->rw, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_WRITE, v->rw, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_READ_PLAIN, v->rw,
		     flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_WRITE_PLAIN, v->rw,
		     flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_FILL, v->fill, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_COMPARE_EXCHANGE,
		     v->cmpxchg, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_PROBE_GPNS, v->probe,
		     flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_RANGE_READ, v->range,
		     flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_RANGE_WRITE, v->range,
		     flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_RANGE_FILL, fill_range,
		     flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_SUBRANGE, v->subrange,
		     flags, 2);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_INFO, v->info, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_LOCK_GPNS, v->lock,
		     flags, 4);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_UNLOCK_GPNS, v->unlock,
		     flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_IOVA, v->iova, flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_IOVA_RUNS, v->iova_runs,
		     flags, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_ATTACH_DEVICE, v->attach,
		     flags, 1);
	free(v);
}

TEST_F(abi, nonzero_reserved_is_eopnotsupp)
{
	struct valid_args *v = malloc(sizeof(*v));

	ASSERT_NE(NULL, v);
	valid_args_init(v, self->mem);
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_USER,
		     v->create_user, __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_USER,
		     v->create_user, __reserved2, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_MULTI,
		     v->create_multi, __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_ALLOC,
		     v->create_alloc, __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_EMPTY,
		     v->create_empty, __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_FILL, v->fill,
		     __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_COMPARE_EXCHANGE,
		     v->cmpxchg, __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_COMPARE_EXCHANGE,
		     v->cmpxchg, __reserved2, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_RANGE_READ, v->range,
		     __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_SUBRANGE, v->subrange,
		     __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_UNLOCK_GPNS, v->unlock,
		     __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_ATTACH_DEVICE, v->attach,
		     __reserved, 1);
	EXPECT_FIELD(EOPNOTSUPP, self->obj, GUESTMEM_IOVA_RUNS, v->iova_runs,
		     __reserved, 1);

	/* Reserved and unknown flags inside a backing entry, too. */
	v->backings[2].__reserved = 1;
	test_err(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_MULTI,
		 &v->create_multi);
	v->backings[2].__reserved = 0;
	v->backings[2].flags |= 2;
	test_err(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_MULTI,
		 &v->create_multi);
	free(v);
}

TEST_F(abi, bad_struct_pointer_is_efault)
{
	static const unsigned long dev_cmds[] = {
		GUESTMEM_CREATE_USER, GUESTMEM_CREATE_MULTI,
		GUESTMEM_CREATE_ALLOC, GUESTMEM_CREATE_EMPTY,
	};
	static const unsigned long obj_cmds[] = {
		GUESTMEM_READ, GUESTMEM_WRITE, GUESTMEM_FILL,
		GUESTMEM_READ_PLAIN, GUESTMEM_WRITE_PLAIN,
		GUESTMEM_COMPARE_EXCHANGE, GUESTMEM_PROBE_GPNS,
		GUESTMEM_RANGE_READ, GUESTMEM_RANGE_WRITE, GUESTMEM_RANGE_FILL,
		GUESTMEM_SUBRANGE, GUESTMEM_INFO, GUESTMEM_LOCK_GPNS,
		GUESTMEM_UNLOCK_GPNS, GUESTMEM_IOVA, GUESTMEM_ATTACH_DEVICE,
		GUESTMEM_IOVA_RUNS,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dev_cmds); i++) {
		test_err(EFAULT, self->dev, dev_cmds[i], NULL);
		test_err(EFAULT, self->dev, dev_cmds[i], (void *)8);
	}
	for (i = 0; i < ARRAY_SIZE(obj_cmds); i++) {
		test_err(EFAULT, self->obj, obj_cmds[i], NULL);
		test_err(EFAULT, self->obj, obj_cmds[i], self->mem + PAGE);
	}
}

TEST_F(abi, bad_pointers_inside_structs_are_efault_without_fault_info)
{
	struct valid_args *v = malloc(sizeof(*v));
	void *bad = self->mem + PAGE;

	ASSERT_NE(NULL, v);
	valid_args_init(v, self->mem);
	v->create_multi.backings_uptr = (uintptr_t)bad;
	test_err(EFAULT, self->dev, GUESTMEM_CREATE_MULTI, &v->create_multi);
	v->create_multi.backings_uptr = (uintptr_t)v->backings;
	v->create_multi.name_uptr = (uintptr_t)bad;
	test_err(EFAULT, self->dev, GUESTMEM_CREATE_MULTI, &v->create_multi);

	v->rw.buf_uptr = (uintptr_t)bad;
	test_err(EFAULT, self->obj, GUESTMEM_READ_PLAIN, &v->rw);
	EXPECT_EQ(0, v->rw.out_fault.flags);
	test_err(EFAULT, self->obj, GUESTMEM_WRITE_PLAIN, &v->rw);
	EXPECT_EQ(0, v->rw.out_fault.flags);

	v->range.buf_uptr = (uintptr_t)bad;
	test_err(EFAULT, self->obj, GUESTMEM_RANGE_READ, &v->range);
	EXPECT_EQ(0, v->range.out_fault.flags);
	test_err(EFAULT, self->obj, GUESTMEM_RANGE_WRITE, &v->range);
	EXPECT_EQ(0, v->range.out_fault.flags);
	v->range.buf_uptr = (uintptr_t)v->buf;
	v->range.gpns_uptr = (uintptr_t)bad;
	test_err(EFAULT, self->obj, GUESTMEM_RANGE_READ, &v->range);
	EXPECT_EQ(0, v->range.out_fault.flags);

	v->info.name_uptr = (uintptr_t)bad;
	v->info.name_capacity = 16;
	test_err(EFAULT, self->obj, GUESTMEM_INFO, &v->info);
	free(v);
}

TEST_F(abi, unknown_or_misdirected_ioctls_are_enotty)
{
	struct guestmem_rw rw = { .size = sizeof(rw) };
	struct guestmem_create_empty ce = { .size = sizeof(ce) };

	test_err(ENOTTY, self->dev, _IO(GUESTMEM_TYPE, 0x0f), &rw);
	test_err(ENOTTY, self->obj, _IO(GUESTMEM_TYPE, 0x2f), &rw);
	test_err(ENOTTY, self->obj, _IO(GUESTMEM_TYPE, 0xff), &rw);
	test_err(ENOTTY, self->obj, _IO('x', 0x10), &rw);
	/* Right nr, wrong encoding: _IOWR is not _IO. */
	test_err(ENOTTY, self->obj, _IOWR(GUESTMEM_TYPE, 0x10,
					  struct guestmem_rw), &rw);
	/* Object ioctls on the device and device ioctls on an object. */
	test_err(ENOTTY, self->dev, GUESTMEM_READ, &rw);
	test_err(ENOTTY, self->obj, GUESTMEM_CREATE_EMPTY, &ce);
	test_err(ENOTTY, self->dev, GUESTMEM_LOCK_GPNS, NULL);
}

TEST_F(abi, object_fds_are_cloexec_and_refuse_read)
{
	char c;

	EXPECT_EQ(FD_CLOEXEC, fcntl(self->obj, F_GETFD));
	EXPECT_EQ(-1, read(self->obj, &c, 1));
	EXPECT_EQ(-1, write(self->obj, &c, 1));
}

TEST_F(abi, create_user_validates_range_and_name)
{
	struct valid_args *v = malloc(sizeof(*v));
	char longname[300];
	int fd;

	ASSERT_NE(NULL, v);
	valid_args_init(v, self->mem);

	v->create_user.base_uptr = ~0ULL - 10;
	v->create_user.len = 100;
	test_err(EOVERFLOW, self->dev, GUESTMEM_CREATE_USER, &v->create_user);
	v->create_user.base_uptr = 0xffff888000000000ULL;
	v->create_user.len = PAGE;
	test_err(EFAULT, self->dev, GUESTMEM_CREATE_USER, &v->create_user);

	valid_args_init(v, self->mem);
	v->create_user.name_uptr = (uintptr_t)"a\0b";
	test_err(EINVAL, self->dev, GUESTMEM_CREATE_USER, &v->create_user);
	v->create_user.name_uptr = (uintptr_t)(self->mem + PAGE);
	test_err(EFAULT, self->dev, GUESTMEM_CREATE_USER, &v->create_user);
	memset(longname, 'n', sizeof(longname));
	v->create_user.name_uptr = (uintptr_t)longname;
	v->create_user.name_len = 257;
	test_err(ENAMETOOLONG, self->dev, GUESTMEM_CREATE_USER,
		 &v->create_user);
	v->create_user.name_len = 256;
	EXPECT_EQ(0, gm_raw(self->dev, GUESTMEM_CREATE_USER, &v->create_user));
	close(v->create_user.out_fd);

	/* Zero length and an empty name are fine. */
	fd = create_user(self->dev, self->mem, 0, "");
	ASSERT_LE(0, fd);
	close(fd);
	free(v);
}

FIXTURE(multi) {
	int dev;
	struct guestmem_create_multi cmd;
	struct guestmem_backing backings[3];
	uint8_t *mem;
};

FIXTURE_SETUP(multi)
{
	self->dev = open_dev();
	if (self->dev < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_LE(0, self->dev);
	self->mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->backings, 0, sizeof(self->backings));
	self->backings[0].base_uptr = (uintptr_t)self->mem;
	self->backings[0].len = PAGE;
	self->backings[0].flags = GUESTMEM_BACKING_PRESENT;
	self->backings[2] = self->backings[0];
	self->backings[2].base_uptr += PAGE;
	self->cmd = (struct guestmem_create_multi){
		.size = sizeof(self->cmd),
		.name_uptr = (uintptr_t)"multi", .name_len = 5,
		.backing_count = 3, .region_size = 1ULL << 30,
		.backings_uptr = (uintptr_t)self->backings,
	};
}

FIXTURE_TEARDOWN(multi)
{
	if (self->dev >= 0) {
		munmap(self->mem, 2 * PAGE);
		close(self->dev);
	}
}

static int multi_create(int dev, struct guestmem_create_multi *cmd)
{
	int rc = gm_raw(dev, GUESTMEM_CREATE_MULTI, cmd);

	return rc ? rc : (int)cmd->out_fd;
}

TEST_F(multi, valid_layout_has_four_slots)
{
	struct guestmem_info info = { .size = sizeof(info) };
	int fd = multi_create(self->dev, &self->cmd);

	ASSERT_LE(0, fd);
	EXPECT_EQ(GUESTMEM_MR_OK, self->cmd.out_reason);
	EXPECT_EQ(4, self->cmd.out_region_count);
	EXPECT_EQ(1ULL << 33, self->cmd.out_max_region_count);
	ASSERT_EQ(0, gm_raw(fd, GUESTMEM_INFO, &info));
	EXPECT_EQ(GUESTMEM_OBJ_MULTI, info.out_type);
	EXPECT_EQ(4, info.out_region_count);
	EXPECT_EQ(30, info.out_region_bits);
	EXPECT_EQ(~0ULL << 32, info.out_invalid_mask);
	EXPECT_EQ((1ULL << 30) - 1, info.out_region_mask);
	EXPECT_EQ(0, info.out_flags & GUESTMEM_INFO_FULL_MAPPING);
	close(fd);
}

TEST_F(multi, region_size_not_power_of_two)
{
	self->cmd.region_size = 0;
	test_err(EINVAL, self->dev, GUESTMEM_CREATE_MULTI, &self->cmd);
	EXPECT_EQ(GUESTMEM_MR_NOT_POWER_OF_TWO, self->cmd.out_reason);
	self->cmd.region_size = 3 * PAGE;
	/* The seed checks the region size before the region count. */
	self->cmd.backing_count = 1U << 31;
	test_err(EINVAL, self->dev, GUESTMEM_CREATE_MULTI, &self->cmd);
	EXPECT_EQ(GUESTMEM_MR_NOT_POWER_OF_TWO, self->cmd.out_reason);
}

TEST_F(multi, region_size_smaller_than_a_page)
{
	self->cmd.region_size = 2048;
	test_err(EINVAL, self->dev, GUESTMEM_CREATE_MULTI, &self->cmd);
	EXPECT_EQ(GUESTMEM_MR_REGION_TOO_SMALL, self->cmd.out_reason);
}

TEST_F(multi, too_many_regions)
{
	self->cmd.region_size = 1ULL << 62;
	test_err(EINVAL, self->dev, GUESTMEM_CREATE_MULTI, &self->cmd);
	EXPECT_EQ(GUESTMEM_MR_TOO_MANY_REGIONS, self->cmd.out_reason);
	EXPECT_EQ(4, self->cmd.out_region_count);
	EXPECT_EQ(2, self->cmd.out_max_region_count);
}

TEST_F(multi, more_backings_than_max_regions_is_enospc)
{
	self->cmd.region_size = PAGE;
	self->cmd.backing_count = 1025;
	test_err(ENOSPC, self->dev, GUESTMEM_CREATE_MULTI, &self->cmd);
	EXPECT_EQ(GUESTMEM_MR_OK, self->cmd.out_reason);
}

TEST_F(multi, backing_too_large)
{
	int fd;

	self->cmd.region_size = PAGE;
	self->backings[2].len = PAGE + 1;
	test_err(EINVAL, self->dev, GUESTMEM_CREATE_MULTI, &self->cmd);
	EXPECT_EQ(GUESTMEM_MR_BACKING_TOO_LARGE, self->cmd.out_reason);
	EXPECT_EQ(2, self->cmd.out_bad_index);
	/* Exactly the region size is accepted. */
	self->backings[2].len = PAGE;
	fd = multi_create(self->dev, &self->cmd);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_F(multi, hole_with_an_address_is_einval)
{
	self->backings[1].len = PAGE;
	test_err(EINVAL, self->dev, GUESTMEM_CREATE_MULTI, &self->cmd);
	EXPECT_EQ(GUESTMEM_MR_OK, self->cmd.out_reason);
}

TEST_F(multi, holes_and_padding_are_out_of_range)
{
	struct guestmem_subrange sub = { .size = sizeof(sub) };
	struct guestmem_fault fault;
	struct guestmem_rw rw = { .size = sizeof(rw) };
	uint8_t b;
	int fd = multi_create(self->dev, &self->cmd);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, gm_read(fd, 0, &b, 1, &fault));
	EXPECT_EQ(0, fault.flags);
	EXPECT_EQ(-ERANGE, gm_read(fd, 1ULL << 30, &b, 1, &fault));
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_GPA, fault.flags);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, fault.kind);
	EXPECT_EQ(GUESTMEM_CAUSE_NO_MEMORY, fault.cause);
	EXPECT_EQ(1ULL << 30, fault.gpa);
	EXPECT_EQ(0, gm_read(fd, 2ULL << 30, &b, 1, NULL));
	EXPECT_EQ(-ERANGE, gm_read(fd, 3ULL << 30, &b, 1, NULL));
	EXPECT_EQ(-ERANGE, gm_read(fd, 4ULL << 30, &b, 1, NULL));
	/* A zero-size plain access to a hole still fails: OutOfRange. */
	rw.gpa = 1ULL << 30;
	test_err(ERANGE, fd, GUESTMEM_READ_PLAIN, &rw);
	/* A byte access of length 0 succeeds anywhere. */
	EXPECT_EQ(0, gm_read(fd, 1ULL << 30, &b, 0, NULL));
	/* No view of a hole, not even an empty one. */
	sub.offset = 1ULL << 30;
	test_err(ERANGE, fd, GUESTMEM_SUBRANGE, &sub);
	EXPECT_EQ(1ULL << 30, sub.out_fault.gpa);
	close(fd);
}

TEST_F(abi, out_of_range_reports_kind_cause_and_gpa)
{
	struct guestmem_fault fault;
	uint8_t buf[16];

	EXPECT_EQ(-ERANGE, gm_read(self->obj, MEM_PAGES * PAGE, buf, 1,
				   &fault));
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_GPA, fault.flags);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, fault.kind);
	EXPECT_EQ(GUESTMEM_CAUSE_NO_MEMORY, fault.cause);
	EXPECT_EQ(MEM_PAGES * PAGE, fault.gpa);
	/* Crossing the end fails as a whole, at the access start. */
	EXPECT_EQ(-ERANGE, gm_read(self->obj, MEM_PAGES * PAGE - 2, buf, 4,
				   &fault));
	EXPECT_EQ(MEM_PAGES * PAGE - 2, fault.gpa);
	/* Bit 63 is never a valid address, nor a valid length. */
	EXPECT_EQ(-ERANGE, gm_read(self->obj, 1ULL << 63, buf, 1, &fault));
	EXPECT_EQ(-ERANGE, gm_read(self->obj, 0, buf, 1ULL << 63, &fault));
	/* Length 0: success for any address. */
	EXPECT_EQ(0, gm_read(self->obj, ~0ULL, buf, 0, &fault));
	EXPECT_EQ(0, fault.flags);
}

TEST_F(abi, guest_fault_reports_the_first_bad_byte)
{
	struct guestmem_fault fault;
	uint8_t buf[2 * PAGE];

	/* Page 1 is PROT_NONE: a read from the end of page 0 names 0x1000. */
	EXPECT_EQ(-EFAULT, gm_read(self->obj, PAGE - 1, buf, 2, &fault));
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_GPA, fault.flags);
	EXPECT_EQ(GUESTMEM_KIND_OTHER, fault.kind);
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_MAPPED, fault.cause);
	EXPECT_EQ(PAGE, fault.gpa);
	EXPECT_EQ(0x5a, buf[0]);
	/* Inside the first page: the access start. */
	EXPECT_EQ(-EFAULT, gm_read(self->obj, PAGE + 7, buf, 1, &fault));
	EXPECT_EQ(PAGE + 7, fault.gpa);
	/* Page 2 is read-only: readable, not writable. */
	EXPECT_EQ(0, gm_read(self->obj, 2 * PAGE, buf, PAGE, &fault));
	EXPECT_EQ(-EFAULT, gm_write(self->obj, 2 * PAGE + 8, buf, 16, &fault));
	EXPECT_EQ(2 * PAGE + 8, fault.gpa);
	/* A write that runs into a bad page keeps the bytes before it. */
	memset(buf, 0x11, 16);
	EXPECT_EQ(-EFAULT, gm_write(self->obj, PAGE - 8, buf, 16, &fault));
	EXPECT_EQ(PAGE, fault.gpa);
	EXPECT_EQ(0x11, self->mem[PAGE - 1]);
	EXPECT_EQ(0x5a, self->mem[PAGE - 9]);
	/* munmap after creation: a fault, never an oops. */
	ASSERT_EQ(0, munmap(self->mem + 3 * PAGE, PAGE));
	EXPECT_EQ(-EFAULT, gm_read(self->obj, 3 * PAGE, buf, 1, &fault));
	EXPECT_EQ(3 * PAGE, fault.gpa);
}

TEST_F(abi, caller_buffer_fault_is_efault_without_fault_info)
{
	struct guestmem_fault fault;

	EXPECT_EQ(-EFAULT, gm_read(self->obj, 0, self->mem + PAGE, 8, &fault));
	EXPECT_EQ(0, fault.flags);
	EXPECT_EQ(-EFAULT, gm_write(self->obj, 0, (void *)8, 8, &fault));
	EXPECT_EQ(0, fault.flags);
}

TEST_F(abi, fill_value_must_be_a_byte)
{
	struct guestmem_fill fill = {
		.size = sizeof(fill), .gpa = 0, .len = 16, .val = 0x100,
	};

	test_err(EINVAL, self->obj, GUESTMEM_FILL, &fill);
	fill.val = 0xa5;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_FILL, &fill));
	EXPECT_EQ(0xa5, self->mem[15]);
	EXPECT_EQ(0x5a, self->mem[16]);
}

TEST_F(abi, plain_access_of_size_zero_validates_the_address)
{
	struct guestmem_rw rw = { .size = sizeof(rw) };
	int empty;

	rw.gpa = MEM_PAGES * PAGE;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_READ_PLAIN, &rw));
	rw.gpa = MEM_PAGES * PAGE + 1;
	test_err(ERANGE, self->obj, GUESTMEM_READ_PLAIN, &rw);
	test_err(ERANGE, self->obj, GUESTMEM_WRITE_PLAIN, &rw);

	empty = create_empty(self->dev);
	ASSERT_LE(0, empty);
	rw.gpa = 0;
	test_err(EFAULT, empty, GUESTMEM_READ_PLAIN, &rw);
	EXPECT_EQ(GUESTMEM_CAUSE_NO_FALLBACK, rw.out_fault.cause);
	EXPECT_EQ(GUESTMEM_KIND_OTHER, rw.out_fault.kind);
	rw.gpa = 1;
	test_err(ERANGE, empty, GUESTMEM_READ_PLAIN, &rw);
	EXPECT_EQ(0, gm_read(empty, 5, NULL, 0, NULL));
	close(empty);
}

TEST_F(abi, plain_values_round_trip)
{
	uint64_t v = 0x0123456789abcdefULL, r = 0;
	struct guestmem_rw rw = {
		.size = sizeof(rw), .gpa = 64, .len = 8,
		.buf_uptr = (uintptr_t)&v,
	};

	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_WRITE_PLAIN, &rw));
	EXPECT_EQ(0, memcmp(self->mem + 64, &v, 8));
	rw.buf_uptr = (uintptr_t)&r;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_READ_PLAIN, &rw));
	EXPECT_EQ(v, r);
	/* Odd sizes and misaligned addresses are plain copies. */
	rw.gpa = 3;
	rw.len = 5;
	rw.buf_uptr = (uintptr_t)&v;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_WRITE_PLAIN, &rw));
	EXPECT_EQ(0, memcmp(self->mem + 3, &v, 5));
	/* Across the PROT_NONE page: the fault names its first byte. */
	rw.gpa = PAGE - 4;
	rw.len = 8;
	test_err(EFAULT, self->obj, GUESTMEM_READ_PLAIN, &rw);
	EXPECT_EQ(PAGE, rw.out_fault.gpa);
}

TEST_F(abi, compare_exchange_rules)
{
	struct guestmem_cmpxchg c = {
		.size = sizeof(c), .gpa = 8, .len = 4,
		.current_val = 0x5a5a5a5a, .new_val = 0x12345678,
	};
	uint32_t now;

	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_COMPARE_EXCHANGE, &c));
	EXPECT_EQ(1, c.out_exchanged);
	EXPECT_EQ(0x5a5a5a5a, c.out_current);
	memcpy(&now, self->mem + 8, 4);
	EXPECT_EQ(0x12345678, now);
	/* Mismatch: memory untouched, the value found comes back. */
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_COMPARE_EXCHANGE, &c));
	EXPECT_EQ(0, c.out_exchanged);
	EXPECT_EQ(0x12345678, c.out_current);

	c.len = 3;
	test_err(EINVAL, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
	c.len = 0;
	test_err(EINVAL, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
	c.len = 16;
	test_err(EINVAL, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
	c.len = 4;
	c.gpa = 10;
	test_err(EINVAL, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
	c.gpa = 8;
	c.current_val = 1ULL << 32;
	test_err(EINVAL, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
	c.current_val = 0;
	c.new_val = 1ULL << 40;
	test_err(EINVAL, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
	/* A read-only page fails even when the comparison would fail. */
	c.new_val = 0;
	c.gpa = 2 * PAGE;
	test_err(EFAULT, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
	EXPECT_EQ(2 * PAGE, c.out_fault.gpa);
	EXPECT_EQ(GUESTMEM_KIND_OTHER, c.out_fault.kind);
	c.gpa = MEM_PAGES * PAGE;
	test_err(ERANGE, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
}

TEST_F(abi, probe_gpns_reports_index_and_gpn)
{
	uint64_t gpns[4] = { 0, 2, 1, 3 };
	struct guestmem_probe_gpns p = {
		.size = sizeof(p), .gpns_uptr = (uintptr_t)gpns, .gpn_count = 2,
	};

	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_PROBE_GPNS, &p));
	p.gpn_count = 4;
	test_err(EFAULT, self->obj, GUESTMEM_PROBE_GPNS, &p);
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_GPA |
		  GUESTMEM_FAULT_HAS_INDEX, p.out_fault.flags);
	EXPECT_EQ(2, p.out_fault.index);
	EXPECT_EQ(1, p.out_fault.gpn);
	EXPECT_EQ(PAGE, p.out_fault.gpa);
	gpns[2] = 1ULL << 52;
	test_err(ERANGE, self->obj, GUESTMEM_PROBE_GPNS, &p);
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_INDEX,
		  p.out_fault.flags);
	EXPECT_EQ(GUESTMEM_CAUSE_INVALID_GPN, p.out_fault.cause);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, p.out_fault.kind);
	EXPECT_EQ(1ULL << 52, p.out_fault.gpn);
	gpns[2] = 4;
	test_err(ERANGE, self->obj, GUESTMEM_PROBE_GPNS, &p);
	EXPECT_EQ(GUESTMEM_CAUSE_NO_MEMORY, p.out_fault.cause);
	EXPECT_EQ(4 * PAGE, p.out_fault.gpa);
	p.gpn_count = 1ULL << 32;
	test_err(EOVERFLOW, self->obj, GUESTMEM_PROBE_GPNS, &p);
	p.gpn_count = 1;
	p.gpns_uptr = (uintptr_t)(self->mem + PAGE);
	test_err(EFAULT, self->obj, GUESTMEM_PROBE_GPNS, &p);
	EXPECT_EQ(0, p.out_fault.flags);
	p.gpn_count = 0;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_PROBE_GPNS, &p));
}

TEST_F(abi, paged_range_rules)
{
	uint64_t gpns[3] = { 3, 0, 1 };
	uint8_t buf[3 * PAGE];
	struct guestmem_range r = {
		.size = sizeof(r), .gpns_uptr = (uintptr_t)gpns, .gpn_count = 2,
		.offset = 100, .len = 2 * PAGE - 100,
		.buf_uptr = (uintptr_t)buf,
	};

	memset(buf, 0xee, sizeof(buf));
	memset(self->mem + 3 * PAGE, 1, PAGE);
	memset(self->mem, 2, PAGE);
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_RANGE_READ, &r));
	EXPECT_EQ(1, buf[0]);
	EXPECT_EQ(1, buf[PAGE - 101]);
	EXPECT_EQ(2, buf[PAGE - 100]);
	EXPECT_EQ(0xee, buf[2 * PAGE - 100]);

	/* PagedRange::new rules. */
	r.offset = 2 * PAGE + 1;
	r.len = 0;
	test_err(EINVAL, self->obj, GUESTMEM_RANGE_READ, &r);
	r.offset = 100;
	r.len = 2 * PAGE - 99;
	test_err(EINVAL, self->obj, GUESTMEM_RANGE_READ, &r);
	r.len = 16;
	r.val = 1;
	test_err(EINVAL, self->obj, GUESTMEM_RANGE_READ, &r);
	test_err(EINVAL, self->obj, GUESTMEM_RANGE_FILL, &r);
	r.buf_uptr = 0;
	r.val = 0x100;
	test_err(EINVAL, self->obj, GUESTMEM_RANGE_FILL, &r);
	r.val = 0;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_RANGE_FILL, &r));
	EXPECT_EQ(0, self->mem[3 * PAGE + 100]);
	r.gpn_count = 1ULL << 32;
	test_err(EOVERFLOW, self->obj, GUESTMEM_RANGE_FILL, &r);

	/* The failing chunk names its gpn index; earlier chunks are done. */
	r.buf_uptr = (uintptr_t)buf;
	r.gpn_count = 3;
	r.offset = PAGE - 8;
	r.len = PAGE + 16;
	test_err(EFAULT, self->obj, GUESTMEM_RANGE_READ, &r);
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_GPA |
		  GUESTMEM_FAULT_HAS_INDEX, r.out_fault.flags);
	EXPECT_EQ(2, r.out_fault.index);
	EXPECT_EQ(1, r.out_fault.gpn);
	EXPECT_EQ(PAGE, r.out_fault.gpa);
	gpns[2] = ~0ULL;
	test_err(ERANGE, self->obj, GUESTMEM_RANGE_READ, &r);
	EXPECT_EQ(GUESTMEM_CAUSE_INVALID_GPN, r.out_fault.cause);
	EXPECT_EQ(2, r.out_fault.index);

	/* An empty range inside a page still checks its gpn. */
	gpns[0] = ~0ULL;
	r.offset = 5;
	r.len = 0;
	test_err(ERANGE, self->obj, GUESTMEM_RANGE_READ, &r);
	EXPECT_EQ(0, r.out_fault.index);
	r.offset = 0;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_RANGE_READ, &r));
}

TEST_F(abi, subrange_rules)
{
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = PAGE * 2 + 8, .len = PAGE - 8,
		.flags = GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING,
	};
	struct guestmem_info info = { .size = sizeof(info) };
	struct guestmem_fault fault;
	int view, view2;
	uint8_t b;

	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	view = s.out_fd;
	EXPECT_EQ(FD_CLOEXEC, fcntl(view, F_GETFD));
	EXPECT_EQ(0, gm_read(view, 0, &b, 1, NULL));
	EXPECT_EQ(-ERANGE, gm_read(view, PAGE - 8, &b, 1, &fault));
	EXPECT_EQ(PAGE - 8, fault.gpa);

	/* A view of a view flattens: its offset is in the base. */
	s.offset = 8;
	s.len = 16;
	s.flags = 0;
	ASSERT_EQ(0, gm_raw(view, GUESTMEM_SUBRANGE, &s));
	view2 = s.out_fd;
	ASSERT_EQ(0, gm_raw(view2, GUESTMEM_INFO, &info));
	EXPECT_EQ(GUESTMEM_INFO_SUBRANGE, info.out_flags & GUESTMEM_INFO_SUBRANGE);
	EXPECT_EQ(2 * PAGE + 16, info.out_subrange_offset);
	EXPECT_EQ(16, info.out_full_mapping_len);
	EXPECT_EQ((uintptr_t)self->mem + 2 * PAGE + 16,
		  info.out_full_mapping_va);
	close(view);
	/* The view keeps the base alive after every other fd is closed. */
	close(self->obj);
	self->obj = -1;
	EXPECT_EQ(0, gm_read(view2, 0, &b, 1, NULL));
	close(view2);
}

TEST_F(abi, subrange_out_of_range)
{
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = PAGE, .len = MEM_PAGES * PAGE,
	};

	test_err(ERANGE, self->obj, GUESTMEM_SUBRANGE, &s);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, s.out_fault.kind);
	EXPECT_EQ(PAGE, s.out_fault.gpa);
	/* Touching the end of the backing is fine; bit 63 is not. */
	s.len = (MEM_PAGES - 1) * PAGE;
	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	close(s.out_fd);
	s.offset = 1ULL << 63;
	s.len = 0;
	test_err(ERANGE, self->obj, GUESTMEM_SUBRANGE, &s);
}

TEST_F(abi, info_buffers_too_small_are_emsgsize)
{
	struct guestmem_region_info ri[2];
	struct guestmem_info info = { .size = sizeof(info) };
	char name[4];

	info.name_uptr = (uintptr_t)name;
	info.name_capacity = 3;
	test_err(EMSGSIZE, self->obj, GUESTMEM_INFO, &info);
	EXPECT_EQ(3, info.out_name_len);
	info.name_capacity = 4;
	info.regions_uptr = (uintptr_t)ri;
	info.region_capacity = 0;
	test_err(EMSGSIZE, self->obj, GUESTMEM_INFO, &info);
	EXPECT_EQ(1, info.out_region_count);
	info.region_capacity = 2;
	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_INFO, &info));
	EXPECT_STREQ("abi", name);
	EXPECT_EQ(GUESTMEM_OBJ_USER, info.out_type);
	EXPECT_EQ(63, info.out_region_bits);
	EXPECT_EQ(1ULL << 63, info.out_invalid_mask);
	EXPECT_EQ(GUESTMEM_REGION_PRESENT | GUESTMEM_REGION_MAPPED |
		  GUESTMEM_REGION_HAS_VA, ri[0].flags);
	EXPECT_EQ(MEM_PAGES * PAGE, ri[0].len);
	EXPECT_EQ((uintptr_t)self->mem, ri[0].va);
	EXPECT_EQ(GUESTMEM_INFO_FULL_MAPPING | GUESTMEM_INFO_FULL_MAPPING_VA |
		  GUESTMEM_INFO_OWNER | GUESTMEM_INFO_SUPPORTS_LOCKING,
		  info.out_flags);
	info.regions_uptr = (uintptr_t)(self->mem + PAGE);
	test_err(EFAULT, self->obj, GUESTMEM_INFO, &info);
}

TEST_F(abi, allocated_object_is_zeroed_and_mappable)
{
	struct guestmem_create_alloc ca = { .size = sizeof(ca), .len = 5000 };
	struct guestmem_info info = { .size = sizeof(info) };
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = PAGE + 16, .len = 32,
	};
	uint8_t buf[16], *map, *vmap;
	char name[8];
	int fd;

	ASSERT_EQ(0, gm_raw(self->dev, GUESTMEM_CREATE_ALLOC, &ca));
	fd = ca.out_fd;
	EXPECT_EQ(2 * PAGE, ca.out_alloc_size);
	info.name_uptr = (uintptr_t)name;
	info.name_capacity = sizeof(name);
	ASSERT_EQ(0, gm_raw(fd, GUESTMEM_INFO, &info));
	EXPECT_STREQ("heap", name);
	EXPECT_EQ(GUESTMEM_OBJ_ALLOC, info.out_type);
	EXPECT_EQ(GUESTMEM_INFO_FULL_MAPPING | GUESTMEM_INFO_MMAP |
		  GUESTMEM_INFO_SUPPORTS_LOCKING, info.out_flags);
	EXPECT_EQ(2 * PAGE, info.out_mmap_size);
	EXPECT_EQ(0, gm_read(fd, 2 * PAGE - 16, buf, 16, NULL));
	EXPECT_EQ(0, buf[15]);
	EXPECT_EQ(-ERANGE, gm_read(fd, 2 * PAGE - 15, buf, 16, NULL));

	map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	memset(buf, 0x42, sizeof(buf));
	EXPECT_EQ(0, gm_write(fd, PAGE + 16, buf, 16, NULL));
	EXPECT_EQ(0x42, map[PAGE + 31]);
	map[PAGE + 20] = 7;
	EXPECT_EQ(0, gm_read(fd, PAGE + 16, buf, 16, NULL));
	EXPECT_EQ(7, buf[4]);

	/* A view maps its own window; address 0 lies at out_mmap_offset. */
	ASSERT_EQ(0, gm_raw(fd, GUESTMEM_SUBRANGE, &s));
	ASSERT_EQ(0, gm_raw(s.out_fd, GUESTMEM_INFO, &info));
	EXPECT_EQ(PAGE, info.out_mmap_size);
	EXPECT_EQ(16, info.out_mmap_offset);
	vmap = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, s.out_fd, 0);
	ASSERT_NE(MAP_FAILED, vmap);
	EXPECT_EQ(7, vmap[16 + 4]);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED,
				   s.out_fd, 0));
	munmap(vmap, PAGE);
	close(s.out_fd);

	/* Private, too long, or past the end: refused. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd,
				   0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd,
				   2 * PAGE));
	/* The mapping keeps the object alive after close. */
	close(fd);
	EXPECT_EQ(7, map[PAGE + 20]);
	munmap(map, 2 * PAGE);

	/* User memory is not mappable through the fd. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED,
				   self->obj, 0));
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(abi, allocation_limit_is_enospc)
{
	struct guestmem_create_alloc ca = {
		.size = sizeof(ca), .len = (1ULL << 30) + 1,
	};
	int fd;

	test_err(ENOSPC, self->dev, GUESTMEM_CREATE_ALLOC, &ca);
	fd = create_alloc(self->dev, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

/* Send @fd over @sock with SCM_RIGHTS. */
static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * Another process's object: the child creates it over its own memory and
 * sends the fd; the parent reads and writes the child's memory through it,
 * then the child exits and the parent gets ESRCH.
 */
TEST(object_of_another_process)
{
	struct guestmem_info info = { .size = sizeof(info) };
	struct guestmem_fault fault;
	int sv[2], dev, obj, status;
	uint8_t buf[PAGE + 8];
	char go;
	pid_t pid;

	dev = open_dev();
	if (dev < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint8_t *mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int fd;

		memset(mem, 0x77, 2 * PAGE);
		fd = create_user(dev, mem, 2 * PAGE, "child");
		if (fd < 0 || send_fd(sv[1], fd))
			_exit(1);
		/* Wait for the parent's write, check it, then exit. */
		if (read(sv[1], &go, 1) != 1)
			_exit(2);
		_exit(mem[PAGE + 3] == 0x99 ? 0 : 3);
	}
	obj = recv_fd(sv[0]);
	ASSERT_LE(0, obj);
	ASSERT_EQ(0, gm_raw(obj, GUESTMEM_INFO, &info));
	EXPECT_EQ(0, info.out_flags & GUESTMEM_INFO_OWNER);
	EXPECT_EQ(0, info.out_flags & GUESTMEM_INFO_FULL_MAPPING_VA);
	EXPECT_EQ(0, gm_read(obj, PAGE - 4, buf, PAGE + 4, NULL));
	EXPECT_EQ(0x77, buf[0]);
	EXPECT_EQ(0x77, buf[PAGE + 3]);
	memset(buf, 0x99, 8);
	EXPECT_EQ(0, gm_write(obj, PAGE, buf, 8, NULL));
	EXPECT_EQ(-ERANGE, gm_read(obj, 2 * PAGE, buf, 1, NULL));
	ASSERT_EQ(1, write(sv[0], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	EXPECT_EQ(-ESRCH, gm_read(obj, 0, buf, 1, &fault));
	EXPECT_EQ(GUESTMEM_CAUSE_OWNER_EXITED, fault.cause);
	EXPECT_EQ(GUESTMEM_KIND_OTHER, fault.kind);
	ASSERT_EQ(0, gm_raw(obj, GUESTMEM_INFO, &info));
	EXPECT_EQ(GUESTMEM_INFO_OWNER_EXITED,
		  info.out_flags & GUESTMEM_INFO_OWNER_EXITED);
	EXPECT_EQ(0, close(obj));
	close(sv[0]);
	close(sv[1]);
	close(dev);
}

/*
 * Races: threads access an object while its backing is mprotect()ed,
 * zapped, unmapped and mapped again under them.  Every call must end in
 * success or a guest fault inside the accessed range - never anything
 * else, never an oops (the debug kernel runs this with KASAN, lockdep and
 * panic_on_warn).
 */
#define RACE_PAGES 16
#define RACE_OPS 3000

struct race {
	int obj;
	uint8_t *mem;
	volatile int stop;
	int bad;
	int faults;
};

static void *race_worker(void *arg)
{
	struct race *r = arg;
	unsigned int seed = (uintptr_t)pthread_self();
	uint8_t buf[3 * PAGE];
	int i;

	for (i = 0; i < RACE_OPS && !r->stop; i++) {
		uint64_t gpa = rand_r(&seed) % (RACE_PAGES * PAGE);
		uint64_t len = 1 + rand_r(&seed) % sizeof(buf);
		struct guestmem_fault fault = {};
		struct guestmem_cmpxchg c = {
			.size = sizeof(c), .gpa = gpa & ~7ULL, .len = 8,
		};
		int rc;

		if (gpa + len > RACE_PAGES * PAGE)
			len = RACE_PAGES * PAGE - gpa;
		switch (i % 3) {
		case 0:
			rc = gm_read(r->obj, gpa, buf, len, &fault);
			break;
		case 1:
			rc = gm_write(r->obj, gpa, buf, len, &fault);
			break;
		default:
			rc = gm_raw(r->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
			fault = c.out_fault;
			gpa = c.gpa;
			len = 8;
			break;
		}
		if (rc == 0)
			continue;
		__atomic_add_fetch(&r->faults, 1, __ATOMIC_RELAXED);
		if (rc != -EFAULT || !(fault.flags & GUESTMEM_FAULT_VALID) ||
		    fault.gpa < gpa || fault.gpa >= gpa + len)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST(accesses_race_with_mprotect_munmap_and_zap)
{
	struct race r = {};
	pthread_t threads[4];
	int dev, i, round;

	dev = open_dev();
	if (dev < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_LE(0, dev);
	r.mem = mmap(NULL, RACE_PAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.mem);
	r.obj = create_user(dev, r.mem, RACE_PAGES * PAGE, "race");
	ASSERT_LE(0, r.obj);

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, race_worker,
					    &r));
	for (round = 0; round < 200; round++) {
		uint8_t *page = r.mem + (round % RACE_PAGES) * PAGE;

		switch (round % 4) {
		case 0:
			mprotect(page, PAGE, PROT_NONE);
			break;
		case 1:
			mprotect(page, PAGE, PROT_READ);
			break;
		case 2:
			madvise(r.mem, RACE_PAGES * PAGE, MADV_DONTNEED);
			break;
		default:
			munmap(page, PAGE);
			usleep(100);
			ASSERT_EQ(page, mmap(page, PAGE, PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS |
					     MAP_FIXED, -1, 0));
			mprotect(r.mem, RACE_PAGES * PAGE,
				 PROT_READ | PROT_WRITE);
			break;
		}
		usleep(100);
	}
	r.stop = 1;
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	EXPECT_EQ(0, r.bad);
	TH_LOG("%d of %d accesses faulted", r.faults, 4 * RACE_OPS);
	EXPECT_EQ(0, close(r.obj));
	munmap(r.mem, RACE_PAGES * PAGE);
	close(dev);
}

static void *race_owner_worker(void *arg)
{
	struct race *r = arg;
	struct guestmem_fault fault;
	uint8_t buf[2 * PAGE];

	while (!r->stop) {
		int rc = gm_read(r->obj, PAGE / 2, buf, sizeof(buf), &fault);

		if (rc)
			__atomic_add_fetch(&r->faults, 1, __ATOMIC_RELAXED);
		if (rc && (rc != -ESRCH ||
			   fault.cause != GUESTMEM_CAUSE_OWNER_EXITED))
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Readers in another process while the owner exits: 0 or ESRCH only. */
TEST(owner_exit_races_with_remote_accesses)
{
	struct race r = {};
	pthread_t threads[2];
	int sv[2], dev, i, status;
	uint8_t byte;
	pid_t pid;

	dev = open_dev();
	if (dev < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint8_t *mem = mmap(NULL, RACE_PAGES * PAGE,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int fd = create_user(dev, mem, RACE_PAGES * PAGE, "owner");

		if (fd < 0 || send_fd(sv[1], fd))
			_exit(1);
		usleep(20000);
		_exit(0);
	}
	r.obj = recv_fd(sv[0]);
	ASSERT_LE(0, r.obj);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL,
					    race_owner_worker, &r));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Reaped: however busy the readers are, the owner is gone. */
	EXPECT_EQ(-ESRCH, gm_read(r.obj, 0, &byte, 1, NULL));
	usleep(20000);
	r.stop = 1;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	EXPECT_EQ(0, r.bad);
	EXPECT_LT(0, r.faults) TH_LOG("no access saw the owner gone");
	EXPECT_EQ(0, close(r.obj));
	close(sv[0]);
	close(sv[1]);
	close(dev);
}

/* ------------------------------------------------------------------ */
/* Locks, accounting, IOVAs and device attach, through the raw ioctls. */

/* VmPin of /proc/<pid>/status in pages, or -1. */
static long vmpin_pages(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 4;
}

static int lock_gpns(int obj, const uint64_t *gpns, uint64_t n,
		     uint64_t *iovas, uint32_t *id, struct guestmem_fault *f)
{
	struct guestmem_lock_gpns cmd = {
		.size = sizeof(cmd), .gpns_uptr = (uintptr_t)gpns,
		.gpn_count = n, .iovas_uptr = (uintptr_t)iovas,
	};
	int rc = gm_raw(obj, GUESTMEM_LOCK_GPNS, &cmd);

	if (id)
		*id = cmd.out_lock_id;
	if (f)
		*f = cmd.out_fault;
	if (!rc && iovas && !(cmd.out_flags & GUESTMEM_LOCK_OUT_IOVAS))
		return 1;	/* locked, but no IOVAs (not attached) */
	return rc;
}

static int unlock_gpns(int obj, uint32_t id)
{
	struct guestmem_unlock_gpns cmd = { .size = sizeof(cmd), .lock_id = id };

	return gm_raw(obj, GUESTMEM_UNLOCK_GPNS, &cmd);
}

static int iova_of(int obj, const uint64_t *gpns, uint64_t n, uint64_t *iovas,
		   struct guestmem_fault *f)
{
	struct guestmem_iova cmd = {
		.size = sizeof(cmd), .gpns_uptr = (uintptr_t)gpns,
		.gpn_count = n, .iovas_uptr = (uintptr_t)iovas,
	};
	int rc = gm_raw(obj, GUESTMEM_IOVA, &cmd);

	if (f)
		*f = cmd.out_fault;
	return rc;
}

static int iova_runs_of(int obj, uint64_t gpn, uint64_t n,
			struct guestmem_iova_run *runs, uint32_t max,
			struct guestmem_iova_runs *out)
{
	struct guestmem_iova_runs cmd = {
		.size = sizeof(cmd), .gpn = gpn, .gpn_count = n,
		.runs_uptr = (uintptr_t)runs, .max_runs = max,
	};
	int rc = gm_raw(obj, GUESTMEM_IOVA_RUNS, &cmd);

	if (out)
		*out = cmd;
	return rc;
}

/*
 * The runs GUESTMEM_IOVA_RUNS must return for pages gpn .. gpn + n - 1,
 * built from their page IOVAs (GUESTMEM_IOVA); the number of runs, or -1.
 */
static int expected_runs(int obj, uint64_t gpn, uint64_t n,
			 struct guestmem_iova_run *runs)
{
	uint64_t iova;
	int nr = 0;
	uint64_t i;

	for (i = 0; i < n; i++) {
		uint64_t g = gpn + i;

		if (iova_of(obj, &g, 1, &iova, NULL))
			return -1;
		if (nr && runs[nr - 1].iova + runs[nr - 1].npages * PAGE == iova) {
			runs[nr - 1].npages++;
			continue;
		}
		runs[nr++] = (struct guestmem_iova_run){
			.gpn = g, .npages = 1, .iova = iova,
		};
	}
	return nr;
}

static int attach_edu(int obj)
{
	struct guestmem_attach_device cmd = {
		.size = sizeof(cmd), .pci_devfn = 3 << 3,
	};

	return gm_raw(obj, GUESTMEM_ATTACH_DEVICE, &cmd);
}

static int info_of(int obj, struct guestmem_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return gm_raw(obj, GUESTMEM_INFO, info);
}

/* Drop capability @cap from this process (effective and permitted). */
static int drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[cap / 32].effective &= ~(1U << (cap % 32));
	data[cap / 32].permitted &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &hdr, data);
}

TEST_F(abi, lock_pins_charges_and_unlock_releases)
{
	static const uint64_t gpns[] = { 0, 3, 0 };
	long before = vmpin_pages(getpid());
	struct guestmem_info info;
	uint32_t id, id2;
	uint8_t byte;

	ASSERT_LE(0, before);
	ASSERT_EQ(0, lock_gpns(self->obj, gpns, 3, NULL, &id, NULL));
	EXPECT_NE(0, id);
	/* A gpn listed twice is one entry more, not one pin more. */
	EXPECT_EQ(before + 2, vmpin_pages(getpid()));
	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_EQ(3, info.out_locked_pages);
	EXPECT_EQ(2, info.out_pinned_pages);
	EXPECT_EQ(1, info.out_lock_count);
	EXPECT_FALSE(info.out_flags & GUESTMEM_INFO_ATTACHED);

	/* An empty lock is a lock, too. */
	ASSERT_EQ(0, lock_gpns(self->obj, gpns, 0, NULL, &id2, NULL));
	EXPECT_NE(id, id2);
	EXPECT_EQ(0, unlock_gpns(self->obj, id2));

	EXPECT_EQ(0, unlock_gpns(self->obj, id));
	EXPECT_EQ(before, vmpin_pages(getpid()));
	EXPECT_EQ(-ENOENT, unlock_gpns(self->obj, id));
	EXPECT_EQ(-ENOENT, unlock_gpns(self->obj, 0));
	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_EQ(0, info.out_locked_pages);
	EXPECT_EQ(0, info.out_lock_count);

	/* The pinned pages are the ones the owner sees. */
	ASSERT_EQ(0, lock_gpns(self->obj, gpns, 1, NULL, &id, NULL));
	self->mem[5] = 0x77;
	EXPECT_EQ(0, gm_read(self->obj, 5, &byte, 1, NULL));
	EXPECT_EQ(0x77, byte);
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
}

TEST_F(abi, lock_failures_name_the_entry_and_pin_nothing)
{
	long before = vmpin_pages(getpid());
	const uint64_t wrap[3] = { 3, UINT64_MAX, 0 };
	struct guestmem_fault f;
	uint64_t gpns[2] = { 0 };
	uint8_t *odd;
	int fd;

	/* PROT_NONE, then read-only: both refuse a write pin. */
	gpns[1] = 1;
	EXPECT_EQ(-EFAULT, lock_gpns(self->obj, gpns, 2, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_INDEX |
		  GUESTMEM_FAULT_HAS_GPA, f.flags);
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_MAPPED, f.cause);
	EXPECT_EQ(GUESTMEM_KIND_OTHER, f.kind);
	EXPECT_EQ(1, f.index);
	EXPECT_EQ(1, f.gpn);
	EXPECT_EQ(PAGE, f.gpa);
	gpns[1] = 2;
	EXPECT_EQ(-EFAULT, lock_gpns(self->obj, gpns, 2, NULL, NULL, &f));
	EXPECT_EQ(2, f.gpn);
	/* Beyond the object, and a gpn whose address overflows. */
	gpns[1] = MEM_PAGES;
	EXPECT_EQ(-ERANGE, lock_gpns(self->obj, gpns, 2, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_CAUSE_NO_MEMORY, f.cause);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, f.kind);
	EXPECT_EQ(1, f.index);
	gpns[1] = 1ULL << 60;
	EXPECT_EQ(-ERANGE, lock_gpns(self->obj, gpns, 2, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_CAUSE_INVALID_GPN, f.cause);
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_INDEX, f.flags);
	/* The last gpn, then 0: not a run that wraps around. */
	EXPECT_EQ(-ERANGE, lock_gpns(self->obj, wrap, 3, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_CAUSE_INVALID_GPN, f.cause);
	EXPECT_EQ(1, f.index);
	EXPECT_EQ(UINT64_MAX, f.gpn);
	EXPECT_EQ(before, vmpin_pages(getpid()));

	/* A guest page that straddles two host pages cannot be pinned. */
	odd = self->mem + 3 * PAGE + 16;
	fd = create_user(self->dev, odd, 64, "odd");
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, lock_gpns(fd, gpns, 1, NULL, NULL, &f));
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_LOCKABLE, f.cause);
	close(fd);
	/* The empty object has no page 0. */
	fd = create_empty(self->dev);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ERANGE, lock_gpns(fd, gpns, 1, NULL, NULL, &f));
	close(fd);
	EXPECT_EQ(before, vmpin_pages(getpid()));
}

TEST_F(abi, closing_an_object_releases_its_locks)
{
	static const uint64_t gpns[] = { 0, 3 };
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = 3 * PAGE, .len = PAGE,
	};
	long before = vmpin_pages(getpid());
	int fd;

	fd = create_user(self->dev, self->mem, MEM_PAGES * PAGE, "closing");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lock_gpns(fd, gpns, 2, NULL, NULL, NULL));
	ASSERT_EQ(0, lock_gpns(fd, gpns, 1, NULL, NULL, NULL));
	EXPECT_EQ(before + 3, vmpin_pages(getpid()));
	close(fd);
	EXPECT_EQ(before, vmpin_pages(getpid()));

	/* A view's locks are the view's: they go when the view goes. */
	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	ASSERT_EQ(0, lock_gpns(s.out_fd, gpns, 1, NULL, NULL, NULL));
	ASSERT_EQ(0, lock_gpns(self->obj, gpns + 1, 1, NULL, NULL, NULL));
	EXPECT_EQ(before + 2, vmpin_pages(getpid()));
	close(s.out_fd);
	EXPECT_EQ(before + 1, vmpin_pages(getpid()));
}

TEST_F(abi, lock_over_rlimit_memlock_is_enomem)
{
	static const uint64_t gpns[] = { 0, 3, 0 };
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { 2 * PAGE, 2 * PAGE };
		long before;
		int fd;

		/* Without CAP_IPC_LOCK when it locks, the caller is limited. */
		if (drop_cap(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		fd = create_user(self->dev, self->mem, MEM_PAGES * PAGE, "lim");
		before = vmpin_pages(getpid());
		if (fd < 0 || before < 0)
			_exit(11);
		/* Two distinct pages: exactly the limit. */
		if (lock_gpns(fd, gpns, 3, NULL, NULL, NULL))
			_exit(12);
		if (vmpin_pages(getpid()) != before + 2)
			_exit(13);
		if (lock_gpns(fd, gpns, 1, NULL, NULL, NULL) != -ENOMEM)
			_exit(14);
		if (vmpin_pages(getpid()) != before + 2)
			_exit(16);
		close(fd);
		_exit(vmpin_pages(getpid()) == before ? 0 : 17);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(abi, locks_from_another_process_pin_the_owners_pages)
{
	static const uint64_t gpns[] = { 0, 3 };
	long before = vmpin_pages(getpid());
	int pipefd[2], status;
	uint32_t id = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child inherits the fd; the pins are the owner's. */
		if (lock_gpns(self->obj, gpns, 2, NULL, &id, NULL) ||
		    vmpin_pages(getpid()) != 0)
			id = 0;
		if (write(pipefd[1], &id, sizeof(id)) != sizeof(id))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(sizeof(id), read(pipefd[0], &id, sizeof(id)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_NE(0, id);
	EXPECT_EQ(before + 2, vmpin_pages(getpid()));
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
	EXPECT_EQ(before, vmpin_pages(getpid()));
	close(pipefd[0]);
	close(pipefd[1]);
}

/* The owner exits with locks held by an object another process keeps. */
TEST(locks_outlive_their_owner_and_release_cleanly)
{
	static const uint64_t gpns[] = { 0, 1 };
	int sv[2], dev, fd, status;
	pid_t pid;

	dev = open_dev();
	if (dev < 0 && errno == ENOENT)
		SKIP(return, "guestmem module not loaded");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		void *mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int obj = create_user(dev, mem, 2 * PAGE, "owner");

		if (obj < 0 || lock_gpns(obj, gpns, 2, NULL, NULL, NULL) ||
		    send_fd(sv[1], obj))
			_exit(1);
		_exit(0);
	}
	fd = recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* New locks need the owner; existing ones go with the object. */
	EXPECT_EQ(-ESRCH, lock_gpns(fd, gpns, 1, NULL, NULL, NULL));
	close(fd);
	close(dev);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(abi, iovas_need_an_attached_device)
{
	static const uint64_t gpns[] = { 3, 0 };
	struct guestmem_fault f;
	uint64_t iovas[2];
	uint32_t id;

	/* Not attached: the lock works, no IOVA anywhere. */
	ASSERT_EQ(1, lock_gpns(self->obj, gpns, 2, iovas, &id, NULL));
	EXPECT_EQ(-ENOENT, iova_of(self->obj, gpns, 2, iovas, &f));
	EXPECT_EQ(GUESTMEM_FAULT_HAS_INDEX, f.flags);
	EXPECT_EQ(0, f.index);
	EXPECT_EQ(3, f.gpn);
	EXPECT_EQ(0, iova_of(self->obj, gpns, 0, iovas, NULL));
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
}

/* The PFN behind a virtual address (root reads PFNs), or 0. */
static uint64_t phys_of(const void *va)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, 8, (uintptr_t)va / PAGE * 8) != 8)
		ent = 0;
	close(fd);
	if (!(ent & (1ULL << 63)))
		return 0;
	return (ent & ((1ULL << 55) - 1)) * PAGE;
}

TEST_F(abi, attach_device_rules)
{
	struct guestmem_attach_device ad = { .size = sizeof(ad) };
	static const uint64_t gpns[] = { 0 };
	struct guestmem_info info;
	uint32_t id;
	int fd, status;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	ad.pci_bus = 256;
	test_err(EINVAL, self->obj, GUESTMEM_ATTACH_DEVICE, &ad);
	ad.pci_bus = 0x42;
	test_err(ENODEV, self->obj, GUESTMEM_ATTACH_DEVICE, &ad);

	/* Not after a lock exists, in the object or in a view of it. */
	ASSERT_EQ(0, lock_gpns(self->obj, gpns, 1, NULL, &id, NULL));
	EXPECT_EQ(-EBUSY, attach_edu(self->obj));
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
	EXPECT_EQ(0, attach_edu(self->obj));
	EXPECT_EQ(-EBUSY, attach_edu(self->obj));
	ASSERT_EQ(0, info_of(self->obj, &info));
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_ATTACHED);

	/* CAP_SYS_RAWIO is required. */
	fd = create_empty(self->dev);
	ASSERT_LE(0, fd);
	if (fork() == 0)
		_exit(drop_cap(CAP_SYS_RAWIO) ? 2 :
		      attach_edu(fd) == -EPERM ? 0 : 1);
	wait(&status);
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(fd);
}

TEST_F(abi, attached_locks_have_iovas)
{
	static const uint64_t gpns[] = { 3, 0, 3 };
	uint64_t iovas[3], again[3];
	struct guestmem_info info;
	struct guestmem_fault f;
	uint32_t id;
	int i, status;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	ASSERT_EQ(0, attach_edu(self->obj));
	ASSERT_EQ(0, lock_gpns(self->obj, gpns, 3, iovas, &id, NULL));
	ASSERT_EQ(0, iova_of(self->obj, gpns, 3, again, NULL));
	ASSERT_EQ(0, info_of(self->obj, &info));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, iovas[i] % PAGE);
		TH_LOG("gpn %lu: iova %#lx phys %#lx",
		       (unsigned long)gpns[i], (unsigned long)iovas[i],
		       (unsigned long)phys_of(self->mem + gpns[i] * PAGE));
	}
	/* Any lock holding the page answers: same page, same IOVA set. */
	EXPECT_TRUE(again[0] == iovas[0] || again[0] == iovas[2]);
	EXPECT_EQ(iovas[1], again[1]);
	if (info.out_flags & GUESTMEM_INFO_IOVA_PHYS) {
		/* dma-direct: the IOVA is the physical address. */
		EXPECT_EQ(phys_of(self->mem + 3 * PAGE), iovas[0]);
		EXPECT_EQ(phys_of(self->mem), iovas[1]);
	} else {
		/* IOMMU: one contiguous range in list order. */
		EXPECT_EQ(iovas[0] + PAGE, iovas[1]);
		EXPECT_EQ(iovas[0] + 2 * PAGE, iovas[2]);
		EXPECT_NE(phys_of(self->mem), iovas[1]);
	}
	/* Physical IOVAs are for CAP_SYS_RAWIO only; translated ones not. */
	status = fork();
	if (status == 0) {
		int want = info.out_flags & GUESTMEM_INFO_IOVA_PHYS ? -EPERM : 0;

		_exit(drop_cap(CAP_SYS_RAWIO) ? 2 :
		      iova_of(self->obj, gpns, 1, again, NULL) == want ? 0 : 1);
	}
	wait(&status);
	EXPECT_EQ(0, WEXITSTATUS(status));

	EXPECT_EQ(0, unlock_gpns(self->obj, id));
	EXPECT_EQ(-ENOENT, iova_of(self->obj, gpns, 3, again, &f));
	EXPECT_EQ(0, f.index);
}

TEST_F(abi, attached_allocated_memory_has_iovas_everywhere)
{
	static const uint64_t gpns[] = { 0, 1, 2, 3 };
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = 2 * PAGE, .len = 2 * PAGE,
	};
	struct guestmem_info info;
	uint64_t iovas[4], viovas[2];
	long before = vmpin_pages(getpid());
	uint8_t *map;
	uint32_t id;
	int fd, i;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	fd = create_alloc(self->dev, 4 * PAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach_edu(fd));
	/* Every page has an IOVA without a lock. */
	ASSERT_EQ(0, iova_of(fd, gpns, 4, iovas, NULL));
	ASSERT_EQ(0, info_of(fd, &info));
	map = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < 4; i++) {
		map[i * PAGE] = i;
		if (info.out_flags & GUESTMEM_INFO_IOVA_PHYS)
			EXPECT_EQ(phys_of(map + i * PAGE), iovas[i]);
	}
	if (!(info.out_flags & GUESTMEM_INFO_IOVA_PHYS)) {
		ASSERT_TRUE(info.out_flags & GUESTMEM_INFO_BASE_IOVA);
		for (i = 0; i < 4; i++)
			EXPECT_EQ(info.out_base_iova + i * PAGE, iovas[i]);
	}
	/* A view answers in its own addresses. */
	ASSERT_EQ(0, gm_raw(fd, GUESTMEM_SUBRANGE, &s));
	ASSERT_EQ(0, iova_of(s.out_fd, gpns, 2, viovas, NULL));
	EXPECT_EQ(iovas[2], viovas[0]);
	EXPECT_EQ(iovas[3], viovas[1]);
	/* Locks of allocated memory pin nothing and give the same IOVAs. */
	ASSERT_EQ(0, lock_gpns(s.out_fd, gpns, 2, viovas, &id, NULL));
	EXPECT_EQ(iovas[2], viovas[0]);
	EXPECT_EQ(before, vmpin_pages(getpid()));
	ASSERT_EQ(0, info_of(s.out_fd, &info));
	EXPECT_EQ(2, info.out_locked_pages);
	EXPECT_EQ(0, info.out_pinned_pages);
	close(s.out_fd);
	munmap(map, 4 * PAGE);
	close(fd);
}

TEST_F(abi, iova_runs_rules)
{
	static const uint64_t gpns[] = { 3, 0 };
	struct guestmem_iova_run runs[2];
	struct guestmem_iova_runs out;
	uint64_t iovas_scratch[2];
	uint32_t id;

	/* Not attached: the lock works, no IOVA anywhere. */
	ASSERT_EQ(1, lock_gpns(self->obj, gpns, 2, iovas_scratch, &id,
			       NULL));
	EXPECT_EQ(-ENOENT, iova_runs_of(self->obj, 3, 1, runs, 2, &out));
	EXPECT_EQ(GUESTMEM_FAULT_HAS_INDEX, out.out_fault.flags);
	EXPECT_EQ(0, out.out_fault.index);
	EXPECT_EQ(3, out.out_fault.gpn);
	EXPECT_EQ(0, out.out_nr_runs);
	EXPECT_EQ(0, out.out_gpn_count);
	/* Nothing to describe succeeds; no room for a run does not. */
	EXPECT_EQ(0, iova_runs_of(self->obj, 3, 0, runs, 0, &out));
	EXPECT_EQ(0, out.out_nr_runs);
	EXPECT_EQ(-EINVAL, iova_runs_of(self->obj, 3, 1, runs, 0, NULL));
	/* The range's end must fit in 64 bits. */
	EXPECT_EQ(-EOVERFLOW, iova_runs_of(self->obj, UINT64_MAX - 1, 2, runs,
					   2, NULL));
	EXPECT_EQ(-EOVERFLOW, iova_runs_of(self->obj, UINT64_MAX, 1, runs, 2,
					   NULL));
	EXPECT_EQ(0, unlock_gpns(self->obj, id));
}

/* Runs for an attached object: exactly the page IOVAs, merged. */
static void check_runs(struct __test_metadata *_metadata, int obj,
		       uint64_t gpn, uint64_t n)
{
	struct guestmem_iova_run want[16], got[16];
	struct guestmem_iova_runs out;
	int nr, i;

	ASSERT_GE(16, n);
	nr = expected_runs(obj, gpn, n, want);
	ASSERT_LT(0, nr);
	memset(got, 0xa5, sizeof(got));
	ASSERT_EQ(0, iova_runs_of(obj, gpn, n, got, 16, &out));
	EXPECT_EQ(nr, out.out_nr_runs);
	EXPECT_EQ(n, out.out_gpn_count);
	EXPECT_EQ(0, out.out_fault.flags);
	for (i = 0; i < nr && i < (int)out.out_nr_runs; i++) {
		EXPECT_EQ(want[i].gpn, got[i].gpn);
		EXPECT_EQ(want[i].npages, got[i].npages);
		EXPECT_EQ(want[i].iova, got[i].iova);
	}
	/* Nothing past the runs written is touched. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, got[out.out_nr_runs].gpn);
	/* One run of room at a time: each call describes one run. */
	for (i = 0; i < nr; i++) {
		uint64_t from = want[i].gpn;

		ASSERT_EQ(0, iova_runs_of(obj, from, gpn + n - from, got, 1,
					  &out));
		EXPECT_EQ(1, out.out_nr_runs);
		EXPECT_EQ(want[i].npages, out.out_gpn_count);
		EXPECT_EQ(want[i].iova, got[0].iova);
	}
}

TEST(attached_iova_runs_are_the_page_iovas_merged)
{
	struct guestmem_iova_run runs[4];
	struct guestmem_iova_runs out;
	struct guestmem_info info;
	uint64_t gpns[8], iovas[8];
	uint32_t id[3];
	int dev, obj, i;
	uint8_t *mem;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	dev = open_dev();
	ASSERT_LE(0, dev);
	mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, 16 * PAGE);
	obj = create_user(dev, mem, 16 * PAGE, "runs");
	ASSERT_LE(0, obj);
	ASSERT_EQ(0, attach_edu(obj));
	ASSERT_EQ(0, info_of(obj, &info));

	/* One lock of 2..7: one run through the IOMMU. */
	for (i = 0; i < 6; i++)
		gpns[i] = 2 + i;
	ASSERT_EQ(0, lock_gpns(obj, gpns, 6, iovas, &id[0], NULL));
	check_runs(_metadata, obj, 2, 6);
	/* A runs buffer the caller cannot write. */
	EXPECT_EQ(-EFAULT, iova_runs_of(obj, 2, 6, (void *)8, 4, NULL));
	if (!(info.out_flags & GUESTMEM_INFO_IOVA_PHYS)) {
		ASSERT_EQ(0, iova_runs_of(obj, 2, 6, runs, 4, &out));
		EXPECT_EQ(1, out.out_nr_runs);
		EXPECT_EQ(2, runs[0].gpn);
		EXPECT_EQ(6, runs[0].npages);
		EXPECT_EQ(iovas[0], runs[0].iova);
	}

	/* Two more locks, 8 and 9 in reverse order: three IOVA ranges. */
	gpns[0] = 9;
	ASSERT_EQ(0, lock_gpns(obj, gpns, 1, iovas, &id[1], NULL));
	gpns[0] = 8;
	ASSERT_EQ(0, lock_gpns(obj, gpns, 1, iovas, &id[2], NULL));
	check_runs(_metadata, obj, 2, 8);
	check_runs(_metadata, obj, 5, 5);

	/* The first page without an IOVA ends the call; runs before it stay. */
	EXPECT_EQ(-ENOENT, iova_runs_of(obj, 7, 4, runs, 4, &out));
	EXPECT_EQ(GUESTMEM_FAULT_HAS_INDEX, out.out_fault.flags);
	EXPECT_EQ(3, out.out_fault.index);
	EXPECT_EQ(10, out.out_fault.gpn);
	EXPECT_EQ(3, out.out_gpn_count);
	EXPECT_LE(1, out.out_nr_runs);
	EXPECT_EQ(7, runs[0].gpn);

	/* Unlocked pages lose their runs; the other locks keep theirs. */
	EXPECT_EQ(0, unlock_gpns(obj, id[1]));
	EXPECT_EQ(-ENOENT, iova_runs_of(obj, 8, 2, runs, 4, &out));
	EXPECT_EQ(1, out.out_fault.index);
	check_runs(_metadata, obj, 2, 7);
	EXPECT_EQ(0, unlock_gpns(obj, id[0]));
	EXPECT_EQ(0, unlock_gpns(obj, id[2]));
	EXPECT_EQ(-ENOENT, iova_runs_of(obj, 8, 1, runs, 4, &out));
	EXPECT_EQ(0, out.out_fault.index);
	close(obj);
	close(dev);
	munmap(mem, 16 * PAGE);
}

TEST_F(abi, attached_allocated_memory_is_runs_everywhere)
{
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = 3 * PAGE + 16, .len = 8 * PAGE,
	};
	struct guestmem_iova_run runs[16];
	struct guestmem_iova_runs out;
	struct guestmem_info info;
	int fd;

	if (!have_edu())
		SKIP(return, "no edu device at 0000:00:03.0");
	fd = create_alloc(self->dev, 12 * PAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, attach_edu(fd));
	ASSERT_EQ(0, info_of(fd, &info));
	check_runs(_metadata, fd, 0, 12);
	if (info.out_flags & GUESTMEM_INFO_BASE_IOVA) {
		ASSERT_EQ(0, iova_runs_of(fd, 0, 12, runs, 16, &out));
		EXPECT_EQ(1, out.out_nr_runs);
		EXPECT_EQ(12, runs[0].npages);
		EXPECT_EQ(info.out_base_iova, runs[0].iova);
	}
	/* Past the end: no IOVA. */
	EXPECT_EQ(-ENOENT, iova_runs_of(fd, 10, 4, runs, 16, &out));
	EXPECT_EQ(2, out.out_fault.index);
	EXPECT_EQ(2, out.out_gpn_count);
	/* A view inside a page: each page's first byte, as GUESTMEM_IOVA. */
	ASSERT_EQ(0, gm_raw(fd, GUESTMEM_SUBRANGE, &s));
	check_runs(_metadata, s.out_fd, 0, 8);
	ASSERT_EQ(0, iova_runs_of(s.out_fd, 0, 8, runs, 16, &out));
	EXPECT_EQ(16, runs[0].iova % PAGE);
	close(s.out_fd);
	close(fd);
}

TEST_F(abi, preemptive_view_pins_up_front_and_locks_borrow)
{
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = 3 * PAGE, .len = PAGE,
		.flags = GUESTMEM_SUBRANGE_ALLOW_PREEMPTIVE_LOCKING,
	};
	static const uint64_t gpn0[] = { 0 };
	long before = vmpin_pages(getpid());
	struct guestmem_info info;
	uint64_t iova;
	uint32_t id;
	int view;

	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	view = s.out_fd;
	ASSERT_EQ(0, info_of(view, &info));
	EXPECT_TRUE(info.out_flags & GUESTMEM_INFO_PREEMPTIVE);
	EXPECT_EQ(1, info.out_pinned_pages);
	EXPECT_EQ(before + 1, vmpin_pages(getpid()));

	/* A device may still be attached; locks through the view borrow. */
	if (have_edu())
		EXPECT_EQ(0, attach_edu(self->obj));
	ASSERT_EQ(0, mprotect(self->mem + 3 * PAGE, PAGE, PROT_NONE));
	EXPECT_LE(0, lock_gpns(view, gpn0, 1, &iova, &id, NULL));
	EXPECT_EQ(before + 1, vmpin_pages(getpid()));
	ASSERT_EQ(0, info_of(view, &info));
	EXPECT_EQ(2, info.out_locked_pages);
	EXPECT_EQ(1, info.out_pinned_pages);
	/* The base's own locks still need the memory. */
	EXPECT_EQ(-EFAULT, lock_gpns(self->obj, (uint64_t[]){ 3 }, 1, NULL,
				     NULL, NULL));
	ASSERT_EQ(0, mprotect(self->mem + 3 * PAGE, PAGE,
			      PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, unlock_gpns(view, id));
	close(view);
	EXPECT_EQ(before, vmpin_pages(getpid()));

	/* Best effort: a view with a PROT_NONE page is made without it. */
	s.offset = 0;
	s.len = 2 * PAGE;
	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	ASSERT_EQ(0, info_of(s.out_fd, &info));
	EXPECT_FALSE(info.out_flags & GUESTMEM_INFO_PREEMPTIVE);
	EXPECT_EQ(before, vmpin_pages(getpid()));
	close(s.out_fd);
}

TEST_HARNESS_MAIN
