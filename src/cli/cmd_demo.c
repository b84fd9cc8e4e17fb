/* `ingot demo [DIR] [--scale F] [--seed N] [--quiet] [--no-report]`: build
 * the demo shop (the work is ig_demo_run in demo/demo.c). */
#include "cli/cli.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "demo/demo.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *opt_scale;
static long opt_seed = LONG_MIN; /* LONG_MIN: not given */
static bool opt_quiet, opt_no_report;

const ig_opt ig_opts_demo[] = {
    {"scale", 0, IG_OPT_STR, &opt_scale, "F",
     "multiply the row counts (default 1: ~20,000 customers, 60,000 orders); 0.1 is quick"},
    {"seed", 0, IG_OPT_INT, &opt_seed, "N",
     "seed of the generator (default 42); same seed, same data"},
    {"quiet", 'q', IG_OPT_FLAG, &opt_quiet, NULL, "no progress lines on stderr"},
    {"no-report", 0, IG_OPT_FLAG, &opt_no_report, NULL, "build everything but print no report"},
    {0},
};

ig_rc cmd_demo(ig_cli *cli)
{
    const char *scale_text = opt_scale;
    long seed = opt_seed;
    bool quiet = opt_quiet, no_report = opt_no_report;
    opt_scale = NULL; /* the options are read once per run */
    opt_seed = LONG_MIN;
    opt_quiet = opt_no_report = false;
    if (cli->argc > 1) {
        ig_err(&cli->err, IG_ERR_USAGE, "ingot demo takes one folder, got %d arguments", cli->argc);
        ig_err_hint(&cli->err, "ingot demo [DIR] [--scale F] [--seed N]");
        return IG_ERR_USAGE;
    }
    double scale = 1.0;
    if (scale_text && (!ig_parse_double(scale_text, &scale) || !(scale > 0 && scale <= 100))) {
        ig_err(&cli->err, IG_ERR_USAGE, "--scale: '%s' is not a number in (0, 100]", scale_text);
        ig_err_hint(&cli->err, "1 is ~20,000 customers and 60,000 orders; try --scale 0.1");
        return IG_ERR_USAGE;
    }
    if (seed != LONG_MIN && seed < 0) {
        ig_err(&cli->err, IG_ERR_USAGE, "--seed must be 0 or more");
        return IG_ERR_USAGE;
    }
    /* DIR is relative to -C */
    const char *arg = cli->argc ? cli->argv[0] : "demo-shop";
    const char *base = cli->dir && *cli->dir ? cli->dir : ".";
    char *dir = !strcmp(base, ".") || arg[0] == '/' ? ig_strdup(arg) : ig_path_join(base, arg);
    ig_demo_options o = {
        .dir = dir,
        .seed = seed == LONG_MIN ? 42 : (uint64_t)seed,
        .scale = scale,
        .quiet = quiet,
        .no_report = no_report,
        .stdout_tty = cli->stdout_tty,
        .stderr_tty = cli->stderr_tty,
        .out = stdout,
    };
    ig_rc rc = ig_demo_run(&o, &cli->err);
    free(dir);
    return rc;
}
