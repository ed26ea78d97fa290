/*  cf_alloc: the heap wrappers of include/caseflow/cf_alloc.h. The abort on
    out of memory lives in alloc_fail and nowhere else, so there is one place
    to put a breakpoint, and one line to change if caseflow ever wants to
    report it differently (it aborts silently: the library never logs). A
    zero size asks for one byte: malloc(0) may return NULL and realloc(p, 0)
    may free p, and neither must look like a failure.                        */
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void alloc_fail(void)
{
    abort();
}

static void *alloc_check(void *ptr)
{
    if (!ptr)
        alloc_fail();
    return ptr;
}

void *cf_malloc(size_t size)
{
    return alloc_check(malloc(size ? size : 1));
}

void *cf_calloc(size_t count, size_t size)
{
    return alloc_check(count && size ? calloc(count, size) : calloc(1, 1));
}

void *cf_realloc(void *ptr, size_t size)
{
    return alloc_check(realloc(ptr, size ? size : 1));
}

char *cf_strdup(const char *text)
{
    assert(text);
    return cf_memdup(text, strlen(text) + 1);
}

char *cf_strndup(const char *text, size_t n)
{
    assert(text || n == 0);
    size_t len = n ? strnlen(text, n) : 0;
    char *copy = cf_malloc(len + 1);
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

void *cf_memdup(const void *data, size_t size)
{
    assert(data || size == 0);
    void *copy = cf_malloc(size);
    if (size)
        memcpy(copy, data, size);
    return copy;
}

void *cf_grow(void *ptr, size_t *capacity, size_t need, size_t elem_size)
{
    assert(capacity && elem_size > 0);
    if (need <= *capacity)
        return ptr;
    size_t cap = *capacity ? *capacity : CF_GROW_FIRST;
    while (cap < need && cap <= SIZE_MAX / 2)
        cap *= 2;
    if (cap < need || cap > SIZE_MAX / elem_size)
        alloc_fail();                   /* no size_t holds it: out of memory too */
    ptr = cf_realloc(ptr, cap * elem_size);
    *capacity = cap;
    return ptr;
}

void *cf_table_clear(void *ptr, size_t *slots, size_t entries, size_t elem_size)
{
    assert(slots && elem_size > 0 && entries <= SIZE_MAX / 4);
    size_t want = 16;
    while (want < 2 * entries)
        want *= 2;
    if (want > *slots) {
        free(ptr);
        ptr = cf_calloc(want, elem_size);
        *slots = want;
    } else {
        memset(ptr, 0, *slots * elem_size);
    }
    return ptr;
}

FILE *cf_memstream_open(char **text, size_t *size)
{
    assert(text && size);
    return alloc_check(open_memstream(text, size));
}

void cf_memstream_close(FILE *out)
{
    assert(out);
    if (fclose(out) != 0)           /* the last flush could not grow the buffer */
        alloc_fail();
}
