/*  A TCP relay to a test's Redis, in a child process, that acts when a
    client sends a command holding a given string: either Redis goes away in
    the middle of that command (the relay exits, closing everything), or
    something happens just before Redis sees it (a callback, run once in
    the child: another client's write that lands between a store's reads
    and its EXEC). The child dies with the test (PR_SET_PDEATHSIG).         */
#ifndef CF_TEST_RELAY_H
#define CF_TEST_RELAY_H

#include <sys/types.h>

/*  Called in the child, once, before the bytes holding cut are relayed.    */
typedef void cf_test_relay_fn(void *arg);

/*  Starts a relay to 127.0.0.1:redis_port on *port (0: a free one, written
    back). cut NULL: it only relays; before NULL: at cut it exits (nothing
    listens there until the next relay); else it calls before(arg) at the
    first cut and relays on. Returns the child's pid; aborts on failure.    */
pid_t cf_test_relay_start(int *port, int redis_port, const char *cut, cf_test_relay_fn *before,
                          void *arg);

/*  Waits for the child to end (kill it first when it would not).           */
void cf_test_relay_reap(pid_t pid);

#endif
