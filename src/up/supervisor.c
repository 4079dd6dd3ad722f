/* supervisor.c — child processes started in order, restarted, stopped (see supervisor.h). */
#include "up/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define COMP "up"
#define TAIL_LINES 20
#define MAX_LINE 8192
#define BACKOFF_START_MS 500
#define BACKOFF_RESET_MS 60000

typedef enum {
	CHILD_STOPPED,
	CHILD_STARTING,
	CHILD_READY,
	CHILD_BACKOFF,
	CHILD_STOPPING,
} child_state;

typedef struct up_child {
	char *name;
	char **argv;
	child_state state;
	pid_t pid;
	int fd;                /* read end of the stdout+stderr pipe, or -1 */
	int log_fd;            /* DIR/<name>.log, or -1 */
	brook_buf line;        /* a partial line */
	char *tail[TAIL_LINES]; /* last lines, a ring */
	size_t tail_next;
	int64_t started_ms;    /* monotonic, of the current process */
	int64_t deadline_ms;   /* STARTING: ready by; BACKOFF: restart at; STOPPING: kill at */
	int64_t backoff_ms;    /* the next restart delay */
	int64_t stop_ms;       /* when SIGTERM was sent */
	bool ever_ready;
	bool killed;           /* SIGKILL sent */
} up_child;

typedef enum { PHASE_STARTUP, PHASE_RUNNING, PHASE_STOPPING, PHASE_DONE } phase;

struct up_supervisor {
	up_supervisor_opts o;
	up_child *kids;
	size_t n, cap;
	phase ph;
	size_t cur;      /* STARTUP: the child starting; STOPPING: the next to stop + 1 */
	int exit_code;
	bool forced;     /* a second signal: everything was SIGKILLed */
	int64_t begin_ms;
	pid_t self;
};

static void say_prepare(up_supervisor *s)
{
	if (s->o.before_output)
		s->o.before_output(s->o.arg);
}

#define say(s, lvl, ...)                                                                   \
	do {                                                                               \
		say_prepare(s);                                                            \
		brook_log(lvl, COMP, __VA_ARGS__);                                        \
	} while (0)

up_supervisor *up_supervisor_new(const up_supervisor_opts *o)
{
	up_supervisor *s = brook_calloc(1, sizeof *s);
	s->o = *o;
	s->exit_code = 0;
	return s;
}

void up_supervisor_add(up_supervisor *s, const char *name, const char *const *argv)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->kids = brook_realloc(s->kids, s->cap * sizeof *s->kids);
	}
	up_child *c = &s->kids[s->n++];
	memset(c, 0, sizeof *c);
	c->name = brook_strdup(name);
	size_t argc = 0;
	while (argv[argc])
		argc++;
	c->argv = brook_calloc(argc + 1, sizeof *c->argv);
	for (size_t i = 0; i < argc; i++)
		c->argv[i] = brook_strdup(argv[i]);
	c->fd = -1;
	c->log_fd = -1;
	c->backoff_ms = BACKOFF_START_MS;
}

void up_supervisor_free(up_supervisor *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		up_child *c = &s->kids[i];
		free(c->name);
		for (char **a = c->argv; *a; a++)
			free(*a);
		free(c->argv);
		if (c->fd >= 0)
			close(c->fd);
		if (c->log_fd >= 0)
			close(c->log_fd);
		brook_buf_release(&c->line);
		for (size_t k = 0; k < TAIL_LINES; k++)
			free(c->tail[k]);
	}
	free(s->kids);
	free(s);
}

/* "exit 0", "exit 3", "killed by SIGKILL" */
static void describe_status(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by SIG%s", sigabbrev_np(WTERMSIG(status))
				? sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(out, len, "status %d", status);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* The word "ready" (not "already", not "readyz"). */
static bool is_ready_line(const char *l)
{
	for (const char *p = strstr(l, "ready"); p; p = strstr(p + 1, "ready")) {
		bool left = p == l || !((p[-1] >= 'a' && p[-1] <= 'z') ||
					 (p[-1] >= 'A' && p[-1] <= 'Z'));
		char r = p[5];
		bool right = !((r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'));
		if (left && right)
			return true;
	}
	return false;
}

static bool is_loud_line(const char *l)
{
	return strstr(l, " WARN ") || strstr(l, " ERROR ") || strstr(l, "\"level\":\"warn\"") ||
	       strstr(l, "\"level\":\"error\"");
}

static void child_ready(up_supervisor *s, up_child *c);

/* One complete line of child output (without its newline). */
static void on_line(up_supervisor *s, up_child *c, const char *l, size_t n)
{
	if (c->log_fd >= 0) {
		write_all(c->log_fd, l, n);
		write_all(c->log_fd, "\n", 1);
	}
	char *copy = brook_strndup(l, n);
	free(c->tail[c->tail_next]);
	c->tail[c->tail_next] = copy;
	c->tail_next = (c->tail_next + 1) % TAIL_LINES;
	bool loud = is_loud_line(copy);
	if (loud) {
		brook_buf b = BROOK_BUF_INIT;
		brook_buf_printf(&b, "[%s] %s\n", c->name, copy);
		say_prepare(s);
		write_all(2, b.data, b.len);
		brook_buf_release(&b);
	}
	if (!loud && c->state == CHILD_STARTING && is_ready_line(copy))
		child_ready(s, c);
}

static void split_lines(up_supervisor *s, up_child *c, bool flush)
{
	size_t start = 0;
	for (size_t i = 0; i < c->line.len; i++) {
		if (c->line.data[i] == '\n') {
			on_line(s, c, c->line.data + start, i - start);
			start = i + 1;
		}
	}
	if (start > 0) {
		memmove(c->line.data, c->line.data + start, c->line.len - start);
		brook_buf_truncate(&c->line, c->line.len - start);
	}
	if (c->line.len >= MAX_LINE || (flush && c->line.len > 0)) {
		on_line(s, c, c->line.data, c->line.len);
		brook_buf_reset(&c->line);
	}
}

/* Read what the pipe holds (non-blocking); at EOF or error close it. */
static void read_child(up_supervisor *s, up_child *c)
{
	char buf[4096];
	while (c->fd >= 0) {
		ssize_t r = read(c->fd, buf, sizeof buf);
		if (r > 0) {
			brook_buf_append(&c->line, buf, (size_t)r);
			split_lines(s, c, false);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		split_lines(s, c, true);
		close(c->fd);
		c->fd = -1;
	}
}

static void log_tail(up_supervisor *s, up_child *c)
{
	say(s, BROOK_LOG_ERROR, "last lines of %s/%s.log:", s->o.log_dir, c->name);
	for (size_t k = 0; k < TAIL_LINES; k++) {
		const char *l = c->tail[(c->tail_next + k) % TAIL_LINES];
		if (l) {
			say_prepare(s);
			brook_buf b = BROOK_BUF_INIT;
			brook_buf_printf(&b, "  [%s] %s\n", c->name, l);
			write_all(2, b.data, b.len);
			brook_buf_release(&b);
		}
	}
}

static int spawn(up_supervisor *s, up_child *c)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		say(s, BROOK_LOG_ERROR, "cannot start %s: pipe: %s", c->name, strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		say(s, BROOK_LOG_ERROR, "cannot start %s: fork: %s", c->name, strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* The child: async-signal-safe calls only until exec. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != s->self)
			_exit(1); /* the supervisor died before prctl */
		setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		signal(SIGPIPE, SIG_DFL);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execv("/proc/self/exe", c->argv);
		static const char msg[] = "brook up: cannot execute /proc/self/exe\n";
		ssize_t ignored = write(2, msg, sizeof msg - 1);
		(void)ignored;
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = p[0];
	c->pid = pid;
	c->state = CHILD_STARTING;
	c->killed = false;
	c->started_ms = brook_mono_ms();
	c->deadline_ms = c->started_ms + s->o.ready_timeout_ms;
	if (c->log_fd >= 0) {
		char ts[40];
		brook_time_format_iso8601(brook_now_ms(), ts);
		brook_buf b = BROOK_BUF_INIT;
		brook_buf_printf(&b, "%s ----- brook up: started %s (pid %d):", ts, c->name,
				 (int)pid);
		for (char **a = c->argv; *a; a++)
			brook_buf_printf(&b, " %s", *a);
		brook_buf_putc(&b, '\n');
		write_all(c->log_fd, b.data, b.len);
		brook_buf_release(&b);
	}
	say(s, BROOK_LOG_INFO, "starting %s (pid %d)", c->name, (int)pid);
	return 0;
}

static void begin_stop(up_supervisor *s, int code);

static void stop_next(up_supervisor *s)
{
	while (s->cur > 0) {
		up_child *c = &s->kids[s->cur - 1];
		if (c->pid > 0 && c->state != CHILD_STOPPING) {
			say(s, BROOK_LOG_INFO, "stopping %s (pid %d)", c->name, (int)c->pid);
			kill(c->pid, SIGTERM);
			c->state = CHILD_STOPPING;
			c->stop_ms = brook_mono_ms();
			c->deadline_ms = c->stop_ms + s->o.stop_timeout_ms;
			return;
		}
		if (c->pid > 0)
			return; /* already stopping: wait for it */
		c->state = CHILD_STOPPED;
		s->cur--;
	}
	s->ph = PHASE_DONE;
}

static void begin_stop(up_supervisor *s, int code)
{
	if (code > s->exit_code)
		s->exit_code = code;
	if (s->ph == PHASE_RUNNING && s->o.on_stopping)
		s->o.on_stopping(s->o.arg);
	s->ph = PHASE_STOPPING;
	for (size_t i = 0; i < s->n; i++)
		if (s->kids[i].state == CHILD_BACKOFF)
			s->kids[i].state = CHILD_STOPPED;
	s->cur = s->n;
	stop_next(s);
}

static void force_stop(up_supervisor *s)
{
	say(s, BROOK_LOG_WARN, "second signal: killing every part (SIGKILL)");
	s->forced = true;
	s->exit_code = 1;
	for (size_t i = 0; i < s->n; i++) {
		up_child *c = &s->kids[i];
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			c->killed = true;
			c->state = CHILD_STOPPING;
		} else {
			c->state = CHILD_STOPPED;
		}
	}
}

static void start_next(up_supervisor *s)
{
	while (s->cur < s->n) {
		up_child *c = &s->kids[s->cur];
		if (c->state == CHILD_STOPPED) {
			if (spawn(s, c) != 0) {
				begin_stop(s, 1);
				return;
			}
			return;
		}
		s->cur++;
	}
	s->ph = PHASE_RUNNING;
	int64_t el = brook_mono_ms() - s->begin_ms;
	if (s->o.on_ready)
		s->o.on_ready(s->o.arg, el);
}

static void child_ready(up_supervisor *s, up_child *c)
{
	c->state = CHILD_READY;
	double secs = (double)(brook_mono_ms() - c->started_ms) / 1000.0;
	if (c->ever_ready) {
		say(s, BROOK_LOG_INFO, "%s: ready again (pid %d, %.1f s)", c->name, (int)c->pid,
		    secs);
	} else {
		say(s, BROOK_LOG_INFO, "%s: ready (pid %d, %.1f s)", c->name, (int)c->pid, secs);
	}
	c->ever_ready = true;
	if (s->ph == PHASE_STARTUP && c == &s->kids[s->cur]) {
		s->cur++;
		start_next(s);
	}
}

static void on_exit_status(up_supervisor *s, up_child *c, int status)
{
	char how[64];
	describe_status(status, how, sizeof how);
	read_child(s, c); /* what the pipe still holds */
	if (c->fd >= 0) {
		/* A grandchild may still hold the pipe: stop reading it. */
		split_lines(s, c, true);
		close(c->fd);
		c->fd = -1;
	}
	int64_t now = brook_mono_ms();
	double up = (double)(now - c->started_ms) / 1000.0;
	c->pid = 0;

	if (c->state == CHILD_STOPPING) {
		c->state = CHILD_STOPPED;
		bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		say(s, clean ? BROOK_LOG_INFO : BROOK_LOG_WARN, "%s stopped in %.1f s (%s)",
		    c->name, (double)(now - c->stop_ms) / 1000.0, how);
		if (s->ph == PHASE_STOPPING && !s->forced && s->cur > 0 &&
		    c == &s->kids[s->cur - 1]) {
			s->cur--;
			stop_next(s);
		}
		return;
	}
	if (s->ph == PHASE_STOPPING) {
		c->state = CHILD_STOPPED;
		say(s, BROOK_LOG_WARN, "%s exited (%s) after %.1f s while stopping", c->name, how,
		    up);
		if (!s->forced && s->cur > 0 && c == &s->kids[s->cur - 1]) {
			s->cur--;
			stop_next(s);
		}
		return;
	}
	if (!c->ever_ready) {
		/* Failed to start: the run ends. */
		c->state = CHILD_STOPPED;
		say(s, BROOK_LOG_ERROR, "%s exited (%s) after %.1f s before it was ready", c->name,
		    how, up);
		log_tail(s, c);
		begin_stop(s, 1);
		return;
	}
	if (now - c->started_ms >= BACKOFF_RESET_MS)
		c->backoff_ms = BACKOFF_START_MS;
	int64_t delay = c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > s->o.backoff_max_ms ? s->o.backoff_max_ms
								  : c->backoff_ms * 2;
	c->state = CHILD_BACKOFF;
	c->deadline_ms = now + delay;
	say(s, BROOK_LOG_WARN, "%s exited (%s) after %.1f s; restarting in %.1f s", c->name, how,
	    up, (double)delay / 1000.0);
}

static void reap(up_supervisor *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		for (size_t i = 0; i < s->n; i++)
			if (s->kids[i].pid == pid) {
				on_exit_status(s, &s->kids[i], status);
				break;
			}
	}
}

static void on_timers(up_supervisor *s)
{
	int64_t now = brook_mono_ms();
	for (size_t i = 0; i < s->n && s->ph != PHASE_DONE; i++) {
		up_child *c = &s->kids[i];
		if (now < c->deadline_ms)
			continue;
		switch (c->state) {
		case CHILD_STARTING:
			if (c->killed)
				break;
			say(s, BROOK_LOG_ERROR, "%s printed no ready line in %.1f s; killing it",
			    c->name, (double)s->o.ready_timeout_ms / 1000.0);
			/* Before its first ready line, its exit ends the run; after, it is
			 * restarted like any dead child. */
			kill(c->pid, SIGKILL);
			c->killed = true;
			break;
		case CHILD_BACKOFF:
			if (s->ph == PHASE_RUNNING || s->ph == PHASE_STARTUP) {
				say(s, BROOK_LOG_INFO, "restarting %s", c->name);
				if (spawn(s, c) != 0) {
					c->state = CHILD_BACKOFF;
					c->deadline_ms = now + c->backoff_ms;
				}
			}
			break;
		case CHILD_STOPPING:
			if (!c->killed) {
				say(s, BROOK_LOG_WARN, "%s did not stop in %.1f s; sending SIGKILL",
				    c->name, (double)s->o.stop_timeout_ms / 1000.0);
				kill(c->pid, SIGKILL);
				c->killed = true;
			}
			break;
		default:
			break;
		}
	}
}

static int next_timeout(const up_supervisor *s)
{
	int64_t now = brook_mono_ms(), best = 1000;
	for (size_t i = 0; i < s->n; i++) {
		const up_child *c = &s->kids[i];
		if ((c->state == CHILD_STARTING || c->state == CHILD_BACKOFF ||
		     c->state == CHILD_STOPPING) && !c->killed) {
			int64_t d = c->deadline_ms - now;
			if (d < best)
				best = d;
		}
	}
	return best < 0 ? 0 : (int)best;
}

static bool any_alive(const up_supervisor *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->kids[i].pid > 0)
			return true;
	return false;
}

int up_supervisor_run(up_supervisor *s)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		say(s, BROOK_LOG_ERROR, "signalfd: %s", strerror(errno));
		return 1;
	}
	s->self = getpid();
	mkdir(s->o.log_dir, 0755);
	for (size_t i = 0; i < s->n; i++) {
		up_child *c = &s->kids[i];
		char path[4096];
		snprintf(path, sizeof path, "%s/%s.log", s->o.log_dir, c->name);
		c->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (c->log_fd < 0)
			say(s, BROOK_LOG_WARN, "cannot open %s: %s; %s's output is not kept", path,
			    strerror(errno), c->name);
	}
	s->begin_ms = brook_mono_ms();
	s->ph = PHASE_STARTUP;
	s->cur = 0;
	start_next(s);

	struct pollfd *pfd = brook_calloc(s->n + 1, sizeof *pfd);
	size_t *who = brook_calloc(s->n + 1, sizeof *who);
	while (s->ph != PHASE_DONE && !(s->forced && !any_alive(s))) {
		size_t np = 0;
		pfd[np].fd = sfd;
		pfd[np].events = POLLIN;
		np++;
		for (size_t i = 0; i < s->n; i++)
			if (s->kids[i].fd >= 0) {
				pfd[np].fd = s->kids[i].fd;
				pfd[np].events = POLLIN;
				who[np] = i;
				np++;
			}
		int r = poll(pfd, np, next_timeout(s));
		if (r < 0 && errno != EINTR)
			break;
		for (size_t k = 1; r > 0 && k < np; k++)
			if (pfd[k].revents)
				read_child(s, &s->kids[who[k]]);
		if (r > 0 && pfd[0].revents) {
			struct signalfd_siginfo si;
			bool chld = false;
			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGCHLD) {
					chld = true;
				} else if (s->ph == PHASE_STOPPING || s->ph == PHASE_DONE) {
					if (!s->forced)
						force_stop(s);
				} else {
					say(s, BROOK_LOG_INFO, "%s received; stopping the pipeline",
					    si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
					begin_stop(s, 0);
				}
			}
			if (chld)
				reap(s);
		}
		on_timers(s);
	}
	free(pfd);
	free(who);
	close(sfd);
	if (s->forced) {
		/* Every child was SIGKILLed; make sure they are reaped. */
		while (waitpid(-1, NULL, 0) > 0)
			;
	}
	return s->exit_code;
}
