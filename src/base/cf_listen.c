/*  cf_listen: the listening sockets of the HTTP servers; see cf_listen.h.  */
#include "caseflow/cf_listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static bool listen_is_loopback(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *) addr)->sin_addr.s_addr) >> 24) == 127;
    if (addr->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *) addr)->sin6_addr);
    return false;
}

int cf_listen_tcp(const char *what, const char *host, int port, bool loopback_only, char *err,
                  size_t err_size)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(host, service, &hints, &found);
    if (rc != 0) {
        snprintf(err, err_size, "%s address %s:%d: %s", what, host, port, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *a = found; a && loopback_only; a = a->ai_next)
        if (!listen_is_loopback(a->ai_addr)) {
            snprintf(err, err_size, "%s address %s:%d is not a loopback address", what, host,
                     port);
            freeaddrinfo(found);
            return -1;
        }
    int fd = -1, error = 0, on = 1;
    for (struct addrinfo *a = found; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            error = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 64) < 0) {
            error = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0)
        snprintf(err, err_size, "cannot listen for %s on %s:%d: %s", what, host, port,
                 strerror(error));
    return fd;
}

int cf_listen_port(int fd)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *) &addr, &len) < 0)
        return -1;
    return addr.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *) &addr)->sin6_port)
                                      : ntohs(((struct sockaddr_in *) &addr)->sin_port);
}
