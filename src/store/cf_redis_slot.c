/*  cf_redis_slot: key slots and redirection errors; see cf_redis_slot.h.
    The CRC is computed bit by bit: keys are a few dozen bytes, and a table
    of 256 words would be the one thing here to get wrong by a typo.        */
#include "caseflow/cf_redis_slot.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

uint16_t cf_redis_crc16(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t) (p[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 0x8000 ? (uint16_t) ((crc << 1) ^ 0x1021) : (uint16_t) (crc << 1);
    }
    return crc;
}

int cf_redis_slot(const void *key, size_t len)
{
    assert(key || len == 0);
    const char *k = key;
    const char *open = len ? memchr(k, '{', len) : NULL;
    if (open) {
        size_t from = (size_t) (open - k) + 1;
        const char *close = memchr(k + from, '}', len - from);
        /* "{}" or no '}': the whole key is hashed */
        if (close && close > k + from)
            return cf_redis_crc16(k + from, (size_t) (close - (k + from))) & (CF_REDIS_SLOTS - 1);
    }
    return cf_redis_crc16(k, len) & (CF_REDIS_SLOTS - 1);
}

/* A decimal of 1..digits digits at *p, advanced past it; -1 when none. */
static long slot_number(const char **p, const char *end, int digits)
{
    long value = 0;
    int n = 0;
    while (*p < end && **p >= '0' && **p <= '9' && n < digits) {
        value = value * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n ? value : -1;
}

/* "SLOT HOST:PORT" (the host may be empty, or an IPv6 address: split at the last ':'). */
static int redirect_target(const char *p, const char *end, cf_redis_redirect_t *out)
{
    long slot = slot_number(&p, end, 5);
    if (slot < 0 || slot >= CF_REDIS_SLOTS || p >= end || *p != ' ')
        return -1;
    p++;
    const char *colon = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == ':')
            colon = q;
    if (!colon || (size_t) (colon - p) >= sizeof out->host)
        return -1;
    const char *digits = colon + 1;
    long port = slot_number(&digits, end, 5);
    if (port <= 0 || port > 65535 || digits != end)
        return -1;
    memcpy(out->host, p, (size_t) (colon - p));
    out->host[colon - p] = '\0';
    out->slot = (int) slot;
    out->port = (int) port;
    return 0;
}

cf_redis_redirect_kind_t cf_redis_redirect_parse(const char *err, size_t len,
                                                 cf_redis_redirect_t *out)
{
    assert(err && out);
    memset(out, 0, sizeof *out);
    const char *end = err + len;
    if (len >= 6 && memcmp(err, "MOVED ", 6) == 0 && redirect_target(err + 6, end, out) == 0)
        out->kind = CF_REDIS_REDIRECT_MOVED;
    else if (len >= 4 && memcmp(err, "ASK ", 4) == 0 && redirect_target(err + 4, end, out) == 0)
        out->kind = CF_REDIS_REDIRECT_ASK;
    else if (len >= 8 && memcmp(err, "TRYAGAIN", 8) == 0)
        out->kind = CF_REDIS_REDIRECT_TRYAGAIN;
    else
        memset(out, 0, sizeof *out);
    return out->kind;
}
