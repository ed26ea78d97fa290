/*  cf_endpoints: a list of ZeroMQ endpoints as a client takes it, one
    endpoint or several separated by commas ("tcp://b1:5570,tcp://b2:5570"),
    for deployments with several brokers (docs/operations.md, "Several
    brokers"): a producer sends to one and fails over to the next
    (cf_client), a subscriber connects to all of them (cf_subscriber).

    Only the list's shape is checked here: no element may be empty, none may
    appear twice, and there are at most CF_ENDPOINTS_MAX; blanks around an
    element are dropped. Whether an element is a good endpoint is for
    cf_settings (its syntax) or zmq_connect (the rest). No I/O.             */
#ifndef CF_ENDPOINTS_H
#define CF_ENDPOINTS_H

#include <stddef.h>

#define CF_ENDPOINTS_MAX    16      /* brokers one client may name */

typedef struct _cf_endpoints_t cf_endpoints_t;

/*  The endpoints of list (copied). NULL with the reason in err when the list
    is empty, has an empty element or a repeated one, or more than
    CF_ENDPOINTS_MAX.                                                       */
cf_endpoints_t *cf_endpoints_new(const char *list, char *err, size_t err_size);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_endpoints_destroy(cf_endpoints_t **self_p);

/*  How many (at least 1).                                                   */
size_t cf_endpoints_size(const cf_endpoints_t *self);

/*  Endpoint i (i < size), NUL-terminated, valid as long as self.           */
const char *cf_endpoints_at(const cf_endpoints_t *self, size_t i);

#endif
