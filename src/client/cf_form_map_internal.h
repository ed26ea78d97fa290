/*  cf_form_map_internal: what the parts of cf_form_map share: the mapping
    file as read and checked (cf_form_map.c), the values of its keys
    (cf_form_map_value.c: paths, filters, constants, templates) and its use
    on a submission (cf_form_map_apply.c, a value through its filters in
    cf_form_map_filter.c). Not for other modules.                           */
#ifndef CF_FORM_MAP_INTERNAL_H
#define CF_FORM_MAP_INTERNAL_H

#include "caseflow/cf_form_map.h"

#include <jansson.h>
#include <stdbool.h>

#define MAP_FILTERS_MAX     8       /* filters after one path */
#define MAP_NAME_MAX        32      /* a code list's name */
#define MAP_SPACE           " \t"  /* what separates a value's words */
#define MAP_ECHO_MAX        24      /* bytes of a value a reason echoes */

typedef enum { MAP_FIELD, MAP_CONSTANT, MAP_TEMPLATE } map_kind_t;

typedef enum {
    FILTER_INT, FILTER_NUMBER, FILTER_BOOL, FILTER_DATE, FILTER_LIST, FILTER_UPPER,
    FILTER_LOWER, FILTER_CODE
} map_filter_kind_t;

typedef struct {
    map_filter_kind_t kind;
    char name[MAP_NAME_MAX + 1];    /* FILTER_CODE: the list's */
    size_t list;                    /* FILTER_CODE: its index in codes */
} map_filter_t;

/*  One key of [fields], [constants] or [templates]: an event field and
    where its value comes from.                                             */
typedef struct {
    char *target;                   /* the event's field */
    map_kind_t kind;
    char *spec;                     /* the value as written: for reasons, and a template's text */
    char *path;                     /* MAP_FIELD: the submission's field */
    map_filter_t filters[MAP_FILTERS_MAX];
    size_t nfilters;
    json_t *constant;               /* MAP_CONSTANT */
    int line;
} map_rule_t;

/*  [codes.NAME]: a form's codes and caseflow's values for them.            */
typedef struct {
    char *code, *value;
} map_code_t;

typedef struct {
    char *name;
    map_code_t *items;
    size_t n, size;
} map_codes_t;

struct _cf_form_map_t {
    map_rule_t *rules;
    size_t nrules, rules_size;
    map_codes_t *codes;
    size_t ncodes, codes_size;
    char **ignore;                  /* [form] ignore: names, or prefixes ending in '*' */
    size_t nignore;
    char **used;                    /* the submission's fields the rules read */
    size_t nused, used_size;
};

/*  A code list's or filter's name: [A-Za-z0-9_-], 1..MAP_NAME_MAX.        */
bool map_name_ok(const char *s, size_t len);

/*  A submission's field path: printable, no space, no brace or '|', 1 to
    256 bytes.                                                               */
bool map_path_ok(const char *s, size_t len);

/*  Parses a [fields] value, "path | filter | code NAME ...", into rule (its
    path malloc'd, which the caller frees, also on failure). 0, or -1 with
    the reason in why.                                                       */
int map_parse_field(const char *value, map_rule_t *rule, char *why, size_t n);

/*  Parses a [constants] value: one JSON string, number or boolean. NULL
    with the reason in why.                                                  */
json_t *map_parse_constant(const char *value, char *why, size_t n);

/*  Checks a [templates] value: text with {path}s, at least one. 0, or -1
    with the reason in why.                                                  */
int map_check_template(const char *value, char *why, size_t n);

/*  A template's next "{path}" from *at: its path (len bytes) and the text
    before it (*lit_len bytes at the old *at); *at moves past it. 1 when a
    path was found, 0 at the end (the rest is text), -1 for a brace without
    its pair.                                                                */
int map_template_next(const char **at, size_t *lit_len, const char **path, size_t *len);

/*  Whether the submission's field name is read by a rule or ignored.       */
bool map_known(const cf_form_map_t *self, const char *name);

/*  value as at most MAP_ECHO_MAX printable ASCII bytes into buf (4 times
    that and 8 more), "..." when cut.                                        */
const char *cf_form_map_echo(const json_t *value, char *buf, size_t size);

#define ECHO(v) cf_form_map_echo((v), (char[MAP_ECHO_MAX * 4 + 16]) { 0 }, MAP_ECHO_MAX * 4 + 16)

/*  Writes "path: reason" into err and returns -1.                          */
int cf_form_map_fail(char *err, size_t n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*  value through filter f: a new reference, or NULL with the reason in err. */
json_t *cf_form_map_filter(const cf_form_map_t *self, const map_filter_t *f, const char *path,
                           json_t *value, char *err, size_t n);

#endif
