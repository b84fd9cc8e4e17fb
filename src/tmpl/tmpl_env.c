/* Environments: the globals, filters, tests, limits and resolver a render
 * runs with, and the argument binding every native uses. An environment
 * starts with Jinja's builtins (filters.c, builtins.c) and the host adds
 * dbt's context on top. */
#include "tmpl_int.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ig_tmpl_env *ig_tmpl_env_new(void)
{
    ig_tmpl_env *env = ig_calloc(1, sizeof *env);
    env->globals = ig__tmpl_dict_alloc();
    env->filters = ig__tmpl_dict_alloc();
    env->tests = ig__tmpl_dict_alloc();
    env->lim.max_output = 64u << 20;
    env->lim.max_depth = 200;
    env->lim.max_iterations = 10000000;
    env->lim.max_items = 10000000;
    env->modules = ig__tmpl_list_alloc(0);
    env->s_varargs = ig__tmpl_istr_arena(&env->arena, "varargs");
    env->s_kwargs = ig__tmpl_istr_arena(&env->arena, "kwargs");
    env->s_caller = ig__tmpl_istr_arena(&env->arena, "caller");
    env->s_loop = ig__tmpl_istr_arena(&env->arena, "loop");
    ig__tmpl_add_filters(env);
    ig__tmpl_add_tests(env);
    ig__tmpl_add_globals(env);
    return env;
}

void ig_tmpl_env_free(ig_tmpl_env *env)
{
    if (!env) return;
    /* clear first: values in the globals may refer to each other */
    ig__tmpl_dict_clear(env->globals);
    decref(mkobjv(IG_TMPL_DICT, env->globals));
    decref(mkobjv(IG_TMPL_DICT, env->filters));
    decref(mkobjv(IG_TMPL_DICT, env->tests));
    /* a module's macros refer to the module, which may hold them: clear it */
    for (size_t i = 0; i < env->modules->len; i++) ig__tmpl_dict_clear(DICT(env->modules->items[i]));
    decref(mkobjv(IG_TMPL_LIST, env->modules));
    ig__tmpl_arena_free(&env->arena);
    free(env);
}

void ig_tmpl_env_limits(ig_tmpl_env *env, const ig_tmpl_limits *lim)
{
    env->lim = *lim;
    if (env->lim.max_depth <= 0) env->lim.max_depth = 1;
    if (env->lim.max_depth > 1000) env->lim.max_depth = 1000; /* the C stack */
}

void ig_tmpl_env_get_limits(const ig_tmpl_env *env, ig_tmpl_limits *lim) { *lim = env->lim; }
void ig_tmpl_env_strict(ig_tmpl_env *env, bool strict) { env->strict = strict; }

void ig_tmpl_env_set_global(ig_tmpl_env *env, const char *name, ig_tmpl_val v)
{
    ig_tmpl_dict_set(mkobjv(IG_TMPL_DICT, env->globals), name, v);
}

ig_tmpl_val ig_tmpl_env_get_global(const ig_tmpl_env *env, const char *name)
{
    return ig_tmpl_dict_get(mkobjv(IG_TMPL_DICT, env->globals), name);
}

void ig_tmpl_env_add_func(ig_tmpl_env *env, const char *name, ig_tmpl_fn fn, void *ud)
{
    ig_tmpl_env_set_global(env, name, ig_tmpl_func_new(name, fn, ud));
}

void ig_tmpl_env_add_filter(ig_tmpl_env *env, const char *name, ig_tmpl_fn fn, void *ud)
{
    ig_tmpl_dict_set(mkobjv(IG_TMPL_DICT, env->filters), name, ig_tmpl_func_new(name, fn, ud));
}

void ig_tmpl_env_add_test(ig_tmpl_env *env, const char *name, ig_tmpl_fn fn, void *ud)
{
    ig_tmpl_dict_set(mkobjv(IG_TMPL_DICT, env->tests), name, ig_tmpl_func_new(name, fn, ud));
}

void ig_tmpl_env_set_resolver(ig_tmpl_env *env, ig_tmpl_resolver fn, void *ud)
{
    env->resolver = fn;
    env->resolver_ud = ud;
}

/* ------------------------------------------------------- argument binding */

bool ig_tmpl_given(ig_tmpl_val v) { return !ig__tmpl_is_missing(v); }

ig_rc ig_tmpl_bind(ig_tmpl_call *c, const char *fname, const ig_tmpl_args *a,
                   const char *const *names, int nreq, ig_tmpl_val *vals)
{
    int n = 0;
    while (names[n]) n++;
    if (a->npos > (size_t)n)
        return ig_tmpl_fail(c, "%s() takes at most %d argument%s (%zu given)", fname, n,
                            n == 1 ? "" : "s", a->npos);
    ig_tmpl_val missing = mkundef();
    missing.aux = UNDEF_MISSING;
    for (int i = 0; i < n; i++) vals[i] = (size_t)i < a->npos ? a->pos[i] : missing;
    for (size_t k = 0; k < a->nkw; k++) {
        int j = 0;
        while (j < n && strcmp(names[j], a->kwnames[k])) j++;
        if (j == n)
            return ig_tmpl_fail(c, "%s() got an unexpected keyword argument '%s'", fname,
                                a->kwnames[k]);
        if ((size_t)j < a->npos)
            return ig_tmpl_fail(c, "%s() got multiple values for argument '%s'", fname,
                                a->kwnames[k]);
        vals[j] = a->kw[k];
    }
    for (int i = 0; i < nreq; i++)
        if (ig__tmpl_is_missing(vals[i]))
            return ig_tmpl_fail(c, "%s() missing required argument '%s'", fname, names[i]);
    return 0;
}
