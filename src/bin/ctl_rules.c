/*  caseflow-ctl rules: `rules check FILE` reads a rules file the way the
    daemons will (cf_rules) and says whether they would take it, without
    starting or reaching anything: "FILE: ok" and a summary, or with --json
    the map the workers' fold gets (cf_fold_set_rules), as JSON. A bad file
    is its error line ("FILE:LINE: section.key: reason") on stderr and
    exit 1.                                                                  */
#include "ctl.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_rules.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_rules_usage =
    "Usage: caseflow-ctl rules check FILE [--json]\n"
    "  check FILE            validate a rules file (format: deploy/rules.ini,\n"
    "                        docs/notifications.md); exit 0 when good, 1 with\n"
    "                        FILE:LINE: section.key: reason on stderr when not\n"
    "  --json                print the rules as the workers get them, one JSON object\n"
    "  --help                this text\n";

typedef struct {
    const char *action, *file;
    bool json, help;
} rules_args_t;

/*  Fills a from argv (argv[0] is "rules"). NULL, or the usage problem.      */
static const char *rules_parse_args(int argc, char **argv, rules_args_t *a, char *err, size_t n)
{
    static const struct option options[] = {
        { "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (opt == 'j')
            a->json = true;
        else if (opt == 'h')
            a->help = true;
        else {
            snprintf(err, n, "unknown option '%s' (see caseflow-ctl rules --help)",
                     argv[optind - 1]);
            return err;
        }
    }
    a->action = optind < argc ? argv[optind++] : NULL;
    a->file = optind < argc ? argv[optind++] : NULL;
    if (a->help)
        return NULL;
    if (optind < argc) {
        snprintf(err, n, "unexpected argument '%s' (see caseflow-ctl rules --help)", argv[optind]);
        return err;
    }
    if (!a->action)
        return "which action? check (see caseflow-ctl rules --help)";
    if (strcmp(a->action, "check"))
        return "unknown action (check; see caseflow-ctl rules --help)";
    if (!a->file)
        return "check: which file?";
    return NULL;
}

/*  Prints the rules as JSON or as a summary. 0, or 1 when stdout fails.     */
static int rules_print(const cf_rules_t *rules, const char *file, bool json)
{
    int rc;
    if (json) {
        msgpack_sbuffer packed;
        msgpack_sbuffer_init(&packed);
        cf_rules_pack(rules, &packed);
        cf_json_t *converter = cf_json_new();
        const char *text = cf_json_from_msgpack(converter, packed.data, packed.size);
        rc = !text || printf("%s\n", text) < 0;
        cf_json_destroy(&converter);
        msgpack_sbuffer_destroy(&packed);
    } else {
        char *summary = cf_rules_describe(rules);
        rc = printf("%s: ok\n%s", file, summary) < 0;
        free(summary);
    }
    if (fflush(stdout) != 0 || rc) {
        fprintf(stderr, "caseflow-ctl: rules: cannot write to standard output\n");
        return 1;
    }
    return 0;
}

int ctl_rules(int argc, char **argv)
{
    rules_args_t a = { 0 };
    char err[512];
    const char *problem = rules_parse_args(argc, argv, &a, err, sizeof err);
    if (problem) {
        fprintf(stderr, "caseflow-ctl: rules: %s\n", problem);
        return 2;
    }
    if (a.help) {
        fputs(s_rules_usage, stdout);
        return 0;
    }
    cf_rules_t *rules = cf_rules_new();
    int rc;
    if (cf_rules_load(rules, a.file) < 0) {
        fprintf(stderr, "%s\n", cf_rules_error(rules));
        rc = 1;
    } else
        rc = rules_print(rules, a.file, a.json);
    cf_rules_destroy(&rules);
    return rc;
}
