/*
 * op_shell.c — the shell operator: /bin/sh -c COMMAND (Airflow's BashOperator).
 *
 * The command (after {{ macro }} rendering, template.h) runs through posix_spawn —
 * never fork: the scheduler is multithreaded — in its own process group, with stdin
 * from /dev/null and stdout/stderr on two pipes. The environment is the scheduler's
 * plus BROOK_DAG_ID, BROOK_RUN_ID, BROOK_TASK_ID, BROOK_TRY_NUMBER, BROOK_LOGICAL_DATE
 * (ISO 8601), BROOK_DS (YYYY-MM-DD) and BROOK_PG_DSN.
 *
 * States of one try:
 *   running   poll() both pipes with at most 100 ms of waiting; every complete line
 *             (or MAX_LINE bytes) goes to the task log ("stderr: " prefixed for
 *             stderr); the last stdout line is kept.
 *   killing   entered when the timeout (param `timeout`, or the deadline), or cancel
 *             hits: SIGTERM to the group, then SIGKILL after KILL_GRACE_MS.
 *   reaped    both pipes closed and waitpid done. Exit 0 → BROOK_OK with the last
 *             stdout line as the result (a JSON string; none without output); exit N →
 *             "command exited with status N"; a signal → "killed by signal S"; after
 *             killing → "timed out after ..." or "cancelled: ...".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "scheduler/operator.h"
#include "scheduler/template.h"

extern char **environ;

#define KILL_GRACE_MS 5000
#define MAX_LINE 8192

static const sched_param_spec params[] = {
	{"command", SCHED_PARAM_STR, NULL, "command for /bin/sh -c ({{ macros }})", 0, 0, true},
	{"timeout", SCHED_PARAM_DURATION, "0",
	 "kill the command after this long; 0: only execution_timeout", 0, 0, false},
	{NULL, 0, NULL, NULL, 0, 0, false},
};

typedef struct last_line {
	brook_buf text;
	bool set; /* stdout had at least one line */
} last_line;

typedef struct stream {
	int fd;          /* -1 once closed */
	brook_buf part;  /* a line not yet complete */
	bool is_stderr;
} stream;

/* The environment: the parent's, minus BROOK_* keys we set, plus ours. */
static char **build_env(const sched_task_ctx *ctx, brook_buf *store)
{
	static const char *const ours[] = {"BROOK_DAG_ID=", "BROOK_RUN_ID=", "BROOK_TASK_ID=",
					   "BROOK_TRY_NUMBER=", "BROOK_LOGICAL_DATE=", "BROOK_DS=",
					   "BROOK_PG_DSN="};
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = brook_calloc(n + 8, sizeof *env);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool skip = false;
		for (size_t j = 0; j < sizeof ours / sizeof ours[0]; j++)
			if (strncmp(environ[i], ours[j], strlen(ours[j])) == 0)
				skip = true;
		if (!skip)
			env[k++] = environ[i];
	}
	char iso[BROOK_ISO8601_LEN + 1];
	brook_time_format_iso8601(ctx->logical_date_ms, iso);
	/* Offsets into store, turned into pointers once it stops growing. */
	size_t off[7];
	const char *vals[7] = {ctx->dag_id, ctx->run_id, ctx->task_id, NULL, iso, NULL,
			       ctx->pg_dsn ? ctx->pg_dsn : ""};
	for (size_t j = 0; j < 7; j++) {
		off[j] = store->len;
		brook_buf_puts(store, ours[j]);
		if (j == 3)
			brook_buf_printf(store, "%d", ctx->try_number);
		else if (j == 5)
			brook_buf_append(store, iso, 10);
		else
			brook_buf_puts(store, vals[j] ? vals[j] : "");
		brook_buf_putc(store, '\0');
	}
	for (size_t j = 0; j < 7; j++)
		env[k++] = store->data + off[j];
	env[k] = NULL;
	return env;
}

static void emit_line(sched_task_ctx *ctx, stream *s, const char *line, size_t len,
		      last_line *last)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (s->is_stderr) {
		sched_task_log(ctx, "stderr: %.*s", (int)len, line);
	} else {
		sched_task_log(ctx, "%.*s", (int)len, line);
		brook_buf_reset(&last->text);
		brook_buf_append(&last->text, line, len);
		last->set = true;
	}
}

/* Read what is available; split into lines. Closes the fd at EOF. */
static void drain(sched_task_ctx *ctx, stream *s, last_line *last)
{
	char buf[4096];
	ssize_t r = read(s->fd, buf, sizeof buf);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		if (s->part.len > 0)
			emit_line(ctx, s, s->part.data, s->part.len, last);
		brook_buf_reset(&s->part);
		close(s->fd);
		s->fd = -1;
		return;
	}
	brook_buf_append(&s->part, buf, (size_t)r);
	size_t start = 0;
	for (size_t i = 0; i < s->part.len; i++) {
		if (s->part.data[i] == '\n' || i - start >= MAX_LINE) {
			emit_line(ctx, s, s->part.data + start, i - start, last);
			start = i + (s->part.data[i] == '\n' ? 1 : 0);
		}
	}
	if (start > 0) {
		memmove(s->part.data, s->part.data + start, s->part.len - start);
		brook_buf_truncate(&s->part, s->part.len - start);
	}
}

static void fmt_ms(char *out, size_t len, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(out, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(out, len, "%lldms", (long long)ms);
}

static int run(sched_task_ctx *ctx, char *err, size_t errlen)
{
	const json_t *cmdj = json_object_get(ctx->params, "command");
	if (!json_is_string(cmdj)) {
		snprintf(err, errlen, "parameter command is required");
		return BROOK_ERR;
	}
	const json_t *tj = json_object_get(ctx->params, "timeout");
	int64_t timeout = json_is_integer(tj) ? json_integer_value(tj) : 0;
	char *cmd = sched_render(json_string_value(cmdj), ctx, err, errlen);
	if (!cmd)
		return BROOK_ERR;

	int64_t start = brook_mono_ms();
	int64_t kill_at = timeout > 0 ? start + timeout : 0;
	bool by_deadline = false;
	if (ctx->deadline_mono_ms > 0 && (kill_at == 0 || ctx->deadline_mono_ms < kill_at)) {
		kill_at = ctx->deadline_mono_ms;
		by_deadline = true;
	}

	int outp[2] = {-1, -1}, errp[2] = {-1, -1};
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot create pipes: %s", strerror(errno));
		if (outp[0] >= 0) {
			close(outp[0]);
			close(outp[1]);
		}
		free(cmd);
		return BROOK_ERR;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	/* No other descriptor of the scheduler (sockets, files) reaches the command. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setpgroup(&attr, 0);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	brook_buf envstore = BROOK_BUF_INIT;
	char **env = build_env(ctx, &envstore);
	char *argv[] = {"sh", "-c", cmd, NULL};
	pid_t pid;
	int src = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	brook_buf_release(&envstore);
	close(outp[1]);
	close(errp[1]);
	if (src != 0) {
		snprintf(err, errlen, "cannot start /bin/sh: %s", strerror(src));
		close(outp[0]);
		close(errp[0]);
		free(cmd);
		return BROOK_ERR;
	}
	sched_task_log(ctx, "running /bin/sh -c %s (pid %d)", cmd, (int)pid);
	free(cmd);

	stream s[2] = {{outp[0], BROOK_BUF_INIT, false}, {errp[0], BROOK_BUF_INIT, true}};
	last_line last = {BROOK_BUF_INIT, false};
	enum { NONE, TIMEOUT, CANCEL } why = NONE;
	int64_t term_at = 0;
	int status = 0;
	bool reaped = false;
	while (!reaped) {
		struct pollfd pf[2];
		nfds_t np = 0;
		for (int i = 0; i < 2; i++) {
			if (s[i].fd >= 0) {
				pf[np].fd = s[i].fd;
				pf[np].events = POLLIN;
				pf[np].revents = 0;
				np++;
			}
		}
		if (np > 0) {
			int pr = poll(pf, np, 100);
			if (pr > 0) {
				for (nfds_t i = 0; i < np; i++) {
					if (!pf[i].revents)
						continue;
					stream *st = pf[i].fd == s[0].fd ? &s[0] : &s[1];
					drain(ctx, st, &last);
				}
			}
		} else {
			/* Both pipes closed; the child may still run (it closed them). */
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				reaped = true;
				break;
			}
			brook_sleep_ms(20);
		}
		int64_t now = brook_mono_ms();
		if (why == NONE) {
			if (atomic_load(ctx->cancel))
				why = CANCEL;
			else if (kill_at > 0 && now >= kill_at)
				why = TIMEOUT;
			if (why != NONE) {
				sched_task_log(ctx, "%s: sending SIGTERM to the command's process "
						    "group",
					       why == CANCEL ? "cancelled" : "timed out");
				kill(-pid, SIGTERM);
				term_at = now;
			}
		} else if (term_at > 0 && now - term_at >= KILL_GRACE_MS) {
			sched_task_log(ctx, "still running %d s after SIGTERM: sending SIGKILL",
				       KILL_GRACE_MS / 1000);
			kill(-pid, SIGKILL);
			term_at = 0;
		}
		if (np > 0 && s[0].fd < 0 && s[1].fd < 0) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				reaped = true;
		}
	}
	/* Anything in the group still alive after a kill: make sure it goes. */
	if (why != NONE)
		kill(-pid, SIGKILL);
	for (int i = 0; i < 2; i++) {
		if (s[i].fd >= 0)
			close(s[i].fd);
		brook_buf_release(&s[i].part);
	}

	int rc = BROOK_ERR;
	char tbuf[32];
	if (why == TIMEOUT) {
		fmt_ms(tbuf, sizeof tbuf, kill_at - start);
		snprintf(err, errlen, "timed out after %s (%s); the command was killed", tbuf,
			 by_deadline ? "execution_timeout" : "timeout");
	} else if (why == CANCEL) {
		snprintf(err, errlen, "cancelled: the command was killed");
	} else if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "command killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "command exited with status %d", WEXITSTATUS(status));
	} else {
		sched_task_log(ctx, "command exited with status 0");
		if (last.set) {
			/* NULL (no result) when the line is not valid UTF-8. */
			json_decref(ctx->result);
			ctx->result = json_stringn(last.text.data ? last.text.data : "",
						   last.text.len);
		}
		rc = BROOK_OK;
	}
	brook_buf_release(&last.text);
	return rc;
}

const sched_operator sched_op_shell = {
	.name = "shell",
	.params = params,
	.help = "run a command with /bin/sh -c, with a timeout",
	.run = run,
};
