/*
 * text.h - rules for the text found in input cells and written to reports.
 *
 * Provides UTF-8 validation (with a CP949/EUC-KR guess for Korean Excel
 * exports), the visible form of text for people to read, Lua identifier
 * checks, strict number parsing and the number formats of the reports.
 * Relies on the C library only; no allocation.
 */
#ifndef KPIEVAL_TEXT_H
#define KPIEVAL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes (1 to 4) of the UTF-8 character that starts s[0..len), or 0 when
 * s[0] does not start a valid one (or len is 0). */
size_t kpi_text_utf8_char(const char *s, size_t len);

/* Offset of the first byte that is not valid UTF-8, or len when all is. */
size_t kpi_text_utf8_invalid_at(const char *s, size_t len);

/* The same, and sets *long_chars (never clears it) when a character of 3
 * or 4 bytes comes before that byte: Korean text in UTF-8 is made of them. */
size_t kpi_text_utf8_scan(const char *s, size_t len, bool *long_chars);

/* Makes s valid UTF-8 in place: every byte that does not start a valid
 * sequence (a stray byte, a character cut by truncation) becomes '?'.
 * Messages built from Lua strings pass through this before any report. */
void kpi_text_utf8_repair(char *s);

/*
 * Visible text: what people read (stderr, the printed summary, CSV cells)
 * shows each control character as the four characters \xHH, so that no
 * input can move the cursor, retitle or clear a terminal, or start a line
 * of its own. Escaped are the C0 controls U+0000..U+001F (tab, LF and CR
 * included), DEL U+007F and the C1 controls U+0080..U+009F, HH being the
 * code point in lower-case hex, and each byte that is not part of valid
 * UTF-8, HH being the byte. Everything else, '\' included, is kept, so
 * the result is valid UTF-8 without control characters.
 */
#define KPI_VISIBLE_ESCAPE_BUF 5 /* "\xHH" and the NUL */

/* Length of the longest prefix of s[0..len) that is kept as it is. */
size_t kpi_text_visible_span(const char *s, size_t len);

/* The escape of the character at s[0] (where kpi_text_visible_span
 * stopped; len > 0), NUL-terminated in buf. Returns the bytes of s it
 * stands for: 2 for a C1 control, 1 otherwise. */
size_t kpi_text_visible_escape(const char *s, size_t len, char buf[KPI_VISIBLE_ESCAPE_BUF]);

/* The visible form of the string s in out[0..size), NUL-terminated and cut
 * before a character or escape that does not fit whole. Returns the length
 * of the whole visible form (as snprintf does): out may be NULL when size
 * is 0. */
size_t kpi_text_visible(const char *s, char *out, size_t size);

/* True when s[0..len) reads as CP949/EUC-KR double-byte Korean text. */
bool kpi_text_looks_cp949(const char *s, size_t len);

/* The same guess over a text read in pieces (a file a window at a time):
 * zero a kpi_cp949_guess, feed it every piece in order, then ask. */
struct kpi_cp949_guess {
    size_t pairs;
    bool impossible;   /* a byte no CP949 text has where it is */
    bool lead_pending; /* the last piece ended in a lead byte */
};
void kpi_text_cp949_feed(struct kpi_cp949_guess *g, const char *s, size_t len);
bool kpi_text_cp949_verdict(const struct kpi_cp949_guess *g);

/* True for [A-Za-z_][A-Za-z0-9_]* that is not a Lua keyword. */
bool kpi_text_is_lua_name(const char *s);

/* True when word occurs in text as a whole word: not inside a longer run
 * of [A-Za-z0-9_]. */
bool kpi_text_has_word(const char *text, const char *word);

/* True when name is one of the entries of list, names joined by ';'. */
bool kpi_text_list_has(const char *list, const char *name);

/* True for a non-empty [A-Za-z0-9._-]+. */
bool kpi_text_is_kpi_id(const char *s);

enum kpi_number_problem {
    KPI_NUMBER_OK = 0,
    KPI_NUMBER_EMPTY,
    KPI_NUMBER_SYNTAX,
    KPI_NUMBER_THOUSANDS, /* looks like 3,000 */
    KPI_NUMBER_NONFINITE, /* nan, inf */
    KPI_NUMBER_RANGE      /* beyond a double, e.g. 1e400 */
};

/* Parses a plain decimal number (spaces around it allowed) into *out.
 * Returns KPI_NUMBER_OK or the problem; *out is untouched on failure. */
enum kpi_number_problem kpi_text_parse_number(const char *s, double *out);

/* True when a spreadsheet would run s as a formula (OWASP's advice against
 * CSV injection: first character '=', '+', '-', '@', tab or carriage
 * return). A number written as text ("-5", "+3.2") and a lone sign ("-",
 * the plan's "no figure") are not formulas. */
bool kpi_text_runs_as_formula(const char *s);

/* What is wrong, as a phrase for messages, e.g. "'12a' is not a number". */
const char *kpi_text_number_problem(enum kpi_number_problem p);

#define KPI_NUMBER_BUF 48
#define KPI_RATE_BUF 400

/* Shortest %.15g form; -0 is written as 0. Returns buf. */
char *kpi_text_format_number(double x, char buf[KPI_NUMBER_BUF]);

/* Shortest form that reads back as exactly x (up to 17 digits). */
char *kpi_text_format_exact(double x, char buf[KPI_NUMBER_BUF]);

/* x with exactly 2 decimals, rounded half away from zero on its
 * 15-significant-digit decimal value (1.005 -> "1.01"). Returns buf. */
char *kpi_text_format_rate(double x, char buf[KPI_RATE_BUF]);

/* A measured value: a whole number as kpi_text_format_number writes it,
 * any other with 2 decimals as kpi_text_format_rate, except where 2
 * decimals would hide it (1e15 or more, or not 0 but below 0.005): those in
 * the number format too. Returns buf. */
char *kpi_text_format_measure(double x, char buf[KPI_RATE_BUF]);

#endif
