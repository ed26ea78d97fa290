/*  caseflow-ctl's commands, one file each: report (ctl.c), dlq (ctl_dlq.c),
    rules (ctl_rules.c) and the broker's control (ctl_control.c: status,
    workers, drain, pause, resume, by argv[0]). Each takes argv from its own name on and
    returns the exit status: 0, 1 for a runtime error, 2 for a usage error.  */
#ifndef CTL_H
#define CTL_H

#define CTL_DEFAULT_REDIS "127.0.0.1:6379"

int ctl_report(int argc, char **argv);
int ctl_dlq(int argc, char **argv);
int ctl_clock(int argc, char **argv);
int ctl_rules(int argc, char **argv);
int ctl_control(int argc, char **argv);

#endif
