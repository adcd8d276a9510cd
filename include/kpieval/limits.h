/*
 * limits.h - the sizes kpieval accepts in the files it reads, and the
 * sizes of the reports it writes for people, in one place (as Lua's
 * luaconf.h and SQLite's SQLITE_MAX_*), each with why.
 *
 * Provides constants only. An input beyond a limit is refused with a
 * message naming the file and the limit (docs/formats.md, "Limits"); a
 * report beyond one is shortened as docs/reports.md says.
 */
#ifndef KPIEVAL_LIMITS_H
#define KPIEVAL_LIMITS_H

/* Bytes in one CSV field: far above any real cell (a formula, a name),
 * low enough that a broken quote cannot make a row of the whole file. */
#define KPI_CSV_FIELD_MAX (1024 * 1024)

/* Fields in one CSV row: indicators.csv has about ten columns. */
#define KPI_CSV_FIELDS_MAX 1024

/* Bytes in one CSV row, all its fields: a row is held whole while it is
 * read, and 1024 fields of 1 MiB would be a gigabyte. */
#define KPI_CSV_ROW_MAX (8 * 1024 * 1024)

/* Bytes of a CSV file held in memory at once: files are checked and parsed
 * a window at a time (a million KPIs are 180 MB of CSV), and an error in a
 * file of any size is worded from the window holding it. A line longer
 * than this is fed to the parser a window at a time, never held whole. */
#define KPI_CSV_WINDOW (4u << 20)

/* Bytes in one plugin file (formulas/NAME.lua). Every plugin is read into
 * memory and kept for the run, so the workers can rebuild their Lua state
 * without opening files; the standard ones are under 1 KB. The limit keeps
 * a mistaken or hostile file (a log, a dump) from filling the memory. */
#define KPI_PLUGIN_FILE_MAX (1024 * 1024)

/* KPIs that report.html lists one by one. Each takes about 1.5 KB of
 * HTML (its row and how it was made): 20,000 are 30 MB, which a browser
 * still opens in seconds and prints; a million would be 1.5 GB, which no
 * browser opens. Above this the page lists the departments with their
 * figures, each linked to its file under departments/ (docs/reports.md). */
#define KPI_HTML_KPIS_MAX 20000

/* Departments that report.html's overview lists when the KPIs are not
 * inlined: whole levels from the top while they fit (the top level
 * always). A million KPIs in 50-KPI teams are 20,000 teams, 10 MB of
 * rows; departments.csv has every one. */
#define KPI_HTML_DEPARTMENTS_MAX 25000

#endif
