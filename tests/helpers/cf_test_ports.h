/*  Free loopback ports for tests that start real servers.                    */
#ifndef CF_TEST_PORTS_H
#define CF_TEST_PORTS_H

/*  A TCP port that is free on 127.0.0.1 now (bound to port 0, then closed). */
int cf_test_free_port(void);

/*  Writes "tcp://127.0.0.1:<free port>" into buf.                           */
void cf_test_free_endpoint(char *buf, unsigned size);

/*  Binds a ZeroMQ socket to a port the kernel picks on 127.0.0.1 and
    writes the endpoint ("tcp://127.0.0.1:N") into buf; aborts on failure. */
void cf_test_bind_loopback(void *socket, char *buf, unsigned size);

#endif
