/* Keeps the test-support library non-empty while it has no other file. */
typedef int cf_test_empty_t;
