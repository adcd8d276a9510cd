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
    {"Bars: achievement from 0 to 125%; the line marks 100%.",
     "막대: 달성률 0~125%, 세로선은 100%"},
    {"KPI evaluation report", "성과지표 평가 보고서"},
    {"Not recorded.", "기록되지 않음"},
    {"Only the upper levels of the departments are listed; every department is in "
     "departments.csv.",
     "상위 부서만 표시합니다. 모든 부서는 departments.csv에 있습니다."},
    {"Overall", "전체"},
    {"Overview", "개요"},
    {"Parameters", "실행 조건"},
    {"Provenance", "출처"},
    {"Sub-departments", "하위 부서"},
    {"Too many KPIs to list on this page: each department's KPIs are in its file under "
     "departments/ (and every KPI in kpis.csv).",
     "지표가 많아 이 문서에는 지표별 내역을 싣지 않습니다. 부서별 지표는 departments/ 아래 "
     "부서 파일에, 전체 지표는 kpis.csv에 있습니다."},
    {"Warnings", "경고"},
    {"absent, counted as 0", "실적 없음, 0으로 계산"},
    {"achievement", "달성률"},
    {"achievement_capped", "달성률(상한적용)"},
    {"actual", "실적"},
    {"all KPIs", "전체 지표"},
    {"band", "달성구분"},
    {"baseline", "전년도실적"},
    {"below", "미달성"},
    {"binary", "달성여부"},
    {"cap", "달성률 상한"},
    {"command", "명령"},
    {"coverage", "평가비율"},
    {"dataset", "데이터셋"},
    {"decrease", "감소"},
    {"department", "부서"},
    {"direction", "방향"},
    {"error", "오류"},
    {"exceeded", "초과달성"},
    {"expression", "산식"},
    {"file", "파일"},
    {"finished", "종료"},
    {"formula", "측정산식"},
    {"formula file", "산식파일"},
    {"grade", "등급"},
    {"grade_note", "등급비고"},
    {"grades", "등급 기준"},
    {"id", "지표ID"},
    {"if_missing", "실적 누락 시"},
    {"increase", "증가"},
    {"input", "입력"},
    {"input_lines", "입력 행"},
    {"inputs", "입력값"},
    {"invalid", "무효"},
    {"item", "항목"},
    {"kpis", "지표수"},
    {"line", "지표 행"},
    {"linear", "선형"},
    {"lines", "줄"},
    {"message", "비고"},
    {"met", "달성"},
    {"missing", "자료없음"},
    {"name", "지표명"},
    {"no data", "자료없음"},
    {"ok", "정상"},
    {"overview", "개요"},
    {"parent", "상위 부서"},
    {"period", "평가기간"},
    {"provenance", "출처"},
    {"ratio", "비율"},
    {"report", "부서별 파일"},
    {"rows", "행"},
    {"scored_weight", "평가 가중치"},
    {"scoring", "평가방식"},
    {"scoring_expression", "평가산식"},
    {"setting", "설정"},
    {"skip", "제외"},
    {"started", "시작"},
    {"status", "상태"},
    {"target", "목표치"},
    {"unit", "단위"},
    {"unreadable", "읽을 수 없는 값"},
    {"unscored", "미평가 지표"},
    {"unscored_weight", "미평가 가중치"},
    {"value", "값"},
    {"version", "버전"},
    {"weight", "가중치"},
    {"zero", "0점 반영"},
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

const char *kpi_words_english(size_t i)
{
    return i < sizeof words / sizeof words[0] ? words[i].en : NULL;
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
