/*  Tests of cf_codes: the tables are complete and sorted (a scan of every
    three-letter upper-case string finds exactly as many codes as the tables
    hold, which fails if bsearch misses an entry out of order), the codes the
    seeds use are there, and withdrawn, lower-case, reserved and wrong-length
    inputs are refused.                                                      */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "cf_codes.h"

static size_t scan_all(bool (*is_code)(const char *, size_t))
{
    size_t found = 0;
    char code[3];
    for (code[0] = 'A'; code[0] <= 'Z'; code[0]++)
        for (code[1] = 'A'; code[1] <= 'Z'; code[1]++)
            for (code[2] = 'A'; code[2] <= 'Z'; code[2]++)
                found += is_code(code, 3);
    return found;
}

static void test_tables_complete_and_sorted(void **state)
{
    (void) state;
    assert_int_equal(cf_codes_country_count(), 250);    /* 249 ISO + XKX */
    assert_int_equal(cf_codes_currency_count(), 176);
    assert_int_equal(scan_all(cf_codes_is_country), cf_codes_country_count());
    assert_int_equal(scan_all(cf_codes_is_currency), cf_codes_currency_count());
}

static void test_countries(void **state)
{
    (void) state;
    const char *yes[] = { "CHE", "GBR", "LBY", "MLI", "GMB", "SEN", "GIN", "XKX", "ITA", "TUN",
                          "ABW", "ZWE", "SSD", "CUW", "BES", "SXM", "PSE", "TWN", "ATA" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        assert_true(cf_codes_is_country(yes[i], 3));
    const char *no[] = { "che", "Che", "XXX", "ANT", "YUG", "SCG", "CSK", "ZAR", "UK ", "EUR",
                         "KOS", "AAA", "ZZZ" };
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_false(cf_codes_is_country(no[i], 3));
    assert_false(cf_codes_is_country("CH", 2));
    assert_false(cf_codes_is_country("CHEE", 4));
    assert_false(cf_codes_is_country("CHE", 0));
    assert_false(cf_codes_is_country(NULL, 3));
    assert_false(cf_codes_is_country("CH\0", 3));
    assert_true(cf_codes_is_country("CHEESE", 3));      /* the length decides */
}

static void test_currencies(void **state)
{
    (void) state;
    const char *yes[] = { "USD", "EUR", "CHF", "GBP", "XOF", "GMD", "GNF", "LYD", "MRU", "TND",
                          "XCG", "ZWG", "SLE", "VED", "XAD", "XDR", "XAU", "CHE", "BOV", "AED",
                          "ZMW" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        assert_true(cf_codes_is_currency(yes[i], 3));
    const char *no[] = { "usd", "XXX", "XTS", "HRK", "BGN", "ANG", "ZWL", "SLL", "CUC", "DEM",
                         "FRF", "ITL", "US$", "GMB" };
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_false(cf_codes_is_currency(no[i], 3));
    assert_false(cf_codes_is_currency("US", 2));
    assert_false(cf_codes_is_currency("USDT", 4));
    assert_false(cf_codes_is_currency(NULL, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_complete_and_sorted),
        cmocka_unit_test(test_countries),
        cmocka_unit_test(test_currencies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
