/*  caseflow-ctl report: reads one counter family from Redis (summed over
    the shards by cf_store), builds the named report with cf_report
    (publication rules on unless --exact) and prints it as text, JSON or
    CSV. This file parses options and prints; the work is in the library.  */
#include "ctl.h"
#include "caseflow/cf_counts.h"
#include "caseflow/cf_report.h"
#include "caseflow/cf_store.h"
#include "caseflow/cf_table.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cf_report_choices_t choices;    /* name NULL until given */
    cf_table_format_t format;
    bool help;
} report_args_t;

static const char *s_report_usage =
    "Usage: caseflow-ctl report NAME [options]\n"
    "  --json                an array of objects, one per row\n"
    "  --csv                 RFC 4180 CSV with a header record\n"
    "  --programme P         only programme P's counters (not funding, flows, quality)\n"
    "  --by X                the breakdown; the first is the default:\n"
    "                          returns origin, host, programme or route\n"
    "                          reintegration service or origin\n"
    "                          funding donor or project\n"
    "                          flows route, pair or country\n"
    "  --period P            returns (default year), flows (default month): year, month\n"
    "                        or day\n"
    "  --from D, --to D      returns, flows, funding: only the days in that range\n"
    "                        (inclusive; D is YYYY, YYYY-MM or YYYY-MM-DD)\n"
    "  --exact               exact counts, for operators; by default a count from 1\n"
    "                        to 9 shows as <10 (to 10 as <11 for vot, uasc, health),\n"
    "                        with the other counts that would give it away\n"
    "  --round               counts shown rounded to the nearest 5\n"
    "  --help                this text\n";

static void report_help(cf_settings_t *settings)
{
    ctl_help(s_report_usage, settings);
    fputs("reports:\n", stdout);
    for (size_t i = 0; i < cf_report_catalogue_size(); i++)
        printf("  %-15s %s\n", cf_report_catalogue_name(i), cf_report_catalogue_summary(i));
}

/*  Fills args from argv (argv[0] is "report"). 0, or -1 with err set.       */
static int report_parse(int argc, char **argv, cf_settings_t *settings, report_args_t *args,
                        char *err, size_t n)
{
    static const struct option options[] = {
        { "json", no_argument, 0, 'j' },
        { "csv", no_argument, 0, 'c' },          { "programme", required_argument, 0, 'P' },
        { "by", required_argument, 0, 'b' },     { "period", required_argument, 0, 'p' },
        { "from", required_argument, 0, 'f' },   { "to", required_argument, 0, 't' },
        { "exact", no_argument, 0, 'e' },        { "round", no_argument, 0, 'R' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 } };
    int opt;
    opterr = 0;
    while ((opt = cf_settings_getopt(settings, argc, argv, ":h", options)) != -1) {
        switch (opt) {
        case 'j': case 'c':
            if (args->format != CF_TABLE_PLAIN) {
                snprintf(err, n, "--json and --csv: give one of them");
                return -1;
            }
            args->format = opt == 'j' ? CF_TABLE_JSON : CF_TABLE_CSV;
            break;
        case 'P': args->choices.programme = optarg; break;
        case 'b': args->choices.by = optarg; break;
        case 'p': args->choices.period = optarg; break;
        case 'f': args->choices.from = optarg; break;
        case 't': args->choices.to = optarg; break;
        case 'e': args->choices.exact = true; break;
        case 'R': args->choices.round = true; break;
        case 'h': args->help = true; break;
        case ':': snprintf(err, n, "%s needs a value", argv[optind - 1]); return -1;
        default:
            if (optopt)
                snprintf(err, n, "unknown option '-%c' (see caseflow-ctl report --help)", optopt);
            else
                snprintf(err, n, "unknown option '%s' (see caseflow-ctl report --help)",
                         argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc)
        args->choices.name = argv[optind++];
    if (optind < argc) {
        snprintf(err, n, "unexpected argument '%s' (see caseflow-ctl report --help)",
                 argv[optind]);
        return -1;
    }
    return 0;
}

/*  Reads the report's counters from Redis at host:port and prints the
    report. 0, or -1 with err set.                                           */
static int report_print(cf_settings_t *settings, const cf_report_t *report, const char *host,
                        int port, cf_table_format_t format, char *err, size_t n)
{
    cf_store_t *store = ctl_store_new(settings, host, port, NULL, err, n);    /* a reader: no scripts */
    if (!store)
        return -1;
    cf_counts_t *counts = NULL;
    int rc = -1;
    if (cf_store_connect(store) < 0
        || cf_store_read_family(store, cf_report_family(report), &counts) < 0)
        snprintf(err, n, "redis %s:%d: %s", host, port, cf_store_error(store));
    else {
        cf_table_t *table = cf_report_build(report, counts);
        char *text = cf_table_render(table, format);
        rc = fputs(text, stdout) < 0 || fflush(stdout) != 0 ? -1 : 0;
        if (rc < 0)
            snprintf(err, n, "cannot write the report to standard output");
        free(text);
        cf_table_destroy(&table);
    }
    cf_counts_destroy(&counts);
    cf_store_destroy(&store);
    return rc;
}

/*  The report command, with the settings it reads. Exit status.            */
static int report_run(int argc, char **argv, cf_settings_t *settings)
{
    report_args_t args = { 0 };
    char err[2048], host[CF_SETTINGS_HOST_MAX];
    int port;
    if (report_parse(argc, argv, settings, &args, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-ctl: report: %s\n", err);
        return 2;
    }
    if (args.help) {
        report_help(settings);
        return 0;
    }
    if (!args.choices.name) {
        fprintf(stderr, "caseflow-ctl: report: which report? (see caseflow-ctl report --help)\n");
        return 2;
    }
    cf_report_t *report = cf_report_choose(&args.choices, "--", err, sizeof err);
    if (!report && !strncmp(err, "unknown report", 14))
        strncat(err, " (see caseflow-ctl report --help)", sizeof err - strlen(err) - 1);
    if (!report || ctl_settings_redis(settings, host, sizeof host, &port, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-ctl: report: %s\n", err);
        cf_report_destroy(&report);
        return 2;
    }
    int rc = report_print(settings, report, host, port, args.format, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "caseflow-ctl: report %s: %s\n", cf_report_name(report), err);
    cf_report_destroy(&report);
    return rc < 0 ? 1 : 0;
}

int ctl_report(int argc, char **argv)
{
    cf_settings_t *settings = cf_settings_new("ctl");
    int rc = report_run(argc, argv, settings);
    cf_settings_destroy(&settings);
    return rc;
}
