/*
 * generate.c - a deterministic synthetic plan for benchmarks and scale tests.
 *
 * Writes DIR/indicators.csv and DIR/actuals.csv in the real input format
 * (docs/formats.md): N KPIs in a two-level department tree (headquarters,
 * then teams of about 50 KPIs), inline formulas over one to three inputs
 * and calls of the standard plugins, some `decrease` KPIs, zero targets,
 * missing inputs, empty baselines, scoring rules, Korean names. The same N
 * and seed always give the same bytes: the numbers come from splitmix64 and
 * are written with integer arithmetic only, never with the locale.
 */
#include "kpieval/generate.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KPIS_PER_TEAM 50
#define TEAMS_PER_HQ 16

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, and the same on every
 * platform, which is all a generator of test data needs. */
struct rng {
    uint64_t state;
};

static uint64_t next64(struct rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A whole number in [lo, hi]. */
static long between(struct rng *r, long lo, long hi)
{
    return lo + (long)(next64(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability per_mille / 1000. */
static int chance(struct rng *r, unsigned per_mille)
{
    return next64(r) % 1000 < per_mille;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const regions[] = {
    "강남", "강동", "강북", "강서", "관악", "광진", "구로", "금천", "노원", "도봉",
    "동대문", "동작", "마포", "서대문", "서초", "성동", "성북", "송파", "양천", "영등포",
    "용산", "은평", "종로", "중구", "중랑",
};
static const char *const fields[] = {
    "경제진흥", "문화체육", "복지정책", "도시계획", "교육협력", "산업육성",
    "기후환경", "시민안전", "청년정책", "일자리",   "교통정책", "주택정책",
};
static const char *const teams[] = {
    "기획", "예산", "인재양성", "산학협력", "창업지원", "현장실습",
    "직업훈련", "평가", "홍보", "정보화",   "민원",     "시설관리",
    "고용지원", "교육", "연구개발", "지역협력",
};
static const char *const subjects[] = {
    "청년", "여성", "중장년", "특성화고", "대학생", "재직자",
    "소상공인", "기술교육원", "캠퍼스타운", "신산업", "지역주민", "구직자",
};
/* What each formula shape measures, for the KPI's name. */
static const char *const measures[][4] = {
    {"참여자 수", "프로그램 운영 횟수", "상담 건수", "방문자 수"},       /* count */
    {"취업률", "교육 이수율", "자격 취득률", "만족도"},                 /* ratio call */
    {"수료율", "현장배치율", "과정 이수율", "민원 해결률"},             /* ratio inline */
    {"교육생 수", "행사 참여 인원", "협약 기관 수", "지원 기업 수"},    /* sum */
    {"현장실습 참여율", "취·창업률", "자격 취득 비율", "진로 확정률"},  /* share of three */
    {"예산 집행률", "계획 대비 추진율", "과정 운영률", "정원 충족률"},  /* progress */
    {"참여 증가율", "방문 증가율", "교육생 증가율", "협약 증가율"},     /* growth */
    {"최종 수료 인원", "순 참여자 수", "유지 기업 수", "잔류 교육생 수"}, /* difference */
};
static const char *const bad_measures[] = {"사고 건수", "민원 건수", "중도 탈락자 수",
                                           "지연 처리 건수"};

/* Input names, by role. */
static const char *const parts[] = {"employed", "completed", "certified", "placed",
                                    "satisfied", "resolved", "graduates"};
static const char *const wholes[] = {"eligible", "enrolled", "applicants", "surveyed",
                                     "participants", "cases"};
static const char *const counts[] = {"attendees", "sessions", "startups", "agreements",
                                     "programs", "visits", "trainees", "events"};
static const char *const plans[] = {"planned", "budget", "capacity", "quota"};

struct generator {
    struct rng rng;
    FILE *kpis, *actuals;
    unsigned long actual_rows;
};

/* Writes n / 10^decimals with exactly `decimals` digits after the point
 * (none when 0), without printf's locale-dependent floating point. */
static void put_fixed(FILE *f, long n, int decimals)
{
    long scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    if (n < 0) {
        putc('-', f);
        n = -n;
    }
    fprintf(f, "%ld", n / scale);
    if (decimals)
        fprintf(f, ".%0*ld", decimals, n % scale);
}

static void put_actual(struct generator *g, const char *id, const char *input, long value,
                       int decimals)
{
    fprintf(g->actuals, "%s,%s,", id, input);
    put_fixed(g->actuals, value, decimals);
    putc('\n', g->actuals);
    g->actual_rows++;
}

/* The formula shapes, with how often each occurs in per mille. */
enum shape {
    SHAPE_COUNT,      /* attendees */
    SHAPE_RATIO_CALL, /* ratio(employed, eligible) */
    SHAPE_RATIO_INLINE, /* completed / enrolled * 100 */
    SHAPE_SUM_CALL,   /* sum(a, b, c) */
    SHAPE_SHARE3,     /* (a + b) / c * 100 */
    SHAPE_PROGRESS,   /* progress(sessions, planned) */
    SHAPE_GROWTH,     /* growth(visits, visits_prev) */
    SHAPE_DIFF,       /* attendees - dropouts */
    N_SHAPES
};
static const unsigned shape_per_mille[N_SHAPES] = {120, 250, 150, 120, 100, 100, 60, 100};

static enum shape pick_shape(struct rng *r)
{
    unsigned x = (unsigned)(next64(r) % 1000), acc = 0;
    for (int s = 0; s < N_SHAPES; s++) {
        acc += shape_per_mille[s];
        if (x < acc)
            return (enum shape)s;
    }
    return SHAPE_COUNT;
}

static const char *pick(struct rng *r, const char *const *list, size_t n)
{
    return list[next64(r) % n];
}

/* Two different entries of a list. */
static void pick_two(struct rng *r, const char *const *list, size_t n, const char **a,
                     const char **b)
{
    size_t i = (size_t)(next64(r) % n), j = (size_t)(next64(r) % (n - 1));
    if (j >= i)
        j++;
    *a = list[i];
    *b = list[j];
}

/* One KPI: its indicators.csv row and its actuals.csv rows. */
static void kpi(struct generator *g, unsigned long index, int id_width, const char *department)
{
    struct rng *r = &g->rng;
    char id[32], formula[128];
    const char *names[3] = {NULL, NULL, NULL};
    long values[3] = {0, 0, 0};
    int decimals[3] = {0, 0, 0};
    int n_inputs = 0;
    long target;          /* in hundredths */
    int decrease = 0;
    enum shape shape = pick_shape(r);

    snprintf(id, sizeof id, "K%0*lu", id_width, index + 1);
    switch (shape) {
    case SHAPE_COUNT:
        names[0] = pick(r, counts, COUNT(counts));
        values[0] = between(r, 0, 5000);
        target = between(r, 50, 5000) * 100;
        snprintf(formula, sizeof formula, "%s", names[0]);
        n_inputs = 1;
        break;
    case SHAPE_RATIO_CALL:
    case SHAPE_RATIO_INLINE:
        names[0] = pick(r, parts, COUNT(parts));
        names[1] = pick(r, wholes, COUNT(wholes));
        values[1] = chance(r, 5) ? 0 : between(r, 20, 4000);
        values[0] = values[1] ? between(r, values[1] / 3, values[1]) : between(r, 0, 10);
        target = between(r, 400, 950) * 10;
        snprintf(formula, sizeof formula,
                 shape == SHAPE_RATIO_CALL ? "ratio(%s, %s)" : "%s / %s * 100", names[0],
                 names[1]);
        n_inputs = 2;
        break;
    case SHAPE_SUM_CALL:
        pick_two(r, counts, COUNT(counts), &names[0], &names[1]);
        do
            names[2] = pick(r, counts, COUNT(counts));
        while (names[2] == names[0] || names[2] == names[1]);
        for (int i = 0; i < 3; i++)
            values[i] = between(r, 0, 2000);
        target = between(r, 300, 6000) * 100;
        snprintf(formula, sizeof formula, "sum(%s, %s, %s)", names[0], names[1], names[2]);
        n_inputs = 3;
        break;
    case SHAPE_SHARE3:
        pick_two(r, parts, COUNT(parts), &names[0], &names[1]);
        names[2] = pick(r, wholes, COUNT(wholes));
        values[2] = between(r, 100, 5000);
        values[0] = between(r, 0, values[2] / 2);
        values[1] = between(r, 0, values[2] / 2);
        target = between(r, 300, 900) * 10;
        snprintf(formula, sizeof formula, "(%s + %s) / %s * 100", names[0], names[1],
                 names[2]);
        n_inputs = 3;
        break;
    case SHAPE_PROGRESS:
        names[0] = pick(r, counts, COUNT(counts));
        names[1] = pick(r, plans, COUNT(plans));
        /* Budgets are money with one decimal; the others are counts. */
        decimals[0] = decimals[1] = names[1] == plans[1] ? 1 : 0;
        values[1] = between(r, 10, 9000);
        values[0] = between(r, 0, values[1] * 6 / 5);
        target = between(r, 80, 100) * 100;
        snprintf(formula, sizeof formula, "progress(%s, %s)", names[0], names[1]);
        n_inputs = 2;
        break;
    case SHAPE_GROWTH:
        names[0] = pick(r, counts, COUNT(counts));
        names[1] = "previous";
        values[1] = between(r, 50, 3000);
        values[0] = between(r, values[1] * 4 / 5, values[1] * 3 / 2);
        target = between(r, 0, 30) * 100;
        snprintf(formula, sizeof formula, "growth(%s, %s)", names[0], names[1]);
        n_inputs = 2;
        break;
    default: /* SHAPE_DIFF: what is left after drop-outs, or incidents */
        names[0] = pick(r, counts, COUNT(counts));
        names[1] = "dropouts";
        values[0] = between(r, 100, 3000);
        values[1] = between(r, 0, values[0] / 5);
        target = between(r, 50, 2500) * 100;
        snprintf(formula, sizeof formula, "%s - %s", names[0], names[1]);
        n_inputs = 2;
        break;
    }
    /* Counts of bad things are better when lower. */
    if ((shape == SHAPE_COUNT || shape == SHAPE_DIFF) && chance(r, 400)) {
        decrease = 1;
        if (chance(r, 80))
            target = 0; /* zero accidents */
    }
    if (shape == SHAPE_GROWTH && chance(r, 100))
        target = 0; /* hold steady */

    /* indicators.csv: id,name,department,unit,direction,baseline,target,formula,weight,scoring */
    const char *unit = shape == SHAPE_COUNT || shape == SHAPE_SUM_CALL || shape == SHAPE_DIFF
                           ? (decrease ? "건" : "명")
                           : "%";
    fprintf(g->kpis, "%s,%s %s,%s,%s,%s,", id, pick(r, subjects, COUNT(subjects)),
            decrease ? pick(r, bad_measures, COUNT(bad_measures))
                     : pick(r, measures[shape], COUNT(measures[shape])),
            department, unit,
            decrease ? "decrease" : "increase");
    if (!chance(r, 100)) {
        /* Last year's actual: near the target, a little behind. */
        long baseline = target * between(r, 70, 105) / 100;
        if (decrease)
            baseline = target + between(r, 1, 50) * 100;
        put_fixed(g->kpis, baseline, 2);
    }
    putc(',', g->kpis);
    put_fixed(g->kpis, target, 2);
    static const char *const weights[] = {"1", "1", "1", "1", "1", "1", "1", "2", "0.5", "3"};
    const char *scoring = chance(r, 50) ? "linear" : chance(r, 30) ? "binary" : "";
    /* Formulas with a comma are quoted, as any spreadsheet writes them. */
    fprintf(g->kpis, strchr(formula, ',') ? ",\"%s\",%s,%s\n" : ",%s,%s,%s\n", formula,
            pick(r, weights, COUNT(weights)), scoring);

    /* actuals.csv: one row per input; now and then one is missing, and some
     * KPIs carry a context input the formula does not use. */
    int skip = chance(r, 20) ? (int)between(r, 0, n_inputs - 1) : -1;
    for (int i = 0; i < n_inputs; i++)
        if (i != skip)
            put_actual(g, id, names[i], values[i], decimals[i]);
    if (chance(r, 100))
        put_actual(g, id, "note_count", between(r, 0, 20), 0);
}

static int open_in(const char *dir, const char *name, char *tmp, size_t size, FILE **f)
{
    snprintf(tmp, size, "%s/.%s.tmp", dir, name);
    *f = fopen(tmp, "w");
    return *f ? 0 : -1;
}

int kpi_generate(unsigned long n, uint64_t seed, const char *dir, struct kpi_error *err)
{
    struct generator g = {{seed}, NULL, NULL, 0};
    char kpis_tmp[4096] = "", actuals_tmp[4096] = "", path[4096];
    static char kbuf[1 << 16], abuf[1 << 16];
    int rc = 0;

    if (n == 0)
        return kpi_error_set(err, KPI_EUSAGE, "generate: N must be at least 1");
    if (strlen(dir) > 4000)
        return kpi_error_set(err, KPI_EUSAGE, "generate: folder name too long");
    if (mkdir(dir, 0777) && errno != EEXIST)
        return kpi_error_set(err, KPI_EIO, "%s: cannot create: %s", dir, strerror(errno));
    if (open_in(dir, "indicators.csv", kpis_tmp, sizeof kpis_tmp, &g.kpis) ||
        open_in(dir, "actuals.csv", actuals_tmp, sizeof actuals_tmp, &g.actuals)) {
        rc = kpi_error_set(err, KPI_EIO, "%s: cannot write: %s", dir, strerror(errno));
        goto out;
    }
    setvbuf(g.kpis, kbuf, _IOFBF, sizeof kbuf);
    setvbuf(g.actuals, abuf, _IOFBF, sizeof abuf);
    fputs("id,name,department,unit,direction,baseline,target,formula,weight,scoring\n", g.kpis);
    fputs("indicator,input,value\n", g.actuals);

    int id_width = 1;
    for (unsigned long x = n; x >= 10; x /= 10)
        id_width++;
    unsigned long n_teams = (n + KPIS_PER_TEAM - 1) / KPIS_PER_TEAM;
    unsigned long done = 0;
    for (unsigned long t = 0; t < n_teams; t++) {
        unsigned long hq = t / TEAMS_PER_HQ, team = t % TEAMS_PER_HQ;
        char department[256];
        /* Headquarters: 25 districts x 12 fields, then numbered rounds. */
        unsigned long combos = COUNT(regions) * COUNT(fields);
        unsigned long round = hq / combos;
        int len = snprintf(department, sizeof department, "%s%s본부",
                           regions[hq % COUNT(regions)],
                           fields[(hq / COUNT(regions)) % COUNT(fields)]);
        if (round)
            len += snprintf(department + len, sizeof department - (size_t)len, "%lu",
                            round + 1);
        snprintf(department + len, sizeof department - (size_t)len, "/%s%s", teams[team],
                 team % 3 == 2 ? "팀" : "과");
        /* Teams vary around 50 KPIs; the last one takes what is left. */
        unsigned long size = KPIS_PER_TEAM - 10 + (unsigned long)between(&g.rng, 0, 20);
        if (t + 1 == n_teams || done + size > n)
            size = n - done;
        for (unsigned long k = 0; k < size; k++)
            kpi(&g, done + k, id_width, department);
        done += size;
        if (done == n)
            break;
    }
    if (ferror(g.kpis) || ferror(g.actuals)) {
        rc = kpi_error_set(err, KPI_EIO, "%s: write failed: %s", dir, strerror(errno));
        goto out;
    }

out:
    if (g.kpis && fclose(g.kpis) && !rc)
        rc = kpi_error_set(err, KPI_EIO, "%s: write failed: %s", dir, strerror(errno));
    if (g.actuals && fclose(g.actuals) && !rc)
        rc = kpi_error_set(err, KPI_EIO, "%s: write failed: %s", dir, strerror(errno));
    if (!rc) {
        snprintf(path, sizeof path, "%s/indicators.csv", dir);
        if (rename(kpis_tmp, path))
            rc = kpi_error_set(err, KPI_EIO, "%s: %s", path, strerror(errno));
        snprintf(path, sizeof path, "%s/actuals.csv", dir);
        if (!rc && rename(actuals_tmp, path))
            rc = kpi_error_set(err, KPI_EIO, "%s: %s", path, strerror(errno));
    }
    if (rc) {
        if (*kpis_tmp)
            unlink(kpis_tmp);
        if (*actuals_tmp)
            unlink(actuals_tmp);
    }
    return rc;
}
