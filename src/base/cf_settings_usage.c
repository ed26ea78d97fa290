/*  cf_settings_usage: the --help lines of a program's settings, made from
    the table (cf_settings_table.c) so that --help can never miss one: the
    flag and its argument, the help text wrapped at 79 columns, and the
    environment variable, range and default in brackets.                    */
#include "cf_settings_internal.h"
#include "caseflow/cf_alloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 24
#define HELP_WIDTH 79

/*  One --help entry: left column, then text wrapped at HELP_WIDTH.          */
static void help_entry(FILE *out, const char *left, const char *text)
{
    int column = fprintf(out, "  %s", left);
    if (column >= HELP_COLUMN) {
        fputc('\n', out);
        column = 0;
    }
    column += fprintf(out, "%*s", HELP_COLUMN - column, "");
    bool line_start = true;
    for (const char *word = text; *word;) {
        int len = (int) strcspn(word, " ");
        if (!line_start && column + 1 + len > HELP_WIDTH) {
            column = fprintf(out, "\n%*s", HELP_COLUMN, "") - 1;
            line_start = true;
        }
        column += fprintf(out, "%s%.*s", line_start ? "" : " ", len, word);
        line_start = false;
        word += len;
        word += strspn(word, " ");
    }
    fputc('\n', out);
}

char *settings_usage_text(const char *section, const char *head, const char *tail)
{
    unsigned program = cf_settings_program(section);
    char left[128], right[1024], env[64], *text = NULL;
    size_t size = 0;
    FILE *out = cf_memstream_open(&text, &size);
    fputs(head, out);
    for (size_t i = 0; i < cf_settings_rows(); i++) {
        const cf_setting_t *row = cf_settings_row(i);
        if (!(row->programs & program))
            continue;
        cf_settings_env_name(row, env, sizeof env);
        if (row->flags & CF_SETTING_ENV_ONLY)
            snprintf(left, sizeof left, "env %s", env);
        else
            snprintf(left, sizeof left, "--%s%s%s", row->name, *row->arg ? " " : "", row->arg);
        char range[64] = "";
        if (row->type == CF_SETTING_NUMBER)
            snprintf(range, sizeof range, ", %lld to %lld", row->min, row->max);
        snprintf(right, sizeof right, "%s [%s%s%s%s%s]", row->help,
                 row->flags & CF_SETTING_ENV_ONLY ? "environment only" : "env ",
                 row->flags & CF_SETTING_ENV_ONLY ? "" : env, range,
                 row->def ? ", default " : "", row->def ? row->def : "");
        help_entry(out, left, right);
    }
    snprintf(right, sizeof right, "settings from FILE: keys named as the flags, in [%s] or, "
             "for shared ones, [%s] [env CASEFLOW_CONFIG]", section, CF_SETTINGS_SHARED);
    help_entry(out, "--config FILE", right);
    help_entry(out, "--version", "print the program's name and version, and exit");
    fputs(tail ? tail : "  --help                this text\n", out);
    cf_memstream_close(out);
    return text;
}
