/* libFuzzer driver for the transform layer's parsing: an input is a
 * properties YAML file and a model, separated by the first NUL byte (no NUL:
 * the whole input is the model). They are written into a small dbt project
 * and parsed with ig_transform_parse: YAML to configs and sources, the parse
 * render with dbt's context (ref markers, config(), var(), ...), the DAG.
 * Anything may fail with an error; nothing may crash or leak. */
#include "core/error.h"
#include "transform/transform.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void put(const char *rel, const void *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/ig-fuzz-dbt-%d", (int)getpid());
        char sub[128];
        mkdir(dir, 0755);
        snprintf(sub, sizeof sub, "%s/models", dir);
        mkdir(sub, 0755);
        const char *proj = "name: fz\nprofile: fz\nvars:\n  v: 1\nmodels:\n  fz:\n    +materialized: view\n";
        put("dbt_project.yml", proj, strlen(proj));
        const char *prof = "fz:\n  target: t\n  outputs:\n    t:\n      type: duckdb\n      path: ':memory:'\n";
        put("profiles.yml", prof, strlen(prof));
        const char *other = "select 1 as id";
        put("models/other.sql", other, strlen(other));
    }
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        put("models/_props.yml", data, (size_t)(nul - data));
        put("models/m.sql", nul + 1, size - (size_t)(nul - data) - 1);
    } else {
        put("models/_props.yml", "", 0);
        put("models/m.sql", data, size);
    }
    ig_transform_options o = {.project_dir = dir, .profiles_dir = dir};
    ig_transform_result res;
    ig_error err;
    ig_error_clear(&err);
    ig_transform_parse(NULL, &o, &res, &err);
    ig_transform_result_free(&res);
    return 0;
}
