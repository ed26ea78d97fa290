/*  Tests of cf_report: hand-built counters in the grammar of the spec, as
    cf_store would sum them, give exactly the rows, order and text, JSON and
    CSV forms docs/reports.md shows, exact (--exact) and published (the
    default: suppression, complements, dependent columns); bad choices fail
    with a reason on the report.                                             */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_counts.h"
#include "caseflow/cf_report.h"

typedef struct {
    const char *name;
    int64_t value;
} counter_t;

/*  A report's choices; NULL and false are the defaults.                    */
typedef struct {
    const char *programme, *by, *period, *from, *to;
    bool exact, round;
} choices_t;

static cf_counts_t *counts_of(const counter_t *counters)
{
    cf_counts_t *counts = cf_counts_new();
    for (size_t i = 0; counters[i].name; i++)
        cf_counts_add(counts, counters[i].name, strlen(counters[i].name), counters[i].value);
    return counts;
}

/*  Builds report name over counters with the given choices and renders it. */
static char *render(const char *name, const counter_t *counters, choices_t c,
                    cf_table_format_t format)
{
    cf_report_t *report = cf_report_new(name);
    assert_non_null(report);
    if (c.programme)
        assert_int_equal(cf_report_set_programme(report, c.programme), 0);
    if (c.by)
        assert_int_equal(cf_report_set_by(report, c.by), 0);
    if (c.period)
        assert_int_equal(cf_report_set_period(report, c.period), 0);
    if (c.from)
        assert_int_equal(cf_report_set_from(report, c.from), 0);
    if (c.to)
        assert_int_equal(cf_report_set_to(report, c.to), 0);
    cf_report_set_exact(report, c.exact);
    cf_report_set_round(report, c.round);
    cf_counts_t *counts = counts_of(counters);
    cf_table_t *table = cf_report_build(report, counts);
    char *text = cf_table_render(table, format);
    cf_table_destroy(&table);
    cf_counts_destroy(&counts);
    cf_report_destroy(&report);
    assert_null(report);
    return text;
}

#define EXACT (choices_t) { .exact = true }
#define PUBLISHED (choices_t) { 0 }

static void assert_render(const char *expected, char *actual)
{
    assert_string_equal(actual, expected);
    free(actual);
}

static const counter_t s_stage[] = {
    { "CH-AVR|registered|now|cases", 2 },  { "CH-AVR|registered|now|persons", 5 },
    { "CH-AVR|registered|ever|cases", 221 }, { "CH-AVR|registered|ever|persons", 530 },
    { "CH-AVR|arrived|now|cases", 0 },     { "CH-AVR|arrived|ever|cases", 150 },
    { "CH-AVR|arrived|ever|persons", 301 }, { "CH-AVR|closed|now|cases", 0 },
    { "CH-AVR|departed|ever|cases", 160 }, { "CH-AVR|departed|ever|persons", 320 },
    { "UK-VARRP|screened|now|cases", 1 },  { "UK-VARRP|screened|now|persons", 1 },
    { "UK-VARRP|screened|ever|cases", 1 }, { "UK-VARRP|screened|ever|persons", 1 },
    { "UK-VARRP|screened|soon|cases", 9 }, { "bad-field", 4 }, { "A|b|now|cases|x", 4 },
    { NULL, 0 } };

static void test_stages_text(void **state)
{
    (void) state;
    assert_render("programme  stage       cases_now  persons_now  cases_ever  persons_ever\n"
                  "---------  ----------  ---------  -----------  ----------  ------------\n"
                  "CH-AVR     registered          2            5         221           530\n"
                  "CH-AVR     departed            0            0         160           320\n"
                  "CH-AVR     arrived             0            0         150           301\n"
                  "UK-VARRP   screened            1            1           1             1\n",
                  render("stages", s_stage, EXACT, CF_TABLE_PLAIN));
}

static void test_stages_json_and_csv(void **state)
{
    (void) state;
    assert_render("[\n"
                  "  {\"programme\": \"UK-VARRP\", \"stage\": \"screened\", \"cases_now\": 1, "
                  "\"persons_now\": 1, \"cases_ever\": 1, \"persons_ever\": 1}\n"
                  "]\n",
                  render("stages", s_stage, (choices_t) { .programme = "UK-VARRP", .exact = true },
                         CF_TABLE_JSON));
    assert_render("programme,stage,cases_now,persons_now,cases_ever,persons_ever\r\n"
                  "CH-AVR,registered,2,5,221,530\r\n"
                  "CH-AVR,departed,0,0,160,320\r\n"
                  "CH-AVR,arrived,0,0,150,301\r\n",
                  render("stages", s_stage, (choices_t) { .programme = "CH-AVR", .exact = true },
                         CF_TABLE_CSV));
    assert_render("[]\n", render("stages", s_stage, (choices_t) { .programme = "EU-IOM-JI" },
                                 CF_TABLE_JSON));
}

/*  Day counters only count; the month: and year: counters of the older
    layout, and a malformed day, are skipped.                                */
static const counter_t s_returns[] = {
    { "day:2024-03-01|origin|MLI|CH-AVR|cases", 3 },   { "day:2024-03-01|origin|MLI|CH-AVR|persons", 7 },
    { "day:2024-03-15|origin|MLI|UK-VARRP|cases", 2 }, { "day:2024-03-15|origin|MLI|UK-VARRP|persons", 2 },
    { "day:2024-04-02|origin|GMB|CH-AVR|cases", 1 },   { "day:2024-04-02|origin|GMB|CH-AVR|persons", 4 },
    { "day:2023-12-31|origin|SEN|CH-AVR|cases", 5 },   { "day:2023-12-31|origin|SEN|CH-AVR|persons", 5 },
    { "day:2024-03-01|host|CHE|CH-AVR|cases", 4 },     { "month:2024-03|origin|MLI|CH-AVR|cases", 30 },
    { "year:2024|origin|MLI|CH-AVR|cases", 300 },      { "day:2024-3-01|origin|MLI|CH-AVR|cases", 9 },
    { "day:2024-03-01|route|-|CH-AVR|cases", 1 },      { "day:2024-03-01|route|-|CH-AVR|persons", 2 },
    { "day:2024-02-10|route|central_mediterranean|CH-AVR|cases", 2 },
    { "day:2024-02-10|route|central_mediterranean|CH-AVR|persons", 3 },
    { "day:2024-02-11|route|central_mediterranean|UK-VARRP|cases", 6 },
    { "days:2024-03-01|origin|MLI|CH-AVR|cases", 8 },  { NULL, 0 } };

static void test_returns_by_origin_per_year(void **state)
{
    (void) state;
    assert_render("origin_country  year  cases  persons\n"
                  "--------------  ----  -----  -------\n"
                  "SEN             2023      5        5\n"
                  "GMB             2024      1        4\n"
                  "MLI             2024      5        9\n",
                  render("returns", s_returns, EXACT, CF_TABLE_PLAIN));
    /*  Published: every count is under 10.                                  */
    assert_render("origin_country,year,cases,persons\r\n"
                  "SEN,2023,<10,<10\r\n"
                  "GMB,2024,<10,<10\r\n"
                  "MLI,2024,<10,<10\r\n",
                  render("returns", s_returns, PUBLISHED, CF_TABLE_CSV));
}

static void test_returns_months_and_days_come_from_days(void **state)
{
    (void) state;
    assert_render("origin_country,month,cases,persons\r\n"
                  "SEN,2023-12,5,5\r\n"
                  "MLI,2024-03,5,9\r\n"
                  "GMB,2024-04,1,4\r\n",
                  render("returns", s_returns, (choices_t) { .period = "month", .exact = true },
                         CF_TABLE_CSV));
    assert_render("route,month,cases,persons\r\n"
                  "central_mediterranean,2024-02,8,3\r\n"
                  "-,2024-03,1,2\r\n",
                  render("returns", s_returns,
                         (choices_t) { .by = "route", .period = "month", .exact = true },
                         CF_TABLE_CSV));
    assert_render("[\n"
                  "  {\"route\": \"central_mediterranean\", \"day\": \"2024-02-10\", "
                  "\"cases\": 2, \"persons\": 3},\n"
                  "  {\"route\": \"-\", \"day\": \"2024-03-01\", \"cases\": 1, \"persons\": 2}\n"
                  "]\n",
                  render("returns", s_returns,
                         (choices_t) { .programme = "CH-AVR", .by = "route", .period = "day",
                                       .exact = true },
                         CF_TABLE_JSON));
}

static void test_returns_date_range(void **state)
{
    (void) state;
    /*  From a day: that day on; to a month: to the end of that month.       */
    assert_render("origin_country,year,cases,persons\r\n"
                  "GMB,2024,1,4\r\n"
                  "MLI,2024,2,2\r\n",
                  render("returns", s_returns, (choices_t) { .from = "2024-03-15", .exact = true },
                         CF_TABLE_CSV));
    assert_render("origin_country,year,cases,persons\r\n"
                  "MLI,2024,2,2\r\n",
                  render("returns", s_returns,
                         (choices_t) { .from = "2024-03-15", .to = "2024-03", .exact = true },
                         CF_TABLE_CSV));
    assert_render("origin_country,day,cases,persons\r\n"
                  "MLI,2024-03-01,3,7\r\n",
                  render("returns", s_returns,
                         (choices_t) { .period = "day", .from = "2024", .to = "2024-03-01",
                                       .exact = true },
                         CF_TABLE_CSV));
}

static const counter_t s_vuln[] = {
    { "CH-AVR|vot", 10 },         { "CH-AVR|elderly", 10 },    { "CH-AVR|health", 11 },
    { "CH-AVR|uasc", 0 },         { "CH-AVR|disability", 3 },  { "CH-AVR|risk:high", 12 },
    { "CH-AVR|risk:low", 25 },    { "UK-VARRP|single_parent", 22 }, { "CH-AVR|a|b", 5 },
    { NULL, 0 } };

static void test_vulnerability_exact_and_published(void **state)
{
    (void) state;
    assert_render("programme  vulnerability  cases\n"
                  "---------  -------------  -----\n"
                  "CH-AVR     disability         3\n"
                  "CH-AVR     elderly           10\n"
                  "CH-AVR     health            11\n"
                  "CH-AVR     vot               10\n"
                  "CH-AVR     risk:low          25\n"
                  "CH-AVR     risk:high         12\n"
                  "UK-VARRP   single_parent     22\n",
                  render("vulnerability", s_vuln, EXACT, CF_TABLE_PLAIN));
    /*  vot, uasc and health rows mask up to 10; CH-AVR holds two masked
        cells, so no complement is needed.                                   */
    assert_render("programme  vulnerability  cases\n"
                  "---------  -------------  -----\n"
                  "CH-AVR     disability       <10\n"
                  "CH-AVR     elderly           10\n"
                  "CH-AVR     health            11\n"
                  "CH-AVR     vot              <11\n"
                  "CH-AVR     risk:low          25\n"
                  "CH-AVR     risk:high         12\n"
                  "UK-VARRP   single_parent     22\n",
                  render("vulnerability", s_vuln, PUBLISHED, CF_TABLE_PLAIN));
    assert_render("[\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"disability\", "
                  "\"cases\": null, \"suppressed\": {\"cases\": \"<10\"}},\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"elderly\", \"cases\": 10},\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"health\", \"cases\": 10},\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"vot\", \"cases\": null, "
                  "\"suppressed\": {\"cases\": \"<11\"}},\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"risk:low\", \"cases\": 25},\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"risk:high\", \"cases\": 10}\n"
                  "]\n",
                  render("vulnerability", s_vuln, (choices_t) { .programme = "CH-AVR", .round = true },
                         CF_TABLE_JSON));
}

static const counter_t s_demo[] = {
    { "CH-AVR|m|18-59", 12 }, { "CH-AVR|m|5-11", 3 }, { "CH-AVR|f|60+", 1 },
    { "CH-AVR|f|0-4", 2 },    { "CH-AVR|f|12-17", 0 }, { "KS-RRP|u|18-59", 1 },
    { NULL, 0 } };

static void test_demographics_in_band_order(void **state)
{
    (void) state;
    assert_render("programme  sex  age_band  persons\n"
                  "---------  ---  --------  -------\n"
                  "CH-AVR     f    0-4             2\n"
                  "CH-AVR     f    60+             1\n"
                  "CH-AVR     m    5-11            3\n"
                  "CH-AVR     m    18-59          12\n"
                  "KS-RRP     u    18-59           1\n",
                  render("demographics", s_demo, EXACT, CF_TABLE_PLAIN));
}

static const counter_t s_quality[] = {
    { "rejected|persons[0].sex", 3 }, { "rejected|origin_country", 12 }, { "duplicate", 2 },
    { "rejected|note, \"free\" text", 1 }, { "repeat_registration", 1 }, { "orphan", 0 },
    { NULL, 0 } };

static void test_quality_shows_fixed_measures(void **state)
{
    (void) state;
    assert_render("measure                     count\n"
                  "--------------------------  -----\n"
                  "rejected:note, \"free\" text      1\n"
                  "rejected:origin_country        12\n"
                  "rejected:persons[0].sex         3\n"
                  "duplicate                       2\n"
                  "out_of_order                    0\n"
                  "before_registration             0\n"
                  "repeat_registration             1\n",
                  render("quality", s_quality, PUBLISHED, CF_TABLE_PLAIN));
    assert_render("measure,count\r\n"
                  "\"rejected:note, \"\"free\"\" text\",1\r\n"
                  "rejected:origin_country,12\r\n"
                  "rejected:persons[0].sex,3\r\n"
                  "duplicate,2\r\n"
                  "out_of_order,0\r\n"
                  "before_registration,0\r\n"
                  "repeat_registration,1\r\n",
                  render("quality", s_quality, (choices_t) { .round = true }, CF_TABLE_CSV));
}

/*  Lengths 10 h, 20 h, 40 h and 100 h (612 000 s) for registered-departed:
    buckets [10,11), [20,21), [40,42), [100,104); p50 is rank 2, the top of
    [20,21): 21 h; p90 is rank 3.6, 0.6 into [100,104): 102.4 h.              */
static const counter_t s_dur[] = {
    { "CH-AVR|registered-departed|count", 4 },   { "CH-AVR|registered-departed|seconds", 612000 },
    { "CH-AVR|registered-departed|bucket|10|11", 1 },
    { "CH-AVR|registered-departed|bucket|20|21", 1 },
    { "CH-AVR|registered-departed|bucket|40|42", 1 },
    { "CH-AVR|registered-departed|bucket|100|104", 1 },
    { "CH-AVR|registered-departed|bucket|x|3", 7 },
    { "CH-AVR|departed-arrived|count", 12 },     { "CH-AVR|departed-arrived|seconds", 3110400 },
    { "CH-AVR|departed-arrived|bucket|64|68", 6 }, { "CH-AVR|departed-arrived|bucket|72|76", 6 },
    { "CH-AVR|arrived-reintegrating|count", 30 },
    { "CH-AVR|arrived-reintegrating|seconds", 25920000 },
    { "CH-AVR|arrived-reintegrating|bucket|240|248", 30 },
    { "UK-VARRP|departed-arrived|seconds", 0 }, { NULL, 0 } };

static void test_durations_from_buckets(void **state)
{
    (void) state;
    assert_render("[\n"
                  "  {\"programme\": \"CH-AVR\", \"interval\": \"registered-departed\", "
                  "\"cases\": 4, \"mean_days\": 1.8, \"p50_days\": 0.9, \"p90_days\": 4.3},\n"
                  "  {\"programme\": \"CH-AVR\", \"interval\": \"departed-arrived\", "
                  "\"cases\": 12, \"mean_days\": 3.0, \"p50_days\": 2.8, \"p90_days\": 3.1},\n"
                  "  {\"programme\": \"CH-AVR\", \"interval\": \"arrived-reintegrating\", "
                  "\"cases\": 30, \"mean_days\": 10.0, \"p50_days\": 10.2, \"p90_days\": 10.3}\n"
                  "]\n",
                  render("durations", s_dur, EXACT, CF_TABLE_JSON));
    /*  4 is masked with its figures; 12 too, or CH-AVR's total of cases
        would give the 4 away.                                               */
    assert_render("programme  interval               cases  mean_days  p50_days  p90_days\n"
                  "---------  ---------------------  -----  ---------  --------  --------\n"
                  "CH-AVR     registered-departed      <10          x         x         x\n"
                  "CH-AVR     departed-arrived         <10          x         x         x\n"
                  "CH-AVR     arrived-reintegrating     30       10.0      10.2      10.3\n",
                  render("durations", s_dur, PUBLISHED, CF_TABLE_PLAIN));
}

static const counter_t s_detention[] = {
    { "CH-AVR|LBY|now", 3 },       { "CH-AVR|LBY|cases", 20 },    { "CH-AVR|LBY|episodes", 18 },
    { "CH-AVR|LBY|seconds", 7776000 }, { "UK-VARRP|LBY|cases", 5 }, { "UK-VARRP|LBY|episodes", 2 },
    { "UK-VARRP|LBY|seconds", 345600 }, { "CH-AVR|NER|cases", 12 }, { "CH-AVR|NER|episodes", 12 },
    { "CH-AVR|NER|seconds", 2592000 }, { "CH-AVR|TUN|cases", 4 },  { "CH-AVR|TUN|now", 4 },
    { "CH-AVR|TUN|later", 4 },     { NULL, 0 } };

static void test_detention_by_country(void **state)
{
    (void) state;
    assert_render("country,detained_now,cases_ever,episodes,detention_days,mean_days\r\n"
                  "LBY,3,25,20,94.0,4.7\r\n"
                  "NER,0,12,12,30.0,2.5\r\n"
                  "TUN,4,4,0,0.0,\r\n",
                  render("detention", s_detention, EXACT, CF_TABLE_CSV));
    /*  One key: the group is the whole column. TUN's 4 ever needs NER's 12
        masked with it; the two masked now protect each other.              */
    assert_render("country,detained_now,cases_ever,episodes,detention_days,mean_days\r\n"
                  "LBY,<10,25,20,94.0,4.7\r\n"
                  "NER,0,<10,12,30.0,2.5\r\n"
                  "TUN,<10,<10,0,0.0,\r\n",
                  render("detention", s_detention, PUBLISHED, CF_TABLE_CSV));
    assert_render("[\n"
                  "  {\"country\": \"LBY\", \"detained_now\": 0, \"cases_ever\": 5, "
                  "\"episodes\": 2, \"detention_days\": 4.0, \"mean_days\": 2.0}\n"
                  "]\n",
                  render("detention", s_detention,
                         (choices_t) { .programme = "UK-VARRP", .exact = true }, CF_TABLE_JSON));
}

static const counter_t s_reint[] = {
    { "CH-AVR|economic|cash|EUR|services", 12 },  { "CH-AVR|economic|cash|EUR|value", 150050 },
    { "CH-AVR|economic|in_kind|-|services", 3 },  { "CH-AVR|social|training|CHF|services", 20 },
    { "CH-AVR|social|training|CHF|value", 99999 }, { "CH-AVR|social|training|CHF|other", 5 },
    { NULL, 0 } };

static const counter_t s_monitor[] = {
    { "CH-AVR|GIN|surveys", 10 },   { "CH-AVR|GIN|economic", 75000 },
    { "CH-AVR|GIN|social", 123456 }, { "CH-AVR|GIN|composite", 50000 },
    { "CH-AVR|GIN|composite_surveys", 4 }, { "CH-AVR|SEN|surveys", 2 },
    { "CH-AVR|SEN|economic", 20000 }, { NULL, 0 } };

static void test_reintegration_by_service_and_origin(void **state)
{
    (void) state;
    assert_render("programme  dimension  modality  currency  services    value\n"
                  "---------  ---------  --------  --------  --------  -------\n"
                  "CH-AVR     economic   cash      EUR             12  1500.50\n"
                  "CH-AVR     economic   in_kind   -              <10        x\n"
                  "CH-AVR     social     training  CHF             20   999.99\n",
                  render("reintegration", s_reint, PUBLISHED, CF_TABLE_PLAIN));
    assert_render("[\n"
                  "  {\"programme\": \"CH-AVR\", \"origin_country\": \"GIN\", \"surveys\": 10, "
                  "\"economic\": 0.75, \"social\": 1.235, \"psychosocial\": 0.0, "
                  "\"composite\": 1.25},\n"
                  "  {\"programme\": \"CH-AVR\", \"origin_country\": \"SEN\", \"surveys\": 2, "
                  "\"economic\": 1.0, \"social\": 0.0, \"psychosocial\": 0.0, "
                  "\"composite\": null}\n"
                  "]\n",
                  render("reintegration", s_monitor, (choices_t) { .by = "origin", .exact = true },
                         CF_TABLE_JSON));
    /*  SEN's 2 is masked, and GIN's 10 with it (CH-AVR's total).            */
    assert_render("[\n"
                  "  {\"programme\": \"CH-AVR\", \"origin_country\": \"GIN\", \"surveys\": null, "
                  "\"economic\": null, \"social\": null, \"psychosocial\": null, "
                  "\"composite\": null, \"suppressed\": {\"surveys\": \"<10\", \"economic\": \"x\", "
                  "\"social\": \"x\", \"psychosocial\": \"x\", \"composite\": \"x\"}},\n"
                  "  {\"programme\": \"CH-AVR\", \"origin_country\": \"SEN\", \"surveys\": null, "
                  "\"economic\": null, \"social\": null, \"psychosocial\": null, "
                  "\"composite\": null, \"suppressed\": {\"surveys\": \"<10\", \"economic\": \"x\", "
                  "\"social\": \"x\", \"psychosocial\": \"x\", \"composite\": \"x\"}}\n"
                  "]\n",
                  render("reintegration", s_monitor, (choices_t) { .by = "origin" },
                         CF_TABLE_JSON));
}

static const counter_t s_services[] = {
    { "CH-AVR|screening|health:referred|-|events", 14 },
    { "CH-AVR|assistance|cash_grant|EUR|events", 11 },
    { "CH-AVR|assistance|cash_grant|EUR|value", 55000 }, { "CH-AVR|departure|air|-|events", 30 },
    { "CH-AVR|escort|air|-|events", 2 },  { "CH-AVR|closure|completed|-|events", 40 },
    { NULL, 0 } };

static void test_services_in_case_order(void **state)
{
    (void) state;
    assert_render("programme,service,detail,currency,events,value\r\n"
                  "CH-AVR,screening,health:referred,-,14,0.00\r\n"
                  "CH-AVR,assistance,cash_grant,EUR,11,550.00\r\n"
                  "CH-AVR,departure,air,-,30,0.00\r\n"
                  "CH-AVR,escort,air,-,2,0.00\r\n"
                  "CH-AVR,closure,completed,-,40,0.00\r\n",
                  render("services", s_services, EXACT, CF_TABLE_CSV));
    /*  Escorts by air are a part of departures by air: masking the 2 alone
        would leave it to be worked out from the total of "air".            */
    assert_render("programme,service,detail,currency,events,value\r\n"
                  "CH-AVR,screening,health:referred,-,14,0.00\r\n"
                  "CH-AVR,assistance,cash_grant,EUR,11,550.00\r\n"
                  "CH-AVR,departure,air,-,<10,x\r\n"
                  "CH-AVR,escort,air,-,<10,x\r\n"
                  "CH-AVR,closure,completed,-,40,0.00\r\n",
                  render("services", s_services, PUBLISHED, CF_TABLE_CSV));
}

static const counter_t s_funding[] = {
    { "day:2024-01-10|Sweden%7CSida|P-1|EUR|1|transactions", 1 },
    { "day:2024-01-10|Sweden%7CSida|P-1|EUR|1|value", 1000000 },
    { "day:2024-02-10|Sweden%7CSida|P-1|EUR|1|transactions", 2 },
    { "day:2024-02-10|Sweden%7CSida|P-1|EUR|1|value", 500050 },
    { "day:2024-02-11|Sweden%7CSida|P-2|EUR|3|transactions", 1 },
    { "day:2024-02-11|Sweden%7CSida|P-2|EUR|3|value", 25000 },
    { "day:2024-03-01|100%25 Aid|P-2|USD|11|transactions", 1 },
    { "day:2024-03-01|100%25 Aid|P-2|USD|11|value", 99 },
    { "day:2024-03-01|100%25 Aid|P-2|USD|99|transactions", 1 },
    { "month:2024-03|100%25 Aid|P-2|USD|1|transactions", 5 }, { NULL, 0 } };

static void test_funding_unescaped_and_never_suppressed(void **state)
{
    (void) state;
    assert_render("donor        currency  transaction_type     transactions     value\n"
                  "-----------  --------  -------------------  ------------  --------\n"
                  "100% Aid     USD       incoming_commitment             1      0.99\n"
                  "100% Aid     USD       99                              1      0.00\n"
                  "Sweden|Sida  EUR       incoming_funds                  3  15000.50\n"
                  "Sweden|Sida  EUR       disbursement                    1    250.00\n",
                  render("funding", s_funding, PUBLISHED, CF_TABLE_PLAIN));
    assert_render("[\n"
                  "  {\"project_id\": \"P-1\", \"currency\": \"EUR\", \"transaction_type\": "
                  "\"incoming_funds\", \"transactions\": 2, \"value\": 5000.5},\n"
                  "  {\"project_id\": \"P-2\", \"currency\": \"EUR\", \"transaction_type\": "
                  "\"disbursement\", \"transactions\": 1, \"value\": 250.0}\n"
                  "]\n",
                  render("funding", s_funding,
                         (choices_t) { .by = "project", .from = "2024-02", .to = "2024-02" },
                         CF_TABLE_JSON));
}

static const counter_t s_flows[] = {
    { "day:2024-03-01|central_med|LBY|ITA|ITA|count", 40 },
    { "day:2024-03-01|central_med|LBY|ITA|ITA|females", 10 },
    { "day:2024-03-01|central_med|LBY|ITA|ITA|males", 30 },
    { "day:2024-03-01|central_med|LBY|ITA|ITA|uasc", 6 },
    { "day:2024-03-01|central_med|LBY|ITA|ITA|uasc_base", 30 },
    { "day:2024-03-09|central_med|TUN|ITA|ITA|count", 25 },
    { "day:2024-03-09|central_med|TUN|ITA|ITA|females", 5 },
    { "day:2024-03-09|central_med|TUN|ITA|ITA|males", 20 },
    { "day:2024-04-01|central_med|LBY|ITA|LBY|count", 12 },
    { "day:2024-04-01|central_med|LBY|ITA|LBY|uasc", 12 },
    { "day:2024-04-01|central_med|LBY|ITA|LBY|uasc_base", 12 },
    { "day:2024-03-05|-|NER|LBY|NER|count", 8 },
    { "day:2024-03-05|-|NER|LBY|NER|minors", 8 }, { NULL, 0 } };

static void test_flows_by_route_pair_and_country(void **state)
{
    (void) state;
    assert_render("[\n"
                  "  {\"route\": \"-\", \"month\": \"2024-03\", \"count\": 8, \"females\": 0, "
                  "\"males\": 0, \"uasc\": 0, \"uasc_share\": null},\n"
                  "  {\"route\": \"central_med\", \"month\": \"2024-03\", \"count\": 65, "
                  "\"females\": 15, \"males\": 50, \"uasc\": 6, \"uasc_share\": 0.2},\n"
                  "  {\"route\": \"central_med\", \"month\": \"2024-04\", \"count\": 12, "
                  "\"females\": 0, \"males\": 0, \"uasc\": 12, \"uasc_share\": 1.0}\n"
                  "]\n",
                  render("flows", s_flows, EXACT, CF_TABLE_JSON));
    /*  The 8 in March needs March's 65 masked, which needs April's 12 on
        the route; uasc masks 6 (under 11) and then April's 12 with it.     */
    assert_render("route        month    count  females  males  uasc  uasc_share\n"
                  "-----------  -------  -----  -------  -----  ----  ----------\n"
                  "-            2024-03    <10        0      0     0\n"
                  "central_med  2024-03    <10       15     50   <11           x\n"
                  "central_med  2024-04    <10        0      0   <11           x\n",
                  render("flows", s_flows, PUBLISHED, CF_TABLE_PLAIN));
    assert_render("from_country,to_country,year,count,females,males,uasc,uasc_share\r\n"
                  "LBY,ITA,2024,52,10,30,18,0.429\r\n"
                  "NER,LBY,2024,8,0,0,0,\r\n"
                  "TUN,ITA,2024,25,5,20,0,\r\n",
                  render("flows", s_flows, (choices_t) { .by = "pair", .period = "year",
                                                          .exact = true }, CF_TABLE_CSV));
    assert_render("country,day,count,females,males,uasc,uasc_share\r\n"
                  "NER,2024-03-05,8,0,0,0,\r\n"
                  "ITA,2024-03-09,25,5,20,0,\r\n",
                  render("flows", s_flows,
                         (choices_t) { .by = "country", .period = "day", .from = "2024-03-05",
                                       .to = "2024-03", .exact = true },
                         CF_TABLE_CSV));
}

static void test_bad_choices_fail_with_a_reason(void **state)
{
    (void) state;
    assert_null(cf_report_new("stage"));
    cf_report_t *report = cf_report_new("returns");
    assert_string_equal(cf_report_error(report), "");
    assert_string_equal(cf_report_family(report), "returns");
    assert_int_equal(cf_report_set_by(report, "country"), -1);
    assert_string_equal(cf_report_error(report),
                        "'country' is not origin, host, programme or route");
    assert_int_equal(cf_report_set_period(report, "week"), -1);
    assert_string_equal(cf_report_error(report), "'week' is not day, month or year");
    assert_int_equal(cf_report_set_programme(report, ""), -1);
    assert_int_equal(cf_report_set_from(report, "2024-13"), -1);
    assert_string_equal(cf_report_error(report),
                        "'2024-13' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)");
    assert_int_equal(cf_report_set_from(report, "24"), -1);
    assert_int_equal(cf_report_set_to(report, "2024-01-32"), -1);
    assert_int_equal(cf_report_set_to(report, "2024/01/02"), -1);
    assert_int_equal(cf_report_set_from(report, "2024-05"), 0);
    assert_int_equal(cf_report_set_to(report, "2024-04-30"), -1);
    assert_string_equal(cf_report_error(report), "2024-04-30 is before --from 2024-05");
    assert_int_equal(cf_report_set_to(report, "2024-05-01"), 0);
    assert_int_equal(cf_report_set_from(report, "2025"), -1);
    assert_string_equal(cf_report_error(report), "2025 is after --to 2024-05-01");
    cf_report_destroy(&report);

    report = cf_report_new("stages");
    assert_int_equal(cf_report_set_by(report, "host"), -1);
    assert_string_equal(cf_report_error(report), "the stages report has no breakdown");
    assert_int_equal(cf_report_set_period(report, "day"), -1);
    assert_string_equal(cf_report_error(report), "the stages report has no period");
    assert_int_equal(cf_report_set_from(report, "2024"), -1);
    assert_string_equal(cf_report_error(report), "the stages report has no dates");
    cf_report_destroy(&report);

    report = cf_report_new("flows");
    assert_int_equal(cf_report_set_programme(report, "CH-AVR"), -1);
    assert_string_equal(cf_report_error(report), "the flows report has no programme");
    assert_int_equal(cf_report_set_by(report, "origin"), -1);
    assert_string_equal(cf_report_error(report), "'origin' is not route, pair or country");
    cf_report_destroy(&report);

    report = cf_report_new("reintegration");
    assert_string_equal(cf_report_family(report), "reint");
    assert_int_equal(cf_report_set_by(report, "donor"), -1);
    assert_string_equal(cf_report_error(report), "'donor' is not service or origin");
    assert_int_equal(cf_report_set_by(report, "origin"), 0);
    assert_string_equal(cf_report_family(report), "monitor");
    cf_report_destroy(&report);

    report = cf_report_new("funding");
    assert_int_equal(cf_report_set_period(report, "month"), -1);
    assert_string_equal(cf_report_error(report), "the funding report has no period");
    cf_report_destroy(&report);

    report = cf_report_new("quality");
    assert_int_equal(cf_report_set_programme(report, "CH-AVR"), -1);
    assert_string_equal(cf_report_error(report), "the quality report has no programme");
    cf_report_destroy(&report);
    cf_report_destroy(&report);     /* NULL is fine */
}

static void test_catalogue(void **state)
{
    (void) state;
    const char *names[] = { "stages", "returns", "vulnerability", "demographics", "durations",
                            "detention", "reintegration", "services", "funding", "flows",
                            "quality" };
    const char *families[] = { "stage", "returns", "vuln", "demo", "dur", "detention", "reint",
                               "services", "funding", "flows", "quality" };
    assert_int_equal(cf_report_catalogue_size(), 11);
    for (size_t i = 0; i < 11; i++) {
        assert_string_equal(cf_report_catalogue_name(i), names[i]);
        assert_true(strlen(cf_report_catalogue_summary(i)) > 10);
        assert_true(strlen(cf_report_catalogue_summary(i)) < 100);
        cf_report_t *report = cf_report_new(names[i]);
        assert_string_equal(cf_report_name(report), names[i]);
        assert_string_equal(cf_report_family(report), families[i]);
        cf_report_destroy(&report);
    }
}

/*  cf_report_choose: what ctl and caseflow-web both apply, naming the first
    bad choice with the caller's prefix.                                     */
static void test_choose_names_the_bad_choice(void **state)
{
    (void) state;
    char err[256];
    cf_report_choices_t c = { .name = "returns", .by = "host", .period = "month",
                              .programme = "CH-AVR", .from = "2024", .exact = true };
    cf_report_t *r = cf_report_choose(&c, "--", err, sizeof err);
    assert_non_null(r);
    assert_string_equal(cf_report_name(r), "returns");
    cf_report_destroy(&r);
    c.name = "nonsense";
    assert_null(cf_report_choose(&c, "--", err, sizeof err));
    assert_string_equal(err, "unknown report 'nonsense'");
    c.name = "returns";
    c.period = "week";
    assert_null(cf_report_choose(&c, "", err, sizeof err));
    assert_true(!strncmp(err, "period: ", 8));
    c.period = NULL;
    c.name = "funding";
    c.by = NULL;
    assert_null(cf_report_choose(&c, "--", err, sizeof err));
    assert_true(!strncmp(err, "--programme: ", 13));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_text),
        cmocka_unit_test(test_stages_json_and_csv),
        cmocka_unit_test(test_returns_by_origin_per_year),
        cmocka_unit_test(test_returns_months_and_days_come_from_days),
        cmocka_unit_test(test_returns_date_range),
        cmocka_unit_test(test_vulnerability_exact_and_published),
        cmocka_unit_test(test_demographics_in_band_order),
        cmocka_unit_test(test_durations_from_buckets),
        cmocka_unit_test(test_detention_by_country),
        cmocka_unit_test(test_reintegration_by_service_and_origin),
        cmocka_unit_test(test_services_in_case_order),
        cmocka_unit_test(test_funding_unescaped_and_never_suppressed),
        cmocka_unit_test(test_flows_by_route_pair_and_country),
        cmocka_unit_test(test_quality_shows_fixed_measures),
        cmocka_unit_test(test_bad_choices_fail_with_a_reason),
        cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_choose_names_the_bad_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
