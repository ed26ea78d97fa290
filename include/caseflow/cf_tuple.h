/*  cf_tuple: how a counter row's measures are kept in one hash field
    (docs/storage.md, "Counter fields"). The fold adds to logical fields
    <row>|<measure>; when the measure is one of its family's
    (cf_vocab_family_measures), Redis holds the row's measures in the field
    <row> as one value, their integers in the family's order joined by ','
    ("3,7"): a commit reads and writes one hash field per row, not one per
    measure. Any other field is a scalar, kept as itself. Every reader of a
    counter hash expands what it reads with cf_tuple_expand, which takes the
    old layout (scalars only) too. Pure functions over bytes.             */
#ifndef CF_TUPLE_H
#define CF_TUPLE_H

#include <stddef.h>
#include <stdint.h>

#include "caseflow/cf_vocab.h"

/*  The longest value cf_tuple_format writes, with its NUL: a signed 64-bit
    integer is at most 20 characters, and each but the first has a ','.   */
#define CF_TUPLE_TEXT_MAX       (CF_VOCAB_MEASURES_MAX * 21 + 1)

/*  The longest physical field cf_tuple_expand takes.                      */
#define CF_TUPLE_FIELD_MAX      1024

/*  Where the logical field (len bytes at field) of family is kept: the
    index of its measure in the family's list, and the length of its row
    in *row_len; or -1 when it is a scalar (*row_len = len).                */
int cf_tuple_measure(int family, const char *field, size_t len, size_t *row_len);

/*  Parses a stored value of width integers (1: a scalar) into values: each
    a whole decimal number in a signed 64-bit integer, width of them joined
    by ','. 0, or -1 when it is not one.                                    */
int cf_tuple_parse(const char *value, size_t len, int64_t *values, size_t width);

/*  Writes width values joined by ',' and a NUL into text (at least
    CF_TUPLE_TEXT_MAX bytes); returns the length.                           */
size_t cf_tuple_format(char *text, const int64_t *values, size_t width);

/*  Receives one logical field and its value; field is valid during the
    call only.                                                              */
typedef void cf_tuple_fn(void *arg, const char *field, size_t len, int64_t value);

/*  Expands one stored field of family's hash into its logical fields: a
    value with a ',' is a tuple of the family's measures, each but those
    at 0 passed as <field>|<measure> (a measure never added to is 0 in its
    row's tuple, and readers take a 0 as absent); any other value is a
    scalar, passed as field. 0, or -1 (nothing passed) when the value does not parse as
    either, or is a tuple of a family without measures, or of another
    width, or the field is longer than CF_TUPLE_FIELD_MAX.                  */
int cf_tuple_expand(int family, const char *field, size_t len, const char *value,
                    size_t value_len, cf_tuple_fn *each, void *arg);

#endif
