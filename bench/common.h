/*
 * common.h — what every program in bench/ shares.
 */
#ifndef BROOK_BENCH_COMMON_H
#define BROOK_BENCH_COMMON_H

/* "<program>: <message>" on stderr, then exit(1). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
