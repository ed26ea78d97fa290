/*  cf_test_relay: a relay between one client and Redis that acts at a
    command (cf_test_relay.h).                                               */
#include "cf_test_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child: relays until cut, then acts. */
static void relay_run(int listener, int redis_port, const char *cut, cf_test_relay_fn *before,
                      void *arg)
{
    int client = -1, upstream = -1;
    bool acted = false;
    char buf[65536];
    for (;;) {
        struct pollfd fds[] = { { listener, POLLIN, 0 }, { client, POLLIN, 0 },
                                { upstream, POLLIN, 0 } };
        if (poll(fds, 3, -1) < 0)
            _exit(1);
        if (fds[0].revents & POLLIN) {
            close(client);
            close(upstream);
            client = accept(listener, NULL, NULL);
            upstream = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in to = { .sin_family = AF_INET,
                                      .sin_port = htons((uint16_t) redis_port) };
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (connect(upstream, (struct sockaddr *) &to, sizeof to) < 0)
                _exit(1);
            continue;
        }
        for (int from = 1; from <= 2; from++) {
            if (!(fds[from].revents & (POLLIN | POLLHUP)))
                continue;
            ssize_t n = read(fds[from].fd, buf, sizeof buf);
            if (from == 1 && n > 0 && cut && !acted && memmem(buf, (size_t) n, cut, strlen(cut))) {
                if (!before) {
                    close(listener);
                    _exit(0);
                }
                before(arg);
                acted = true;
            }
            if (n <= 0 || write(from == 1 ? upstream : client, buf, (size_t) n) != n) {
                close(client);
                close(upstream);
                client = upstream = -1;
                break;
            }
        }
    }
}

pid_t cf_test_relay_start(int *port, int redis_port, const char *cut, cf_test_relay_fn *before,
                          void *arg)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t) *port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *) &addr, sizeof addr) < 0 || listen(listener, 4) < 0
        || getsockname(listener, (struct sockaddr *) &addr, &len) < 0) {
        perror("cf_test_relay");
        abort();
    }
    *port = ntohs(addr.sin_port);
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid > 0) {
        close(listener);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    relay_run(listener, redis_port, cut, before, arg);
    _exit(0);
}

void cf_test_relay_reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        abort();
}
