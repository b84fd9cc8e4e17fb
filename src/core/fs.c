/* Filesystem helpers. */
#include "fs.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ig_rc ig_fs_read(const char *path, size_t cap, char **out, size_t *len, ig_error *err)
{
    if (!cap) cap = (size_t)1 << 30;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int code = errno == ENOENT ? IG_ERR_NOT_FOUND : IG_ERR_IO;
        return ig_err(err, code, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return ig_err(err, IG_ERR_IO, "%s is a directory, not a file", path);
    }
    size_t alloc = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    if (alloc > cap + 1) alloc = cap + 1;
    char *data = ig_malloc(alloc);
    for (;;) {
        if (n + 1 >= alloc) {
            if (alloc > cap) {
                free(data);
                close(fd);
                return ig_err(err, IG_ERR_LIMIT, "%s is larger than %zu bytes", path, cap);
            }
            alloc *= 2;
            if (alloc > cap + 1) alloc = cap + 1;
            data = ig_realloc(data, alloc);
        }
        ssize_t r = read(fd, data + n, alloc - n - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            free(data);
            close(fd);
            return ig_err(err, IG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    data[n] = '\0';
    *out = data;
    if (len) *len = n;
    return IG_OK;
}

ig_rc ig_fs_sync_dir(const char *dir, ig_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ig_err(err, IG_ERR_IO, "cannot open directory %s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc) return ig_err(err, IG_ERR_IO, "cannot sync directory %s: %s", dir, strerror(errno));
    return IG_OK;
}

ig_rc ig_fs_write_atomic(const char *path, const void *data, size_t len, int mode, ig_error *err)
{
    char *tmp = ig_asprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        ig_rc rc = ig_err(err, IG_ERR_IO, "cannot create %s: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            ig_rc rc = ig_err(err, IG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return rc;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) || close(fd)) {
        ig_rc rc = ig_err(err, IG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (rename(tmp, path)) {
        ig_rc rc = ig_err(err, IG_ERR_IO, "cannot rename into %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    char *dir = ig_path_dirname(path);
    ig_rc rc = ig_fs_sync_dir(dir, err);
    free(dir);
    return rc;
}

ig_rc ig_fs_mkdirs(const char *path, ig_error *err)
{
    char *p = ig_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) && errno != EEXIST) goto fail;
        *s = '/';
    }
    if (mkdir(p, 0755) && errno != EEXIST) goto fail;
    if (!ig_fs_is_dir(p)) {
        errno = ENOTDIR;
        goto fail;
    }
    free(p);
    return IG_OK;
fail:;
    ig_rc rc = ig_err(err, IG_ERR_IO, "cannot create directory %s: %s", p, strerror(errno));
    free(p);
    return rc;
}

bool ig_fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool ig_fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *ig_path_join(const char *a, const char *b)
{
    if (!a || !*a || b[0] == '/') return ig_strdup(b);
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/') la--;
    if (!strcmp(b, ".") || !*b) return ig_strndup(a, la);
    while (b[0] == '.' && b[1] == '/') b += 2;
    size_t lb = strlen(b); /* no printf: this runs once per file of a project */
    char *r = ig_malloc(la + lb + 2);
    memcpy(r, a, la);
    r[la] = '/';
    memcpy(r + la + 1, b, lb + 1);
    return r;
}

char *ig_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return ig_strdup(".");
    if (slash == path) return ig_strdup("/");
    return ig_strndup(path, (size_t)(slash - path));
}

char *ig_path_real(const char *path)
{
    char *r = realpath(path, NULL);
    if (!r) return NULL;
    char *c = ig_strdup(r);
    free(r);
    return c;
}
