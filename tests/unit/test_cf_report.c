/*  Tests of cf_report: hand-built counters, as cf_store would sum them, give
    exactly the rows, order and text, JSON and CSV forms docs/reports.md
    shows; bad choices fail with a reason on the report.                     */
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

static cf_counts_t *counts_of(const counter_t *counters)
{
    cf_counts_t *counts = cf_counts_new();
    for (size_t i = 0; counters[i].name; i++)
        cf_counts_add(counts, counters[i].name, strlen(counters[i].name), counters[i].value);
    return counts;
}

/*  Builds report name over counters with the given choices and renders it. */
static char *render(const char *name, const counter_t *counters, const char *programme,
                    const char *by, const char *period, bool public, cf_table_format_t format)
{
    cf_report_t *report = cf_report_new(name);
    assert_non_null(report);
    if (programme)
        assert_int_equal(cf_report_set_programme(report, programme), 0);
    if (by)
        assert_int_equal(cf_report_set_by(report, by), 0);
    if (period)
        assert_int_equal(cf_report_set_period(report, period), 0);
    cf_report_set_public(report, public);
    cf_counts_t *counts = counts_of(counters);
    cf_table_t *table = cf_report_build(report, counts);
    char *text = cf_table_render(table, format);
    cf_table_destroy(&table);
    cf_counts_destroy(&counts);
    cf_report_destroy(&report);
    assert_null(report);
    return text;
}

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
                  render("stages", s_stage, NULL, NULL, NULL, false, CF_TABLE_PLAIN));
}

static void test_stages_json_and_csv(void **state)
{
    (void) state;
    assert_render("[\n"
                  "  {\"programme\": \"UK-VARRP\", \"stage\": \"screened\", \"cases_now\": 1, "
                  "\"persons_now\": 1, \"cases_ever\": 1, \"persons_ever\": 1}\n"
                  "]\n",
                  render("stages", s_stage, "UK-VARRP", NULL, NULL, false, CF_TABLE_JSON));
    assert_render("programme,stage,cases_now,persons_now,cases_ever,persons_ever\r\n"
                  "CH-AVR,registered,2,5,221,530\r\n"
                  "CH-AVR,departed,0,0,160,320\r\n"
                  "CH-AVR,arrived,0,0,150,301\r\n",
                  render("stages", s_stage, "CH-AVR", NULL, NULL, false, CF_TABLE_CSV));
    assert_render("[]\n", render("stages", s_stage, "EU-IOM-JI", NULL, NULL, false,
                                 CF_TABLE_JSON));
}

static const counter_t s_returns[] = {
    { "year:2024|origin|MLI|CH-AVR|cases", 3 },     { "year:2024|origin|MLI|CH-AVR|persons", 7 },
    { "year:2024|origin|MLI|UK-VARRP|cases", 2 },   { "year:2024|origin|MLI|UK-VARRP|persons", 2 },
    { "year:2024|origin|GMB|CH-AVR|cases", 1 },     { "year:2024|origin|GMB|CH-AVR|persons", 4 },
    { "year:2023|origin|SEN|CH-AVR|cases", 5 },     { "year:2023|origin|SEN|CH-AVR|persons", 5 },
    { "year:2024|host|CHE|CH-AVR|cases", 4 },       { "month:2024-03|origin|MLI|CH-AVR|cases", 3 },
    { "month:2024-03|route|-|CH-AVR|cases", 1 },    { "month:2024-03|route|-|CH-AVR|persons", 2 },
    { "month:2024-02|route|central_mediterranean|CH-AVR|cases", 2 },
    { "month:2024-02|route|central_mediterranean|CH-AVR|persons", 3 },
    { "month:2024-02|route|central_mediterranean|UK-VARRP|cases", 6 },
    { "day:2024-03-01|route|-|CH-AVR|cases", 1 },   { "years:2024|origin|MLI|CH-AVR|cases", 8 },
    { NULL, 0 } };

static void test_returns_by_origin_per_year(void **state)
{
    (void) state;
    assert_render("origin_country  year  cases  persons\n"
                  "--------------  ----  -----  -------\n"
                  "SEN             2023      5        5\n"
                  "GMB             2024      1        4\n"
                  "MLI             2024      5        9\n",
                  render("returns", s_returns, NULL, NULL, NULL, false, CF_TABLE_PLAIN));
}

static void test_returns_by_route_per_month(void **state)
{
    (void) state;
    assert_render("route,month,cases,persons\r\n"
                  "central_mediterranean,2024-02,8,3\r\n"
                  "-,2024-03,1,2\r\n",
                  render("returns", s_returns, NULL, "route", "month", false, CF_TABLE_CSV));
    assert_render("[\n"
                  "  {\"route\": \"central_mediterranean\", \"month\": \"2024-02\", "
                  "\"cases\": 2, \"persons\": 3},\n"
                  "  {\"route\": \"-\", \"month\": \"2024-03\", \"cases\": 1, \"persons\": 2}\n"
                  "]\n",
                  render("returns", s_returns, "CH-AVR", "route", "month", false,
                         CF_TABLE_JSON));
}

static const counter_t s_vuln[] = {
    { "CH-AVR|vot", 10 }, { "CH-AVR|elderly", 10 }, { "CH-AVR|health", 11 },
    { "CH-AVR|uasc", 0 }, { "CH-AVR|disability", 3 }, { "UK-VARRP|single_parent", 22 },
    { NULL, 0 } };

static void test_vulnerability_exact_and_public(void **state)
{
    (void) state;
    assert_render("programme  vulnerability  cases\n"
                  "---------  -------------  -----\n"
                  "CH-AVR     disability         3\n"
                  "CH-AVR     elderly           10\n"
                  "CH-AVR     health            11\n"
                  "CH-AVR     vot               10\n"
                  "UK-VARRP   single_parent     22\n",
                  render("vulnerability", s_vuln, NULL, NULL, NULL, false, CF_TABLE_PLAIN));
    assert_render("programme  vulnerability  cases\n"
                  "---------  -------------  -----\n"
                  "CH-AVR     disability       <10\n"
                  "CH-AVR     elderly           10\n"
                  "CH-AVR     health            10\n"
                  "CH-AVR     vot              <11\n"
                  "UK-VARRP   single_parent     20\n",
                  render("vulnerability", s_vuln, NULL, NULL, NULL, true, CF_TABLE_PLAIN));
    assert_render("[\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"disability\", "
                  "\"cases\": null},\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"elderly\", \"cases\": 10},\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"health\", \"cases\": 10},\n"
                  "  {\"programme\": \"CH-AVR\", \"vulnerability\": \"vot\", \"cases\": null}\n"
                  "]\n",
                  render("vulnerability", s_vuln, "CH-AVR", NULL, NULL, true, CF_TABLE_JSON));
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
                  render("demographics", s_demo, NULL, NULL, NULL, false, CF_TABLE_PLAIN));
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
                  render("quality", s_quality, NULL, NULL, NULL, true, CF_TABLE_PLAIN));
    assert_render("measure,count\r\n"
                  "\"rejected:note, \"\"free\"\" text\",1\r\n"
                  "rejected:origin_country,12\r\n"
                  "rejected:persons[0].sex,3\r\n"
                  "duplicate,2\r\n"
                  "out_of_order,0\r\n"
                  "before_registration,0\r\n"
                  "repeat_registration,1\r\n",
                  render("quality", s_quality, NULL, NULL, NULL, false, CF_TABLE_CSV));
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
    cf_report_destroy(&report);

    report = cf_report_new("quality");
    assert_int_equal(cf_report_set_programme(report, "CH-AVR"), -1);
    assert_string_equal(cf_report_error(report), "the quality report has no programme");
    assert_int_equal(cf_report_set_by(report, "host"), -1);
    assert_string_equal(cf_report_error(report), "only the returns report takes it, not quality");
    cf_report_destroy(&report);
    cf_report_destroy(&report);     /* NULL is fine */
}

static void test_catalogue(void **state)
{
    (void) state;
    const char *names[] = { "stages", "returns", "vulnerability", "demographics", "quality" };
    const char *families[] = { "stage", "returns", "vuln", "demo", "quality" };
    assert_int_equal(cf_report_catalogue_size(), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(cf_report_catalogue_name(i), names[i]);
        assert_true(strlen(cf_report_catalogue_summary(i)) > 10);
        cf_report_t *report = cf_report_new(names[i]);
        assert_string_equal(cf_report_name(report), names[i]);
        assert_string_equal(cf_report_family(report), families[i]);
        cf_report_destroy(&report);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_text),
        cmocka_unit_test(test_stages_json_and_csv),
        cmocka_unit_test(test_returns_by_origin_per_year),
        cmocka_unit_test(test_returns_by_route_per_month),
        cmocka_unit_test(test_vulnerability_exact_and_public),
        cmocka_unit_test(test_demographics_in_band_order),
        cmocka_unit_test(test_quality_shows_fixed_measures),
        cmocka_unit_test(test_bad_choices_fail_with_a_reason),
        cmocka_unit_test(test_catalogue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
