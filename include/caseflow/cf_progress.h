/*  cf_progress: the line of caseflow-push's progress bar, made from a
    producer's counts (cf_client_stats_t) and the seconds so far: the bar,
    the events acked, the rate and an ETA from that rate, e.g.
    "[#########.....................] 300/1000 events acked, 150/s, ETA 0:05".
    Pure: no I/O, so the line is tested without a terminal; caseflow-push
    draws it on stderr only when stderr is a terminal.                      */
#ifndef CF_PROGRESS_H
#define CF_PROGRESS_H

#include <stddef.h>
#include "caseflow/cf_client.h"

#define CF_PROGRESS_WIDTH 30        /* characters of the bar between its brackets */

/*  Writes the line into buf (at most size bytes, NUL-terminated; 128 is
    always enough) and returns buf. The ETA is what is left at the rate so
    far: "ETA -:--" until an event is final, none once all are, and H:MM:SS
    past an hour.                                                            */
char *cf_progress_line(char *buf, size_t size, const cf_client_stats_t *stats, double seconds);

#endif
