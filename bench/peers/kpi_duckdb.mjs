// kpi_duckdb.mjs - the benchmark's DuckDB peer: kpieval's kpis.csv and
// departments.csv for a `kpieval generate` dataset, in SQL.
//
// usage: node kpi_duckdb.mjs DIR OUT   (OUT must exist)
//
// Uses @duckdb/node-api from bench/node_modules (bench/run.sh installs it),
// an in-memory database and DuckDB's default thread count (one per core).
// The distinct formula texts are matched against the generator's shapes
// with regular expressions, the inputs joined by (indicator, input), and
// evaluation, scoring and the roll-up (every prefix of each department path)
// are plain SQL; COPY writes the two CSV files. Other formula shapes and the
// `baseline` and expression scoring rules give status error; the inputs and
// message columns are left empty.
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  process.stderr.write('usage: node kpi_duckdb.mjs DIR OUT\n');
  process.exit(2);
}

const lit = (s) => `'${s.replaceAll("'", "''")}'`;
const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const S = '\\s*';
const full = (re) => lit(`^${S}${re}${S}$`);
const CSV = "header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"'";

const statements = [
  // Two decimals, half away from zero, on the 15-significant-digit value
  // (1.005 gives 1.01): the digits of %.14e rounded as a whole number.
  `CREATE MACRO rate_kept(m, keep) AS CASE
     WHEN keep < 0 THEN 0
     WHEN keep >= 15 THEN m * CAST(10 ** least(keep - 15, 3) AS BIGINT)
     ELSE m // CAST(10 ** (15 - keep) AS BIGINT)
          + CASE WHEN (m // CAST(10 ** (14 - keep) AS BIGINT)) % 10 >= 5 THEN 1 ELSE 0 END END`,
  `CREATE MACRO rate_signed(x, kept) AS
     printf('%.2f', CAST(CASE WHEN x < 0 AND kept > 0 THEN -kept ELSE kept END AS DOUBLE) / 100)`,
  `CREATE MACRO rate_sci(x, s) AS rate_signed(x,
     rate_kept(CAST(substr(s, 1, 1) || substr(s, 3, 14) AS BIGINT), CAST(substr(s, 18) AS INTEGER) + 3))`,
  `CREATE MACRO rate_text(x) AS CASE WHEN x IS NOT NULL THEN rate_sci(x, printf('%.14e', abs(x))) END`,
  `CREATE MACRO number_text(x) AS CASE WHEN x = 0 THEN '0' ELSE printf('%.15g', x) END`,

  `CREATE TABLE act AS
     SELECT indicator, input, CAST(value AS DOUBLE) AS value
     FROM read_csv(${lit(`${dir}/actuals.csv`)}, ${CSV})`,
  `CREATE TABLE ind AS SELECT * FROM read_csv(${lit(`${dir}/indicators.csv`)}, ${CSV})`,

  // One row per distinct formula text: its shape and input names.
  `CREATE TABLE shapes AS
   WITH f AS (SELECT DISTINCT formula, regexp_extract_all(formula, ${lit(NAME)}) AS ids FROM ind),
   k AS (SELECT formula, ids, CASE
       WHEN regexp_matches(formula, ${full(NAME)}) THEN 'input'
       WHEN regexp_matches(formula, ${full(`(ratio|progress|growth)${S}\\(${S}${NAME}${S},${S}${NAME}${S}\\)`)}) THEN ids[1]
       WHEN regexp_matches(formula, ${full(`sum${S}\\(${S}${NAME}${S},${S}${NAME}${S}(,${S}${NAME}${S})?\\)`)}) THEN 'sum'
       WHEN regexp_matches(formula, ${full(`${NAME}${S}/${S}${NAME}${S}\\*${S}100`)}) THEN 'div100'
       WHEN regexp_matches(formula, ${full(`\\(${S}${NAME}${S}\\+${S}${NAME}${S}\\)${S}/${S}${NAME}${S}\\*${S}100`)}) THEN 'share3'
       WHEN regexp_matches(formula, ${full(`${NAME}${S}-${S}${NAME}`)}) THEN 'diff'
       ELSE 'other' END AS kind FROM f)
   SELECT formula, kind,
     CASE WHEN kind IN ('ratio', 'progress', 'growth', 'sum') THEN ids[2] ELSE ids[1] END AS n1,
     CASE WHEN kind IN ('ratio', 'progress', 'growth', 'sum') THEN ids[3] ELSE ids[2] END AS n2,
     CASE WHEN kind = 'sum' THEN ids[4] WHEN kind = 'share3' THEN ids[3] END AS n3
   FROM k`,

  `CREATE TABLE res AS
   WITH j AS (
     SELECT k.*, s.kind, s.n1, s.n2, s.n3, a1.value AS v1, a2.value AS v2, a3.value AS v3,
       TRY_CAST(k.target AS DOUBLE) AS t, TRY_CAST(coalesce(k.weight, '1') AS DOUBLE) AS w,
       coalesce(k.direction, '') = 'decrease' AS dec, coalesce(k.scoring, '') AS rule
     FROM ind k JOIN shapes s USING (formula)
     LEFT JOIN act a1 ON a1.indicator = k.id AND a1.input = s.n1
     LEFT JOIN act a2 ON a2.indicator = k.id AND a2.input = s.n2
     LEFT JOIN act a3 ON a3.indicator = k.id AND a3.input = s.n3),
   e AS (
     SELECT *,
       t IS NULL OR w IS NULL OR w < 0 OR w > 1e9
         OR coalesce(direction, '') NOT IN ('', 'increase', 'decrease') AS invalid,
       kind <> 'other' AND (v1 IS NULL OR (n2 IS NOT NULL AND v2 IS NULL)
         OR (n3 IS NOT NULL AND v3 IS NULL)) AS missing,
       CASE kind
         WHEN 'input' THEN v1
         WHEN 'ratio' THEN CASE WHEN v2 <> 0 THEN v1 / v2 * 100 END
         WHEN 'div100' THEN v1 / v2 * 100
         WHEN 'progress' THEN CASE WHEN v2 > 0 THEN v1 / v2 * 100 END
         WHEN 'growth' THEN CASE WHEN v2 <> 0 THEN (v1 - v2) / abs(v2) * 100 END
         WHEN 'sum' THEN CASE WHEN n3 IS NULL THEN v1 + v2 ELSE v1 + v2 + v3 END
         WHEN 'share3' THEN (v1 + v2) / v3 * 100
         WHEN 'diff' THEN v1 - v2 END AS value
     FROM j),
   v AS (
     SELECT *, NOT invalid AND NOT missing AND value IS NOT NULL AND isfinite(value) AS evaluated,
       CASE WHEN dec THEN value <= t ELSE value >= t END AS met
     FROM e),
   r AS (
     SELECT *, CASE
         WHEN NOT evaluated THEN NULL
         WHEN rule = 'binary' THEN CASE WHEN met THEN 100 ELSE 0 END
         WHEN rule NOT IN ('', 'linear') OR t < 0 THEN NULL
         WHEN t = 0 THEN CASE WHEN met THEN 100 ELSE 0 END
         WHEN NOT dec THEN value / t * 100
         WHEN rule = 'linear' THEN (2 - value / t) * 100
         WHEN value < 0 THEN NULL
         WHEN value = 0 THEN 120
         ELSE t / value * 100 END::DOUBLE AS raw
     FROM v)
   SELECT *,
     CASE WHEN invalid THEN 'invalid' WHEN missing THEN 'missing'
          WHEN raw IS NULL OR NOT isfinite(raw) THEN 'error' ELSE 'ok' END AS status,
     CASE WHEN raw IS NOT NULL AND isfinite(raw) THEN greatest(raw, 0) END AS rate,
     CASE WHEN raw IS NOT NULL AND isfinite(raw) THEN least(greatest(raw, 0), 120) END AS capped
   FROM r`,

  `COPY (SELECT id, name, department, unit,
           CASE WHEN dec THEN 'decrease' ELSE 'increase' END AS direction, baseline, target,
           formula, NULL AS inputs,
           CASE WHEN evaluated THEN number_text(value) END AS actual,
           rate_text(rate) AS achievement, rate_text(capped) AS achievement_capped,
           coalesce(weight, '1') AS weight, status, NULL AS message
         FROM res)
   TO ${lit(`${out}/kpis.csv`)} (HEADER, DELIMITER ',')`,

  // Every prefix of a department path is a node holding all KPIs beneath it.
  `COPY (
     WITH p AS (
       SELECT unnest(list_transform(range(1, len(parts) + 1),
                                    i -> array_to_string(parts[1:i], '/'))) AS department,
              status, w, capped
       FROM (SELECT string_split(department, '/') AS parts, status, w, capped FROM res)),
     g AS (
       SELECT department, count(*) AS kpis,
         count(*) FILTER (WHERE status = 'ok') AS ok,
         count(*) FILTER (WHERE status = 'missing') AS missing,
         count(*) FILTER (WHERE status = 'error') AS error,
         count(*) FILTER (WHERE status = 'invalid') AS invalid,
         sum(w) FILTER (WHERE status = 'ok') AS weight,
         sum(w * capped) FILTER (WHERE status = 'ok') AS weighted
       FROM p GROUP BY department),
     a AS (SELECT *, CASE WHEN weight > 0 AND isfinite(weighted / weight)
                          THEN weighted / weight END AS achievement FROM g)
     SELECT department, kpis, ok, missing, error, invalid, rate_text(achievement) AS achievement,
       CASE WHEN achievement >= 100 THEN 'S' WHEN achievement >= 90 THEN 'A'
            WHEN achievement >= 80 THEN 'B' WHEN achievement >= 70 THEN 'C'
            WHEN achievement IS NOT NULL THEN 'D' END AS grade
     FROM a ORDER BY replace(department, '/', chr(1))
   ) TO ${lit(`${out}/departments.csv`)} (HEADER, DELIMITER ',')`,
];

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
for (const sql of statements) {
  await connection.run(sql);
}
connection.closeSync();
