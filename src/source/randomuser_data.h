/*
 * randomuser_data.h — the built-in tables behind the randomuser generator (internal).
 *
 * Lists are written compactly as one comma-separated string each and split once at
 * start-up by randomuser.c. An item may carry an explicit ASCII form after '=' (for
 * Cyrillic and Persian names: "Олена=olena"); Latin items are folded to ASCII
 * automatically for e-mail addresses. City items are "City/State". Items never contain
 * '"', '\\' or control characters, so they are emitted into JSON without escaping
 * (checked at start-up).
 *
 * Patterns (phone, cell, postcode, id): '#' a digit 0-9, '%' a digit 1-9, 'A' an
 * upper-case letter, anything else literally. A numeric postcode pattern holds only
 * '#' and '%'.
 */
#ifndef BROOK_SOURCE_RANDOMUSER_DATA_H
#define BROOK_SOURCE_RANDOMUSER_DATA_H

typedef struct randomuser_nat_def {
	const char *code;    /* "US" */
	const char *country; /* "United States" */
	const char *male, *female, *last, *streets, *cities;
	const char *phone, *cell;
	const char *postcode;
	int postcode_str;    /* 1: JSON string, 0: JSON number */
	const char *id_name; /* NULL: id is {"name":"","value":null} */
	const char *id_fmt;
	int french_titles;   /* Monsieur/Madame/Mademoiselle instead of Mr/Mrs/Ms/Miss */
} randomuser_nat_def;

#define RANDOMUSER_NTIMEZONES 31

extern const randomuser_nat_def randomuser_nat_defs[];
extern const char *const randomuser_timezones[RANDOMUSER_NTIMEZONES][2]; /* offset, desc */
extern const char randomuser_passwords[];
extern const char randomuser_username_adjectives[];
extern const char randomuser_username_nouns[];

#endif
