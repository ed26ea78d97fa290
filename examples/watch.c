/*  watch: prints caseflow notifications with libcaseflow-client. An
    example of the installed library (examples/README.md);
    integration.c_library builds and runs it.

        cc watch.c $(pkg-config --cflags --libs caseflow) -o watch
        ./watch tcp://127.0.0.1:5556 5 case.    # 5 notifications of topics case.*

    Prints one line per notification: topic, seq, and how many were missed
    before it on its (publisher, topic). With CASEFLOW_INTAKE set it first
    asks for the snapshot (the current state) and prints its size; what the
    snapshot holds already is then never printed. With
    CASEFLOW_SUBSCRIBER_KEY and CASEFLOW_SERVER_KEY it connects with CURVE.
    Exit 0 after COUNT notifications, 1 after 20 s without one.             */
#include <caseflow/cf_curve.h>
#include <caseflow/cf_subscriber.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: watch SUBSCRIBE_ENDPOINT COUNT [PREFIX...]\n");
        return 2;
    }
    char err[512];
    cf_curve_t *curve = NULL;
    if (cf_curve_client_new(getenv("CASEFLOW_SUBSCRIBER_KEY"), getenv("CASEFLOW_SERVER_KEY"),
                            &curve, err, sizeof err) < 0) {
        fprintf(stderr, "watch: %s\n", err);
        return 2;
    }
    cf_subscriber_t *sub = cf_subscriber_new(argv[1]);
    for (int i = 3; i < argc; i++)
        cf_subscriber_add_prefix(sub, argv[i]);
    cf_subscriber_set_curve(sub, curve);
    int status = cf_subscriber_connect(sub) == 0 ? 0 : 1;

    const char *intake = getenv("CASEFLOW_INTAKE");
    const void *snapshot;
    size_t size;
    if (status == 0 && intake) {
        if (cf_subscriber_snapshot(sub, intake, 10000, &snapshot, &size) == 0)
            printf("snapshot %zu bytes\n", size);
        else
            status = 1;
    }
    fflush(stdout);
    for (long left = atol(argv[2]); status == 0 && left > 0; left--) {
        cf_notification_t n;
        int got = cf_subscriber_recv(sub, 20000, &n);
        if (got == 1)
            printf("%.*s seq %" PRIu64 " missed %" PRIu64 "\n", (int) n.topic_len, n.topic,
                   n.seq, n.missed), fflush(stdout);
        else
            status = 1;
    }
    if (status)
        fprintf(stderr, "watch: %s\n", *cf_subscriber_error(sub) ? cf_subscriber_error(sub)
                                                                 : "no notification in 20 s");
    cf_subscriber_destroy(&sub);
    cf_curve_destroy(&curve);
    return status;
}
