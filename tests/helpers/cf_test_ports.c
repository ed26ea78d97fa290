/*  Free loopback ports for tests; see cf_test_ports.h.                      */
#include "cf_test_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int cf_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof addr) < 0
        || getsockname(fd, (struct sockaddr *) &addr, &len) < 0)
        abort();
    close(fd);
    return ntohs(addr.sin_port);
}

void cf_test_free_endpoint(char *buf, unsigned size)
{
    snprintf(buf, size, "tcp://127.0.0.1:%d", cf_test_free_port());
}
