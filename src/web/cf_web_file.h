/*  cf_web_file: a small text file read whole (caseflow-web's token file,
    its TLS certificate and key, the dashboard's files).                    */
#ifndef CF_WEB_FILE_H
#define CF_WEB_FILE_H

#include <stddef.h>

#define CF_WEB_FILE_MAX (16u << 20)     /* bytes; a bigger file is refused */

/*  The contents of path, NUL-terminated, in a new string the caller frees,
    with its length in *len (may be NULL). NULL with the reason in err.     */
char *cf_web_file_read(const char *path, size_t *len, char *err, size_t n);

#endif
