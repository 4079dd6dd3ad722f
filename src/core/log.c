/*
 * log.c — leveled log lines (see log.h for the two output formats).
 *
 * State: three process-wide settings (level, format, fd), each a C11 atomic so any
 * thread may read them without a lock; defaults are info, text, fd 2.
 *
 * Each call formats the whole line (timestamp, level, component, message, '\n') into
 * one heap buffer and hands it to write(2) once. Only if the kernel accepts part of it
 * (a full pipe, a signal) do we loop on the rest; a mutex around the write keeps even
 * that case from interleaving with another thread's line. Write errors are ignored:
 * there is nowhere left to report them.
 *
 * A message's trailing newline is dropped so callers who add one do not produce blank
 * lines. In JSON mode component and message are JSON-escaped; in text mode the message
 * is written as it is except that embedded newlines become the two characters \n, so
 * every record stays one line whatever it quotes.
 */
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/timeutil.h"

static _Atomic int log_level = BROOK_LOG_INFO;
static _Atomic int log_format = BROOK_LOG_TEXT;
static _Atomic int log_fd = 2;
static pthread_mutex_t log_write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};
/* Upper-case, padded to five columns, for the text format. */
static const char *const level_tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};
static const char *const format_names[] = {"text", "json"};

int brook_log_level_parse(const char *name, brook_log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (brook_log_level)i;
			return BROOK_OK;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = BROOK_LOG_WARN;
		return BROOK_OK;
	}
	return BROOK_ERR;
}

int brook_log_format_parse(const char *name, brook_log_format *out)
{
	size_t i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcasecmp(name, format_names[i]) == 0) {
			*out = (brook_log_format)i;
			return BROOK_OK;
		}
	}
	return BROOK_ERR;
}

void brook_log_set_level(brook_log_level level)
{
	atomic_store(&log_level, (int)level);
}

void brook_log_set_format(brook_log_format format)
{
	atomic_store(&log_format, (int)format);
}

void brook_log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

int brook_log_enabled(brook_log_level level)
{
	return level < BROOK_LOG_OFF && (int)level >= atomic_load(&log_level);
}

static void log_write_all(int fd, const char *p, size_t n)
{
	pthread_mutex_lock(&log_write_lock);
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	pthread_mutex_unlock(&log_write_lock);
}

/* Text mode keeps one record per line: embedded CR and LF are shown as \r and \n. */
static void log_put_text(brook_buf *line, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '\n' && s[i] != '\r')
			continue;
		brook_buf_append(line, s + run, i - run);
		brook_buf_puts(line, s[i] == '\n' ? "\\n" : "\\r");
		run = i + 1;
	}
	brook_buf_append(line, s + run, n - run);
}

void brook_logv(brook_log_level level, const char *component, const char *fmt, va_list ap)
{
	char ts[BROOK_ISO8601_LEN + 1];
	brook_buf line = BROOK_BUF_INIT;
	brook_buf msg = BROOK_BUF_INIT;
	int saved_errno = errno;

	if (!brook_log_enabled(level))
		return;
	if (!component)
		component = "brook";
	brook_time_format_iso8601(brook_now_ms(), ts);
	/* Restore errno so a %m in fmt refers to the caller's error. */
	errno = saved_errno;
	brook_buf_vprintf(&msg, fmt, ap);
	while (msg.len > 0 && (msg.data[msg.len - 1] == '\n' || msg.data[msg.len - 1] == '\r'))
		brook_buf_truncate(&msg, msg.len - 1);

	brook_buf_reserve(&line, msg.len + 96);
	if (atomic_load(&log_format) == BROOK_LOG_JSON) {
		brook_buf_puts(&line, "{\"ts\":\"");
		brook_buf_puts(&line, ts);
		brook_buf_puts(&line, "\",\"level\":\"");
		brook_buf_puts(&line, level_names[level]);
		brook_buf_puts(&line, "\",\"component\":\"");
		brook_buf_put_json_escaped(&line, component, strlen(component));
		brook_buf_puts(&line, "\",\"msg\":\"");
		if (msg.len)
			brook_buf_put_json_escaped(&line, msg.data, msg.len);
		brook_buf_puts(&line, "\"}\n");
	} else {
		brook_buf_puts(&line, ts);
		brook_buf_putc(&line, ' ');
		brook_buf_puts(&line, level_tags[level]);
		brook_buf_putc(&line, ' ');
		brook_buf_puts(&line, component);
		brook_buf_puts(&line, ": ");
		log_put_text(&line, msg.data, msg.len);
		brook_buf_putc(&line, '\n');
	}
	log_write_all(atomic_load(&log_fd), line.data, line.len);
	brook_buf_release(&msg);
	brook_buf_release(&line);
	errno = saved_errno;
}

void brook_log(brook_log_level level, const char *component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	brook_logv(level, component, fmt, ap);
	va_end(ap);
}
