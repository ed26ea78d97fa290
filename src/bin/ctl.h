/*  caseflow-ctl's commands, one file each: report (ctl.c), dlq (ctl_dlq.c)
    and rules (ctl_rules.c). Each takes argv from its own name on and
    returns the exit status: 0, 1 for a runtime error, 2 for a usage error.  */
#ifndef CTL_H
#define CTL_H

#define CTL_DEFAULT_REDIS "127.0.0.1:6379"

int ctl_report(int argc, char **argv);
int ctl_dlq(int argc, char **argv);
int ctl_clock(int argc, char **argv);
int ctl_rules(int argc, char **argv);
int ctl_keygen(int argc, char **argv);

/*  A command that talks to the broker takes --curve-key FILE (env
    CASEFLOW_OPERATOR_KEY) and --server-key FILE (env CASEFLOW_SERVER_KEY)
    through cf_args_curve; the broker admits it on an endpoint whose ZAP
    domain names CF_ZAP_OPERATORS.                                          */

#endif
