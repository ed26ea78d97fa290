/*  cf_seqmap: sequence numbers by key, for both ends of the notification
    stream.

    A hash table from a key (any bytes) to a last sequence number. The
    broker's publisher keys it by topic and hands out 1, 2, 3, ... per topic,
    so that subscribers filtering by topic prefix can still see gaps; a
    subscriber (cf_seqcheck) keys it by publisher and topic and records what
    it saw. Keys are few (programmes x stages and a handful of others), so
    the table only grows.                                                    */
#ifndef CF_SEQMAP_H
#define CF_SEQMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct _cf_seqmap_t cf_seqmap_t;

cf_seqmap_t *cf_seqmap_new(void);
void cf_seqmap_destroy(cf_seqmap_t **self_p);

/*  Returns the next sequence number of topic (1 for a topic never seen).    */
uint64_t cf_seqmap_next(cf_seqmap_t *self, const char *topic, size_t len);

/*  Records value as the last number of topic; returns the one it replaces
    (0 when the topic is new).                                                */
uint64_t cf_seqmap_set(cf_seqmap_t *self, const char *topic, size_t len, uint64_t value);

/*  The last number handed out on topic, 0 when none.                        */
uint64_t cf_seqmap_last(const cf_seqmap_t *self, const char *topic, size_t len);

size_t cf_seqmap_size(const cf_seqmap_t *self);

#endif
