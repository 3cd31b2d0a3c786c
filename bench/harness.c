// SPDX-License-Identifier: GPL-2.0
/*
 * gmbench harness: calibration, measuring in turns, min/median, and the
 * two outputs (the table on stdout, JSON to --json).  The JSON schema is
 * described in bench/results/README.md.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

struct bench_opts bench_opts = {
	.budget_s = 1.0,
	.min_rounds = 3,
	.max_rounds = 51,
	.sample_ns = 2e6,
};

static unsigned int rows_met, rows_missed, rows_na, rows_info;
static bool json_first_row = true;

double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void min_med(double *v, size_t n, double *min, double *med)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*min = v[0];
	*med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void skip_contender(struct contender *c, int err, const char *why)
{
	c->r.err = err;
	c->r.why = why;
}

/* Double the batch until one sample lasts bench_opts.sample_ns. */
static int calibrate(struct contender *c)
{
	double t[1 + BENCH_MAX_PHASES], want;
	uint64_t iters = 1;
	int rc;

	for (;;) {
		rc = c->run(c, iters, t);
		if (rc)
			return rc;
		if (c->single || t[0] >= bench_opts.sample_ns || iters >= (1ULL << 26))
			break;
		/* Aim a little past the target, at least doubling. */
		want = t[0] > 0 ? 1.2 * iters * bench_opts.sample_ns / t[0] : 16.0 * iters;
		iters = want > 2.0 * iters ? (uint64_t)want : 2 * iters;
		if (iters > (1ULL << 26))
			iters = 1ULL << 26;
	}
	c->r.iters = iters;
	return 0;
}

void measure(struct contender *c, size_t n)
{
	size_t cap = bench_opts.max_rounds, i, k, live = 0;
	double *v = calloc(n * cap * (1 + BENCH_MAX_PHASES), sizeof(double));
	double start, t[1 + BENCH_MAX_PHASES];
	unsigned int round;

	if (!v) {
		for (i = 0; i < n; i++)
			skip_contender(&c[i], ENOMEM, NULL);
		return;
	}
	for (i = 0; i < n; i++) {
		if (c[i].r.err || c[i].r.why)
			continue;
		/* Warm-up (first call faults in code, data and kernel caches). */
		c[i].r.err = -c[i].run(&c[i], 1, t);
		if (!c[i].r.err)
			c[i].r.err = -calibrate(&c[i]);
		live += !c[i].r.err;
	}
	start = now_ns();
	for (round = 0; live && round < cap; round++) {
		if (round >= bench_opts.min_rounds &&
		    now_ns() - start >= bench_opts.budget_s * 1e9)
			break;
		for (i = 0; i < n; i++) {
			struct result *r = &c[i].r;
			double *s = v + (i * cap + round) * (1 + BENCH_MAX_PHASES);
			int rc;

			if (r->err || r->why)
				continue;
			memset(t, 0, sizeof(t));
			rc = c[i].run(&c[i], r->iters, t);
			if (rc) {
				r->err = -rc;
				live--;
				continue;
			}
			for (k = 0; k <= BENCH_MAX_PHASES; k++)
				s[k] = t[k] / r->iters;
			r->samples = round + 1;
		}
	}
	for (i = 0; i < n; i++) {
		struct result *r = &c[i].r;
		double col[cap];
		size_t j;

		if (r->err || r->why || !r->samples)
			continue;
		for (k = 0; k <= (size_t)r->nphases; k++) {
			for (j = 0; j < r->samples; j++)
				col[j] = v[(i * cap + j) * (1 + BENCH_MAX_PHASES) + k];
			if (k == 0)
				min_med(col, r->samples, &r->min, &r->med);
			else
				min_med(col, r->samples, &r->phase_min[k - 1],
					&r->phase_med[k - 1]);
		}
	}
	free(v);
}

/* ------------------------------------------------------------------------ */
/* Output. */

static void fmt_value(char *buf, size_t len, double v, const char *unit)
{
	if (strcmp(unit, "ns"))
		snprintf(buf, len, "%.0f", v);
	else if (v < 1e3)
		snprintf(buf, len, "%.0f ns", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.1f us", v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.2f ms", v / 1e6);
	else
		snprintf(buf, len, "%.2f s", v / 1e9);
}

static void fmt_size(char *buf, size_t len, uint64_t size)
{
	if (!size)
		snprintf(buf, len, "-");
	else if (size >= (1ULL << 30) && !(size % (1ULL << 30)))
		snprintf(buf, len, "%lluG", (unsigned long long)(size >> 30));
	else if (size >= (1ULL << 20) && !(size % (1ULL << 20)))
		snprintf(buf, len, "%lluM", (unsigned long long)(size >> 20));
	else if (size >= 1024 && !(size % 1024))
		snprintf(buf, len, "%lluK", (unsigned long long)(size >> 10));
	else
		snprintf(buf, len, "%lluB", (unsigned long long)size);
}

static void json_str(const char *s)
{
	FILE *f = bench_opts.json;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(double v)
{
	if (isfinite(v))
		fprintf(bench_opts.json, "%.6g", v);
	else
		fputs("null", bench_opts.json);
}

static const char *na_reason(const struct result *r, char *buf, size_t len)
{
	if (r->why)
		snprintf(buf, len, "%s", r->why);
	else if (r->err == EOPNOTSUPP)
		snprintf(buf, len, "not supported by this build");
	else
		snprintf(buf, len, "%s: %s", r->name, strerror(r->err));
	return buf;
}

static void json_result(const char *key, const struct result *r, double scale,
			const char *label)
{
	FILE *f = bench_opts.json;
	char why[160];
	int k;

	fprintf(f, "\"%s\": {\"name\": ", key);
	json_str(label ? label : r->name);
	if (r->err || r->why) {
		fputs(", \"error\": ", f);
		json_str(na_reason(r, why, sizeof(why)));
		fputs("}", f);
		return;
	}
	fputs(", \"min\": ", f);
	json_num(r->min * scale);
	fputs(", \"median\": ", f);
	json_num(r->med * scale);
	fprintf(f, ", \"samples\": %zu, \"iters\": %llu", r->samples,
		(unsigned long long)r->iters);
	if (r->nphases) {
		fputs(", \"phases\": {", f);
		for (k = 0; k < r->nphases; k++) {
			fprintf(f, "%s\"%s\": {\"min\": ", k ? ", " : "", r->phase_names[k]);
			json_num(r->phase_min[k] * scale);
			fputs(", \"median\": ", f);
			json_num(r->phase_med[k] * scale);
			fputs("}", f);
		}
		fputs("}", f);
	}
	fputs("}", f);
}

void section(const char *title)
{
	printf("\n-- %s\n", title);
	printf("%-26s %5s %-10s %10s %10s  %-24s %10s %10s %7s  %-24s %s\n",
	       "operation", "size", "memory", "ours min", "ours med", "peer", "peer min",
	       "peer med", "ratio", "goal (ours/peer)", "verdict");
	fflush(stdout);
}

void row(const char *op, uint64_t size, const char *memory, const struct result *ours,
	 const struct result *peer, double peer_scale, const char *peer_label,
	 struct goal goal, const char *unit, const char *note)
{
	char sz[24], om[24] = "-", od[24] = "-", pm[24] = "-", pd[24] = "-";
	char ratio_s[16] = "-", verdict[200], why[160];
	const char *plabel = peer_label ? peer_label : peer->name;
	bool ok = !ours->err && !ours->why && !peer->err && !peer->why;
	double ratio = NAN;

	fmt_size(sz, sizeof(sz), size);
	if (!ours->err && !ours->why) {
		fmt_value(om, sizeof(om), ours->min, unit);
		fmt_value(od, sizeof(od), ours->med, unit);
	}
	if (!peer->err && !peer->why) {
		fmt_value(pm, sizeof(pm), peer->min * peer_scale, unit);
		fmt_value(pd, sizeof(pd), peer->med * peer_scale, unit);
	}
	if (ok && peer->med > 0) {
		ratio = ours->med / (peer->med * peer_scale);
		snprintf(ratio_s, sizeof(ratio_s), "%.2fx", ratio);
	}
	if (!ok) {
		snprintf(verdict, sizeof(verdict), "n/a (%s)",
			 na_reason(ours->err || ours->why ? ours : peer, why, sizeof(why)));
		rows_na++;
	} else if (goal.max && goal.cannot_judge) {
		snprintf(verdict, sizeof(verdict), "n/a (%s)", goal.cannot_judge);
		rows_na++;
	} else if (!goal.max) {
		snprintf(verdict, sizeof(verdict), "-");
		rows_info++;
	} else if (ratio <= goal.max) {
		snprintf(verdict, sizeof(verdict), "met");
		rows_met++;
	} else {
		snprintf(verdict, sizeof(verdict), "missed");
		rows_missed++;
	}
	printf("%-26s %5s %-10s %10s %10s  %-24s %10s %10s %7s  %-24s %s\n", op, sz, memory,
	       om, od, plabel, pm, pd, ratio_s, goal.max ? goal.text : "-", verdict);
	fflush(stdout);

	if (!bench_opts.json)
		return;
	fprintf(bench_opts.json, "%s\n    {\"op\": ", json_first_row ? "" : ",");
	json_first_row = false;
	json_str(op);
	fprintf(bench_opts.json, ", \"size\": %llu, \"memory\": ", (unsigned long long)size);
	json_str(memory);
	fputs(", \"unit\": ", bench_opts.json);
	json_str(unit);
	fputs(",\n     ", bench_opts.json);
	json_result("ours", ours, 1, NULL);
	fputs(",\n     ", bench_opts.json);
	json_result("peer", peer, peer_scale, plabel);
	fputs(",\n     \"ratio\": ", bench_opts.json);
	json_num(ratio);
	fputs(", \"goal\": ", bench_opts.json);
	if (goal.max) {
		fputs("{\"max_ratio\": ", bench_opts.json);
		json_num(goal.max);
		fputs(", \"text\": ", bench_opts.json);
		json_str(goal.text);
		fputs("}", bench_opts.json);
	} else {
		fputs("null", bench_opts.json);
	}
	fputs(", \"verdict\": ", bench_opts.json);
	json_str(!ok || (goal.max && goal.cannot_judge) ? "n/a" : !goal.max ? "-" :
		 ratio <= goal.max ? "met" : "missed");
	fputs(", \"note\": ", bench_opts.json);
	json_str(goal.max && goal.cannot_judge ? goal.cannot_judge : note);
	fputs("}", bench_opts.json);
}

void json_begin(const char *kernel, const char *machine, int cpus, const char *argv_line)
{
	FILE *f = bench_opts.json;
	char date[64];
	time_t t = time(NULL);

	if (!f)
		return;
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fputs("{\n  \"schema\": \"guestmem-bench/1\",\n  \"kernel\": ", f);
	json_str(kernel);
	fputs(",\n  \"machine\": ", f);
	json_str(machine);
	fprintf(f, ",\n  \"cpus\": %d,\n  \"date\": ", cpus);
	json_str(date);
	fputs(",\n  \"command\": ", f);
	json_str(argv_line);
	fprintf(f, ",\n  \"method\": {\"budget_s\": %g, \"min_rounds\": %u, \"max_rounds\": %u, "
		"\"sample_ns\": %g, \"ratio\": \"ours median / peer median\"},\n  \"rows\": [",
		bench_opts.budget_s, bench_opts.min_rounds, bench_opts.max_rounds,
		bench_opts.sample_ns);
}

void table_end(void)
{
	printf("\n%u met, %u missed, %u n/a, %u without a goal\n", rows_met, rows_missed,
	       rows_na, rows_info);
}

void json_end(void)
{
	if (!bench_opts.json)
		return;
	fprintf(bench_opts.json, "\n  ],\n  \"summary\": {\"met\": %u, \"missed\": %u, "
		"\"n/a\": %u, \"no_goal\": %u}\n}\n", rows_met, rows_missed, rows_na, rows_info);
	fflush(bench_opts.json);
}
