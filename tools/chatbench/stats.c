/*
 * stats.c - clocks, the latency histogram, and the server's /proc figures.
 *
 * Latencies go into a histogram instead of an array, so that memory stays
 * the same for a thousand deliveries or a billion. Its buckets are exact up
 * to 31 ns, then each power of two is split into 16 equal buckets: any
 * percentile read from it is within 1/16 (6 %) of the true value.
 */
#include "chatbench.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int64_t now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC never jumps when someone sets the date. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- the histogram ------------------------------------------------------ */

/*
 * The bucket of value V: V itself below 2 * HIST_SUB; above, V is shifted
 * right until it is below 2 * HIST_SUB, and the shift picks the group of
 * HIST_SUB buckets while what is left of V picks one inside it.
 */
static int bucket_of(uint64_t v)
{
	int shift = 0;

	while (v >= 2 * HIST_SUB) {
		v >>= 1;
		shift++;
	}
	if (shift == 0)
		return (int)v;
	return 2 * HIST_SUB + (shift - 1) * HIST_SUB + (int)(v - HIST_SUB);
}

/* The largest value that falls in bucket B (the inverse of bucket_of). */
static int64_t bucket_top(int b)
{
	int shift;
	uint64_t v;

	if (b < 2 * HIST_SUB)
		return b;
	shift = (b - 2 * HIST_SUB) / HIST_SUB + 1;
	v = (uint64_t)(b - 2 * HIST_SUB) % HIST_SUB + HIST_SUB;
	return (int64_t)(((v + 1) << shift) - 1);
}

void hist_add(struct histogram *h, int64_t ns)
{
	if (ns < 0)
		ns = 0;		/* cannot happen with one monotonic clock */
	h->count[bucket_of((uint64_t)ns)]++;
	h->total++;
	if (ns > h->max)
		h->max = ns;
}

int64_t hist_percentile(const struct histogram *h, double p)
{
	uint64_t rank = (uint64_t)(p * (double)h->total + 0.5), seen = 0;

	if (h->total == 0)
		return 0;
	if (rank < 1)
		rank = 1;
	for (int b = 0; b < HIST_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= rank)	/* the top of the bucket, never above max */
			return bucket_top(b) < h->max ? bucket_top(b) : h->max;
	}
	return h->max;
}

/* ---- the server, seen through /proc -------------------------------------- */

/* If LINE is "NAME:  value kB", stores the value in *DST. */
static void status_field(const char *line, const char *name, long *dst)
{
	size_t n = strlen(name);

	if (strncmp(line, name, n) == 0 && line[n] == ':')
		sscanf(line + n + 1, "%ld", dst);
}

int server_read(long pid, struct server_sample *s)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f) != NULL) {
		status_field(line, "VmRSS", &s->rss_kb);
		status_field(line, "VmHWM", &s->hwm_kb);
		status_field(line, "Threads", &s->threads);
	}
	fclose(f);
	if (s->rss_kb == 0) {
		errno = ESRCH;	/* a zombie has no memory: the server has exited */
		return -1;
	}
	return 0;
}

void server_sample(void)
{
	struct server_sample s;

	if (bench.pid == 0 || server_read(bench.pid, &s) < 0)
		return;		/* a server that is gone keeps its last figures */
	if (s.rss_kb > bench.peak.rss_kb)
		bench.peak.rss_kb = s.rss_kb;
	if (s.hwm_kb > bench.peak.hwm_kb)
		bench.peak.hwm_kb = s.hwm_kb;
	if (s.threads > bench.peak.threads)
		bench.peak.threads = s.threads;
	bench.sampled = 1;
}
