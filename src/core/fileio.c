#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"

int brook_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return BROOK_ERR;
		}
		c += w;
		n -= (size_t)w;
	}
	return BROOK_OK;
}

int brook_pwrite_all(int fd, const void *p, size_t n, int64_t off)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return BROOK_ERR;
		}
		c += w;
		n -= (size_t)w;
		off += w;
	}
	return BROOK_OK;
}

int brook_pread_all(int fd, void *p, size_t n, int64_t off)
{
	char *c = p;
	while (n > 0) {
		ssize_t r = pread(fd, c, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return BROOK_ERR;
		}
		c += r;
		n -= (size_t)r;
		off += r;
	}
	return BROOK_OK;
}

int brook_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return BROOK_ERR;
	int rc = fsync(fd) == 0 ? BROOK_OK : BROOK_ERR;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int brook_file_write_atomic(const char *path, const void *data, size_t len)
{
	size_t pl = strlen(path);
	char *tmp = brook_malloc(pl + 5);
	memcpy(tmp, path, pl);
	memcpy(tmp + pl, ".tmp", 5);
	int rc = BROOK_ERR, saved = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (brook_write_all(fd, data, len) == BROOK_OK && fdatasync(fd) == 0)
			rc = BROOK_OK;
		saved = errno;
		if (close(fd) != 0 && rc == BROOK_OK) {
			rc = BROOK_ERR;
			saved = errno;
		}
		if (rc == BROOK_OK && rename(tmp, path) != 0) {
			rc = BROOK_ERR;
			saved = errno;
		}
		if (rc != BROOK_OK)
			unlink(tmp);
	} else {
		saved = errno;
	}
	if (rc == BROOK_OK) {
		char *d = brook_strdup(path);
		rc = brook_fsync_dir(dirname(d));
		saved = errno;
		free(d);
	}
	free(tmp);
	errno = saved;
	return rc;
}

int brook_file_read(const char *path, size_t max, brook_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return BROOK_ERR;
	size_t start = out->len;
	char chunk[8192];
	int rc = BROOK_OK;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = BROOK_ERR;
			break;
		}
		if (r == 0)
			break;
		if (out->len - start + (size_t)r > max) {
			errno = EFBIG;
			rc = BROOK_ERR;
			break;
		}
		brook_buf_append(out, chunk, (size_t)r);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int brook_mkdirs(const char *path, mode_t mode)
{
	char *tmp = brook_strdup(path);
	int rc = BROOK_OK;
	for (char *p = tmp + 1; *p && rc == BROOK_OK; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			rc = BROOK_ERR;
		*p = '/';
	}
	if (rc == BROOK_OK && mkdir(tmp, mode) != 0 && errno != EEXIST)
		rc = BROOK_ERR;
	int saved = errno;
	free(tmp);
	errno = saved;
	return rc;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int brook_remove_tree(const char *path)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		return BROOK_ERR;
	return BROOK_OK;
}
