// SPDX-License-Identifier: GPL-2.0
/*
 * The raw ioctl ABI of /dev/guestmem and its object fds, without the
 * library: the conventions every ioctl shares.  The struct sizes, the
 * size/flags/reserved rules (EINVAL, E2BIG, EOPNOTSUPP), bad pointers
 * (EFAULT), misdirected ioctls (ENOTTY), the errno contract's fault
 * reports, and the create ioctls' checks of their common arguments.
 * Shaped after tools/testing/selftests/iommu/iommufd.c; each ioctl's own
 * rules are in guestmem_abi_create.c, guestmem_abi_access.c and
 * guestmem_abi_lock.c.
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

#include "guestmem_abi.h"

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
	v->gpns[0] = KGPN(0);
	v->gpns[1] = KGPN(3);
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
		int fd = raw_create_empty(self->dev);

		ASSERT_LE(0, fd);
		TEST_LENGTH(fd, GUESTMEM_ATTACH_DEVICE, v->attach);
		close(fd);
	}
	free(v);
}

/*
 * A struct larger than a (kernel) page is refused before its tail is read:
 * the kernel would otherwise scan up to 4 GiB of the caller's memory for
 * nonzero bytes (clone3, openat2 and perf refuse the same way; review L2).
 */
TEST_F(abi, a_size_past_a_page_is_e2big_even_with_a_zero_tail)
{
	uint8_t *buf = calloc(1, 2 * HPAGE);
	struct guestmem_info *info = (void *)buf;

	ASSERT_NE(NULL, buf);
	info->size = HPAGE;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_INFO, buf));
	info->size = HPAGE + 8;
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

	/*
	 * Inside a backing entry, too: an fd without GUESTMEM_BACKING_FILE,
	 * an unknown flag.
	 */
	v->backings[2].fd = 1;
	test_err(EOPNOTSUPP, self->dev, GUESTMEM_CREATE_MULTI,
		 &v->create_multi);
	v->backings[2].fd = 0;
	v->backings[2].flags |= 4;
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
		test_err(EFAULT, self->obj, obj_cmds[i], self->mem + HPAGE);
	}
}

TEST_F(abi, bad_pointers_inside_structs_are_efault_without_fault_info)
{
	struct valid_args *v = malloc(sizeof(*v));
	void *bad = self->mem + HPAGE;

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
	v->create_user.name_uptr = (uintptr_t)(self->mem + HPAGE);
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
	fd = raw_create_user(self->dev, self->mem, 0, "");
	ASSERT_LE(0, fd);
	close(fd);
	free(v);
}

TEST_F(abi, out_of_range_reports_kind_cause_and_gpa)
{
	struct guestmem_fault fault;
	uint8_t buf[16];

	EXPECT_EQ(-ERANGE, gm_read(self->obj, MEM_LEN, buf, 1, &fault));
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_GPA, fault.flags);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, fault.kind);
	EXPECT_EQ(GUESTMEM_CAUSE_NO_MEMORY, fault.cause);
	EXPECT_EQ(MEM_LEN, fault.gpa);
	/* Crossing the end fails as a whole, at the access start. */
	EXPECT_EQ(-ERANGE, gm_read(self->obj, MEM_LEN - 2, buf, 4, &fault));
	EXPECT_EQ(MEM_LEN - 2, fault.gpa);
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

	/*
	 * Page 1 is PROT_NONE: a read from the end of page 0 names page 1's
	 * first byte (0x1000 with 4 KiB pages).
	 */
	EXPECT_EQ(-EFAULT, gm_read(self->obj, HPAGE - 1, buf, 2, &fault));
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_GPA, fault.flags);
	EXPECT_EQ(GUESTMEM_KIND_OTHER, fault.kind);
	EXPECT_EQ(GUESTMEM_CAUSE_NOT_MAPPED, fault.cause);
	EXPECT_EQ(HPAGE, fault.gpa);
	EXPECT_EQ(0x5a, buf[0]);
	/* Inside the first page: the access start. */
	EXPECT_EQ(-EFAULT, gm_read(self->obj, HPAGE + 7, buf, 1, &fault));
	EXPECT_EQ(HPAGE + 7, fault.gpa);
	/* Page 2 is read-only: readable, not writable. */
	EXPECT_EQ(0, gm_read(self->obj, 2 * HPAGE, buf, PAGE, &fault));
	EXPECT_EQ(-EFAULT, gm_write(self->obj, 2 * HPAGE + 8, buf, 16, &fault));
	EXPECT_EQ(2 * HPAGE + 8, fault.gpa);
	/* A write that runs into a bad page keeps the bytes before it. */
	memset(buf, 0x11, 16);
	EXPECT_EQ(-EFAULT, gm_write(self->obj, HPAGE - 8, buf, 16, &fault));
	EXPECT_EQ(HPAGE, fault.gpa);
	EXPECT_EQ(0x11, self->mem[HPAGE - 1]);
	EXPECT_EQ(0x5a, self->mem[HPAGE - 9]);
	/* munmap after creation: a fault, never an oops. */
	ASSERT_EQ(0, munmap(self->mem + 3 * HPAGE, HPAGE));
	EXPECT_EQ(-EFAULT, gm_read(self->obj, 3 * HPAGE, buf, 1, &fault));
	EXPECT_EQ(3 * HPAGE, fault.gpa);
}

TEST_F(abi, caller_buffer_fault_is_efault_without_fault_info)
{
	struct guestmem_fault fault;

	EXPECT_EQ(-EFAULT, gm_read(self->obj, 0, self->mem + HPAGE, 8, &fault));
	EXPECT_EQ(0, fault.flags);
	EXPECT_EQ(-EFAULT, gm_write(self->obj, 0, (void *)8, 8, &fault));
	EXPECT_EQ(0, fault.flags);
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
	EXPECT_EQ(MEM_LEN, ri[0].len);
	EXPECT_EQ((uintptr_t)self->mem, ri[0].va);
	EXPECT_EQ(GUESTMEM_INFO_FULL_MAPPING | GUESTMEM_INFO_FULL_MAPPING_VA |
		  GUESTMEM_INFO_OWNER | GUESTMEM_INFO_SUPPORTS_LOCKING,
		  info.out_flags);
	info.regions_uptr = (uintptr_t)(self->mem + HPAGE);
	test_err(EFAULT, self->obj, GUESTMEM_INFO, &info);
}

TEST_HARNESS_MAIN
