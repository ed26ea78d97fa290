/*  Free loopback ports for tests; see cf_test_ports.h.                      */
#include "cf_test_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* Ports are drawn from 10000 up to the kernel's ephemeral range, so that no
   outgoing connection can take one as its source port before the test binds
   it (a port that bind(0) hands out can be). */
int cf_test_free_port(void)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned) getpid() ^ (unsigned) time(NULL);
    for (int tries = 0; tries < 1000; tries++) {
        int port = 10000 + (int) (rand_r(&seed) % 20000);     /* 10000 .. 29999 */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = fd >= 0 && bind(fd, (struct sockaddr *) &addr, sizeof addr) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return port;
    }
    abort();
}

void cf_test_free_endpoint(char *buf, unsigned size)
{
    snprintf(buf, size, "tcp://127.0.0.1:%d", cf_test_free_port());
}

void cf_test_bind_loopback(void *socket, char *buf, unsigned size)
{
    size_t len = size;
    if (zmq_bind(socket, "tcp://127.0.0.1:*") < 0
        || zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, buf, &len) < 0) {
        fprintf(stderr, "cf_test_bind_loopback: %s\n", zmq_strerror(zmq_errno()));
        abort();
    }
}
