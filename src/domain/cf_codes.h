/*  cf_codes: membership tests for the ISO code lists the domain uses, ISO
    3166-1 alpha-3 countries (plus XKX for Kosovo) and ISO 4217 currencies.
    The tables are constant and sorted; lookups are exact and case-sensitive
    ("che" is not a country), take a length so that strings straight out of a
    msgpack buffer need no terminator, and never allocate.                   */
#ifndef CF_CODES_H
#define CF_CODES_H

#include <stdbool.h>
#include <stddef.h>

/*  True when the len bytes at s are an assigned ISO 3166-1 alpha-3 code or
    XKX. False for any other length, for lower case and for NULL.            */
bool cf_codes_is_country(const char *s, size_t len);

/*  True when the len bytes at s are an active ISO 4217 currency code (XTS
    and XXX excluded). False for any other length, lower case and NULL.      */
bool cf_codes_is_currency(const char *s, size_t len);

/*  How many codes each table holds (250 and 176), for tests and reports.    */
size_t cf_codes_country_count(void);
size_t cf_codes_currency_count(void);

#endif
