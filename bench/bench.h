/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gmbench: guestmem's hot paths measured side by side with what a user
 * would pick instead (memcpy, pread, process_vm_readv, io_uring buffer
 * registration, VFIO type1 MAP_DMA, /proc/self/pagemap).
 *
 * The method follows tools/testing/selftests/mm/gup_test.c: memory is
 * faulted in before it is measured (unless a row says "cold"), every
 * contender is warmed up, then measured again and again, and each reports
 * the minimum and the median of its samples.  Contenders of one group are
 * measured in turns (one sample each per round), so that noise from other
 * work on the machine falls on all of them alike.
 *
 * One sample of a contender is one call of its run() with a batch of
 * @iters operations, chosen during calibration so that a sample lasts at
 * least a couple of milliseconds; the value kept is time / @iters.  A
 * contender that must start from the same state each time (locks, cold
 * memory) runs one operation per sample and may time its phases itself
 * (lock, release), as gup_test's kernel side does.
 */
#ifndef GMBENCH_H
#define GMBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_PHASES 2

struct contender;

/*
 * Run @iters operations; write the elapsed nanoseconds to t[0] and, for
 * contenders with phases, each phase's share to t[1..].  0 or -errno.
 */
typedef int (*run_fn)(struct contender *c, uint64_t iters, double *t);

struct result {
	const char *name;               /* "read_at", "null ioctl", ... */
	int err;                        /* 0, or the errno that made it n/a */
	const char *why;                /* a reason instead of an errno */
	double min, med;                /* per operation, in the row's unit */
	size_t samples;
	uint64_t iters;                 /* operations per sample */
	int nphases;
	const char *phase_names[BENCH_MAX_PHASES];
	double phase_min[BENCH_MAX_PHASES], phase_med[BENCH_MAX_PHASES];
};

struct contender {
	run_fn run;
	void *ctx;
	uint64_t arg;                   /* size, offset, thread count ... */
	bool single;                    /* one operation per sample */
	struct result r;
};

struct goal {
	double max;                     /* ratio (ours / peer) must be <= max; 0: none */
	const char *text;               /* "<= 1.30x", shown in the table */
	const char *cannot_judge;       /* set: verdict n/a for this reason */
};

struct bench_opts {
	double budget_s;                /* measuring time per group */
	unsigned int min_rounds, max_rounds;
	double sample_ns;               /* calibration target per sample */
	FILE *json;
	bool verbose;
};

extern struct bench_opts bench_opts;

double now_ns(void);

/* Calibrate, warm up and measure @n contenders in turns. */
void measure(struct contender *c, size_t n);
/* Mark a contender n/a without running it. */
void skip_contender(struct contender *c, int err, const char *why);

/* Start a section of the table (a header line). */
void section(const char *title);
/*
 * One row of the table and of the JSON: @ours against @peer (times per
 * operation), @peer_scale multiplies the peer's numbers (a "linear"
 * peer), ratio = ours / peer of the medians.
 */
void row(const char *op, uint64_t size, const char *memory, const struct result *ours,
	 const struct result *peer, double peer_scale, const char *peer_label,
	 struct goal goal, const char *unit, const char *note);

void json_begin(const char *kernel, const char *machine, int cpus, const char *argv_line);
void json_end(void);
void table_end(void);

#endif /* GMBENCH_H */
