/* The shared option parser: long options (--name, --name=value, --name
 * value), short options (-x, -xVALUE, -x VALUE), repeated/list options, "--"
 * to end options. Unknown options get the nearest valid one suggested. */
#include "cli/cli.h"

#include "core/mem.h"
#include "core/str.h"

#include <string.h>

static const ig_opt *find_long(const ig_opt *opts, const char *name, size_t len)
{
    for (const ig_opt *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len)) return o;
    return NULL;
}

static const ig_opt *find_short(const ig_opt *opts, char c)
{
    for (const ig_opt *o = opts; o && o->name; o++)
        if (o->shortname == c) return o;
    return NULL;
}

static ig_rc unknown(const char *cmdname, const ig_opt *opts, const char *flag, ig_error *err)
{
    ig_err(err, IG_ERR_USAGE, "unknown option '%s' for 'ingot %s'", flag, cmdname);
    const char *names[128];
    char longs[128][64];
    size_t n = 0;
    for (const ig_opt *o = opts; o && o->name && n < 128; o++, n++) {
        snprintf(longs[n], sizeof longs[n], "--%s", o->name);
        names[n] = longs[n];
    }
    char word[64];
    snprintf(word, sizeof word, "%s", flag);
    char *eq = strchr(word, '=');
    if (eq) *eq = '\0';
    const char *s = ig_str_suggest(word, names, n);
    if (s) ig_err_hint(err, "did you mean '%s'? See 'ingot help %s'", s, cmdname);
    else ig_err_hint(err, "see 'ingot help %s' for its options", cmdname);
    return IG_ERR_USAGE;
}

static ig_rc set_value(ig_arena *a, const char *cmdname, const ig_opt *o, const char *value,
                       ig_error *err)
{
    switch (o->kind) {
    case IG_OPT_STR:
        *(const char **)o->out = value;
        return IG_OK;
    case IG_OPT_INT: {
        long v;
        if (!ig_parse_long(value, &v)) {
            ig_err(err, IG_ERR_USAGE, "option --%s of 'ingot %s' takes a whole number, not '%s'",
                   o->name, cmdname, value);
            return IG_ERR_USAGE;
        }
        *(long *)o->out = v;
        return IG_OK;
    }
    case IG_OPT_MULTI: {
        ig_strlist *l = o->out;
        /* values may be space-separated, as dbt's --select a b */
        const char **items = ig_arena_alloc(a, (l->n + 64) * sizeof(char *));
        if (l->n) memcpy(items, l->items, l->n * sizeof(char *));
        size_t n = l->n;
        const char *p = value;
        while (*p && n < l->n + 64) {
            while (*p == ' ') p++;
            const char *e = p;
            while (*e && *e != ' ') e++;
            if (e > p) items[n++] = ig_arena_strndup(a, p, (size_t)(e - p));
            p = e;
        }
        l->items = items;
        l->n = n;
        return IG_OK;
    }
    case IG_OPT_FLAG:
        break;
    }
    return IG_OK;
}

ig_rc ig_cli_parse_opts(ig_arena *a, const char *cmdname, const ig_opt *opts, int argc,
                        char **argv, int *pargc, char ***pargv, ig_error *err)
{
    char **pos = ig_arena_alloc(a, ((size_t)argc + 1) * sizeof(char *));
    int np = 0;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (only_pos || arg[0] != '-' || !strcmp(arg, "-")) {
            pos[np++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_pos = true;
            continue;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const ig_opt *o = find_long(opts, name, len);
            bool negated = false;
            if (!o && len > 3 && !strncmp(name, "no-", 3)) {
                o = find_long(opts, name + 3, len - 3);
                negated = o && o->kind == IG_OPT_FLAG;
                if (!negated) o = NULL;
            }
            if (!o) return unknown(cmdname, opts, arg, err);
            if (o->kind == IG_OPT_FLAG) {
                if (eq) {
                    ig_err(err, IG_ERR_USAGE, "option --%s of 'ingot %s' takes no value", o->name,
                           cmdname);
                    return IG_ERR_USAGE;
                }
                *(bool *)o->out = !negated;
                continue;
            }
            const char *value;
            if (eq) value = eq + 1;
            else if (i + 1 < argc) value = argv[++i];
            else {
                ig_err(err, IG_ERR_USAGE, "option --%s of 'ingot %s' needs a value (%s)", o->name,
                       cmdname, o->arg ? o->arg : "VALUE");
                return IG_ERR_USAGE;
            }
            ig_rc rc = set_value(a, cmdname, o, value, err);
            if (rc) return rc;
            continue;
        }
        /* short options, possibly bundled: -qv, -fFILE, -f FILE */
        for (char *c = arg + 1; *c; c++) {
            const ig_opt *o = find_short(opts, *c);
            if (!o) {
                char flag[3] = {'-', *c, 0};
                return unknown(cmdname, opts, flag, err);
            }
            if (o->kind == IG_OPT_FLAG) {
                *(bool *)o->out = true;
                continue;
            }
            const char *value;
            if (c[1]) value = c + 1;
            else if (i + 1 < argc) value = argv[++i];
            else {
                ig_err(err, IG_ERR_USAGE, "option -%c of 'ingot %s' needs a value (%s)", *c,
                       cmdname, o->arg ? o->arg : "VALUE");
                return IG_ERR_USAGE;
            }
            ig_rc rc = set_value(a, cmdname, o, value, err);
            if (rc) return rc;
            break;
        }
    }
    pos[np] = NULL;
    *pargc = np;
    *pargv = pos;
    return IG_OK;
}
