/*
 * tandem-bench: what the benchmark's parts share (see tandem-bench.1).
 *
 * daemon.c starts tandemd (and, as root, a private sshd) on loopback;
 * owner.c drives an owner's terminal over libssh; viewers.c holds pools
 * of SSH viewers (libssh, one polling thread) and WebSocket viewers
 * (libwebsockets' client, one service thread) that count what they get
 * and time the owner's probes; main.c runs the scenarios and reports.
 */
#ifndef TANDEM_BENCH_H
#define TANDEM_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libssh/libssh.h>

#define PROBES_MAX	1000
#define PROBE_LEN	10

/* A running server and what it takes to log in to it. */
struct target {
	pid_t		 pid;
	int		 port;		/* ssh */
	int		 http_port;	/* tandemd only */
	char		 dir[256];	/* its temporary folder */
	char		 key[300];	/* the owner's private key file */
	const char	*user;
};

struct owner {
	ssh_session	 ssh;
	ssh_channel	 ch;
};

/* Probes the owner types: when each was sent, for the viewers. */
struct probes {
	int		 n;
	double		 sent[PROBES_MAX];	/* 0: not yet */
};

struct viewer;
struct pool;

double		 now_s(void);
void		 probe_text(int, char [PROBE_LEN + 1]);
void		 die(const char *, ...) __attribute__((format(printf, 1, 2),
		    noreturn));

int		 tandemd_start(const char *, struct target *);
int		 sshd_start(struct target *);
void		 target_stop(struct target *);
long		 rss_kb(pid_t);
double		 cpu_s(pid_t);

int		 owner_open(struct owner *, const struct target *, int, int);
void		 owner_close(struct owner *);
int		 owner_run(struct owner *, const char *, double *, size_t *);
char		*owner_exec(const struct target *, const char *);
int		 owner_type(struct owner *, const char *);

struct pool	*pool_new(const struct target *, const char *,
		    struct probes *);
int		 pool_add_ssh(struct pool *, int);
int		 pool_add_ws(struct pool *, int);
int		 pool_add_stalled(struct pool *);
int		 pool_wait_snapshots(struct pool *, double);
uint64_t	 pool_bytes(struct pool *);
int		 pool_joined(struct pool *);
int		 pool_latencies(struct pool *, double **, size_t *);
void		 pool_free(struct pool *);

#endif
