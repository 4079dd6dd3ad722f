/*
 * supervisor.h — a table of child processes started in order, watched, restarted and
 * stopped in reverse order (the engine of `brook up`).
 *
 * Each child is `argv` run from /proc/self/exe with fork+exec. In the child, before
 * exec: prctl(PR_SET_PDEATHSIG, SIGTERM) so it dies with the supervisor even when the
 * supervisor is SIGKILLed; setpgid(0, 0) so a Ctrl-C in the terminal (SIGINT to the
 * foreground process group) reaches the supervisor only, which then stops the children
 * in order; stdin is /dev/null; stdout and stderr are one pipe the supervisor reads.
 * Every line read is appended to the child's log file; lines at warn/error level (text
 * " WARN " / " ERROR ", JSON "level":"warn"/"error") are echoed to stderr prefixed
 * with "[name] ". A line containing the word "ready" marks the child ready.
 *
 * States of a child, and the function performing each transition:
 *
 *   STOPPED ──spawn()──▶ STARTING ──(ready line) on_line()──▶ READY
 *   STARTING/READY ──(exit) on_exit_status()──▶ BACKOFF ──(timer) spawn()──▶ STARTING
 *   STARTING (ready timeout, after the first ready) ──SIGKILL──▶ (exit) ──▶ BACKOFF
 *   any with a pid ──stop_next() SIGTERM──▶ STOPPING ──(exit)──▶ STOPPED
 *   STOPPING ──(stop timeout) SIGKILL──▶ STOPPING ──(exit)──▶ STOPPED
 *   BACKOFF ──begin_stop()──▶ STOPPED
 *
 * The supervisor's phases: STARTUP (children started one at a time: child i+1 is
 * spawned when child i is ready) → RUNNING (all were ready once; dead children are
 * restarted) → STOPPING (children stopped one at a time, last first) → done. During
 * STARTUP, a child that exits or times out before its first ready line ends the run:
 * its last lines are logged, the started children are stopped, exit code 1. A second
 * SIGINT/SIGTERM while STOPPING sends SIGKILL to every child; exit code 1.
 *
 * Invariants: pid > 0 exactly in STARTING, READY and STOPPING, and also transiently
 * between a child's death and its reaping; fd >= 0 only while the pipe is open (it may
 * close at EOF before the child is reaped). Restart backoff: 0.5 s, doubling up to
 * backoff_max; reset when the child had stayed up 60 s. Single-threaded: everything
 * runs in up_supervisor_run()'s poll loop (signals arrive through a signalfd).
 */
#ifndef BROOK_UP_SUPERVISOR_H
#define BROOK_UP_SUPERVISOR_H

#include <stdint.h>

typedef struct up_supervisor up_supervisor;

typedef struct up_supervisor_opts {
	const char *log_dir;        /* DIR/logs: one <name>.log per child (created) */
	int64_t ready_timeout_ms;   /* per start */
	int64_t stop_timeout_ms;    /* SIGTERM → SIGKILL */
	int64_t backoff_max_ms;     /* restart backoff cap */
	/* Called once, on the supervisor's thread, when every child is ready. */
	void (*on_ready)(void *arg, int64_t elapsed_ms);
	/* Called when stopping begins (not called when startup failed before on_ready). */
	void (*on_stopping)(void *arg);
	/* Called before the supervisor writes to stderr (e.g. to clear a status line). */
	void (*before_output)(void *arg);
	void *arg;
} up_supervisor_opts;

up_supervisor *up_supervisor_new(const up_supervisor_opts *o);
/* Add a child; argv (NULL-terminated, argv[0] "brook") is copied. */
void up_supervisor_add(up_supervisor *s, const char *name, const char *const *argv);
/* Run until stopped (see above); returns the exit code (0 or 1). Blocks SIGINT, SIGTERM
 * and SIGCHLD in the calling thread (call it before starting other threads, or have
 * them block those signals too). */
int up_supervisor_run(up_supervisor *s);
void up_supervisor_free(up_supervisor *s);

#endif
