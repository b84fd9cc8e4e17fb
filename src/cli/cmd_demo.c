/* `ingot demo [DIR] [--scale F] [--seed N] [--quiet] [--no-report]
 * [--serve [--listen HOST:PORT]]`: build the demo shop (the work is
 * ig_demo_run in demo/demo.c), then with --serve become `ingot -C DIR serve`,
 * which runs the demo's pipeline on its schedule. */
#include "cli/cli.h"

#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "demo/demo.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *opt_scale;
static long opt_seed = LONG_MIN; /* LONG_MIN: not given */
static bool opt_quiet, opt_no_report, opt_serve;
static const char *opt_listen;

const ig_opt ig_opts_demo[] = {
    {"scale", 0, IG_OPT_STR, &opt_scale, "F",
     "multiply the row counts (default 1: ~20,000 customers, 60,000 orders); 0.1 is quick"},
    {"seed", 0, IG_OPT_INT, &opt_seed, "N",
     "seed of the generator (default 42); same seed, same data"},
    {"quiet", 'q', IG_OPT_FLAG, &opt_quiet, NULL, "no progress lines on stderr"},
    {"no-report", 0, IG_OPT_FLAG, &opt_no_report, NULL, "build everything but print no report"},
    {"serve", 0, IG_OPT_FLAG, &opt_serve, NULL,
     "then run `ingot serve` in the demo folder: the collector, and the demo's pipeline on its "
     "schedule"},
    {"listen", 'l', IG_OPT_STR, &opt_listen, "HOST:PORT", "with --serve: where the daemon listens"},
    {0},
};

ig_rc cmd_demo(ig_cli *cli)
{
    const char *scale_text = opt_scale;
    long seed = opt_seed;
    bool quiet = opt_quiet, no_report = opt_no_report, serve = opt_serve;
    const char *listen = opt_listen;
    opt_scale = NULL; /* the options are read once per run */
    opt_seed = LONG_MIN;
    opt_quiet = opt_no_report = opt_serve = false;
    opt_listen = NULL;
    if (listen && !serve) {
        ig_err(&cli->err, IG_ERR_USAGE, "--listen goes with --serve");
        ig_err_hint(&cli->err, "ingot demo [DIR] --serve --listen 127.0.0.1:8080");
        return IG_ERR_USAGE;
    }
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
    if (!rc && serve) {
        /* become the daemon of the demo project: the same binary, as if
         * `ingot -C DIR serve` had been typed */
        if (!quiet)
            fprintf(stderr, "serving %s: the pipeline '%s' runs every 10 minutes; run it now with "
                            "`ingot -C %s pipeline run %s`; Ctrl-C stops\n",
                    dir, IG_DEMO_PIPELINE, dir, IG_DEMO_PIPELINE);
        fflush(stdout);
        fflush(stderr);
        const char *argv[8] = {"ingot", "-C", dir, "serve"};
        int n = 4;
        if (listen) {
            argv[n++] = "--listen";
            argv[n++] = listen;
        }
        argv[n] = NULL;
        execv("/proc/self/exe", (char *const *)argv);
        rc = ig_err(&cli->err, IG_ERR_IO, "cannot start `ingot serve`: %s", strerror(errno));
        ig_err_hint(&cli->err, "the demo is built; start the daemon yourself: ingot -C DIR serve");
    }
    free(dir);
    return rc;
}
