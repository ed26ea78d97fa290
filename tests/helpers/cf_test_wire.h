/*  A DEALER connected to a ROUTER over inproc, for the codec's tests: a
    builder sends on one end and the parser reads what the other end
    receives (the ROUTER puts the DEALER's routing id first, as the broker
    sees it).                                                                */
#ifndef CF_TEST_WIRE_H
#define CF_TEST_WIRE_H

#include <stddef.h>
#include "caseflow/cf_multipart.h"

typedef struct {
    void *ctx, *router, *dealer;
    cf_multipart_t *parts;          /* what was received last */
    char id[8];                     /* the DEALER's routing id */
    size_t id_len;
} cf_test_wire_t;

/*  Opens the pair with a receive buffer of max parts.                      */
void cf_test_wire_open(cf_test_wire_t *wire, size_t max);
void cf_test_wire_close(cf_test_wire_t *wire);

/*  Receives one whole message on socket into wire->parts (asserts that
    one comes within a second).                                             */
cf_multipart_t *cf_test_wire_recv(cf_test_wire_t *wire, void *socket);

#endif
