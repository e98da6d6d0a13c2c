/* ltail - follow files like Fluentd's in_tail: one event per line */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "mark.h"
#include "metrics.h"
#include "opt.h"
#include "parse_rx.h"
#include "rx.h"
#include "sig.h"
#include "stats.h"
#include "stream.h"

#include "ltail.h"
#include "ml.h"

#define USAGE "[options] PATH...   (a file, a glob, or - for stdin)"
#define ABOUT "Follow files as Fluentd's in_tail does and write one event " \
	"per line: the tag,\nthe time it was read and {\"message\": line}.  " \
	"Files are followed across\nrotation and truncation; --pos-file " \
	"remembers how far each was read."

#define ROUND (1024 * 1024)     /* read from one file before the next */
#define POS_MS 100              /* least time between position writes */

enum {
	O_PATH_KEY = OPT_LONG, O_ONCE, O_REFRESH, O_ROTATE_WAIT, O_POLL,
	O_POLL_INTERVAL, O_MAX_LINE, O_LONG_LINES, O_ML_FLUSH, O_ML_PARSER,
	O_ML_RULES, O_E2E, O_E2E_TIMEOUT, O_STATS, O_IGNORE_OLDER, O_ENC,
	O_FROM_ENC
};

static const struct opt opts[] = {
	{ 't', "tag", "TAG", "event tag (default tail); '*': the path, / as "
	    "." },
	{ 'k', "key", "KEY", "record key of the line (default message)" },
	{ O_FROM_ENC, "from-encoding", "ENC", "convert lines from the encoding "
	    "ENC (iconv)" },
	{ O_ENC, "encoding", "ENC", "the encoding written (with "
	    "--from-encoding)" },
	{ O_PATH_KEY, "path-key", "KEY", "also put the file's path in the "
	    "record as KEY" },
	{ 'p', "pos-file", "FILE", "keep read positions in FILE (Fluentd "
	    "pos_file)" },
	{ 'e', "exclude", "GLOB", "leave out paths matching GLOB "
	    "(repeatable)" },
	{ 'r', "read-from-head", NULL, "start files with no position at "
	    "their start" },
	{ O_IGNORE_OLDER, "ignore-older", "TIME", "leave out files not "
	    "modified for TIME" },
	{ O_ONCE, "once", NULL, "read every file to its end, then exit" },
	{ 'F', "follow", NULL, "follow files by name across rotation "
	    "(default)" },
	{ O_REFRESH, "refresh-interval", "TIME", "look for new files every "
	    "TIME (default 60s)" },
	{ O_ROTATE_WAIT, "rotate-wait", "TIME", "read a rotated or deleted "
	    "file TIME more (5s)" },
	{ O_POLL, "poll", NULL, "poll the files instead of using inotify" },
	{ O_POLL_INTERVAL, "poll-interval", "TIME", "how often to poll "
	    "(default 1s)" },
	{ O_MAX_LINE, "max-line-size", "SIZE", "longest line passed on whole "
	    "(default 1M)" },
	{ O_LONG_LINES, "long-lines", "split|skip", "split longer lines "
	    "(default) or skip them" },
	{ 'm', "multiline-start", "REGEX", "a line matching REGEX starts a "
	    "message" },
	{ O_ML_PARSER, "multiline-parser", "NAME,...", "Fluent Bit's: docker,"
	    "cri,java,python,go,ruby" },
	{ O_ML_RULES, "multiline-rules", "FILE", "more parsers, Fluent Bit's "
	    "[MULTILINE_PARSER]" },
	{ O_ML_FLUSH, "multiline-flush-interval", "TIME", "pass a message on "
	    "after TIME quiet (5s; 0: never)" },
	{ O_E2E, "end-to-end", NULL, "save positions of lines delivered end "
	    "to end" },
	{ O_E2E_TIMEOUT, "end-to-end-timeout", "TIME", "wait TIME for the "
	    "last mark to come back (30s)" },
	{ O_STATS, "stats", NULL, "print counters to stderr at exit" },
	OPT_METRICS,
	OPT_STD,
	OPT_END
};

static const struct opt_exit exits[] = {
	{ 0, "done: every file read (with --once), or stopped by a signal" },
	OPT_EXIT_USAGE,
	{ 4, "system failure: a position file, a missing path, no mark back" },
	OPT_EXIT_PIPE,
	OPT_EXIT_END
};

static const struct opt_prog prog = { USAGE, ABOUT, opts, exits, 0 };

struct options o = {
	.tag = "tail", .key = "message", .refresh_ms = 60000,
	.rotate_ms = 5000, .poll_ms = 1000, .ml_ms = 5000, .e2e_ms = 30000,
	.max = 1024 * 1024
};
struct out out;
struct counts counts;

static struct file *in_file;    /* stdin, while it is read */
static int only_stdin;          /* no path but - */
static int out_watched;         /* stdout is a pipe or socket: watch it */
static long long next_refresh, next_tick;

static void
sync_stats(void)
{
	stats.bytes_out = out.bytes + out.b.len;
}

static void
extra_stats(char *b, size_t cap)
{
	int k;

	k = snprintf(b, cap, ", lines skipped %llu, split %llu, files watched "
	    "%zu, rotations %llu, truncations %llu",
	    (unsigned long long)counts.skipped,
	    (unsigned long long)counts.split, files.nwatched,
	    (unsigned long long)counts.rotations,
	    (unsigned long long)counts.truncations);
	if (o.mlp && (o.mlp->docker || o.mlp->cri) && k >= 0 &&
	    (size_t)k < cap)
		k += snprintf(b + k, cap - k, ", lines not of the container "
		    "format %llu", (unsigned long long)counts.unparsed);
	if (o.from_enc && k >= 0 && (size_t)k < cap)
		k += snprintf(b + k, cap - k, ", bytes not converted %llu",
		    (unsigned long long)counts.unconverted);
	if (e2e.msrc && k >= 0 && (size_t)k < cap)
		snprintf(b + k, cap - k, ", marks made %llu, returned %llu",
		    (unsigned long long)mark_src_last(e2e.msrc),
		    (unsigned long long)mark_src_done(e2e.msrc));
}

/* --- waiting ----------------------------------------------------------- */

static long long
deadline_min(long long t, long long d)
{
	return t < 0 || d < t ? d : t;
}

/* Milliseconds until the next timed chore, -1 for none. */
static long long
next_timeout(long long now)
{
	long long t = -1, d;
	size_t i;

	if (!only_stdin)
		t = deadline_min(t, next_refresh);
	if (files.npolled || files.nrotated)
		t = deadline_min(t, next_tick);
	if (o.pos && pos.dirty)
		t = deadline_min(t, pos.last + POS_MS);
	if (e2e.msrc && (d = e2e_deadline(now)) >= 0)
		t = deadline_min(t, d);
	for (i = 0; (files.nml && o.ml_ms) || files.nrotated ? i < files.n :
	    0; i++) {
		if (files.v[i]->ml_on && o.ml_ms)
			t = deadline_min(t, files.v[i]->ml_ms + o.ml_ms);
		if (files.v[i]->rotated)
			t = deadline_min(t, files.v[i]->rotated_ms +
			    o.rotate_ms);
	}
	if (t < 0)
		return -1;
	return t > now ? t - now : 0;
}

/* Adds fd to the poll set; returns its index. */
static int
poll_add(struct pollfd *p, int *np, int fd)
{
	p[*np].fd = fd;
	p[*np].events = POLLIN;
	p[*np].revents = 0;
	return (*np)++;
}

static void
wait_events(long long timeout)
{
	struct pollfd p[5];
	int np = 0, pi = -1, pm = -1, ps = -1, po = -1, r;

	poll_add(p, &np, sig_fd());
	if (out_watched) {
		po = poll_add(p, &np, out.fd);
		p[po].events = 0;       /* POLLERR, POLLHUP: its reader left */
	}
	if (watch.ifd >= 0)
		pi = poll_add(p, &np, watch.ifd);
	if (e2e.msrc)
		pm = poll_add(p, &np, mark_src_fd(e2e.msrc));
	if (in_file && !in_file->ready)
		ps = poll_add(p, &np, 0);
	r = poll(p, np, metrics_timeout(timeout > 86400000 ? 86400000 :
	    (int)timeout));
	if (r < 0 && errno != EINTR)
		die(EX_SYS, "poll:");
	if (r <= 0)
		return;
	if (p[0].revents) {
		sig_drain();
		sig_service();
	}
	if (po >= 0 && p[po].revents)
		exit(128 + SIGPIPE);    /* as a write would: quietly */
	if (pi >= 0 && p[pi].revents)
		read_inotify();
	if (pm >= 0 && p[pm].revents)
		e2e_recv();
	if (ps >= 0 && p[ps].revents)
		in_file->ready = 1;
}

/* --- the main loops ---------------------------------------------------- */

/* Reads every file that may have bytes; 1 if some may have more. */
static int
read_round(void)
{
	struct file *f;
	size_t i;
	int more = 0;

	files.kick = 0;
	for (i = 0; i < files.n && !sig_stop; i++) {
		f = files.v[i];
		if (f->ready) {
			f->ready = read_file(f, ROUND);
			more |= f->ready;
		}
		if (f->check) {
			f->check = 0;
			check_name(f);
		}
	}
	if (in_file && in_file->dead)
		in_file = NULL;
	sweep();
	return more;
}

/* Timed work: new files, polling, stale messages, rotated files. */
static void
chores(long long now)
{
	struct file *f;
	size_t i;

	if (watch.rescan_now || (!only_stdin && now >= next_refresh)) {
		watch.rescan_now = 0;
		scan();
		next_refresh = now + o.refresh_ms;
	}
	if ((files.npolled || files.nrotated) && now >= next_tick) {
		for (i = 0; i < files.n; i++)
			if (files.v[i]->wd < 0 && !files.v[i]->is_stdin)
				files.v[i]->ready = files.v[i]->check =
				    files.kick = 1;
		if (files.nrotated)     /* the new file may be there now */
			watch.rescan_now = 1;
		next_tick = now + o.poll_ms;
	}
	for (i = 0; (files.nml || files.nrotated) && i < files.n; i++) {
		f = files.v[i];
		if (f->ml_on && o.ml_ms && now - f->ml_ms >= o.ml_ms) {
			batch_time();
			ml_flush(f);
		}
		if (f->rotated && !f->ready &&
		    now - f->rotated_ms >= o.rotate_ms) {
			batch_time();
			finish(f);
			f->dead = 1;
		}
	}
	sweep();
}

static void
follow(void)
{
	long long now;
	size_t i;
	int busy;

	next_refresh = clock_ms() + o.refresh_ms;
	while (!sig_stop) {
		busy = read_round();
		if (only_stdin && !in_file)
			break;
		now = clock_ms();
		chores(now);
		if (!busy || (pos.dirty && o.pos && now - pos.last >= POS_MS))
			flush_out();
		e2e_warn(now);
		if (pos.dirty && o.pos && now - pos.last >= POS_MS)
			pos_save();
		wait_events(busy || files.kick ? 0 : next_timeout(clock_ms()));
	}
	batch_time();
	for (i = 0; i < files.n; i++)
		ml_flush(files.v[i]);
}

/* --once --end-to-end: a mark now and then, positions as marks return. */
static void
once_tick(void)
{
	long long now;

	if (!e2e.msrc)
		return;
	e2e_recv();
	now = clock_ms();
	if (now - e2e.mark_ms >= MARK_MS)
		flush_out();
	if (pos.dirty && now - pos.last >= POS_MS)
		pos_save();
}

static void
once(void)
{
	struct file *f;
	size_t i;

	for (i = 0; i < files.n && !sig_stop; i++) {
		f = files.v[i];
		while (read_file(f, ROUND) && !sig_stop)
			once_tick();
		if (!sig_stop && !f->dead) {
			batch_time();
			finish(f);
		}
		once_tick();
	}
	sweep();
}

/* SIGHUP: look for new files now. */
static void
hup(void)
{
	watch.rescan_now = 1;
}

/* --- setup ------------------------------------------------------------- */

static long long
duration(const char *arg, const char *name, long long min)
{
	long long v = opt_duration_ms(arg);

	if (v < min)
		die(EX_USAGE, "bad time '%s' for --%s", arg, name);
	return v;
}

static void
options(int argc, char **argv)
{
	static const char *const longs[] = { "split", "skip", NULL };
	const char *arg;
	long long v;
	int c;

	while ((c = opt_get(argc, argv, &prog, &arg)) != -1) {
		switch (c) {
		case 't': o.tag = arg; break;
		case 'k': o.key = arg; break;
		case O_FROM_ENC: o.from_enc = arg; break;
		case O_ENC: o.enc = arg; break;
		case O_PATH_KEY: o.path_key = arg; break;
		case 'p': o.pos = arg; break;
		case 'e':
			o.exclude = xrealloc(o.exclude, (o.nexclude + 1) *
			    sizeof(*o.exclude));
			o.exclude[o.nexclude++] = (char *)arg;
			break;
		case 'r': o.head = 1; break;
		case O_IGNORE_OLDER:
			o.ignore_ms = duration(arg, "ignore-older", 1);
			break;
		case O_ONCE: o.once = 1; break;
		case 'F': o.follow = 1; break;
		case O_REFRESH:
			o.refresh_ms = duration(arg, "refresh-interval", 1);
			break;
		case O_ROTATE_WAIT:
			o.rotate_ms = duration(arg, "rotate-wait", 0);
			break;
		case O_POLL: o.poll = 1; break;
		case O_POLL_INTERVAL:
			o.poll_ms = duration(arg, "poll-interval", 1);
			break;
		case O_MAX_LINE:
			if ((v = opt_size(arg)) < 1 || v > (1LL << 30))
				die(EX_USAGE, "bad size '%s' for "
				    "--max-line-size (1 to 1G)", arg);
			o.max = (size_t)v;
			break;
		case O_LONG_LINES:
			o.skip = opt_choice_arg(arg, "long-lines", longs);
			break;
		case 'm': o.ml = arg; break;
		case O_ML_FLUSH:
			o.ml_ms = duration(arg, "multiline-flush-interval", 0);
			o.ml_ms_set = 1;
			break;
		case O_ML_PARSER: o.mlp_names = arg; break;
		case O_ML_RULES: o.mlp_rules = arg; break;
		case O_E2E: o.e2e = 1; break;
		case O_E2E_TIMEOUT:
			o.e2e_ms = duration(arg, "end-to-end-timeout", 1);
			break;
		case O_STATS: o.stats = 1; break;
		default: metrics_opt(c, arg); break;
		}
	}
}

static void
check_options(int argc, char **argv)
{
	char err[256];
	int i, dash = 0;

	if (argc < 1)
		opt_fail(&prog, "no file given (use - for stdin)");
	for (i = 0; i < argc; i++) {
		if (!*argv[i])
			die(EX_USAGE, "an empty path");
		if (strcmp(argv[i], "-") == 0 && dash++)
			die(EX_USAGE, "- (stdin) is given twice");
	}
	if (o.once && o.follow)
		die(EX_USAGE, "--once and --follow contradict each other");
	if (!*o.tag)
		die(EX_USAGE, "the tag is empty");
	if (!*o.key || (o.path_key && !*o.path_key))
		die(EX_USAGE, "a record key is empty");
	if (o.path_key && strcmp(o.path_key, o.key) == 0)
		die(EX_USAGE, "--path-key and --key are the same key '%s'",
		    o.key);
	if (o.pos && !*o.pos)
		die(EX_USAGE, "the position file name is empty");
	if (o.e2e && !o.pos)
		opt_fail(&prog, "--end-to-end needs --pos-file");
	if (o.ml && !(o.mlrx = parse_rx(o.ml, PRX_NOLINE, err, sizeof(err))))
		die(EX_USAGE, "bad --multiline-start regex '%s': %s", o.ml,
		    err);
	if (o.ml && (o.mlp_names || o.mlp_rules))
		opt_fail(&prog, "--multiline-start and --multiline-parser "
		    "exclude each other");
	if (o.mlp_names && !*o.mlp_names)
		die(EX_USAGE, "the --multiline-parser list is empty");
	if (o.mlp_names || o.mlp_rules)
		mlp_setup();
	enc_setup();
	o.plain = !o.mlrx && !o.mlp && !o.from_enc;
}

/* Whether fd is a pipe or socket, whose reader may go away. */
static int
out_is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode));
}

static void
setup(int argc, char **argv)
{
	char err[256];
	int i;

	tag_setup();
	watch.pats = xcalloc(argc + 1, sizeof(*watch.pats));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			in_file = file_new("-", 0);
			in_file->is_stdin = 1;
			continue;
		}
		watch.pats[watch.npats++] = argv[i];
	}
	only_stdin = watch.npats == 0;
	read_setup();
	if (o.pos)
		pos_setup();
	if (o.e2e) {
		if (!(e2e.msrc = mark_src_new(MARK_OUT, err, sizeof(err))))
			die(EX_SYS, "--end-to-end: %s", err);
		atexit(e2e_free);
		e2e.mark_ms = clock_ms() - MARK_MS;
	}
	if (!o.once && !only_stdin && !o.poll) {
		watch.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (watch.ifd < 0)
			warn("inotify is unavailable (%s): polling every %lld "
			    "ms", strerror(errno), o.poll_ms);
	}
}

static void
cleanup(void)
{
	size_t i;

	for (i = 0; i < files.n; i++)
		files.v[i]->dead = 1;
	sweep();
	watch_free();
	free(files.v);
	free(watch.pats);
	free(o.exclude);
	denied_free();
	read_free();
	pos_free();
	rx_free(o.mlrx);
	mlp_free();
	enc_free();
	e2e_free();
	out_free(&out);
	if (watch.ifd >= 0)
		close(watch.ifd);
}

int
main(int argc, char **argv)
{
	int status = EX_OK;

	progname_set(argv[0]);
	options(argc, argv);
	argc -= optind;
	argv += optind;
	check_options(argc, argv);
	sig_init();
	sig_on_hup(hup);
	stats_init(sync_stats, extra_stats);
	metrics_families();
	out_init(&out, 1, "stdout");
	out_watched = out_is_pipe(1);
	setup(argc, argv);
	scan();
	watch.startup = 0;
	pos_forget();
	if (o.pos) {
		if (pos_save() < 0)
			die(EX_SYS, "the position file cannot be written");
		atexit(pos_at_exit);
	}
	if (o.once)
		once();
	else
		follow();
	flush_out();
	if (e2e.msrc && e2e_finish() < 0 && o.once && !sig_stop)
		status = EX_SYS;
	pos.final = 1;
	if (pos_save() < 0)
		status = EX_SYS;
	if (o.stats)
		stats_print();
	metrics_write();
	if (counts.warned > WARN_MAX || (counts.warned && o.stats))
		warn("%llu lines longer than %zu bytes were %s", (unsigned long
		    long)(o.skip ? counts.skipped : counts.split), o.max,
		    o.skip ? "skipped" : "split");
	if (o.once && watch.missing)
		status = EX_SYS;
	cleanup();
	return status;
}
