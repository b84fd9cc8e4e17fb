/* libFuzzer driver: the YAML reader (positions, anchors, interpolation). */
#include "core/arena.h"
#include "project/yaml.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ig_arena *a = ig_arena_new();
    ig_yaml *doc;
    ig_error e;
    ig_yaml_options opt = {.interpolate_env = true};
    if (!ig_yaml_parse(a, "fuzz.yml", (const char *)data, size, &opt, &doc, &e)) {
        /* walk the tree through the typed getters */
        if (doc->kind == IG_Y_MAP)
            for (size_t i = 0; i < doc->n; i++) {
                long l;
                bool b;
                const char *s;
                ig_yaml_int(doc->items[i], "k", &l, &e);
                ig_yaml_bool(doc->items[i], "k", &b, &e);
                ig_yaml_str(doc->items[i], "k", &s, &e);
            }
    }
    ig_arena_free(a);
    return 0;
}
