// SPDX-License-Identifier: GPL-2.0
/*
 * The raw access ioctls of an object fd: fill, plain reads and writes,
 * compare-exchange, probe_gpns, paged ranges and subranges, each rule with
 * otherwise valid input; an object used from another process than its
 * owner; and accesses racing with mprotect(), munmap(), zapping and the
 * owner's exit.
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

	rw.gpa = MEM_LEN;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_READ_PLAIN, &rw));
	rw.gpa = MEM_LEN + 1;
	test_err(ERANGE, self->obj, GUESTMEM_READ_PLAIN, &rw);
	test_err(ERANGE, self->obj, GUESTMEM_WRITE_PLAIN, &rw);

	empty = raw_create_empty(self->dev);
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
	rw.gpa = HPAGE - 4;
	rw.len = 8;
	test_err(EFAULT, self->obj, GUESTMEM_READ_PLAIN, &rw);
	EXPECT_EQ(HPAGE, rw.out_fault.gpa);
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
	c.gpa = 2 * HPAGE;
	test_err(EFAULT, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
	EXPECT_EQ(2 * HPAGE, c.out_fault.gpa);
	EXPECT_EQ(GUESTMEM_KIND_OTHER, c.out_fault.kind);
	c.gpa = MEM_LEN;
	test_err(ERANGE, self->obj, GUESTMEM_COMPARE_EXCHANGE, &c);
}

TEST_F(abi, probe_gpns_reports_index_and_gpn)
{
	uint64_t gpns[4] = { KGPN(0), KGPN(2), KGPN(1), KGPN(3) };
	struct guestmem_probe_gpns p = {
		.size = sizeof(p), .gpns_uptr = (uintptr_t)gpns, .gpn_count = 2,
	};

	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_PROBE_GPNS, &p));
	p.gpn_count = 4;
	test_err(EFAULT, self->obj, GUESTMEM_PROBE_GPNS, &p);
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_GPA |
		  GUESTMEM_FAULT_HAS_INDEX, p.out_fault.flags);
	EXPECT_EQ(2, p.out_fault.index);
	EXPECT_EQ(KGPN(1), p.out_fault.gpn);
	EXPECT_EQ(HPAGE, p.out_fault.gpa);
	gpns[2] = 1ULL << 52;
	test_err(ERANGE, self->obj, GUESTMEM_PROBE_GPNS, &p);
	EXPECT_EQ(GUESTMEM_FAULT_VALID | GUESTMEM_FAULT_HAS_INDEX,
		  p.out_fault.flags);
	EXPECT_EQ(GUESTMEM_CAUSE_INVALID_GPN, p.out_fault.cause);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, p.out_fault.kind);
	EXPECT_EQ(1ULL << 52, p.out_fault.gpn);
	gpns[2] = KGPN(MEM_PAGES);
	test_err(ERANGE, self->obj, GUESTMEM_PROBE_GPNS, &p);
	EXPECT_EQ(GUESTMEM_CAUSE_NO_MEMORY, p.out_fault.cause);
	EXPECT_EQ(MEM_LEN, p.out_fault.gpa);
	p.gpn_count = 1ULL << 32;
	test_err(EOVERFLOW, self->obj, GUESTMEM_PROBE_GPNS, &p);
	p.gpn_count = 1;
	p.gpns_uptr = (uintptr_t)(self->mem + HPAGE);
	test_err(EFAULT, self->obj, GUESTMEM_PROBE_GPNS, &p);
	EXPECT_EQ(0, p.out_fault.flags);
	p.gpn_count = 0;
	EXPECT_EQ(0, gm_raw(self->obj, GUESTMEM_PROBE_GPNS, &p));
}

TEST_F(abi, paged_range_rules)
{
	uint64_t gpns[3] = { KGPN(3), KGPN(0), KGPN(1) };
	uint8_t buf[3 * PAGE];
	struct guestmem_range r = {
		.size = sizeof(r), .gpns_uptr = (uintptr_t)gpns, .gpn_count = 2,
		.offset = 100, .len = 2 * PAGE - 100,
		.buf_uptr = (uintptr_t)buf,
	};

	memset(buf, 0xee, sizeof(buf));
	memset(self->mem + 3 * HPAGE, 1, PAGE);
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
	EXPECT_EQ(0, self->mem[3 * HPAGE + 100]);
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
	EXPECT_EQ(KGPN(1), r.out_fault.gpn);
	EXPECT_EQ(HPAGE, r.out_fault.gpa);
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
		.size = sizeof(s), .offset = HPAGE * 2 + 8, .len = HPAGE - 8,
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
	EXPECT_EQ(-ERANGE, gm_read(view, HPAGE - 8, &b, 1, &fault));
	EXPECT_EQ(HPAGE - 8, fault.gpa);

	/* A view of a view flattens: its offset is in the base. */
	s.offset = 8;
	s.len = 16;
	s.flags = 0;
	ASSERT_EQ(0, gm_raw(view, GUESTMEM_SUBRANGE, &s));
	view2 = s.out_fd;
	ASSERT_EQ(0, gm_raw(view2, GUESTMEM_INFO, &info));
	EXPECT_EQ(GUESTMEM_INFO_SUBRANGE, info.out_flags & GUESTMEM_INFO_SUBRANGE);
	EXPECT_EQ(2 * HPAGE + 16, info.out_subrange_offset);
	EXPECT_EQ(16, info.out_full_mapping_len);
	EXPECT_EQ((uintptr_t)self->mem + 2 * HPAGE + 16,
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
		.size = sizeof(s), .offset = HPAGE, .len = MEM_LEN,
	};

	test_err(ERANGE, self->obj, GUESTMEM_SUBRANGE, &s);
	EXPECT_EQ(GUESTMEM_KIND_OUT_OF_RANGE, s.out_fault.kind);
	EXPECT_EQ(HPAGE, s.out_fault.gpa);
	/* Touching the end of the backing is fine; bit 63 is not. */
	s.len = MEM_LEN - HPAGE;
	ASSERT_EQ(0, gm_raw(self->obj, GUESTMEM_SUBRANGE, &s));
	close(s.out_fd);
	s.offset = 1ULL << 63;
	s.len = 0;
	test_err(ERANGE, self->obj, GUESTMEM_SUBRANGE, &s);
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
		fd = raw_create_user(dev, mem, 2 * PAGE, "child");
		if (fd < 0 || gm_test_send_fd(sv[1], fd))
			_exit(1);
		/* Wait for the parent's write, check it, then exit. */
		if (read(sv[1], &go, 1) != 1)
			_exit(2);
		_exit(mem[PAGE + 3] == 0x99 ? 0 : 3);
	}
	obj = gm_test_recv_fd(sv[0]);
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
/* The object of the mprotect/munmap race: kernel pages, what those flip. */
#define RACE_LEN (RACE_PAGES * HPAGE)

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
		uint64_t gpa = rand_r(&seed) % RACE_LEN;
		uint64_t len = 1 + rand_r(&seed) % sizeof(buf);
		struct guestmem_fault fault = {};
		struct guestmem_cmpxchg c = {
			.size = sizeof(c), .gpa = gpa & ~7ULL, .len = 8,
		};
		int rc;

		if (gpa + len > RACE_LEN)
			len = RACE_LEN - gpa;
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
	r.mem = mmap(NULL, RACE_LEN, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.mem);
	r.obj = raw_create_user(dev, r.mem, RACE_LEN, "race");
	ASSERT_LE(0, r.obj);

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, race_worker,
					    &r));
	for (round = 0; round < 200; round++) {
		uint8_t *page = r.mem + (round % RACE_PAGES) * HPAGE;

		switch (round % 4) {
		case 0:
			mprotect(page, HPAGE, PROT_NONE);
			break;
		case 1:
			mprotect(page, HPAGE, PROT_READ);
			break;
		case 2:
			madvise(r.mem, RACE_LEN, MADV_DONTNEED);
			break;
		default:
			munmap(page, HPAGE);
			usleep(100);
			ASSERT_EQ(page, mmap(page, HPAGE, PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS |
					     MAP_FIXED, -1, 0));
			mprotect(r.mem, RACE_LEN, PROT_READ | PROT_WRITE);
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
	munmap(r.mem, RACE_LEN);
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
		int fd = raw_create_user(dev, mem, RACE_PAGES * PAGE, "owner");

		if (fd < 0 || gm_test_send_fd(sv[1], fd))
			_exit(1);
		usleep(20000);
		_exit(0);
	}
	r.obj = gm_test_recv_fd(sv[0]);
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

TEST_HARNESS_MAIN
