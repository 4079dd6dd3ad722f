/*
 * fileio.h — file I/O that finishes what it starts: whole reads and writes (restarting
 * on EINTR and short counts), atomic small-file replacement, directory fsync, mkdir -p.
 *
 * Durability: brook_file_write_atomic() writes PATH.tmp, fdatasync()s it, renames it over
 * PATH and fsync()s the directory, so after it returns BROOK_OK a crash or power loss
 * leaves the new content; if it fails, PATH still holds the old content (or is absent).
 * Functions return BROOK_OK or BROOK_ERR with errno set.
 */
#ifndef BROOK_CORE_FILEIO_H
#define BROOK_CORE_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

int brook_write_all(int fd, const void *p, size_t n);
int brook_pwrite_all(int fd, const void *p, size_t n, int64_t off);
/* Reads exactly n bytes at off; a file that ends first is an error (errno EIO). */
int brook_pread_all(int fd, void *p, size_t n, int64_t off);

int brook_file_write_atomic(const char *path, const void *data, size_t len);
/* Appends the whole file to out; more than max bytes fails with errno EFBIG. */
int brook_file_read(const char *path, size_t max, brook_buf *out);
int brook_fsync_dir(const char *dir);
/* mkdir -p: creates path and its missing parents. */
int brook_mkdirs(const char *path, mode_t mode);
/* rm -rf: removes path and everything below it (symlinks are not followed). */
int brook_remove_tree(const char *path);

#endif
