/*
 * tandemd: the command line.  Settings come from the embedded defaults,
 * then the config file (--config), then the flags, so that a flag always
 * wins.  Without a command the daemon runs in the foreground until
 * SIGTERM; "user ..." manages the user table offline and exits.
 */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <sodium.h>
#include <uv.h>

#include "config.h"
#include "log.h"
#include "pty.h"
#include "server.h"
#include "user_cli.h"

static const char usage_text[] =
"usage: tandemd [--config FILE] [--data-dir DIR] [--ssh-listen ADDR:PORT]\n"
"               [--http-listen ADDR:PORT] [--public-url URL]\n"
"               [--tls-cert FILE --tls-key FILE]\n"
"               [--log-file FILE] [--log-level LEVEL] [--enroll POLICY]\n"
"       tandemd [--data-dir DIR] user add NAME --key FILE [--admin]\n"
"       tandemd [--data-dir DIR] user list [--json]\n"
"       tandemd [--data-dir DIR] user del NAME\n"
"       tandemd --version | --help\n";

struct flag {
	const char	*key;	/* config_set key */
	const char	*value;
};

static int
apply_flags(struct config *cfg, const struct flag *flags, size_t n)
{
	char	 err[256];
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (config_set(cfg, flags[i].key, flags[i].value, err,
		    sizeof err) != 0) {
			fprintf(stderr, "tandemd: --%s: %s\n", flags[i].key,
			    err);
			return -1;
		}
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct config *cfg)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "ssh-listen", required_argument, NULL, 's' },
		{ "http-listen", required_argument, NULL, 'H' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "enroll", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct flag	 flags[16];
	const char	*config_file = NULL;
	char		 err[512];
	size_t		 nflags = 0;
	int		 ch;

	/* '+' stops at the first non-option: "user add --key" is the
	 * subcommand's, not ours. */
	while ((ch = getopt_long(argc, argv, "+c:d:s:H:u:C:K:l:L:e:hV", longopts,
	    NULL)) != -1) {
		const char *key = NULL;
		switch (ch) {
		case 'c': config_file = optarg; continue;
		case 'd': key = "data_dir"; break;
		case 's': key = "ssh_listen"; break;
		case 'H': key = "http_listen"; break;
		case 'u': key = "public_url"; break;
		case 'C': key = "tls_cert"; break;
		case 'K': key = "tls_key"; break;
		case 'l': key = "log_file"; break;
		case 'L': key = "log_level"; break;
		case 'e': key = "enroll"; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("tandemd %s\n", PACKAGE_VERSION); exit(0);
		default: fputs(usage_text, stderr); return -1;
		}
		if (nflags < sizeof flags / sizeof flags[0])
			flags[nflags++] = (struct flag){ key, optarg };
	}
	if (config_file != NULL &&
	    config_load(cfg, config_file, err, sizeof err) != 0) {
		fprintf(stderr, "tandemd: %s\n", err);
		return -1;
	}
	return apply_flags(cfg, flags, nflags);
}

/*
 * Every viewer is a socket: a crowd needs more than the usual 1024
 * descriptors, so tandemd takes what the hard limit allows; the
 * programs in sessions keep the limit tandemd was given.
 */
static void
files_limit_raise(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	pty_keep_files_limit(&rl);
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open files limit: %s",
		    strerror(errno));
}

static int
run_daemon(const struct config *cfg)
{
	struct server	 srv;
	uv_loop_t	 loop;
	char		 err[512];
	int		 r;

	if (log_open(cfg->log_file, cfg->log_level) != 0) {
		fprintf(stderr, "tandemd: cannot open log file %s\n",
		    cfg->log_file);
		return 1;
	}
	files_limit_raise();
	if (geteuid() == 0)
		log_warn("running as root: every session's shell runs as "
		    "root; see tandemd(8) on running as a dedicated user");
	uv_loop_init(&loop);
	if (server_start(&srv, &loop, cfg, err, sizeof err) != 0) {
		log_error("%s", err);
		server_free(&srv);
		uv_loop_close(&loop);
		log_close();
		return 1;
	}
	log_info("tandemd %s ready; connect with: ssh -p %s YOURNAME@%s",
	    PACKAGE_VERSION, strrchr(srv.listen_addr, ':') + 1,
	    cfg->ssh_listen[0] == '[' ? "::1" : "127.0.0.1");
	uv_run(&loop, UV_RUN_DEFAULT);
	server_free(&srv);
	r = uv_loop_close(&loop);
	if (r != 0)
		log_warn("event loop closed with handles open");
	log_close();
	return 0;
}

int
main(int argc, char **argv)
{
	struct config	 cfg;
	int		 r;

	/* A client that goes away mid-write must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "tandemd: libsodium failed to start\n");
		return 1;
	}
	ssh_init();
	ssh_set_log_level(SSH_LOG_NOLOG);
	config_defaults(&cfg);
	if (parse_args(argc, argv, &cfg) != 0) {
		config_free(&cfg);
		return 2;
	}
	if (optind < argc && strcmp(argv[optind], "user") == 0)
		r = user_cli(&cfg, argc - optind, argv + optind);
	else if (optind < argc) {
		fprintf(stderr, "tandemd: unknown command '%s'\n%s",
		    argv[optind], usage_text);
		r = 2;
	} else
		r = run_daemon(&cfg);
	config_free(&cfg);
	ssh_finalize();
	return r;
}
