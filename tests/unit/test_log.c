/* Unit tests for core/log: level parsing and filtering, text and JSON lines, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

static int log_fd = -1;

static int setup(void **state)
{
	(void)state;
	log_fd = memfd_create("brook-test-log", 0);
	assert_true(log_fd >= 0);
	brook_log_set_fd(log_fd);
	brook_log_set_level(BROOK_LOG_INFO);
	brook_log_set_format(BROOK_LOG_TEXT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	brook_log_set_fd(2);
	brook_log_set_level(BROOK_LOG_INFO);
	brook_log_set_format(BROOK_LOG_TEXT);
	close(log_fd);
	return 0;
}

/* Everything logged since setup; the caller frees. */
static char *captured(void)
{
	off_t end = lseek(log_fd, 0, SEEK_END);
	char *p = malloc((size_t)end + 1);
	ssize_t r = pread(log_fd, p, (size_t)end, 0);

	assert_int_equal(r, end);
	p[end] = '\0';
	return p;
}

static void assert_matches(const char *s, const char *pattern)
{
	regex_t re;
	int rc;

	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&re, s, 0, NULL, 0);
	regfree(&re);
	if (rc != 0)
		fail_msg("'%s' does not match /%s/", s, pattern);
}

static void test_parse_names(void **state)
{
	brook_log_level l;
	brook_log_format f;

	(void)state;
	assert_int_equal(brook_log_level_parse("debug", &l), BROOK_OK);
	assert_int_equal(l, BROOK_LOG_DEBUG);
	assert_int_equal(brook_log_level_parse("WARN", &l), BROOK_OK);
	assert_int_equal(l, BROOK_LOG_WARN);
	assert_int_equal(brook_log_level_parse("error", &l), BROOK_OK);
	assert_int_equal(l, BROOK_LOG_ERROR);
	assert_int_equal(brook_log_level_parse("off", &l), BROOK_OK);
	assert_int_equal(l, BROOK_LOG_OFF);
	assert_int_equal(brook_log_level_parse("verbose", &l), BROOK_ERR);
	assert_int_equal(brook_log_level_parse("", &l), BROOK_ERR);
	assert_int_equal(brook_log_format_parse("json", &f), BROOK_OK);
	assert_int_equal(f, BROOK_LOG_JSON);
	assert_int_equal(brook_log_format_parse("text", &f), BROOK_OK);
	assert_int_equal(f, BROOK_LOG_TEXT);
	assert_int_equal(brook_log_format_parse("xml", &f), BROOK_ERR);
}

static void test_text_line(void **state)
{
	char *out;

	(void)state;
	brook_info("randomuser", "ready on http://127.0.0.1:%d", 8088);
	out = captured();
	assert_matches(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
	                    "INFO  randomuser: ready on http://127\\.0\\.0\\.1:8088\n$");
	free(out);
}

static void test_level_filter(void **state)
{
	char *out;

	(void)state;
	assert_false(brook_log_enabled(BROOK_LOG_DEBUG));
	assert_true(brook_log_enabled(BROOK_LOG_INFO));
	brook_debug("x", "hidden");
	brook_warn("x", "shown warn");
	brook_warn("x", "two\nlines\r\n");
	brook_log_set_level(BROOK_LOG_ERROR);
	brook_warn("x", "hidden too");
	brook_error("x", "shown error\n");
	brook_log_set_level(BROOK_LOG_OFF);
	brook_error("x", "hidden as well");
	assert_false(brook_log_enabled(BROOK_LOG_ERROR));
	out = captured();
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "WARN  x: shown warn\n"));
	/* The caller's newline is not doubled. */
	assert_non_null(strstr(out, "ERROR x: shown error\n"));
	assert_null(strstr(out, "\n\n"));
	/* An embedded newline does not start a new line. */
	assert_non_null(strstr(out, "WARN  x: two\\nlines\n"));
	free(out);
	brook_log_set_level(BROOK_LOG_DEBUG);
	assert_true(brook_log_enabled(BROOK_LOG_DEBUG));
}

static void test_json_line(void **state)
{
	json_error_t jerr;
	json_t *j;
	char *out;

	(void)state;
	brook_log_set_format(BROOK_LOG_JSON);
	brook_warn("kafka\"x", "quote \" backslash \\ tab \t ctl \x01 utf8 é");
	out = captured();
	assert_int_equal(out[strlen(out) - 1], '\n');
	j = json_loads(out, 0, &jerr);
	if (!j)
		fail_msg("not JSON: %s (%s)", out, jerr.text);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
	assert_string_equal(json_string_value(json_object_get(j, "component")), "kafka\"x");
	assert_string_equal(json_string_value(json_object_get(j, "msg")),
	                    "quote \" backslash \\ tab \t ctl \x01 utf8 é");
	assert_matches(json_string_value(json_object_get(j, "ts")),
	               "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$");
	assert_int_equal(json_object_size(j), 4);
	json_decref(j);
	free(out);
}

#define THREADS          4
#define LINES_PER_THREAD 300

static void *log_thread(void *arg)
{
	int id = (int)(intptr_t)arg;
	int i;

	for (i = 0; i < LINES_PER_THREAD; i++)
		brook_info("t", "thread %d line %d %s", id, i,
		           "padding-padding-padding-padding-padding-padding-padding");
	return NULL;
}

static void test_threads_whole_lines(void **state)
{
	pthread_t th[THREADS];
	int counts[THREADS] = {0};
	char *out, *line, *save = NULL;
	int i, n = 0;

	(void)state;
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, log_thread, (void *)(intptr_t)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	out = captured();
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id, num;

		assert_matches(line,
		               "^[^ ]+Z INFO  t: thread [0-9] line [0-9]+ padding(-padding){6}$");
		assert_int_equal(sscanf(strstr(line, "thread"), "thread %d line %d", &id, &num), 2);
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(num, counts[id]); /* each thread's lines stay in order */
		counts[id]++;
		n++;
	}
	assert_int_equal(n, THREADS * LINES_PER_THREAD);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_names),
	    cmocka_unit_test_setup_teardown(test_text_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_whole_lines, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
