/*  cf_progress: caseflow-push's progress line; see cf_progress.h. The ETA
    assumes the rate so far holds, which is what a user can check it by.    */
#include "caseflow/cf_progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/*  " ETA M:SS" (or H:MM:SS) for what is left at the rate so far; "" when
    nothing is left.                                                        */
static void progress_eta(char *buf, size_t size, size_t done, size_t total, double seconds)
{
    if (done >= total) {
        buf[0] = '\0';
        return;
    }
    if (done == 0 || seconds <= 0) {
        snprintf(buf, size, ", ETA -:--");
        return;
    }
    double left = (double) (total - done) * seconds / (double) done;
    long long s = left < 1e9 ? (long long) ceil(left) : 999999999LL;
    if (s >= 3600)
        snprintf(buf, size, ", ETA %lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, ", ETA %lld:%02lld", s / 60, s % 60);
}

char *cf_progress_line(char *buf, size_t size, const cf_client_stats_t *stats, double seconds)
{
    size_t done = stats->accepted + stats->duplicate + stats->rejected + stats->unacked;
    size_t total = stats->events;
    char bar[CF_PROGRESS_WIDTH + 1], eta[48];
    size_t filled = total ? (done < total ? done : total) * CF_PROGRESS_WIDTH / total : 0;
    memset(bar, '#', filled);
    memset(bar + filled, '.', CF_PROGRESS_WIDTH - filled);
    bar[CF_PROGRESS_WIDTH] = '\0';
    progress_eta(eta, sizeof eta, done, total, seconds);
    snprintf(buf, size, "[%s] %zu/%zu events acked, %.0f/s%s", bar, done, total,
             seconds > 0 ? (double) done / seconds : 0.0, eta);
    return buf;
}
