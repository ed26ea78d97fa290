/*  cf_listen: a bound, listening TCP socket for the daemons' HTTP servers
    (cf_metrics_http, caseflow-web), made before libmicrohttpd starts so
    that a bad address or a port in use is reported as such.                */
#ifndef CF_LISTEN_H
#define CF_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

/*  A listening socket on host:port (port 0: one the kernel picks), on the
    first address that binds. With loopback_only, every address host
    resolves to must be a loopback one (127.0.0.0/8, ::1), else nothing is
    bound. what names the server in errors ("metrics"). The descriptor, or
    -1 with the reason in err.                                               */
int cf_listen_tcp(const char *what, const char *host, int port, bool loopback_only, char *err,
                  size_t err_size);

/*  The port socket fd is bound to; -1 on error.                             */
int cf_listen_port(int fd);

#endif
