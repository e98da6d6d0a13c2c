/* sig - signal flags, hooks and a self-pipe so waits never miss a signal */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "sig.h"

volatile sig_atomic_t sig_stop, sig_usr1, sig_hup;
static int selfpipe[2] = { -1, -1 };
static void (*usr1_fn)(void);
static void (*hup_fn)(void);

static void
handler(int s)
{
	int saved = errno;
	ssize_t r;

	if (s == SIGINT || s == SIGTERM) {
		if (sig_stop) {
			signal(s, SIG_DFL);
			raise(s);
		}
		sig_stop = 1;
	} else if (s == SIGUSR1) {
		sig_usr1 = 1;
	} else if (s == SIGHUP) {
		sig_hup = 1;
	}
	r = write(selfpipe[1], "", 1);
	(void)r;
	errno = saved;
}

void
sig_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGUSR1, SIGHUP };
	struct sigaction sa;
	size_t i;

	if (selfpipe[0] < 0) {
		if (pipe(selfpipe) < 0)
			die(EX_SYS, "unable to create a pipe:");
		for (i = 0; i < 2; i++) {
			fcntl(selfpipe[i], F_SETFL, O_NONBLOCK);
			fcntl(selfpipe[i], F_SETFD, FD_CLOEXEC);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void
sig_on_usr1(void (*fn)(void))
{
	usr1_fn = fn;
}

void
sig_on_hup(void (*fn)(void))
{
	hup_fn = fn;
}

void
sig_service(void)
{
	if (sig_usr1) {
		sig_usr1 = 0;
		if (usr1_fn)
			usr1_fn();
	}
	if (sig_hup) {
		sig_hup = 0;
		if (hup_fn)
			hup_fn();
	}
}

int
sig_fd(void)
{
	return selfpipe[0];
}

void
sig_drain(void)
{
	char junk[64];

	while (read(selfpipe[0], junk, sizeof(junk)) > 0)
		;
}

int
sig_wait(int fd, short events, int timeout_ms)
{
	return sig_wait_out(fd, events, -1, timeout_ms);
}

int
sig_wait_out(int fd, short events, int out_fd, int timeout_ms)
{
	struct pollfd p[3];
	int n;

	p[0].fd = selfpipe[0];
	p[0].events = POLLIN;
	p[1].fd = fd;           /* poll skips a negative fd */
	p[1].events = events;
	p[1].revents = 0;
	p[2].fd = out_fd;
	p[2].events = 0;        /* POLLERR and POLLHUP come unasked */
	p[2].revents = 0;
	n = poll(p, out_fd >= 0 ? 3 : fd >= 0 ? 2 : 1, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return -1;
		die(EX_SYS, "poll:");
	}
	if (n == 0)
		return 0;
	if (p[0].revents) {
		sig_drain();
		return -1;
	}
	if (!p[1].revents && p[2].revents)
		return 2;
	return 1;
}

void
sig_child_reset(void)
{
	sigset_t none;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
