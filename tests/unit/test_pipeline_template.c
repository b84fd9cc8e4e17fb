/* Unit tests for task templating (orchestrate/template.c): the run's
 * variables, params and their types, the date macros at month, year and
 * leap-day edges, env_var, and errors that name the task and the position;
 * and for the file watch that makes `ingot serve` reload pipelines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/fs.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fixture {
    ig_arena *a;
    ig_yaml *doc;
    ig_pipeline pl;
    ig_task task;
    ig_task_ctx ctx;
} fixture;

/* doc: a YAML map with `pipeline_params:` and `task:` (the task's node) */
static void setup(fixture *f, const char *yaml, const char *ds)
{
    memset(f, 0, sizeof *f);
    f->a = ig_arena_new();
    ig_error e;
    if (ig_yaml_parse(f->a, "ingot.yml", yaml, strlen(yaml), NULL, &f->doc, &e)) fail_msg("%s", e.message);
    f->pl.name = "daily";
    f->pl.params = ig_yaml_get(f->doc, "pipeline_params");
    f->task.name = "load";
    f->task.node = ig_yaml_get(f->doc, "task");
    f->ctx.pipeline = &f->pl;
    f->ctx.task = &f->task;
    f->ctx.run_id = "manual__20261125T072536_09dcb0";
    f->ctx.try_number = 2;
    static const char *const names[] = {"ds", "ds_nodash", "data_interval_start", "data_interval_end", "ts"};
    static char vals[5][40];
    snprintf(vals[0], 40, "%s", ds);
    snprintf(vals[1], 40, "%.4s%.2s%.2s", ds, ds + 5, ds + 8);
    snprintf(vals[2], 40, "%sT00:00:00.000000Z", ds);
    snprintf(vals[3], 40, "%sT00:00:00.000000Z", ds); /* not used for arithmetic here */
    snprintf(vals[4], 40, "%sT01:30:00.000000Z", ds);
    for (int i = 0; i < 5; i++) {
        f->ctx.vars[i][0] = names[i];
        f->ctx.vars[i][1] = vals[i];
    }
    f->ctx.nvars = 5;
}

static void expect(fixture *f, const char *tmpl, const char *want)
{
    char *out;
    ig_error e;
    ig_error_clear(&e);
    if (ig_task_render(&f->ctx, "command", NULL, NULL, tmpl, &out, &e)) fail_msg("%s: %s", tmpl, e.message);
    if (strcmp(out, want)) fail_msg("%s: got '%s', want '%s'", tmpl, out, want);
    free(out);
}

static void variables_and_macros(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "task: {name: load}\n", "2024-02-28");
    expect(&f, "no markup {at all}", "no markup {at all}");
    expect(&f, "{{ ds }} {{ ds_nodash }} {{ ts_nodash }}", "2024-02-28 20240228 20240228T013000");
    expect(&f, "{{ pipeline }}.{{ task }}.{{ try_number }} {{ run_id[:6] }}", "daily.load.2 manual");
    /* leap day, month and year ends, both directions */
    expect(&f, "{{ macros.ds_add(ds, 1) }} {{ ds | ds_add(2) }}", "2024-02-29 2024-03-01");
    expect(&f, "{{ macros.ds_add('2024-12-31', 1) }} {{ '2025-01-01' | ds_add(-1) }}", "2025-01-01 2024-12-31");
    expect(&f, "{{ macros.ds_add('2023-03-01', -1) }} {{ macros.ds_add(ds, 366) }}", "2023-02-28 2025-02-28");
    expect(&f, "{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%y') }}", "28/02/24");
    expect(&f, "{% for d in range(3) %}{{ ds | ds_add(-d) }};{% endfor %}", "2024-02-28;2024-02-27;2024-02-26;");
    setenv("IG_UNIT_TMPL", "v", 1);
    expect(&f, "{{ env_var('IG_UNIT_TMPL') }}{{ env_var('IG_UNIT_NOPE', '-d') }}", "v-d");
    ig_arena_free(f.a);
}

static void params_types_and_layers(void **state)
{
    (void)state;
    fixture f;
    setup(&f,
          "pipeline_params: {region: eu, n: 21, ratio: 0.5, on: true, list: [a, b], day_before: "
          "\"{{ macros.ds_add(ds, -1) }}\", quoted: \"7\"}\n"
          "task: {name: load, params: {region: \"{{ params.region | upper }}\", extra: x}}\n",
          "2026-01-01");
    expect(&f, "{{ params.region }} {{ params.extra }} {{ params.day_before }}", "EU x 2025-12-31");
    expect(&f, "{{ params.n * 2 }} {{ params.ratio * 2 }} {{ params.on }} {{ params.list | join('+') }}",
           "42 1.0 True a+b");
    expect(&f, "{{ params.quoted ~ '1' }}", "71"); /* a quoted number stays a string */
    ig_arena_free(f.a);
}

static void errors_name_task_and_position(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "task:\n  name: load\n  command: \"echo {{ dss }}\"\n", "2026-01-01");
    const ig_yaml *cmd = ig_yaml_get(f.task.node, "command");
    char *out = NULL;
    ig_error e;
    ig_error_clear(&e);
    assert_int_not_equal(ig_task_render(&f.ctx, "command", cmd, NULL, cmd->str, &out, &e), 0);
    assert_null(out);
    /* the quote is column 12; "{{" is the 6th character of the value */
    assert_string_equal(e.file, "ingot.yml");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 18);
    assert_non_null(strstr(e.message, "ingot.yml:3:18: task 'load' (pipeline 'daily'), command:"));
    assert_non_null(strstr(e.message, "'dss' is undefined"));
    /* env_var without a default */
    ig_error_clear(&e);
    assert_int_not_equal(ig_task_render(&f.ctx, "command", NULL, NULL, "{{ env_var('IG_UNIT_UNSET_X') }}", &out, &e), 0);
    assert_non_null(strstr(e.message, "IG_UNIT_UNSET_X' is not set"));
    /* bad arguments */
    ig_error_clear(&e);
    assert_int_not_equal(ig_task_render(&f.ctx, "sql", NULL, NULL, "{{ ds | ds_add('x') }}", &out, &e), 0);
    assert_non_null(strstr(e.message, "days must be a whole number"));
    /* a syntax error at load time: IG_ERR_CONFIG with the position */
    ig_error_clear(&e);
    ig_yaml *bad;
    const char *y = "command: \"echo {{ ds }\"\n";
    if (ig_yaml_parse(f.a, "p.yml", y, strlen(y), NULL, &bad, &e)) fail_msg("%s", e.message);
    assert_int_equal(ig_task_template_check(&f.pl, &f.task, "command", ig_yaml_get(bad, "command"), &e),
                     IG_ERR_CONFIG);
    assert_string_equal(e.file, "p.yml");
    assert_int_equal(e.line, 1);
    assert_non_null(strstr(e.message, "task 'load' (pipeline 'daily'), command:"));
    ig_arena_free(f.a);
}

static void watch_reports_settled_changes(void **state)
{
    (void)state;
    char dir[] = "/tmp/ig-watch-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *yml = ig_path_join(dir, "ingot.yml"), *pdir = ig_path_join(dir, "pipelines"),
         *pf = ig_path_join(pdir, "a.yml");
    FILE *fp = fopen(yml, "w");
    fputs("name: x\n", fp);
    fclose(fp);
    ig_pipeline_watch *w = ig_pipeline_watch_new(dir);
    assert_false(ig_pipeline_watch_poll(w)); /* nothing changed */
    fp = fopen(yml, "a");
    fputs("pipelines: {}\n", fp);
    fclose(fp);
    assert_false(ig_pipeline_watch_poll(w)); /* changed: wait one poll for it to settle */
    assert_true(ig_pipeline_watch_poll(w));  /* settled: reported once */
    assert_false(ig_pipeline_watch_poll(w));
    /* a new file in pipelines/ counts; other files there do not */
    mkdir(pdir, 0755);
    assert_false(ig_pipeline_watch_poll(w));
    fp = fopen(pf, "w");
    fputs("p: {}\n", fp);
    fclose(fp);
    char *other = ig_path_join(pdir, "notes.txt");
    fp = fopen(other, "w");
    fclose(fp);
    assert_false(ig_pipeline_watch_poll(w));
    assert_true(ig_pipeline_watch_poll(w));
    /* still changing at each poll: not reported until it stops */
    fp = fopen(pf, "a");
    fputs("q: {}\n", fp);
    fclose(fp);
    assert_false(ig_pipeline_watch_poll(w));
    fp = fopen(pf, "a");
    fputs("r: {}\n", fp);
    fclose(fp);
    assert_false(ig_pipeline_watch_poll(w));
    assert_true(ig_pipeline_watch_poll(w));
    /* removal counts */
    unlink(pf);
    assert_false(ig_pipeline_watch_poll(w));
    assert_true(ig_pipeline_watch_poll(w));
    ig_pipeline_watch_free(w);
    unlink(other);
    rmdir(pdir);
    unlink(yml);
    rmdir(dir);
    free(yml);
    free(pdir);
    free(pf);
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(variables_and_macros),
        cmocka_unit_test(params_types_and_layers),
        cmocka_unit_test(errors_name_task_and_position),
        cmocka_unit_test(watch_reports_settled_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
