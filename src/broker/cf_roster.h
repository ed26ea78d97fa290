/*  cf_roster: the broker's list of connected workers.

    Each member is a worker's DEALER as the broker's ROUTER sees it: its
    routing id, how many more jobs it will take (credit), the jobs it holds
    now (in flight), and when it was last heard from and last sent to, which
    is what the heartbeat timer needs to notice a dead or hung worker. Jobs in
    flight are owned by their member until released or taken back.           */
#ifndef CF_ROSTER_H
#define CF_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cf_jobq.h"

#define CF_ROSTER_ID_MAX 256
#define CF_ROSTER_MAX    1024   /* workers at once: a READY beyond it is ignored */

typedef struct {
    unsigned char id[CF_ROSTER_ID_MAX];
    size_t id_len;
    char name[80];              /* host:pid, for logs and status */
    char label[16];             /* w1, w2...: what operators name it by (control) */
    char host[64];
    unsigned pid;
    bool draining;              /* gets no more jobs; told to exit once it holds none */
    bool eligible;              /* may own shards: settled (cf_broker_route.c) */
    int64_t exit_sent;          /* when it was last told to exit; 0 = not yet */
    unsigned credit;
    cf_job_t *inflight;         /* linked through job->next */
    cf_jobq_t *backlog;         /* parts of its shards waiting for its credit */
    size_t split;               /* scratch of the split (cf_broker_route.c) */
    size_t split_left;          /* ... its events for parts after the one being filled */
    cf_job_t *split_part;
    size_t inflight_count;
    int64_t last_seen, last_sent;
    uint64_t jobs_done, events_done;
    uint64_t notices_refused;   /* notifications of its DONEs not published */
    int64_t refused_logged_at;  /* the last log line about them */
} cf_member_t;

typedef struct _cf_roster_t cf_roster_t;

cf_roster_t *cf_roster_new(void);
/*  Destroys every member and the jobs they still hold or have waiting.       */
void cf_roster_destroy(cf_roster_t **self_p);

cf_member_t *cf_roster_find(cf_roster_t *self, const void *id, size_t id_len);

/*  Adds a member with no credit; NULL when id_len is 0 or too long, or the
    roster already has CF_ROSTER_MAX members.                                */
cf_member_t *cf_roster_add(cf_roster_t *self, const void *id, size_t id_len, int64_t now);

/*  Removes the member; its jobs in flight must have been taken back first.   */
void cf_roster_remove(cf_roster_t *self, cf_member_t *member);

/*  The member with credit, not draining, that was least recently sent to,
    or NULL.                                                                  */
cf_member_t *cf_roster_pick(cf_roster_t *self);

size_t cf_roster_size(const cf_roster_t *self);
cf_member_t *cf_roster_at(cf_roster_t *self, size_t index);

/*  The jobs that the members hold, all together.                            */
size_t cf_roster_inflight(const cf_roster_t *self);

/*  The member now holds job (and spends one credit).                         */
void cf_member_hold(cf_member_t *member, cf_job_t *job);

/*  Gives back the held job with this id (and one credit), or NULL when the
    member does not hold it (a late DONE for a job that was redelivered).     */
cf_job_t *cf_member_release(cf_member_t *member, uint64_t job_id);

/*  Takes every held job back (for redelivery), as a list through job->next. */
cf_job_t *cf_member_take_all(cf_member_t *member);

/*  The events in the jobs the member holds.                                 */
size_t cf_member_events_held(const cf_member_t *member);

#endif
