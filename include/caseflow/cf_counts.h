/*  cf_counts: a bag of named int64 counters, the shape of one family of live
    aggregates once its per-shard Redis hashes have been summed (cf_store reads
    them; the reports format them). Adding to a name that is already there sums
    into it; iteration is in byte-wise (strcmp) name order. Lookups are hashed,
    so summing eight shards of tens of thousands of fields stays linear. Pure:
    no I/O, no globals; out of memory aborts.                                 */
#ifndef CF_COUNTS_H
#define CF_COUNTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct _cf_counts_t cf_counts_t;

/*  An empty bag.                                                            */
cf_counts_t *cf_counts_new(void);

/*  Frees the bag and its names and nulls *self_p; accepts NULL.             */
void cf_counts_destroy(cf_counts_t **self_p);

/*  Adds delta to the counter called name (len bytes, need not be NUL-
    terminated, may hold any byte but NUL), creating it at 0 first. The name
    is copied. Invalidates the positions used by cf_counts_name/value.       */
void cf_counts_add(cf_counts_t *self, const char *name, size_t len, int64_t delta);

/*  The counter's value; 0 when there is no such name. name is a C string.   */
int64_t cf_counts_get(const cf_counts_t *self, const char *name);

/*  True when the name was ever added (even if its sum is 0).                */
int cf_counts_has(const cf_counts_t *self, const char *name);

/*  How many distinct names.                                                 */
size_t cf_counts_size(const cf_counts_t *self);

/*  The index-th name and its value in sorted name order, index < size. The
    name lives until the bag is destroyed. (The first call after an add sorts
    an internal index; the bag's contents do not change.)                    */
const char *cf_counts_name(const cf_counts_t *self, size_t index);
int64_t cf_counts_value(const cf_counts_t *self, size_t index);

#endif
