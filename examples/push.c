/*  push: sends case events to a caseflow broker with libcaseflow-client
    and prints how each ended. An example of the installed library
    (examples/README.md); integration.c_library builds and runs it.

        cc push.c $(pkg-config --cflags --libs caseflow msgpack) -o push
        ./push tcp://127.0.0.1:5555 3           # 3 registrations of one run

    Each event is one msgpack map (docs/protocol.md, section 1); here a
    case.registered of a made-up case per event, with a unique event_id
    (the idempotency key: sending it again is safe, it comes back
    "duplicate"). With CASEFLOW_PRODUCER_KEY and CASEFLOW_SERVER_KEY (the
    key files scripts/up exports) it connects with CURVE. Exit 0 when every
    event was accepted or duplicate.                                        */
#include <caseflow/cf_client.h>
#include <caseflow/cf_curve.h>
#include <msgpack.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void pack_str(msgpack_packer *pk, const char *key, const char *value)
{
    msgpack_pack_str_with_body(pk, key, strlen(key));
    msgpack_pack_str_with_body(pk, value, strlen(value));
}

/* A case.registered event of one person, into sbuf (cleared first). */
static void make_event(msgpack_sbuffer *sbuf, const char *event_id, const char *case_ref)
{
    msgpack_sbuffer_clear(sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 14);
    pack_str(&pk, "event_id", event_id);
    pack_str(&pk, "event_type", "case.registered");
    msgpack_pack_str_with_body(&pk, "schema_version", 14);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "occurred_at", 11);
    msgpack_pack_int64(&pk, (int64_t) time(NULL) * 1000);
    pack_str(&pk, "source_system", "example");
    pack_str(&pk, "case_ref", case_ref);
    msgpack_pack_str_with_body(&pk, "case_seq", 8);
    msgpack_pack_int(&pk, 1);
    pack_str(&pk, "programme", "CH-AVR");
    pack_str(&pk, "programme_type", "avrr");
    pack_str(&pk, "host_country", "CHE");
    pack_str(&pk, "origin_country", "MKD");
    pack_str(&pk, "route", "western_balkans");
    pack_str(&pk, "category", "rejected_asylum");
    msgpack_pack_str_with_body(&pk, "persons", 7);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 3);
    pack_str(&pk, "sex", "f");
    pack_str(&pk, "age_band", "18-59");
    pack_str(&pk, "role", "principal");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: push INTAKE_ENDPOINT [COUNT]\n");
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 1;
    char err[512];
    cf_curve_t *curve = NULL;           /* plain without the key files */
    if (cf_curve_client_new(getenv("CASEFLOW_PRODUCER_KEY"), getenv("CASEFLOW_SERVER_KEY"),
                            &curve, err, sizeof err) < 0) {
        fprintf(stderr, "push: %s\n", err);
        return 2;
    }
    cf_client_t *client = cf_client_new(argv[1]);
    cf_client_set_curve(client, curve);
    cf_client_set_connect_timeout(client, 5000);    /* say soon when no broker answers */
    cf_client_set_deadline(client, 30000);

    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    for (int i = 0; i < count; i++) {
        char event_id[64], case_ref[64];
        snprintf(event_id, sizeof event_id, "example-%ld-%d", (long) getpid(), i);
        snprintf(case_ref, sizeof case_ref, "EXAMPLE-%ld-%d", (long) getpid(), i);
        make_event(&sbuf, event_id, case_ref);
        cf_client_add(client, sbuf.data, sbuf.size, event_id);
    }
    msgpack_sbuffer_destroy(&sbuf);

    int status = 0;
    if (cf_client_run(client, NULL, NULL) < 0) {
        fprintf(stderr, "push: %s\n", cf_client_error(client));
        status = 1;
    }
    for (size_t i = 0; i < cf_client_size(client); i++) {
        const char *reason;
        cf_client_status_t s = cf_client_status(client, i, &reason);
        printf("%s %s%s%s\n", cf_client_event_id(client, i), cf_client_status_name(s),
               reason ? ": " : "", reason ? reason : "");
        if (s != CF_CLIENT_ACCEPTED && s != CF_CLIENT_DUPLICATE)
            status = 1;
    }
    cf_client_destroy(&client);
    cf_curve_destroy(&curve);
    return status;
}
