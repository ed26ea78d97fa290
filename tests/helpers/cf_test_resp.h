/*  Recorded Redis replies for unit tests: a reply tree made by hiredis's
    own reader from RESP bytes (as a server sent them), so that code which
    reads replies is tested on exactly what it would get from a socket.    */
#ifndef CF_TEST_RESP_H
#define CF_TEST_RESP_H

#include <stddef.h>

typedef struct redisReply redisReply;

/*  The one reply that the NUL-terminated RESP text resp encodes; the
    caller frees it with freeReplyObject. Aborts when resp is not exactly
    one complete reply (a mistake in the test).                             */
redisReply *cf_test_resp(const char *resp);

#endif
