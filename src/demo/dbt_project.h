/* The demo's dbt project (dbt_project.c): the files `ingot demo` writes into
 * its folder. */
#ifndef IG_DEMO_DBT_PROJECT_H
#define IG_DEMO_DBT_PROJECT_H

#include "core/error.h"

typedef struct ig_demo_file {
    const char *path; /* relative to the project folder */
    const char *text;
} ig_demo_file;

/* Every file, terminated by {NULL, NULL}. */
extern const ig_demo_file ig__demo_dbt_files[];

/* Write (atomically, replacing) every file under dir. */
ig_rc ig__demo_write_dbt(const char *dir, ig_error *err);

#endif
