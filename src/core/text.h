/*
 * text.h — small text helpers shared by the HTTP server, URL and UUID parsers.
 */
#ifndef BROOK_CORE_TEXT_H
#define BROOK_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The value of one hex digit (either case), or -1. */
int brook_hexval(int c);

/* Percent-decode s[0..n) into out, which must hold n + 1 bytes (decoding never
 * lengthens); with form, '+' decodes to a space (application/x-www-form-urlencoded
 * query strings). Malformed escapes are kept literally. out is NUL-terminated; returns
 * the decoded length. */
size_t brook_pct_decode(const char *s, size_t n, char *out, bool form);

#endif
