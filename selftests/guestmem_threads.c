// SPDX-License-Identifier: GPL-2.0
/*
 * Many threads on one object: naturally aligned 8-byte plain accesses are
 * single untorn loads and stores, and compare-exchange is atomic, so
 * counters built on it lose no increment.  Each runs over user memory and
 * over allocated memory, directly (one instruction in the library) and
 * through the kernel (gm_set_direct(false)).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "guestmem_utils.h"

#define MEM_SIZE (4 * SZ_4K)
#define READERS 3
#define RUN_MS 1000
#define COUNTER_THREADS 4
#define INCREMENTS 1000

static const uint64_t pattern_a = 0x0123456789abcdefULL;
static const uint64_t pattern_b = 0xfedcba9876543210ULL;

FIXTURE(shared) {
	struct gm_test_resources before;
	void *user;
	uint8_t *bytes;
	struct gm *gm;
};

FIXTURE_VARIANT(shared) {
	bool allocated;
	bool kernel;            /* direct access off: every call is an ioctl */
};

FIXTURE_VARIANT_ADD(shared, user) {
	.allocated = false,
};

FIXTURE_VARIANT_ADD(shared, allocated) {
	.allocated = true,
};

FIXTURE_VARIANT_ADD(shared, user_through_the_kernel) {
	.allocated = false,
	.kernel = true,
};

FIXTURE_VARIANT_ADD(shared, allocated_through_the_kernel) {
	.allocated = true,
	.kernel = true,
};

FIXTURE_SETUP(shared)
{
	size_t len;

	gm_require_module();
	self->before = gm_test_snapshot();
	gm_set_direct(!variant->kernel);
	if (variant->allocated) {
		test_gm_ok(gm_allocate(MEM_SIZE, &self->gm));
		test_gm_ok(gm_full_mapping(self->gm, (void **)&self->bytes, &len));
	} else {
		self->user = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->user);
		self->bytes = self->user;
		test_gm_ok(gm_new("threads", self->user, MEM_SIZE, &self->gm));
	}
}

FIXTURE_TEARDOWN(shared)
{
	gm_release(self->gm);
	if (self->user && self->user != MAP_FAILED)
		munmap(self->user, MEM_SIZE);
	gm_test_expect_no_leaks(self->before);
}

struct tear_run {
	struct gm *gm;
	uint64_t gpa;
	atomic_bool stop;
	atomic_ulong writes, reads, torn, errors;
	_Atomic uint64_t torn_value;
};

static void *tear_writer(void *arg)
{
	struct tear_run *t = arg;
	unsigned long i;

	for (i = 0; !atomic_load(&t->stop); i++) {
		uint64_t v = i & 1 ? pattern_b : pattern_a;

		if (gm_write_plain(t->gm, t->gpa, &v, 8))
			atomic_fetch_add(&t->errors, 1);
		atomic_fetch_add(&t->writes, 1);
	}
	return NULL;
}

static void *tear_reader(void *arg)
{
	struct tear_run *t = arg;

	while (!atomic_load(&t->stop)) {
		uint64_t v = 0;

		if (gm_read_plain(t->gm, t->gpa, &v, 8)) {
			atomic_fetch_add(&t->errors, 1);
		} else if (v != pattern_a && v != pattern_b) {
			atomic_fetch_add(&t->torn, 1);
			atomic_store(&t->torn_value, v);
		}
		atomic_fetch_add(&t->reads, 1);
	}
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The last 8 bytes of page 0: aligned, and next door to a page boundary. */
TEST_F(shared, aligned_8_byte_plain_accesses_never_tear)
{
	struct tear_run t = { .gm = self->gm, .gpa = SZ_4K - 8 };
	pthread_t writer, readers[READERS];
	int i;

	test_gm_ok(gm_write_plain(self->gm, t.gpa, &pattern_a, 8));
	ASSERT_EQ(0, pthread_create(&writer, NULL, tear_writer, &t));
	for (i = 0; i < READERS; i++)
		ASSERT_EQ(0, pthread_create(&readers[i], NULL, tear_reader, &t));
	sleep_ms(RUN_MS);
	atomic_store(&t.stop, true);
	pthread_join(writer, NULL);
	for (i = 0; i < READERS; i++)
		pthread_join(readers[i], NULL);

	TH_LOG("%lu writes, %lu reads", atomic_load(&t.writes), atomic_load(&t.reads));
	EXPECT_EQ(0, atomic_load(&t.errors));
	EXPECT_EQ(0, atomic_load(&t.torn))
		TH_LOG("torn read: 0x%" PRIx64, (uint64_t)atomic_load(&t.torn_value));
	/* Both sides really ran, and overlapped more than once. */
	EXPECT_LT(10, atomic_load(&t.writes));
	EXPECT_LT(10, atomic_load(&t.reads));
}

struct counter_run {
	struct gm *gm;
	atomic_ulong retries, errors;
};

/* Increment the u64 at 0x100 and the u32 at 0x204 with compare-exchange loops. */
static void *counter_thread(void *arg)
{
	struct counter_run *c = arg;
	int i;

	for (i = 0; i < INCREMENTS; i++) {
		uint64_t cur64 = 0, new64;
		uint32_t cur32 = 0, new32;
		int r;

		if (gm_read_plain(c->gm, 0x100, &cur64, 8))
			atomic_fetch_add(&c->errors, 1);
		for (;;) {
			new64 = cur64 + 1;
			r = gm_compare_exchange(c->gm, 0x100, &cur64, &new64, 8);
			if (r != 0)
				break;
			atomic_fetch_add(&c->retries, 1);
		}
		if (r != 1)
			atomic_fetch_add(&c->errors, 1);
		/* Start from a wrong guess: the first miss reports the real value. */
		for (;;) {
			new32 = cur32 + 1;
			r = gm_compare_exchange(c->gm, 0x204, &cur32, &new32, 4);
			if (r != 0)
				break;
		}
		if (r != 1)
			atomic_fetch_add(&c->errors, 1);
	}
	return NULL;
}

TEST_F(shared, compare_exchange_counters_reach_the_exact_total)
{
	struct counter_run c = { .gm = self->gm };
	pthread_t threads[COUNTER_THREADS];
	uint64_t total64 = 0;
	uint32_t total32 = 0;
	int i;

	for (i = 0; i < COUNTER_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, counter_thread, &c));
	for (i = 0; i < COUNTER_THREADS; i++)
		pthread_join(threads[i], NULL);

	TH_LOG("%lu retries of the 64-bit counter", atomic_load(&c.retries));
	EXPECT_EQ(0, atomic_load(&c.errors));
	test_gm_ok(gm_read_plain(self->gm, 0x100, &total64, 8));
	test_gm_ok(gm_read_plain(self->gm, 0x204, &total32, 4));
	EXPECT_EQ(COUNTER_THREADS * INCREMENTS, total64);
	EXPECT_EQ(COUNTER_THREADS * INCREMENTS, total32);
	/* The bytes around the counters were never touched. */
	EXPECT_EQ(0, self->bytes[0xff]);
	EXPECT_EQ(0, self->bytes[0x108]);
	EXPECT_EQ(0, self->bytes[0x203]);
	EXPECT_EQ(0, self->bytes[0x208]);
}

/* Error records are per thread: one thread's failure is not another's. */
struct record_run {
	struct gm *gm;
	uint64_t gpa;
	char message[256];
	pthread_barrier_t *barrier;
};

static void *record_thread(void *arg)
{
	struct record_run *r = arg;
	uint8_t b;

	gm_read_at(r->gm, r->gpa, &b, 1);
	pthread_barrier_wait(r->barrier);       /* both have failed ... */
	pthread_barrier_wait(r->barrier);       /* ... before either looks */
	snprintf(r->message, sizeof(r->message), "%s", gm_last_error()->message);
	return NULL;
}

TEST_F(shared, each_thread_keeps_its_own_last_error)
{
	pthread_barrier_t barrier;
	struct record_run r[2] = {
		{ .gm = self->gm, .gpa = MEM_SIZE, .barrier = &barrier },
		{ .gm = self->gm, .gpa = MEM_SIZE + 0x1000, .barrier = &barrier },
	};
	pthread_t t[2];
	char want[2][256];
	const char *name = variant->allocated ? "heap" : "threads";
	int i;

	ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, 2));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, record_thread, &r[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	for (i = 0; i < 2; i++) {
		snprintf(want[i], sizeof(want[i]),
			 "guest memory '%s': read error: failed to access 0x%" PRIx64 "-0x%" PRIx64,
			 name, r[i].gpa, r[i].gpa + 1);
		EXPECT_STREQ(want[i], r[i].message);
	}
}

TEST_HARNESS_MAIN
