/*  libFuzzer harness: what a Redis Cluster node sends that cf_redis_cluster
    reads. The bytes go through hiredis's reader, as from a socket; a reply
    goes to cf_redis_slotmap_load (as CLUSTER SLOTS' answer) and its text to
    cf_redis_redirect_parse (as an error); the raw bytes to cf_redis_slot
    (as a key). Input: RESP bytes.                                          */
#include "caseflow/cf_redis_slot.h"
#include "cf_redis_slotmap.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <hiredis/hiredis.h>

static void check_map(const cf_redis_slotmap_t *map)
{
    size_t nodes = cf_redis_slotmap_nodes(map);
    for (int slot = 0; slot < CF_REDIS_SLOTS; slot++) {
        int owner = cf_redis_slotmap_owner(map, slot);
        assert(owner >= -1 && (owner < 0 || (size_t) owner < nodes));
        assert(owner < 0 || cf_redis_slotmap_master_of(map, owner) == -1);
    }
    for (size_t i = 0; i < nodes; i++) {
        int port = cf_redis_slotmap_port(map, (int) i);
        assert(port > 0 && port <= 65535);
        assert(strlen(cf_redis_slotmap_host(map, (int) i)) < CF_REDIS_HOST_MAX);
    }
}

/* Whether an array header declares more than 4096 elements: hiredis 0.14's
   reader allocates the declared size before reading any element (every
   caller trusts its server that far), which is not what is fuzzed here. */
static bool huge_array(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '*')
            continue;
        unsigned long n = 0;
        for (size_t j = i + 1; j < size && data[j] >= '0' && data[j] <= '9' && n <= 4096; j++)
            n = n * 10 + (unsigned long) (data[j] - '0');
        if (n > 4096)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int slot = cf_redis_slot(data, size);
    assert(slot >= 0 && slot < CF_REDIS_SLOTS);
    if (huge_array(data, size))
        return 0;
    redisReader *reader = redisReaderCreate();
    assert(reader);
    void *got = NULL;
    if (redisReaderFeed(reader, (const char *) data, size) == REDIS_OK
        && redisReaderGetReply(reader, &got) == REDIS_OK && got) {
        redisReply *reply = got;
        cf_redis_slotmap_t *map = cf_redis_slotmap_new();
        char err[256] = "";
        if (cf_redis_slotmap_load(map, reply, "seed.example", err, sizeof err) < 0) {
            assert(err[0]);
            assert(cf_redis_slotmap_nodes(map) == 0);       /* nothing kept */
        }
        check_map(map);
        cf_redis_slotmap_destroy(&map);
        if (reply->str) {
            cf_redis_redirect_t r;
            cf_redis_redirect_kind_t kind = cf_redis_redirect_parse(reply->str, reply->len, &r);
            assert(kind == r.kind);
            if (kind == CF_REDIS_REDIRECT_MOVED || kind == CF_REDIS_REDIRECT_ASK)
                assert(r.slot >= 0 && r.slot < CF_REDIS_SLOTS && r.port > 0 && r.port <= 65535
                       && strlen(r.host) < CF_REDIS_HOST_MAX);
        }
        freeReplyObject(reply);
    }
    redisReaderFree(reader);
    return 0;
}
