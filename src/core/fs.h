/* Filesystem helpers: whole-file reads with a cap, atomic writes (temporary
 * name, fsync, rename, fsync of the directory), mkdir -p, path joining. */
#ifndef IG_FS_H
#define IG_FS_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* Read a whole file, at most `cap` bytes (0: 1 GiB). *out is NUL-terminated;
 * caller frees with free(). IG_ERR_NOT_FOUND when it does not exist. */
ig_rc ig_fs_read(const char *path, size_t cap, char **out, size_t *len, ig_error *err);

/* Write a file atomically and durably: data is in `path` completely or the
 * old file is untouched. `mode` like 0644. */
ig_rc ig_fs_write_atomic(const char *path, const void *data, size_t len, int mode, ig_error *err);

/* mkdir -p with mode 0755. */
ig_rc ig_fs_mkdirs(const char *path, ig_error *err);

/* fsync a directory (after a rename inside it). */
ig_rc ig_fs_sync_dir(const char *dir, ig_error *err);

bool ig_fs_exists(const char *path);
bool ig_fs_is_dir(const char *path);

/* "a" + "/" + "b", with no doubled slash; caller frees with free(). An
 * absolute b is returned as a copy of b. */
char *ig_path_join(const char *a, const char *b);
/* Directory part of path ("." when none); caller frees. */
char *ig_path_dirname(const char *path);
/* Absolute, normalised form of an existing path; caller frees. NULL if it
 * does not exist. */
char *ig_path_real(const char *path);

#endif
