/*  Throw-away files for tests that read one (a configuration, a rules file). */
#ifndef CF_TEST_FILES_H
#define CF_TEST_FILES_H

/*  Writes text to a new file under /tmp and returns its path, which stays
    good until the next call or cf_test_file_remove; the file of the call
    before is removed. Aborts when it cannot write.                          */
const char *cf_test_file_write(const char *text);

/*  Removes the last file written, if any. */
void cf_test_file_remove(void);

/*  cf_test_file_remove as a cmocka setup or teardown. Returns 0.           */
int cf_test_file_teardown(void **state);

/*  The last file's path, or NULL when there is none.                        */
const char *cf_test_file_path(void);

/*  Removes a test's temporary directory (mkdtemp) and all in it; a main
    returns failed, or 1 when the directory could not be removed.            */
int cf_test_dir_remove(const char *dir, int failed);

#endif
