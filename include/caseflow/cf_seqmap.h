/*  cf_seqmap: per-topic sequence numbers for a publisher.

    A hash table from topic to the last sequence number handed out on it, so
    that subscribers filtering by topic prefix can still see gaps: each topic
    counts 1, 2, 3, ... on its own. Topics are few (programmes x stages and a
    handful of others), so the table only grows.                            */
#ifndef CF_SEQMAP_H
#define CF_SEQMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct _cf_seqmap_t cf_seqmap_t;

cf_seqmap_t *cf_seqmap_new(void);
void cf_seqmap_destroy(cf_seqmap_t **self_p);

/*  Returns the next sequence number of topic (1 for a topic never seen).    */
uint64_t cf_seqmap_next(cf_seqmap_t *self, const char *topic, size_t len);

/*  The last number handed out on topic, 0 when none.                        */
uint64_t cf_seqmap_last(const cf_seqmap_t *self, const char *topic, size_t len);

size_t cf_seqmap_size(const cf_seqmap_t *self);

#endif
