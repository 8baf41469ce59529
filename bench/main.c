/*
 * tandem-bench: measures tandemd's output path on loopback and says
 * which of its targets it meets (tandem-bench.1, doc/performance.md).
 *
 * Every scenario gets a fresh pool of viewers on one owner session of
 * one tandemd: the owner's throughput (cat of a text file, seq) with
 * 0..N viewers of each transport, the keystroke-to-viewer latency of
 * probes the owner types, memory per idle viewer, the time for N
 * viewers to get their first frame, and the owner's throughput with one
 * viewer that reads nothing.  As root, a private sshd runs the owner's
 * workloads too, as the reference.
 */
#include <sys/resource.h>

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static const char usage_text[] =
"usage: tandem-bench [--quick] [--viewers N,N,...] [--bytes N] [--seq N]\n"
"                    [--probes N] [--idle N] [--json FILE]\n"
"                    [--tandemd PATH]\n"
"\n"
"Starts tandemd on loopback and measures the owner's output throughput\n"
"(cat of a text file and seq through the PTY) with 0 and N viewers over\n"
"SSH, WebSocket and a half-and-half mix, bytes delivered to viewers per\n"
"CPU-second of tandemd, keystroke-to-viewer latency (p50/p99/max), memory\n"
"per idle viewer per transport, the time for the largest crowd to join\n"
"with its snapshot, and the owner's throughput with one stalled viewer.\n"
"Run as root with /usr/sbin/sshd present, it also runs the owner's\n"
"workloads through a private OpenSSH sshd, the reference for the\n"
"throughput targets.  Prints a table, and writes a JSON file whose list\n"
"\"targets\" has name, value, unit, target and met for every target.\n"
"\n"
"  --quick          small sizes: a smoke run of a few seconds\n"
"  --viewers LIST   viewer counts (default 10,100,1000)\n"
"  --bytes N        size of the text file the owner cats (default 64 MB)\n"
"  --seq N          the owner runs seq 1 N (default 2000000)\n"
"  --probes N       latency probes per count (default 40)\n"
"  --idle N         idle viewers per transport for memory (default 200)\n"
"  --json FILE      where to write the results (bench-results.json)\n"
"  --tandemd PATH   the daemon to measure (default src/tandemd)\n";

struct opts {
	int		 viewers[8];
	int		 nviewers;
	long		 bytes;
	long		 seq;
	int		 probes;
	int		 idle;
	const char	*json;
	const char	*tandemd;
	int		 quick;
};

struct result {
	char		 name[64];
	double		 value;
	const char	*unit;
	char		 target[32];
	int		 met;
	int		 is_target;
	const char	*note;
};

static struct result	 results[128];
static int		 nresults;
static struct target	 tandem, sshd;

static void
cleanup(void)
{
	target_stop(&tandem);
	target_stop(&sshd);
}

static void
on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static struct result *
record(const char *name, double value, const char *unit)
{
	struct result	*r = &results[nresults < 127 ? nresults++ : 127];

	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->value = value;
	r->unit = unit;
	printf("  %-40s %12.2f %s\n", name, value, unit);
	fflush(stdout);
	return r;
}

/* A target: met when value is at least (ge) or below (!ge) bound. */
static void
target(const char *name, double value, const char *unit, int ge,
    double bound, const char *note)
{
	struct result	*r = &results[nresults < 127 ? nresults++ : 127];

	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->value = value;
	r->unit = unit;
	r->is_target = 1;
	r->note = note;
	snprintf(r->target, sizeof r->target, "%s %g", ge ? ">=" : "<",
	    bound);
	r->met = note == NULL && (ge ? value >= bound : value < bound);
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
percentile(double *v, size_t n, double q)
{
	size_t	 i;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	i = (size_t)ceil(q * (double)n) - 1;
	return v[i < n ? i : n - 1];
}

/* The value of "KEY": "VALUE" in JSON text (first one). */
static int
json_field(const char *text, const char *key, char *out, size_t outlen)
{
	char		 want[64];
	const char	*p, *e;

	snprintf(want, sizeof want, "\"%s\": \"", key);
	if (text == NULL || (p = strstr(text, want)) == NULL)
		return -1;
	p += strlen(want);
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= outlen)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static double
mbps(struct owner *o, const char *cmd, double *secs_out)
{
	double	 secs;
	size_t	 bytes;

	if (owner_run(o, cmd, &secs, &bytes) != 0)
		die("the owner's command did not finish: %s", cmd);
	if (secs_out != NULL)
		*secs_out = secs;
	return (double)bytes / secs / 1e6;
}

static void
workloads(struct owner *o, const struct opts *op, const char *file,
    double *cat, double *seq)
{
	char	 cmd[256];

	snprintf(cmd, sizeof cmd, "cat %s", file);
	*cat = mbps(o, cmd, NULL);
	snprintf(cmd, sizeof cmd, "seq 1 %ld", op->seq);
	*seq = mbps(o, cmd, NULL);
}

/* Type probes into the owner's shell, reading its output as a terminal
 * would; the viewers time them.  Each probe clears the screen first, so
 * that it lands on the top row, where the one before was, and differs
 * from it in every character: the viewers' frames, which carry only
 * changed cells, then carry the probe whole. */
static void
probe(struct owner *o, struct probes *pr, int n)
{
	char	 line[64], text[PROBE_LEN + 1];
	double	 secs;
	size_t	 bytes;
	int	 k;

	for (k = 0; k < n && pr->n < PROBES_MAX; k++) {
		probe_text(pr->n, text);
		snprintf(line, sizeof line, "printf '\\033[H\\033[2J%%s\\n' %s",
		    text);
		pr->sent[pr->n] = now_s();
		__atomic_add_fetch(&pr->n, 1, __ATOMIC_RELEASE);
		if (owner_run(o, line, &secs, &bytes) != 0)
			die("a probe did not come back to the owner");
		/* Keystrokes, not a flood: frames coalesce for 16 ms after
		 * one another, and probes should not wait for that. */
		usleep(50000);
	}
}

static void
latency(struct pool *p, int n, const char *what, double *p99_out)
{
	double	*lat, *copy;
	size_t	 nlat;
	char	 name[64];

	usleep(200000);
	pool_latencies(p, &lat, &nlat);
	if ((copy = malloc((nlat + 1) * sizeof *copy)) == NULL)
		die("out of memory");
	memcpy(copy, lat, nlat * sizeof *copy);
	snprintf(name, sizeof name, "latency p50, %d %s", n, what);
	record(name, percentile(copy, nlat, 0.50) * 1e3, "ms");
	snprintf(name, sizeof name, "latency p99, %d %s", n, what);
	*p99_out = percentile(copy, nlat, 0.99) * 1e3;
	record(name, *p99_out, "ms");
	snprintf(name, sizeof name, "latency max, %d %s", n, what);
	record(name, percentile(copy, nlat, 1.0) * 1e3, "ms");
	snprintf(name, sizeof name, "probes seen, %d %s", n, what);
	record(name, (double)nlat, "samples");
	free(copy);
}

static struct pool *
crowd(struct probes *pr, const char *token, int nssh, int nws,
    double *join_s)
{
	struct pool	*p = pool_new(&tandem, token, pr);
	double		 t0 = now_s();
	int		 have;

	if (p == NULL)
		die("out of memory");
	if (nws > 0)
		pool_add_ws(p, nws);
	if (nssh > 0)
		pool_add_ssh(p, nssh);
	have = pool_wait_snapshots(p, 60);
	if (join_s != NULL)
		*join_s = now_s() - t0;
	if (have < nssh + nws)
		fprintf(stderr, "tandem-bench: only %d of %d viewers got a "
		    "snapshot\n", have, nssh + nws);
	return p;
}

/* Owner throughput and latency with n viewers of one mix. */
static void
scenario(struct owner *o, const struct opts *op, const char *file,
    const char *token, int n, int ssh_share, const char *what,
    double base_cat, double *cat_out, double *p99_out, int *joined,
    double *join_s)
{
	struct probes	 pr;
	struct pool	*p;
	char		 name[64], cmd[256];
	double		 cpu0, cpu1, secs, cat, join;
	uint64_t	 b0, b1;
	int		 nssh = n * ssh_share / 100;

	memset(&pr, 0, sizeof pr);
	p = crowd(&pr, token, nssh, n - nssh, &join);
	snprintf(name, sizeof name, "join with snapshots, %d %s", n, what);
	record(name, join, "s");
	if (join_s != NULL)
		*join_s = join;
	if (joined != NULL)
		*joined = pool_joined(p);
	snprintf(cmd, sizeof cmd, "cat %s", file);
	cpu0 = cpu_s(tandem.pid);
	b0 = pool_bytes(p);
	cat = mbps(o, cmd, &secs);
	usleep(300000);		/* the last frames */
	cpu1 = cpu_s(tandem.pid);
	b1 = pool_bytes(p);
	snprintf(name, sizeof name, "owner cat, %d %s viewers", n, what);
	record(name, cat, "MB/s");
	snprintf(name, sizeof name, "  vs no viewers, %d %s", n, what);
	record(name, cat / base_cat * 100, "%");
	snprintf(name, sizeof name, "viewer bytes per tandemd CPU-s, %d %s",
	    n, what);
	record(name, cpu1 > cpu0 ? (double)(b1 - b0) / (cpu1 - cpu0) / 1e6 :
	    0, "MB/CPU-s");
	if (cat_out != NULL)
		*cat_out = cat;
	/* Typing comes to a settled session, not in the flood's wake. */
	sleep(1);
	probe(o, &pr, op->probes);
	latency(p, n, what, p99_out);
	pool_free(p);
	usleep(500000);
}

static double
idle_memory(const char *token, int n, int ws)
{
	struct probes	 pr;
	struct pool	*p;
	long		 before, after;

	memset(&pr, 0, sizeof pr);
	usleep(300000);
	before = rss_kb(tandem.pid);
	p = crowd(&pr, token, ws ? 0 : n, ws ? n : 0, NULL);
	usleep(500000);
	after = rss_kb(tandem.pid);
	pool_free(p);
	usleep(500000);
	return (double)(after - before) / n;
}

static void
write_json(const char *path)
{
	FILE	*f = fopen(path, "w");
	int	 i, first = 1;

	if (f == NULL)
		die("cannot write %s", path);
	fprintf(f, "{\n  \"measurements\": [\n");
	for (i = 0; i < nresults; i++) {
		if (results[i].is_target)
			continue;
		fprintf(f, "%s    {\"name\": \"%s\", \"value\": %.4f, "
		    "\"unit\": \"%s\"}", first ? "" : ",\n", results[i].name,
		    isnan(results[i].value) ? 0 : results[i].value,
		    results[i].unit);
		first = 0;
	}
	fprintf(f, "\n  ],\n  \"targets\": [\n");
	first = 1;
	for (i = 0; i < nresults; i++) {
		if (!results[i].is_target)
			continue;
		fprintf(f, "%s    {\"name\": \"%s\", \"value\": %.4f, "
		    "\"unit\": \"%s\", \"target\": \"%s\", \"met\": %s%s%s%s}",
		    first ? "" : ",\n", results[i].name,
		    isnan(results[i].value) ? 0 : results[i].value,
		    results[i].unit, results[i].target,
		    results[i].met ? "true" : "false",
		    results[i].note ? ", \"note\": \"" : "",
		    results[i].note ? results[i].note : "",
		    results[i].note ? "\"" : "");
		first = 0;
	}
	fprintf(f, "\n  ]\n}\n");
	fclose(f);
}

static void
parse(int argc, char **argv, struct opts *op)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "viewers", required_argument, NULL, 'v' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "seq", required_argument, NULL, 's' },
		{ "probes", required_argument, NULL, 'p' },
		{ "idle", required_argument, NULL, 'i' },
		{ "json", required_argument, NULL, 'j' },
		{ "tandemd", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char	*tok, *save;
	int	 ch;

	memset(op, 0, sizeof *op);
	op->viewers[0] = 10;
	op->viewers[1] = 100;
	op->viewers[2] = 1000;
	op->nviewers = 3;
	op->bytes = 64L * 1000 * 1000;
	op->seq = 2000000;
	op->probes = 40;
	op->idle = 200;
	op->json = "bench-results.json";
	op->tandemd = "src/tandemd";
	while ((ch = getopt_long(argc, argv, "qv:b:s:p:i:j:t:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'q':
			op->quick = 1;
			op->viewers[0] = 10;
			op->nviewers = 1;
			op->bytes = 4L * 1000 * 1000;
			op->seq = 100000;
			op->probes = 10;
			op->idle = 20;
			break;
		case 'v':
			op->nviewers = 0;
			for (tok = strtok_r(optarg, ",", &save); tok != NULL &&
			    op->nviewers < 8; tok = strtok_r(NULL, ",", &save))
				if (atoi(tok) > 0)
					op->viewers[op->nviewers++] = atoi(tok);
			break;
		case 'b': op->bytes = atol(optarg); break;
		case 's': op->seq = atol(optarg); break;
		case 'p': op->probes = atoi(optarg); break;
		case 'i': op->idle = atoi(optarg); break;
		case 'j': op->json = optarg; break;
		case 't': op->tandemd = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: fputs(usage_text, stderr); exit(2);
		}
	}
	if (op->nviewers == 0 || op->bytes < 1000 || op->seq < 1 ||
	    op->probes < 1 || op->probes > PROBES_MAX / 2 || op->idle < 1) {
		fputs(usage_text, stderr);
		exit(2);
	}
}

static void
more_files(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct opts	 op;
	struct owner	 o;
	char		*out, sid[64], token[64], file[300], cmd[512];
	double		 cat0, seq0, scat = NAN, sseq = NAN, cat, p99, join;
	double		 p99_100 = NAN, p99_1000 = NAN, ws100 = NAN;
	double		 join_max = NAN, t0 = now_s();
	int		 i, joined = 0, biggest = 0, have_sshd;

	parse(argc, argv, &op);
	more_files();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(cleanup);
	ssh_init();

	/* The reference: sshd, as root. */
	have_sshd = sshd_start(&sshd) == 0;
	if (have_sshd) {
		printf("sshd (reference)\n");
		if (owner_open(&o, &sshd, 80, 24) != 0)
			die("cannot log in to the private sshd");
		snprintf(file, sizeof file, "%s/text", sshd.dir);
		snprintf(cmd, sizeof cmd, "base64 -w 76 /dev/urandom | head -c "
		    "%ld > %s", op.bytes, file);
		mbps(&o, cmd, NULL);
		workloads(&o, &op, file, &scat, &sseq);
		record("sshd: owner cat", scat, "MB/s");
		record("sshd: owner seq", sseq, "MB/s");
		owner_close(&o);
		target_stop(&sshd);
	} else
		printf("sshd (reference): skipped (needs root and "
		    "/usr/sbin/sshd)\n");

	printf("tandemd %s\n", op.tandemd);
	if (tandemd_start(op.tandemd, &tandem) != 0)
		die("cannot start %s", op.tandemd);
	if (owner_open(&o, &tandem, 80, 24) != 0)
		die("cannot log in to tandemd");
	snprintf(file, sizeof file, "%s/text", tandem.dir);
	snprintf(cmd, sizeof cmd, "base64 -w 76 /dev/urandom | head -c %ld "
	    "> %s", op.bytes, file);
	mbps(&o, cmd, NULL);
	workloads(&o, &op, file, &cat0, &seq0);
	record("owner cat, no viewers", cat0, "MB/s");
	record("owner seq, no viewers", seq0, "MB/s");
	out = owner_exec(&tandem, "ls --json");
	if (json_field(out, "id", sid, sizeof sid) != 0)
		die("no session in: %s", out ? out : "(nothing)");
	free(out);
	snprintf(cmd, sizeof cmd, "share %s --read-only --no-auth "
	    "--max-viewers 10000 --expires 1d --json", sid);
	out = owner_exec(&tandem, cmd);
	if (json_field(out, "token", token, sizeof token) != 0)
		die("no share token in: %s", out ? out : "(nothing)");
	free(out);

	/* Memory first, while nothing freed by larger crowds is there to
	 * be reused. */
	{
		double	 ws = idle_memory(token, op.idle, 1);
		double	 ssh = idle_memory(token, op.idle, 0);
		record("memory per idle viewer, websocket", ws, "KiB");
		record("memory per idle viewer, ssh", ssh, "KiB");
		target("memory per idle websocket viewer", ws, "KiB", 0, 64,
		    NULL);
		target("memory per idle ssh viewer", ssh, "KiB", 0, 256, NULL);
	}

	/* One viewer: the latency floor. */
	scenario(&o, &op, file, token, 1, 0, "websocket", cat0, NULL, &p99,
	    NULL, NULL);
	for (i = 0; i < op.nviewers; i++) {
		int n = op.viewers[i];
		scenario(&o, &op, file, token, n, 100, "ssh", cat0, NULL, &p99,
		    NULL, NULL);
		scenario(&o, &op, file, token, n, 0, "websocket", cat0, &cat,
		    &p99, NULL, NULL);
		if (n == 100)
			ws100 = cat;
		scenario(&o, &op, file, token, n, 50, "mixed", cat0, NULL,
		    &p99, &joined, &join);
		if (n == 100)
			p99_100 = p99;
		if (n == 1000)
			p99_1000 = p99;
		if (n >= biggest) {
			biggest = n;
			join_max = join;
			record("joined (mixed)", joined, "viewers");
			record("time to join with snapshots (mixed)", join, "s");
		}
	}

	{
		struct probes	 pr;
		struct pool	*p;

		memset(&pr, 0, sizeof pr);
		p = crowd(&pr, token, 0, 0, NULL);
		if (pool_add_stalled(p) != 0)
			die("cannot open the stalled viewer");
		sleep(1);
		snprintf(cmd, sizeof cmd, "cat %s", file);
		cat = mbps(&o, cmd, NULL);
		record("owner cat, one stalled viewer", cat, "MB/s");
		record("  vs no viewers, stalled", cat / cat0 * 100, "%");
		target("owner throughput, one stalled viewer vs none",
		    cat / cat0 * 100, "%", 1, 90, NULL);
		pool_free(p);
	}
	owner_close(&o);
	target_stop(&tandem);

	target("concurrent viewers, half ssh half websocket", joined,
	    "viewers", 1, 1000, biggest < 1000 ? "fewer than 1000 asked for" :
	    NULL);
	target("owner cat vs sshd", scat == scat ? cat0 / scat * 100 : 0, "%",
	    1, 90, have_sshd ? NULL : "no sshd to compare with");
	target("owner seq vs sshd", sseq == sseq ? seq0 / sseq * 100 : 0, "%",
	    1, 90, have_sshd ? NULL : "no sshd to compare with");
	target("owner throughput, 100 websocket viewers vs none",
	    ws100 == ws100 ? ws100 / cat0 * 100 : 0, "%", 1, 50,
	    ws100 == ws100 ? NULL : "100 viewers not measured");
	target("latency p99 at 100 viewers", p99_100 == p99_100 ? p99_100 : 0,
	    "ms", 0, 5, p99_100 == p99_100 ? NULL :
	    "100 viewers not measured");
	target("latency p99 at 1000 viewers", p99_1000 == p99_1000 ?
	    p99_1000 : 0, "ms", 0, 25, p99_1000 == p99_1000 ? NULL :
	    "1000 viewers not measured");
	target("1000 viewers joined with snapshots", biggest >= 1000 ?
	    join_max : 0, "s", 0, 5, biggest >= 1000 ? NULL :
	    "1000 viewers not measured");

	printf("\n%-52s %12s %10s %s\n", "target", "value", "target", "met");
	for (i = 0; i < nresults; i++) {
		if (!results[i].is_target)
			continue;
		printf("%-52s %9.2f %-3s %9s %s%s%s\n", results[i].name,
		    results[i].value, results[i].unit, results[i].target,
		    results[i].met ? "yes" : "NO",
		    results[i].note ? ": " : "",
		    results[i].note ? results[i].note : "");
	}
	write_json(op.json);
	printf("\nresults in %s (%.0f s)\n", op.json, now_s() - t0);
	return 0;
}
