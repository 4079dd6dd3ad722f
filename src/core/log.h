/*
 * log.h — leveled log lines with a component tag, as text or JSON.
 *
 * Text:  2026-11-24T08:55:00.123Z INFO  randomuser: ready on http://127.0.0.1:8088
 * JSON:  {"ts":"2026-11-24T08:55:00.123Z","level":"info","component":"randomuser","msg":"..."}
 *
 * Lines go to stderr (stdout is for command output such as `brook fetch` records), each
 * written with one write(2) so lines from different threads never interleave. Messages
 * say what happened, to what, and what to do; no function names.
 */
#ifndef BROOK_CORE_LOG_H
#define BROOK_CORE_LOG_H

#include <stdarg.h>

typedef enum {
	BROOK_LOG_DEBUG = 0,
	BROOK_LOG_INFO,
	BROOK_LOG_WARN,
	BROOK_LOG_ERROR,
	BROOK_LOG_OFF,
} brook_log_level;

typedef enum { BROOK_LOG_TEXT = 0, BROOK_LOG_JSON } brook_log_format;

/* Parse "debug|info|warn|error|off" and "text|json"; BROOK_ERR on unknown names. */
int brook_log_level_parse(const char *name, brook_log_level *out);
int brook_log_format_parse(const char *name, brook_log_format *out);

void brook_log_set_level(brook_log_level level);
void brook_log_set_format(brook_log_format format);
/* Redirect output to fd (default 2). For tests. */
void brook_log_set_fd(int fd);
int brook_log_enabled(brook_log_level level);

void brook_log(brook_log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void brook_logv(brook_log_level level, const char *component, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define brook_debug(comp, ...) brook_log(BROOK_LOG_DEBUG, comp, __VA_ARGS__)
#define brook_info(comp, ...) brook_log(BROOK_LOG_INFO, comp, __VA_ARGS__)
#define brook_warn(comp, ...) brook_log(BROOK_LOG_WARN, comp, __VA_ARGS__)
#define brook_error(comp, ...) brook_log(BROOK_LOG_ERROR, comp, __VA_ARGS__)

#endif
