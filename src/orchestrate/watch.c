/* Noticing edits of the files pipelines are declared in, so that `ingot
 * serve` reloads them without a SIGHUP. A poll (stat of ingot.yml and of
 * each pipelines/ file) rather than inotify: it costs microseconds once a
 * second, works on every file system (network mounts, bind mounts in
 * containers where inotify sees nothing), and needs no extra thread. */
#include "orchestrate/scheduler.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ig_pipeline_watch {
    char *file; /* ingot.yml */
    char *dir;  /* pipelines/ */
    uint64_t current; /* signature of the state last reported (or at start) */
    uint64_t pending; /* a changed signature seen once, waiting to settle */
    bool has_pending;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull; /* FNV-1a */
    return h;
}

static uint64_t stat_mix(uint64_t h, const char *path)
{
    struct stat st;
    h = mix(h, path, strlen(path) + 1);
    if (stat(path, &st)) return mix(h, "-", 1);
    int64_t v[4] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec, (int64_t)st.st_ino};
    return mix(h, v, sizeof v);
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static uint64_t signature(const ig_pipeline_watch *w)
{
    uint64_t h = stat_mix(1469598103934665603ull, w->file);
    DIR *d = opendir(w->dir);
    if (!d) return h;
    char *names[1024];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024)
        if (e->d_name[0] != '.' && (ig_str_ends(e->d_name, ".yml") || ig_str_ends(e->d_name, ".yaml")))
            names[n++] = ig_strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmpstr); /* readdir order is not stable across renames */
    for (size_t i = 0; i < n; i++) {
        char *path = ig_path_join(w->dir, names[i]);
        h = stat_mix(h, path);
        free(path);
        free(names[i]);
    }
    return h;
}

ig_pipeline_watch *ig_pipeline_watch_new(const char *project_dir)
{
    ig_pipeline_watch *w = ig_calloc(1, sizeof *w);
    w->file = ig_path_join(project_dir, "ingot.yml");
    w->dir = ig_path_join(project_dir, "pipelines");
    w->current = signature(w);
    return w;
}

bool ig_pipeline_watch_poll(ig_pipeline_watch *w)
{
    uint64_t sig = signature(w);
    if (sig == w->current) {
        w->has_pending = false;
        return false;
    }
    if (w->has_pending && sig == w->pending) {
        w->current = sig;
        w->has_pending = false;
        return true;
    }
    w->pending = sig;
    w->has_pending = true;
    return false;
}

void ig_pipeline_watch_free(ig_pipeline_watch *w)
{
    if (!w) return;
    free(w->file);
    free(w->dir);
    free(w);
}
