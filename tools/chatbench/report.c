/*
 * report.c - the table, or the JSON line, at the end of a run.
 *
 * Both say the same things; the table is for people, the JSON line (-j)
 * for scripts, which read it with one json.loads() per run. Times are in
 * seconds, latencies in microseconds, memory in kB; a figure that was not
 * measured is null in JSON and left out of the table.
 */
#include "chatbench.h"
#include "util.h"

#include <stdio.h>

/* ---- what both forms share ----------------------------------------------- */

/* Deliveries a chat run expects: each line reaches every other client. */
static uint64_t expected(void)
{
	return (uint64_t)bench.nclients * (bench.nclients - 1) * bench.nlines;
}

/* Seconds between two CLOCK_MONOTONIC times, 0 if either is missing. */
static double seconds(int64_t from, int64_t to)
{
	if (from == 0 || to == 0 || to < from)
		return 0;
	return (double)(to - from) / NS_PER_S;
}

/* The latency at fraction P, in microseconds. */
static double lat_us(double p)
{
	return (double)hist_percentile(&bench.lat, p) / 1000.0;
}

/* Why the chat run failed, in a few words; NULL if it passed. */
static const char *verdict(int ok)
{
	static char text[200];
	uint64_t missing = bench.received < expected() ?
			   expected() - bench.received : 0;

	if (ok)
		return NULL;
	if (bench.fail_why != NULL)
		return bench.fail_why;
	if (bench.timed_out)
		snprintf(text, sizeof(text),
			 "the deadline of %zu s passed, %llu deliveries missing",
			 bench.seconds, (unsigned long long)missing);
	else if (stop_requested)
		snprintf(text, sizeof(text),
			 "interrupted by a signal, %llu deliveries missing",
			 (unsigned long long)missing);
	else if (missing > 0 || bench.corrupt > 0 || bench.out_of_order > 0)
		snprintf(text, sizeof(text),
			 "%llu lost, %llu corrupt, %llu out of order",
			 (unsigned long long)missing,
			 (unsigned long long)bench.corrupt,
			 (unsigned long long)bench.out_of_order);
	else
		snprintf(text, sizeof(text), "incomplete");
	return text;
}

/* Writes S as a JSON string: quoted, with quotes and controls escaped. */
static void json_string(const char *s)
{
	if (s == NULL) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Writes ,"NAME":VALUE, or ,"NAME":null when KNOWN is 0. */
static void json_long(const char *name, long value, int known)
{
	if (known)
		printf(",\"%s\":%ld", name, value);
	else
		printf(",\"%s\":null", name);
}

/* The peak RSS seen: VmHWM, or the highest VmRSS sampled if that is more. */
static long peak_rss(void)
{
	return bench.peak.hwm_kb > bench.peak.rss_kb ? bench.peak.hwm_kb :
	       bench.peak.rss_kb;
}

/* ---- a chat run ---------------------------------------------------------- */

/* The chat run as one JSON object on one line. */
static void chat_json(int ok)
{
	double elapsed = seconds(bench.t_first_send, bench.t_last_delivery);
	uint64_t exp = expected();

	printf("{\"mode\":\"%s\",\"clients\":%zu,\"lines\":%zu,\"size\":%zu,"
	       "\"rate\":%g", bench.rate > 0 ? "paced" : "burst",
	       bench.nclients, bench.nlines, bench.size, bench.rate);
	printf(",\"connect_s\":%.6f,\"joins_expected\":%llu,\"joins_seen\":%llu",
	       seconds(bench.t_start, bench.t_connected),
	       (unsigned long long)bench.nclients * (bench.nclients - 1) / 2,
	       (unsigned long long)bench.joins_seen);
	printf(",\"expected\":%llu,\"received\":%llu,\"lost\":%llu"
	       ",\"corrupt\":%llu,\"out_of_order\":%llu",
	       (unsigned long long)exp, (unsigned long long)bench.received,
	       (unsigned long long)(bench.received < exp ? exp - bench.received : 0),
	       (unsigned long long)bench.corrupt,
	       (unsigned long long)bench.out_of_order);
	printf(",\"clients_failed\":%zu,\"clients_dropped\":%zu",
	       bench.failed, bench.dropped);
	printf(",\"elapsed_s\":%.6f,\"deliveries_per_s\":%.1f"
	       ",\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,\"lat_max_us\":%.1f",
	       elapsed, elapsed > 0 ? (double)bench.received / elapsed : 0,
	       lat_us(0.50), lat_us(0.99), (double)bench.lat.max / 1000.0);
	printf(",\"bench_cpu_s\":%.3f", cpu_seconds());
	json_long("server_pid", bench.pid, bench.pid != 0);
	json_long("server_rss_peak_kb", peak_rss(), bench.sampled);
	json_long("server_threads_max", bench.peak.threads, bench.sampled);
	printf(",\"timed_out\":%s,\"ok\":%s,\"error\":",
	       bench.timed_out ? "true" : "false", ok ? "true" : "false");
	json_string(verdict(ok));
	printf("}\n");
}

/* The chat run as a table. */
static void chat_table(int ok)
{
	double elapsed = seconds(bench.t_first_send, bench.t_last_delivery);
	uint64_t exp = expected();

	printf("chatbench: %zu clients x %zu lines of %zu bytes, ",
	       bench.nclients, bench.nlines, bench.size);
	if (bench.rate > 0)
		printf("paced at %g lines/s per client\n", bench.rate);
	else
		printf("burst\n");
	printf("  connect      %.3f s (%zu of %zu clients welcomed)\n",
	       seconds(bench.t_start, bench.t_connected), bench.welcomed,
	       bench.nclients);
	printf("  joins        %llu of %llu\n",
	       (unsigned long long)bench.joins_seen,
	       (unsigned long long)bench.nclients * (bench.nclients - 1) / 2);
	printf("  deliveries   %llu of %llu (lost %llu, corrupt %llu, "
	       "out of order %llu)\n", (unsigned long long)bench.received,
	       (unsigned long long)exp,
	       (unsigned long long)(bench.received < exp ? exp - bench.received : 0),
	       (unsigned long long)bench.corrupt,
	       (unsigned long long)bench.out_of_order);
	printf("  elapsed      %.3f s (first send to last delivery)\n", elapsed);
	printf("  throughput   %.0f deliveries/s\n",
	       elapsed > 0 ? (double)bench.received / elapsed : 0);
	printf("  latency      p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
	       lat_us(0.50) / 1000, lat_us(0.99) / 1000,
	       (double)bench.lat.max / 1e6);
	if (bench.sampled)
		printf("  server       pid %ld: peak RSS %ld kB, up to %ld threads\n",
		       bench.pid, peak_rss(), bench.peak.threads);
	printf("  bench CPU    %.3f s\n", cpu_seconds());
	printf("  result       %s%s\n", ok ? "PASS" : "FAIL: ",
	       ok ? "" : verdict(ok));
}

void report_chat(int ok)
{
	if (bench.json)
		chat_json(ok);
	else
		chat_table(ok);
	fflush(stdout);
}

/* ---- a -C run ------------------------------------------------------------ */

/* Server memory per held client, in kB, from the two samples of R. */
static double rss_per_client(const struct cap_result *r)
{
	if (r->held == 0)
		return 0;
	return (double)(r->full.rss_kb - r->base.rss_kb) / (double)r->held;
}

/* The -C run as one JSON object on one line. */
static void cap_json(int ok, const struct cap_result *r)
{
	printf("{\"mode\":\"cap\",\"cap\":%zu,\"held\":%zu,\"stop\":",
	       bench.cap, r->held);
	json_string(r->stop);
	printf(",\"connect_s\":%.6f,\"broadcast_expected\":%zu"
	       ",\"broadcast_reached\":%zu,\"broadcast_s\":%.6f",
	       seconds(bench.t_start, bench.t_connected),
	       r->held > 0 ? r->held - 1 : 0, r->reached,
	       seconds(bench.t_first_send, bench.t_last_delivery));
	printf(",\"bench_cpu_s\":%.3f", cpu_seconds());
	json_long("server_pid", bench.pid, bench.pid != 0);
	json_long("server_rss_kb", r->full.rss_kb, r->full.rss_kb > 0);
	if (r->full.rss_kb > 0)
		printf(",\"server_rss_per_client_kb\":%.1f", rss_per_client(r));
	else
		printf(",\"server_rss_per_client_kb\":null");
	json_long("server_threads", r->full.threads, r->full.rss_kb > 0);
	printf(",\"timed_out\":%s,\"ok\":%s,\"error\":",
	       bench.timed_out ? "true" : "false", ok ? "true" : "false");
	json_string(r->error);
	printf("}\n");
}

/* The -C run as a table. */
static void cap_table(int ok, const struct cap_result *r)
{
	printf("chatbench: holding up to %zu clients\n", bench.cap);
	printf("  held         %zu clients (stopped: %s)\n", r->held, r->stop);
	printf("  connect      %.3f s\n", seconds(bench.t_start, bench.t_connected));
	printf("  broadcast    reached %zu of %zu in %.3f s\n", r->reached,
	       r->held > 0 ? r->held - 1 : 0,
	       seconds(bench.t_first_send, bench.t_last_delivery));
	if (r->full.rss_kb > 0)
		printf("  server       pid %ld: RSS %ld kB with them all, "
		       "%.1f kB per client, %ld threads\n", bench.pid,
		       r->full.rss_kb, rss_per_client(r), r->full.threads);
	printf("  bench CPU    %.3f s\n", cpu_seconds());
	printf("  result       %s%s\n", ok ? "PASS" : "FAIL: ",
	       ok ? "" : r->error);
}

void report_cap(int ok, const struct cap_result *r)
{
	if (bench.json)
		cap_json(ok, r);
	else
		cap_table(ok, r);
	fflush(stdout);
}
