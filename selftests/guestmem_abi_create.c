// SPDX-License-Identifier: GPL-2.0
/*
 * The raw create ioctls beyond the common conventions (guestmem_abi.c):
 * GUESTMEM_CREATE_MULTI's region layout rules (power-of-two region size,
 * slot count, holes and padding out of range), and GUESTMEM_CREATE_ALLOC's
 * zeroed, mappable memory and its size limit.
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

/*
 * 5000 bytes are two gpns; mmap() maps kernel pages, the ones that hold
 * them (@msize: two pages with 4 KiB pages, one with 64 KiB pages), and a
 * view's window from the page that holds its start (@voff into it).
 */
TEST_F(abi, allocated_object_is_zeroed_and_mappable)
{
	struct guestmem_create_alloc ca = { .size = sizeof(ca), .len = 5000 };
	struct guestmem_info info = { .size = sizeof(info) };
	struct guestmem_subrange s = {
		.size = sizeof(s), .offset = PAGE + 16, .len = 32,
	};
	uint64_t msize = HPAGE_ROUNDUP(2 * PAGE);
	uint64_t voff = (PAGE + 16) % HPAGE;
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
	EXPECT_EQ(msize, info.out_mmap_size);
	EXPECT_EQ(0, gm_read(fd, 2 * PAGE - 16, buf, 16, NULL));
	EXPECT_EQ(0, buf[15]);
	EXPECT_EQ(-ERANGE, gm_read(fd, 2 * PAGE - 15, buf, 16, NULL));

	map = mmap(NULL, msize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
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
	EXPECT_EQ(HPAGE, info.out_mmap_size);
	EXPECT_EQ(voff, info.out_mmap_offset);
	vmap = mmap(NULL, HPAGE, PROT_READ, MAP_SHARED, s.out_fd, 0);
	ASSERT_NE(MAP_FAILED, vmap);
	EXPECT_EQ(7, vmap[voff + 4]);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * HPAGE, PROT_READ, MAP_SHARED,
				   s.out_fd, 0));
	munmap(vmap, HPAGE);
	close(s.out_fd);

	/* Private, too long, or past the end: refused. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, msize + HPAGE, PROT_READ, MAP_SHARED,
				   fd, 0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, HPAGE, PROT_READ, MAP_SHARED, fd,
				   msize));
	/* The mapping keeps the object alive after close. */
	close(fd);
	EXPECT_EQ(7, map[PAGE + 20]);
	munmap(map, msize);

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
	fd = raw_create_alloc(self->dev, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_HARNESS_MAIN
