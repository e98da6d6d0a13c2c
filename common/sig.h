/* sig - signal flags and a race-free wait that wakes on signals */
#ifndef LKIT_SIG_H
#define LKIT_SIG_H

#include <signal.h>

extern volatile sig_atomic_t sig_stop;  /* SIGINT or SIGTERM seen */
extern volatile sig_atomic_t sig_usr1;  /* SIGUSR1 seen, not serviced */
extern volatile sig_atomic_t sig_hup;   /* SIGHUP seen, not serviced */

/*
 * Installs the handlers (without SA_RESTART) and ignores SIGPIPE, so a
 * closed downstream shows as EPIPE.  A second SIGINT or SIGTERM kills at
 * once with the default action.
 */
void sig_init(void);

/* Hooks run by sig_service: on SIGUSR1 (stats) and SIGHUP (reopen). */
void sig_on_usr1(void (*fn)(void));
void sig_on_hup(void (*fn)(void));

/* Runs the hooks of signals seen since the last call. */
void sig_service(void);

/*
 * Waits until fd is ready for events (POLLIN/POLLOUT), a signal arrives or
 * timeout_ms passes (-1: no limit).  fd < 0 waits for a signal or the
 * timeout only.  Returns 1 ready (also on POLLHUP/POLLERR), 0 timeout,
 * -1 a signal arrived (its flag is set; nothing was serviced).
 */
int sig_wait(int fd, short events, int timeout_ms);

/*
 * sig_wait, watching out_fd as well: 2 if out_fd hung up or failed (its
 * reader went away) before fd was ready.
 */
int sig_wait_out(int fd, short events, int out_fd, int timeout_ms);

/* The read end of the self-pipe, for callers that poll many fds. */
int sig_fd(void);
/* Empties the self-pipe after sig_fd() polled readable. */
void sig_drain(void);

/* Resets handlers and mask to defaults: for a child before exec. */
void sig_child_reset(void);

#endif
