/* Unit tests of the report output: safe department file names, the output
 * folder check, and the swap of a complete report into place
 * (docs/formats.md, "Outputs"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpieval/report.h"
#include "kpieval/run.h"
#include "scratch.h"
#include "text.h"
#include "writers.h"

static char tmp[SCRATCH_PATH_MAX];

static int setup_tmp(void **state)
{
    (void)state;
    scratch_fresh_dir(tmp, "output");
    return 0;
}

/* ---- department file names ---------------------------------------------- */

#define NAME_BUF 512 /* what the department writer passes */

static void department_file(const char *path, size_t i, char *buf, size_t size)
{
    struct kpi_department d;
    const char *slash = strrchr(path, '/');
    memset(&d, 0, sizeof d);
    d.path = path;
    d.name = slash ? slash + 1 : path;
    d.parent = KPI_NONE;
    memset(buf, 'Z', size);
    kpi_report_department_file(&d, i, buf, size);
}

/* Checks a file name is one safe path component on Linux, macOS and
 * Windows: no separators or reserved characters, no control bytes, valid
 * UTF-8, at most 255 bytes, not "." or "..", ends in ".csv". */
static void assert_safe_name(const char *name, size_t size, const char *from)
{
    size_t len = strnlen(name, size);
    if (len == size)
        fail_msg("name from '%s' is not terminated within the buffer", from);
    if (len == 0 || len > 255)
        fail_msg("name from '%s' is %zu bytes long", from, len);
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        fail_msg("name from '%s' is '%s'", from, name);
    if (len < 4 || strcmp(name + len - 4, ".csv"))
        fail_msg("name '%s' from '%s' does not end in .csv", name, from);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7F || strchr("/\\:*?\"<>|", *p))
            fail_msg("name from '%s' holds byte 0x%02X", from, *p);
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0)
            fail_msg("name from '%s' holds the C1 control U+%04X", from, p[1]);
    }
    if (kpi_text_utf8_invalid_at(name, len) != len)
        fail_msg("name from '%s' is not valid UTF-8 (cut inside a character?)", from);
}

static void test_output_department_file_is_safe(void **state)
{
    static const char *const paths[] = {
        "Finance",
        "경제진흥본부/경제정책과",
        "a/b/c",
        "..",
        ".",
        "../../etc/passwd",
        "a\tb\nc\x01"
        "d\x7f"
        "e",
        "CON:*?\"<>|\\x",
        " spaced ",
        "NUL",
        "C1 \xC2\x9B[2J\xC2\x80 \xC2\x9F",
    };
    char buf[NAME_BUF];
    (void)state;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        department_file(paths[i], i, buf, sizeof buf);
        assert_safe_name(buf, sizeof buf, paths[i]);
    }
    /* Safe names keep their text. */
    department_file("Finance", 0, buf, sizeof buf);
    assert_contains(buf, "Finance");
    department_file("경제정책과", 2, buf, sizeof buf);
    assert_contains(buf, "경제정책과");
    /* A C1 control is one character: one '_'; U+00A0 above it is kept. */
    department_file("a\xC2\x9B" "b\xC2\xA0", 0, buf, sizeof buf);
    assert_string_equal(buf, "001-a_b\xC2\xA0.csv");
}

/* out = prefix followed by n copies of unit. */
static void repeat(char *out, size_t size, const char *prefix, const char *unit, int n)
{
    size_t o = (size_t)snprintf(out, size, "%s", prefix);
    for (int i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(out + o, size - o, "%s", unit);
    assert_true(o < size);
}

/* The department text kept in a file name: between the "NNN-" prefix and
 * ".csv". */
static void kept_text(const char *name, const char **start, size_t *len)
{
    const char *dash = strchr(name, '-');
    assert_non_null(dash);
    for (const char *p = name; p < dash; p++)
        assert_true(*p >= '0' && *p <= '9');
    *start = dash + 1;
    *len = strlen(*start) - 4;
}

static void test_output_department_file_long_korean_name(void **state)
{
    /* 200 x "가" = 600 bytes: too long for any file system. */
    char path[700];
    char buf[NAME_BUF];
    const char *kept;
    size_t len;
    (void)state;
    repeat(path, sizeof path, "", "가", 200);
    department_file(path, 0, buf, sizeof buf);
    assert_safe_name(buf, sizeof buf, "200 x 가");
    /* Whole characters were kept: a prefix of the path of 3k bytes. */
    kept_text(buf, &kept, &len);
    assert_true(len > 0);
    assert_int_equal(len % 3, 0);
    assert_memory_equal(kept, path, len);

    /* 146 ASCII bytes then Hangul: wherever the limit falls, the cut must
     * not land inside a 3-byte character. */
    for (int shift = 0; shift < 3; shift++) {
        char ascii[160], mixed[800];
        memset(ascii, 'a', (size_t)(146 + shift));
        ascii[146 + shift] = '\0';
        repeat(mixed, sizeof mixed, ascii, "경", 100);
        department_file(mixed, 0, buf, sizeof buf);
        assert_safe_name(buf, sizeof buf, "ASCII then Hangul");
        kept_text(buf, &kept, &len);
        assert_memory_equal(kept, mixed, len);
    }
}

static void test_output_department_file_small_buffer_keeps_utf8(void **state)
{
    /* A caller's smaller buffer must also end on a character boundary. */
    char path[700];
    (void)state;
    repeat(path, sizeof path, "", "가", 100);
    for (size_t size = 16; size <= 64; size++) {
        char buf[64];
        department_file(path, 0, buf, size);
        size_t len = strnlen(buf, size);
        if (len == size)
            fail_msg("size %zu: not terminated", size);
        if (kpi_text_utf8_invalid_at(buf, len) != len)
            fail_msg("size %zu: '%s' is cut inside a character", size, buf);
    }
}

static void test_output_department_file_unique_by_index(void **state)
{
    char a[NAME_BUF], b[NAME_BUF];
    char long1[800], long2[800], base[800];
    (void)state;
    /* "a/b" and "a_b" make the same safe text; the index tells them apart. */
    department_file("a/b", 3, a, sizeof a);
    department_file("a_b", 4, b, sizeof b);
    assert_string_not_equal(a, b);
    /* Names that differ only beyond the length limit. */
    repeat(base, sizeof base, "", "가", 150);
    repeat(long1, sizeof long1, base, "1", 1);
    repeat(long2, sizeof long2, base, "2", 1);
    department_file(long1, 10, a, sizeof a);
    department_file(long2, 11, b, sizeof b);
    assert_string_not_equal(a, b);
    /* Same node, same name: stable from run to run. */
    department_file("a/b", 3, b, sizeof b);
    department_file("a/b", 3, a, sizeof a);
    assert_string_equal(a, b);
    /* Index 999 and beyond still differ from each other. */
    department_file("x", 999, a, sizeof a);
    department_file("x", 1000, b, sizeof b);
    assert_string_not_equal(a, b);
}

/* ---- the output folder -------------------------------------------------- */

static void test_output_check_target(void **state)
{
    char dir[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    struct kpi_error err = {0};
    (void)state;
    /* Not there yet: fine. */
    assert_int_equal(kpi_outdir_check(scratch_join(path, tmp, "absent"), &err), 0);
    /* Empty: fine. */
    scratch_fresh_subdir(dir, tmp, "emptydir");
    assert_int_equal(kpi_outdir_check(dir, &err), 0);
    /* An earlier report (it has report.json): fine. */
    scratch_fresh_subdir(dir, tmp, "oldreport");
    scratch_write_in(dir, "report.json", "{}\n");
    scratch_write_in(dir, "kpis.csv", "id\n");
    assert_int_equal(kpi_outdir_check(dir, &err), 0);
    /* Someone's other files: refused. */
    scratch_fresh_subdir(dir, tmp, "notreport");
    scratch_write_in(dir, "thesis.docx", "precious");
    assert_int_equal(kpi_outdir_check(dir, &err), KPI_EUSAGE);
    assert_contains(err.message, dir);
    /* A hidden file alone still makes the folder non-empty. */
    scratch_fresh_subdir(dir, tmp, "hidden");
    scratch_write_in(dir, ".keep", "");
    assert_int_equal(kpi_outdir_check(dir, &err), KPI_EUSAGE);
    /* A regular file: refused. */
    scratch_write(scratch_join(path, tmp, "afile"), "x");
    assert_int_equal(kpi_outdir_check(path, &err), KPI_EUSAGE);
    /* An empty name: refused. */
    assert_int_equal(kpi_outdir_check("", &err), KPI_EUSAGE);
    /* A name ending in "." or "..": its lock would go inside it, under
     * another name than the folder's own (a red-team finding). */
    assert_int_equal(kpi_outdir_check(scratch_join(path, tmp, "."), &err), KPI_EUSAGE);
    assert_string_equal(strrchr(err.message, ':'), ": name the output folder itself, not '.' or '..'");
    assert_int_equal(kpi_outdir_check(scratch_join(path, tmp, "../"), &err), KPI_EUSAGE);
    assert_int_equal(kpi_outdir_check(".", &err), KPI_EUSAGE);
}

/* A small evaluated run to write out. */
struct written_run {
    struct kpi_run run;
    struct kpi_run_options opt;
    struct kpi_report_params params;
    struct kpi_report report;
};

static void make_run_of(struct written_run *w, const char *indicators, const char *actuals)
{
    static char dir[SCRATCH_PATH_MAX];
    struct kpi_error err = {0};

    scratch_dataset(dir, tmp, "dataset", indicators, actuals);
    memset(w, 0, sizeof *w);
    kpi_run_init(&w->run);
    w->opt.dataset = dir;
    w->opt.cap = 120;
    if (kpi_grades_parse(KPI_DEFAULT_GRADES, &w->opt.grades, &err) != 0)
        fail_msg("grades: %s", err.message);
    if (kpi_run_execute(&w->opt, &w->run, &err) != 0)
        fail_msg("run: %s", err.message);
    w->params.dataset = dir;
    w->params.cap = 120;
    w->params.grades = &w->opt.grades;
    w->params.instruction_limit = KPI_DEFAULT_INSTRUCTIONS;
    w->params.memory_limit = KPI_DEFAULT_MEMORY;
    size_t n;
    kpi_report_init(&w->report, w->run.ds, kpi_results_rows(w->run.results, &n),
                    w->run.departments, &w->run.overall, &w->params);
}

static void make_run(struct written_run *w)
{
    make_run_of(w,
                "id,name,department,target,formula\n"
                "K1,일자리,경제진흥본부/경제정책과,20,x / 2\n"
                "K2,교육,경제진흥본부,10,y\n",
                "indicator,input,value\nK1,x,50\n");
}

static void test_output_write_creates_the_report(void **state)
{
    struct written_run w;
    struct kpi_error err = {0};
    char parent[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    char listing[1024];
    (void)state;
    make_run(&w);
    scratch_fresh_subdir(parent, tmp, "fresh");
    /* Folders above the output are made as needed. */
    scratch_join(path, parent, "deeper");
    scratch_join(out, path, "out");
    if (kpi_report_write(&w.report, out, &err) != 0)
        fail_msg("write: %s", err.message);
    scratch_list_dir(out, listing, sizeof listing);
    assert_string_equal(
        listing,
        ".kpieval-report|departments|departments.csv|kpis.csv|report.html|report.json|report.xlsx");
    /* One file per department node: 경제진흥본부 and its 경제정책과. */
    scratch_list_dir(scratch_join(path, out, "departments"), listing, sizeof listing);
    size_t files = listing[0] ? 1 : 0;
    for (const char *p = listing; *p; p++)
        files += *p == '|';
    assert_int_equal(files, 2);
    /* kpis.csv: the header of formats.md and one row per KPI. */
    char *kpis = scratch_read(scratch_join(path, out, "kpis.csv"));
    assert_non_null(kpis);
    assert_starts_with(kpis, "id,name,department,unit,direction,baseline,target,formula,inputs,"
                             "actual,achievement,achievement_capped,band,weight,status,message\n");
    size_t lines = 0;
    for (const char *p = kpis; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    /* K1: x / 2 = 25; 25 / 20 x 100 = 125.00, capped 120.00. */
    assert_contains(kpis, "\nK1,일자리,경제진흥본부/경제정책과,,increase,,20,x / 2,x=50,25,125.00,"
                          "120.00,exceeded,1,ok,\n");
    free(kpis);
    /* Nothing left beside it. */
    scratch_list_dir(parent, listing, sizeof listing);
    assert_string_equal(listing, "deeper");
    scratch_list_dir(scratch_join(path, parent, "deeper"), listing, sizeof listing);
    assert_string_equal(listing, "out");
    kpi_run_release(&w.run);
}

/* A cell of indicators.csv that could not be read: kpis.csv shows it as
 * written, report.json has null in its field and the text under
 * "unreadable", for every such field alike (direction too). */
static void test_output_unreadable_cells_alike_in_every_format(void **state)
{
    struct written_run w;
    struct kpi_error err = {0};
    char out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    (void)state;
    make_run_of(&w,
                "id,name,department,direction,target,weight,formula\n"
                "K1,a,D,up,ten,1,x\n",
                "indicator,input,value\nK1,x,1\n");
    scratch_fresh_subdir(path, tmp, "unreadable");
    scratch_join(out, path, "out");
    if (kpi_report_write(&w.report, out, &err) != 0)
        fail_msg("write: %s", err.message);
    char *csv = scratch_read(scratch_join(path, out, "kpis.csv"));
    char *json = scratch_read(scratch_join(path, out, "report.json"));
    assert_non_null(csv);
    assert_non_null(json);
    assert_contains(csv, "\nK1,a,D,,up,,ten,x,x=1,,,,error,1,invalid,");
    assert_contains(json, "\"direction\": null, \"baseline\": null, \"target\": null");
    assert_contains(json, "\"unreadable\": {\"target\": \"ten\", \"direction\": \"up\"}");
    free(csv);
    free(json);
    kpi_run_release(&w.run);
}

static void test_output_write_replaces_an_old_report_completely(void **state)
{
    struct written_run w;
    struct kpi_error err = {0};
    char parent[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    char listing[1024];
    (void)state;
    make_run(&w);
    scratch_fresh_subdir(parent, tmp, "replace");
    scratch_fresh_subdir(out, parent, "out");
    /* An earlier report, with a file and a folder the new one lacks. */
    scratch_write_in(out, "report.json", "{\"old\": true}\n");
    scratch_write_in(out, "kpis.csv", "old\n");
    scratch_write_in(out, "stale.csv", "old\n");
    scratch_mkdir(scratch_join(path, out, "departments"));
    scratch_write_in(path, "999-gone.csv", "old\n");
    scratch_mkdir(scratch_join(path, out, "olddir"));

    if (kpi_report_write(&w.report, out, &err) != 0)
        fail_msg("write: %s", err.message);
    scratch_list_dir(out, listing, sizeof listing);
    assert_string_equal(
        listing,
        ".kpieval-report|departments|departments.csv|kpis.csv|report.html|report.json|report.xlsx");
    assert_false(scratch_exists(scratch_join(path, out, "departments/999-gone.csv")));
    char *json = scratch_read(scratch_join(path, out, "report.json"));
    assert_non_null(json);
    assert_not_contains(json, "\"old\"");
    free(json);
    /* No staging or old folder left beside it. */
    scratch_list_dir(parent, listing, sizeof listing);
    assert_string_equal(listing, "out");

    /* And again: a report replaces the report it wrote itself. */
    if (kpi_report_write(&w.report, out, &err) != 0)
        fail_msg("second write: %s", err.message);
    scratch_list_dir(parent, listing, sizeof listing);
    assert_string_equal(listing, "out");
    kpi_run_release(&w.run);
}

static void test_output_write_with_trailing_slash(void **state)
{
    /* "--out DIR/" names the same folder as "--out DIR" (shells add the
     * slash when completing a folder name). */
    struct written_run w;
    struct kpi_error err = {0};
    char parent[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    char listing[1024];
    (void)state;
    make_run(&w);
    scratch_fresh_subdir(parent, tmp, "slash");
    scratch_join(out, parent, "out/");
    if (kpi_report_write(&w.report, out, &err) != 0)
        fail_msg("first write: %s", err.message);
    scratch_list_dir(parent, listing, sizeof listing);
    assert_string_equal(listing, "out");
    scratch_list_dir(scratch_join(path, parent, "out"), listing, sizeof listing);
    assert_string_equal(
        listing,
        ".kpieval-report|departments|departments.csv|kpis.csv|report.html|report.json|report.xlsx");
    /* Replacing it the same way. */
    if (kpi_report_write(&w.report, out, &err) != 0)
        fail_msg("second write: %s", err.message);
    scratch_list_dir(parent, listing, sizeof listing);
    assert_string_equal(listing, "out");
    scratch_list_dir(scratch_join(path, parent, "out"), listing, sizeof listing);
    assert_string_equal(
        listing,
        ".kpieval-report|departments|departments.csv|kpis.csv|report.html|report.json|report.xlsx");
    kpi_run_release(&w.run);
}

static void test_output_write_refuses_a_foreign_folder(void **state)
{
    struct written_run w;
    struct kpi_error err = {0};
    char parent[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX];
    char listing[1024];
    (void)state;
    make_run(&w);
    scratch_fresh_subdir(parent, tmp, "foreign");
    scratch_fresh_subdir(out, parent, "out");
    scratch_write_in(out, "thesis.docx", "precious");
    assert_int_equal(kpi_report_write(&w.report, out, &err), KPI_EUSAGE);
    /* Untouched, and no staging folder made. */
    scratch_list_dir(out, listing, sizeof listing);
    assert_string_equal(listing, "thesis.docx");
    scratch_list_dir(parent, listing, sizeof listing);
    assert_string_equal(listing, "out");
    kpi_run_release(&w.run);
}

/* JSON strings: quote, backslash and control bytes escaped, everything
 * else (UTF-8 included) copied as is; worked out from RFC 8259 section 7. */
static void test_output_json_string_escapes(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;
    assert_non_null(f);
    kpi_json_put_string(f, "a\"b\\c\nd\te\rf\x01g\x1f경제");
    kpi_json_put_string(f, "");
    kpi_json_put_string(f, "\"");
    fclose(f);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001f경제\"\"\"\"\\\"\"");
    free(buf);
}

/* JSON text is UTF-8 (RFC 8259 section 8.1): a byte that is not becomes
 * U+FFFD; DEL and the C1 controls are escaped like C0, so that printing
 * report.json or a --log json line cannot drive a terminal. */
static void test_output_json_string_is_utf8_without_controls(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;
    assert_non_null(f);
    kpi_json_put_string(f, "ds\xff\xfe/\x9b \xEA\xB0");  /* bytes, a cut character */
    kpi_json_put_string(f, "\x7f \xC2\x9B[2J \xC2\x80\xC2\x9f \xC2\xA0");
    kpi_json_put_string(f, "\xC0\xAF\xED\xA0\x80\xF0\x9F\x98\x80"); /* overlong, surrogate */
    fclose(f);
    assert_string_equal(buf, "\"ds\\ufffd\\ufffd/\\ufffd \\ufffd\\ufffd\""
                             "\"\\u007f \\u009b[2J \\u0080\\u009f \xC2\xA0\""
                             "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\xF0\x9F\x98\x80\"");
    free(buf);
}

/* A sink that is not built in: every KPI and department as exact numbers. */
static int write_test_sink(const struct kpi_report *rep, void *state, struct kpi_error *err)
{
    FILE *f = kpi_sink_file(state);
    (void)err;
    for (size_t i = 0; i < rep->n_kpis; i++)
        fprintf(f, "kpi %s %s %.17g\n", rep->kpis[i].id, kpi_status_name(rep->rows[i].status),
                rep->rows[i].achievement_capped);
    for (size_t d = 0; d < rep->n_departments; d++)
        fprintf(f, "department %s %u %.17g\n", rep->departments[d].path,
                rep->summaries[d].kpis, rep->summaries[d].achievement);
    fprintf(f, "overall %u %.17g %s\n", rep->overall->kpis, rep->overall->achievement,
            rep->overall->grade);
    return 0;
}

static const struct kpi_sink test_sink = {"test-sink.txt", 0, kpi_sink_file_prepare,
                                          write_test_sink, kpi_sink_file_commit,
                                          kpi_sink_file_abort};

/* A sink added to the table is written by a whole run and, identical, by
 * a merge of that run's shards: merge writes from the model through the
 * same table, so no sink can be left out of a merged report. */
static void test_output_added_sink_in_whole_and_merged_runs(void **state)
{
    struct written_run w;
    struct kpi_error err = {0};
    char dir[SCRATCH_PATH_MAX], whole[SCRATCH_PATH_MAX], merged[SCRATCH_PATH_MAX];
    char parts[2][SCRATCH_PATH_MAX], path[SCRATCH_PATH_MAX];
    const char *part_dirs[2] = {parts[0], parts[1]};
    struct kpi_grades grades;
    struct kpi_department_summary overall;
    (void)state;

    assert_int_equal(kpi_report_add_sink(&test_sink, &err), 0);
    /* Six top-level departments, so both shards of two have some. */
    make_run_of(&w,
                "id,name,department,target,formula\n"
                "K1,a,가/x,20,x\nK2,b,나,10,x\nK3,c,다,40,x\n"
                "K4,d,라,5,x\nK5,e,마,8,x\nK6,f,바/y,10,x\n",
                "indicator,input,value\nK1,x,10\nK2,x,5\nK3,x,30\nK4,x,1\nK5,x,2\n");
    kpi_run_release(&w.run);
    scratch_fresh_subdir(dir, tmp, "sinks");
    w.opt.out = scratch_join(whole, dir, "whole");
    w.opt.in_process = true;
    kpi_run_init(&w.run);
    if (kpi_run_execute(&w.opt, &w.run, &err) != 0)
        fail_msg("whole run: %s", err.message);
    kpi_run_release(&w.run);
    for (unsigned i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "part%u", i + 1);
        w.opt.out = scratch_join(parts[i], dir, name);
        w.opt.shard_index = i + 1;
        w.opt.shard_count = 2;
        kpi_run_init(&w.run);
        if (kpi_run_execute(&w.opt, &w.run, &err) != 0)
            fail_msg("shard %u: %s", i + 1, err.message);
        kpi_run_release(&w.run);
    }
    if (kpi_report_merge(scratch_join(merged, dir, "merged"), part_dirs, 2, NULL, &grades, &overall,
                         &err) != 0)
        fail_msg("merge: %s", err.message);

    char *a = scratch_read(scratch_join(path, whole, "test-sink.txt"));
    char *b = scratch_read(scratch_join(path, merged, "test-sink.txt"));
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    /* By hand: K1 10/20 = 50 %, K2 50, K3 75, K4 20, K5 25, K6 missing,
     * counted as 0 at weight 1: overall (50 + 50 + 75 + 20 + 25 + 0) / 6
     * = 36.67 %, grade D. */
    assert_contains(a, "kpi K3 ok 75\n");
    assert_contains(a, "kpi K6 missing 0\n");
    assert_contains(a, "overall 6 36.666666666666664 D\n");
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_json_string_escapes),
        cmocka_unit_test(test_output_json_string_is_utf8_without_controls),
        cmocka_unit_test(test_output_department_file_is_safe),
        cmocka_unit_test(test_output_department_file_long_korean_name),
        cmocka_unit_test(test_output_department_file_small_buffer_keeps_utf8),
        cmocka_unit_test(test_output_department_file_unique_by_index),
        cmocka_unit_test(test_output_check_target),
        cmocka_unit_test(test_output_write_creates_the_report),
        cmocka_unit_test(test_output_unreadable_cells_alike_in_every_format),
        cmocka_unit_test(test_output_write_replaces_an_old_report_completely),
        cmocka_unit_test(test_output_write_with_trailing_slash),
        cmocka_unit_test(test_output_write_refuses_a_foreign_folder),
        /* Last: the sink it adds stays in the table for the process. */
        cmocka_unit_test(test_output_added_sink_in_whole_and_merged_runs),
    };
    return cmocka_run_group_tests(tests, setup_tmp, NULL);
}
