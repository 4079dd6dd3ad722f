/*
 * text.h — small text helpers shared by the HTTP server, URL and UUID parsers, and the
 * "did you mean" hints of configuration errors.
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

/* Levenshtein distance between a and b; (size_t)-1 when either is longer than 64
 * bytes (hints are for short names). */
size_t brook_edit_distance(const char *a, const char *b);

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
bool brook_utf8_valid(const void *p, size_t n);
/* The byte length (1-4) of the strict UTF-8 character that p[0..n) starts with; 0 when
 * it is not one (or n is 0). */
size_t brook_utf8_char(const void *p, size_t n);

#endif
