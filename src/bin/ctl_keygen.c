/*  caseflow-ctl keygen: a new CURVE key pair for a broker, a producer, a
    worker, a subscriber or an operator (docs/security.md): NAME.key, the
    secret, mode 0600, and NAME.pub, the public key that goes into the
    broker's allow-lists (or, for the broker's own pair, to its clients'
    --server-key). Existing files are never overwritten.                    */
#include "ctl.h"
#include "caseflow/cf_curve.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static const char *s_keygen_usage =
    "Usage: caseflow-ctl keygen NAME [--dir DIR]\n"
    "Writes DIR/NAME.key (the secret key, mode 0600) and DIR/NAME.pub (the\n"
    "public key; one Z85 line each) and prints the public key.\n"
    "  --dir DIR             where (default: the current directory)\n"
    "  --help                this text\n";

int ctl_keygen(int argc, char **argv)
{
    static const struct option options[] = { { "dir", required_argument, 0, 'd' },
                                             { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    const char *dir = ".";
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'h': fputs(s_keygen_usage, stdout); return 0;
        case ':': fprintf(stderr, "caseflow-ctl: keygen: %s needs a value\n", argv[optind - 1]);
                  return 2;
        default: fprintf(stderr, "caseflow-ctl: keygen: unknown option '%s' (see --help)\n",
                         argv[optind - 1]);
                 return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "caseflow-ctl: keygen: give one NAME (see --help)\n");
        return 2;
    }
    char err[512];
    cf_curve_t *pair = cf_curve_new();
    if (!pair) {
        fprintf(stderr, "caseflow-ctl: keygen: this libzmq has no CURVE (built without "
                "libsodium)\n");
        return 1;
    }
    int rc = cf_curve_save(pair, dir, argv[optind], err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "caseflow-ctl: keygen: %s\n", err);
    else
        printf("%s\n", cf_curve_public(pair));
    cf_curve_destroy(&pair);
    return rc < 0 ? 1 : 0;
}
