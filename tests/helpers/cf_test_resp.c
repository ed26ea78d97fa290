/*  cf_test_resp: reply trees from RESP bytes; see cf_test_resp.h.          */
#include "cf_test_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

redisReply *cf_test_resp(const char *resp)
{
    redisReader *reader = redisReaderCreate();
    void *reply = NULL, *extra = NULL;
    if (!reader || redisReaderFeed(reader, resp, strlen(resp)) != REDIS_OK
        || redisReaderGetReply(reader, &reply) != REDIS_OK || !reply
        || redisReaderGetReply(reader, &extra) != REDIS_OK || extra) {
        fprintf(stderr, "cf_test_resp: not one whole reply: %.60s\n", resp);
        abort();
    }
    redisReaderFree(reader);
    return reply;
}
