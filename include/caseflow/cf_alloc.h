/*  cf_alloc: the one place caseflow allocates from the heap, in the manner of
    hiredis's alloc.h and CZMQ's zmalloc. Out of memory is not an error a
    caller handles: each function here aborts on it, once, in cf_alloc.c, so a
    non-NULL result is the only result and callers never test for NULL.
    Everything that comes from outside (a peer, a file, Redis) still returns
    an error the caller handles. The libraries keep their own allocators
    (msgpack-c's zones and buffers, hiredis, jansson, libzmq); where one of
    them reports out of memory, its caller aborts beside the call.
    A zero size is not an error either: it yields a minimal block of its own,
    so cf_realloc(p, 0) never frees. Free what these return with free().     */
#ifndef CF_ALLOC_H
#define CF_ALLOC_H

#include <stddef.h>
#include <stdio.h>

/*  size bytes, uninitialised.                                               */
void *cf_malloc(size_t size);

/*  count elements of size bytes, zeroed; aborts when count * size overflows. */
void *cf_calloc(size_t count, size_t size);

/*  Resizes ptr (NULL allocates) to size bytes, keeping its contents up to
    the smaller size; the block may move.                                    */
void *cf_realloc(void *ptr, size_t size);

/*  A copy of the C string text (not NULL).                                  */
char *cf_strdup(const char *text);

/*  A C string of at most n bytes of text: the copy stops at text's NUL or
    after n bytes, whichever comes first, and is always NUL-terminated; text
    need not be NUL-terminated when it holds n bytes or more.                */
char *cf_strndup(const char *text, size_t n);

/*  A copy of size bytes at data (which may be NULL when size is 0).         */
void *cf_memdup(const void *data, size_t size);

/*  The array-growth helper: makes ptr, an array of *capacity elements of
    elem_size bytes (NULL with *capacity 0 at first), hold at least need
    elements. When need exceeds *capacity, doubles *capacity (starting from
    CF_GROW_FIRST) until it does and reallocates; elements past the old
    capacity are uninitialised. Returns the array, which may have moved;
    aborts when the size overflows. Amortised O(1) per element appended.    */
#define CF_GROW_FIRST 16
void *cf_grow(void *ptr, size_t *capacity, size_t need, size_t elem_size);

/*  An open-addressing table, emptied for up to entries keys: makes ptr, an
    array of *slots elements of elem_size bytes (NULL with *slots 0 at
    first), a power of two of at least 16 and at least twice entries, so
    that probes stay short (a mask of *slots - 1 picks a slot), and zeroes
    every slot. Reuses the array when it is big enough. Returns it.         */
void *cf_table_clear(void *ptr, size_t *slots, size_t entries, size_t elem_size);

/*  A stream that writes into memory (open_memstream), for text built with
    fprintf. After cf_memstream_close, *text holds what was written, NUL-
    terminated, and *size its length; the caller frees *text.               */
FILE *cf_memstream_open(char **text, size_t *size);
void cf_memstream_close(FILE *out);

#endif
