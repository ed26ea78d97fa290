/*  cf_bench_gaps: threads that spin on the clock; see cf_bench_gaps.h.    */
#include "cf_bench_gaps.h"
#include "cf_bench_internal.h"
#include "caseflow/cf_alloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define GAPS_COUNTED_S  1e-4        /* a jump that long is lost time, not the loop's own */

typedef struct {
    double seconds;
    long over_1ms, over_3ms;
    double worst_s, lost_s;
} gaps_thread_t;

static void *gaps_spin(void *arg)
{
    gaps_thread_t *g = arg;
    double start = cf_bench_now(), last = start;
    for (;;) {
        double now = cf_bench_now(), jump = now - last;
        if (jump > GAPS_COUNTED_S)
            g->lost_s += jump;
        g->over_1ms += jump > 1e-3;
        g->over_3ms += jump > 3e-3;
        if (jump > g->worst_s)
            g->worst_s = jump;
        last = now;
        if (now - start >= g->seconds)
            return NULL;
    }
}

int cf_bench_gaps_measure(unsigned threads, double seconds, cf_bench_gaps_t *out)
{
    memset(out, 0, sizeof *out);
    out->seconds = seconds;
    gaps_thread_t *each = cf_calloc(threads ? threads : 1, sizeof *each);
    pthread_t *ids = cf_calloc(threads ? threads : 1, sizeof *ids);
    unsigned started = 0;
    for (; started < threads; started++) {
        each[started].seconds = seconds;
        if (pthread_create(&ids[started], NULL, gaps_spin, &each[started]) != 0)
            break;
    }
    double lost = 0;
    for (unsigned t = 0; t < started; t++) {
        pthread_join(ids[t], NULL);
        out->over_1ms += each[t].over_1ms;
        out->over_3ms += each[t].over_3ms;
        out->worst_ms = each[t].worst_s * 1e3 > out->worst_ms ? each[t].worst_s * 1e3
                                                               : out->worst_ms;
        lost += each[t].lost_s;
    }
    out->threads = started;
    out->lost_share = started && seconds > 0 ? lost / (seconds * started) : 0;
    free(each), free(ids);
    return started == threads ? 0 : -1;
}
