/* libFuzzer driver for the template engine: parses the input as a template
 * and renders it with tight limits and a small dbt-like context, so that
 * any crash, leak, hang or sanitizer report is a bug. Build:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     fuzz/fuzz_tmpl.c src/tmpl/[a-z_]*.c src/core/[a-z]*.c -lm -o fuzz_tmpl
 * Seeds: fuzz/corpus/tmpl/. */
#include "tmpl/tmpl.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static ig_rc fn_echo(ig_tmpl_call *c, void *ud, const ig_tmpl_args *a, ig_tmpl_val *out)
{
    *out = a->npos ? ig_tmpl_ref(a->pos[0]) : ig_tmpl_none();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024) return 0;
    ig_error err;
    ig_tmpl *t = NULL;
    if (ig_tmpl_parse("fuzz", (const char *)data, size, &t, &err)) return 0;
    ig_tmpl_env *env = ig_tmpl_env_new();
    ig_tmpl_limits lim = {64 * 1024, 20, 20000, 20000};
    ig_tmpl_env_limits(env, &lim);
    ig_tmpl_env_add_func(env, "return", ig_tmpl_native_return, NULL);
    ig_tmpl_env_add_func(env, "ref", fn_echo, NULL);
    ig_tmpl_val ctx = ig_tmpl_dict_new();
    ig_tmpl_val cols = ig_tmpl_list_new();
    ig_tmpl_list_append(cols, ig_tmpl_str("id"));
    ig_tmpl_list_append(cols, ig_tmpl_int(7));
    ig_tmpl_list_append(cols, ig_tmpl_float(1.5));
    ig_tmpl_dict_set(ctx, "cols", cols);
    ig_tmpl_dict_set(ctx, "name", ig_tmpl_str("orders"));
    ig_tmpl_val cfg = ig_tmpl_dict_new();
    ig_tmpl_dict_set(cfg, "materialized", ig_tmpl_str("table"));
    ig_tmpl_dict_set(cfg, "enabled", ig_tmpl_bool(true));
    ig_tmpl_dict_set(ctx, "config", cfg);
    ig_buf out;
    ig_buf_init(&out, 0);
    ig_tmpl_render(env, t, ctx, &out, &err);
    ig_buf_free(&out);
    ig_tmpl_val mod;
    if (ig_tmpl_module(env, t, ctx, &mod, &err) == 0) {
        /* call every macro with no arguments */
        for (size_t i = 0; i < ig_tmpl_macro_count(t); i++) {
            ig_tmpl_val r;
            if (ig_tmpl_call_macro(env, mod, ig_tmpl_macro_name(t, i), ctx, NULL, &r, &err) == 0)
                ig_tmpl_unref(r);
        }
        ig_tmpl_unref(mod);
    }
    ig_tmpl_unref(ctx);
    ig_tmpl_env_free(env);
    ig_tmpl_free(t);
    return 0;
}
