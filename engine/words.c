#include "words.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static const char *const lang_names[KPI_LANG_COUNT] = {[KPI_LANG_EN] = "en", [KPI_LANG_KO] = "ko"};

/* Each row: the English word, then its translations in enum kpi_lang
 * order after English. Keep it sorted by English: it is searched. */
static const struct word {
    const char *en, *ko;
} words[] = {
    {"(overall)", "(전체)"},
    {"(total)", "(합계)"},
    {"KPI evaluation report", "성과지표 평가 보고서"},
    {"achievement", "달성률"},
    {"achievement_capped", "달성률(상한적용)"},
    {"actual", "실적"},
    {"all KPIs", "전체 지표"},
    {"band", "달성구분"},
    {"baseline", "전년도실적"},
    {"below", "미달성"},
    {"binary", "달성여부"},
    {"command", "명령"},
    {"coverage", "평가비율"},
    {"decrease", "감소"},
    {"department", "부서"},
    {"direction", "방향"},
    {"error", "오류"},
    {"exceeded", "초과달성"},
    {"expression", "산식"},
    {"finished", "종료"},
    {"formula", "측정산식"},
    {"formula file", "산식파일"},
    {"grade", "등급"},
    {"grade_note", "등급비고"},
    {"id", "지표ID"},
    {"increase", "증가"},
    {"input", "입력파일"},
    {"inputs", "입력값"},
    {"invalid", "무효"},
    {"item", "항목"},
    {"kpis", "지표수"},
    {"linear", "선형"},
    {"message", "비고"},
    {"met", "달성"},
    {"missing", "자료없음"},
    {"name", "지표명"},
    {"no data", "자료없음"},
    {"ok", "정상"},
    {"overview", "개요"},
    {"provenance", "출처"},
    {"ratio", "비율"},
    {"rows", "행수"},
    {"scored_weight", "평가 가중치"},
    {"setting", "설정"},
    {"started", "시작"},
    {"status", "상태"},
    {"target", "목표치"},
    {"unit", "단위"},
    {"unscored_weight", "미평가 가중치"},
    {"value", "값"},
    {"version", "버전"},
    {"weight", "가중치"},
};

static int compare_word(const void *key, const void *row)
{
    return strcmp(key, ((const struct word *)row)->en);
}

const char *kpi_word(enum kpi_lang lang, const char *english)
{
    const struct word *w;

    if (lang == KPI_LANG_EN)
        return english;
    w = bsearch(english, words, sizeof words / sizeof words[0], sizeof words[0], compare_word);
    return w ? w->ko : english;
}

int kpi_lang_parse(const char *name, enum kpi_lang *lang, struct kpi_error *err)
{
    for (int i = 0; i < KPI_LANG_COUNT; i++) {
        if (!strcmp(name, lang_names[i])) {
            *lang = (enum kpi_lang)i;
            return 0;
        }
    }
    return kpi_error_setting(err, kpi_error_set(err, KPI_EUSAGE, "'%s' is not 'en' or 'ko'", name),
                             KPI_SETTING_LANG);
}

const char *kpi_lang_name(enum kpi_lang lang)
{
    assert((unsigned)lang < KPI_LANG_COUNT);
    return lang_names[lang];
}
