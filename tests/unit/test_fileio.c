/* Unit tests for core/fileio. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"

static void test_atomic_write_and_read(void **state)
{
	(void)state;
	char dir[] = "/tmp/brook-fileio-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[256], path[300];
	snprintf(sub, sizeof sub, "%s/a/b/c", dir);
	assert_int_equal(brook_mkdirs(sub, 0755), BROOK_OK);
	assert_int_equal(brook_mkdirs(sub, 0755), BROOK_OK); /* exists: fine */
	snprintf(path, sizeof path, "%s/file", sub);
	assert_int_equal(brook_file_write_atomic(path, "first", 5), BROOK_OK);
	assert_int_equal(brook_file_write_atomic(path, "second!", 7), BROOK_OK);
	brook_buf b = BROOK_BUF_INIT;
	assert_int_equal(brook_file_read(path, 100, &b), BROOK_OK);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "second!", 7);
	brook_buf_reset(&b);
	assert_int_equal(brook_file_read(path, 3, &b), BROOK_ERR);
	assert_int_equal(errno, EFBIG);
	char tmp[320];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* no leftover */
	assert_int_equal(brook_fsync_dir(sub), BROOK_OK);
	brook_buf_reset(&b);
	snprintf(tmp, sizeof tmp, "%s/missing", sub);
	assert_int_equal(brook_file_read(tmp, 100, &b), BROOK_ERR);
	assert_int_equal(errno, ENOENT);

	/* whole reads and writes at offsets; a short file is an error */
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(brook_pwrite_all(fd, "XY", 2, 1), BROOK_OK);
	char got[8] = {0};
	assert_int_equal(brook_pread_all(fd, got, 7, 0), BROOK_OK);
	assert_memory_equal(got, "sXYond!", 7);
	assert_int_equal(brook_pread_all(fd, got, 8, 0), BROOK_ERR);
	close(fd);
	brook_buf_release(&b);

	unlink(path);
	rmdir(sub);
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	rmdir(sub);
	snprintf(sub, sizeof sub, "%s/a", dir);
	rmdir(sub);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atomic_write_and_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
