/*  Tests of cf_alloc: zero sizes give blocks of their own (and realloc to 0
    does not free), calloc zeroes, the copies (strdup, strndup within and past
    its bound, memdup), growth by doubling that keeps the contents, and the
    one abort, for a growth no size_t can hold, in a child process.          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "caseflow/cf_alloc.h"

static void test_zero_sizes(void **state)
{
    (void) state;
    char *a = cf_malloc(0), *b = cf_calloc(0, 8), *c = cf_calloc(8, 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_ptr_not_equal(a, b);
    char *d = cf_realloc(cf_malloc(16), 0);     /* does not free: a block still */
    assert_non_null(d);
    d = cf_realloc(d, 4);
    memcpy(d, "abc", 4);
    assert_string_equal(d, "abc");
    void *e = cf_memdup(NULL, 0);
    assert_non_null(e);
    char *f = cf_strndup(NULL, 0);
    assert_string_equal(f, "");
    size_t cap = 0;
    void *g = cf_grow(NULL, &cap, 0, 4);        /* nothing needed: nothing done */
    assert_null(g);
    assert_int_equal(cap, 0);
    free(a), free(b), free(c), free(d), free(e), free(f);
}

static void test_calloc_zeroes(void **state)
{
    (void) state;
    uint64_t *v = cf_calloc(1000, sizeof *v);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(v[i], 0);
    free(v);
}

static void test_copies(void **state)
{
    (void) state;
    char *s = cf_strdup("caseflow");
    assert_string_equal(s, "caseflow");
    free(s);
    s = cf_strdup("");
    assert_string_equal(s, "");
    free(s);
    unsigned char bytes[] = { 1, 0, 2, 255 };
    unsigned char *m = cf_memdup(bytes, sizeof bytes);
    assert_memory_equal(m, bytes, sizeof bytes);
    free(m);
}

static void test_strndup_bounds(void **state)
{
    (void) state;
    char *s = cf_strndup("registered", 3);      /* stops at the bound */
    assert_string_equal(s, "reg");
    free(s);
    s = cf_strndup("registered", 10);           /* the bound is the length */
    assert_string_equal(s, "registered");
    free(s);
    s = cf_strndup("arrived", 100);             /* stops at the NUL */
    assert_string_equal(s, "arrived");
    assert_int_equal(strlen(s), 7);
    free(s);
    s = cf_strndup("a\0bc", 4);                 /* an inner NUL ends it */
    assert_string_equal(s, "a");
    free(s);
    s = cf_strndup("anything", 0);
    assert_string_equal(s, "");
    free(s);
    char raw[4] = { 'a', 'b', 'c', 'd' };       /* not NUL-terminated */
    s = cf_strndup(raw, sizeof raw);
    assert_string_equal(s, "abcd");
    free(s);
}

static void test_growth(void **state)
{
    (void) state;
    size_t cap = 0;
    int *v = NULL;
    for (int i = 0; i < 1000; i++) {
        size_t before = cap;
        v = cf_grow(v, &cap, (size_t) i + 1, sizeof *v);
        assert_true(cap >= (size_t) i + 1);
        if ((size_t) i < before)
            assert_int_equal(cap, before);              /* room left: unchanged */
        else
            assert_int_equal(cap, before ? before * 2 : CF_GROW_FIRST);
        v[i] = i;
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v[i], i);                      /* contents kept */
    assert_int_equal(cap, 1024);
    v = cf_grow(v, &cap, 5000, sizeof *v);              /* a jump doubles past it */
    assert_int_equal(cap, 8192);
    assert_int_equal(v[999], 999);
    v[4999] = 1;
    free(v);
    cap = 3;                                            /* any capacity doubles */
    char *c = cf_grow(cf_malloc(3), &cap, 4, 1);
    assert_int_equal(cap, 6);
    free(c);
}

/* A table is a power of two, at least 16 and twice its entries, zeroed
   each time, the same block while it is big enough. */
static void test_table_clear(void **state)
{
    (void) state;
    size_t slots = 0;
    unsigned *table = cf_table_clear(NULL, &slots, 3, sizeof *table);
    assert_int_equal(slots, 16);
    table[5] = 7;
    unsigned *again = cf_table_clear(table, &slots, 8, sizeof *table);
    assert_ptr_equal(again, table);
    assert_int_equal(slots, 16);
    assert_int_equal(again[5], 0);
    again[15] = 1;
    table = cf_table_clear(again, &slots, 9, sizeof *table);
    assert_int_equal(slots, 32);
    for (size_t i = 0; i < slots; i++)
        assert_int_equal(table[i], 0);
    table = cf_table_clear(table, &slots, 1000, sizeof *table);
    assert_int_equal(slots, 2048);
    table[2047] = 1;
    table = cf_table_clear(table, &slots, 2, sizeof *table);
    assert_int_equal(slots, 2048);      /* kept, and cleared whole */
    assert_int_equal(table[2047], 0);
    free(table);
}

static void test_overflow_aborts(void **state)
{
    (void) state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        size_t cap = 0;
        cf_grow(NULL, &cap, SIZE_MAX, 2);               /* no size_t holds it */
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_sizes),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_copies),
        cmocka_unit_test(test_strndup_bounds),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_table_clear),
        cmocka_unit_test(test_overflow_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
