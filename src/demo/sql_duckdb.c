/* The SQL the demo runs itself, in DuckDB's dialect: forgetting the previous
 * run's loads, and the report's queries. The silver and gold models are the
 * demo's dbt project (dbt_project.c), built by the transform layer. A
 * PostgreSQL backend adds sql_postgres.c with the same table. */
#include "demo/demo_int.h"

/* ----------------------------------------------------------------- reset */

/* What the lake recorded about the demo source's earlier batches: the demo
 * rebuilds from scratch, so its load history starts again with each run. */
static const char reset_loads[] =
    "DELETE FROM ingot.schema_changes WHERE batch_id IN\n"
    "    (SELECT batch_id FROM ingot.loads WHERE source = {{source}});\n"
    "DELETE FROM ingot.source_state WHERE source = {{source}};\n"
    "DELETE FROM ingot.loads WHERE source = {{source}};";

/* ---------------------------------------------------------------- report */

static const char report_revenue[] =
    "SELECT strftime(month, '%Y-%m') AS month, orders, revenue,\n"
    "       CAST(round(30 * revenue / max(revenue) OVER ()) AS INTEGER) AS bar\n"
    "FROM (SELECT * FROM gold.revenue_by_month ORDER BY month DESC LIMIT 12)\n"
    "ORDER BY month";

static const char report_products[] = "SELECT rank, name, category, units, revenue\n"
                                      "FROM gold.top_products WHERE rank <= 10 ORDER BY rank";

static const char report_funnel[] = "SELECT step, sessions, pct_of_previous, pct_of_sessions\n"
                                    "FROM gold.funnel ORDER BY step_order";

const ig_demo_dialect ig__demo_sql_duckdb = {
    .driver = "duckdb",
    .reset_loads = reset_loads,
    .report_revenue = report_revenue,
    .report_products = report_products,
    .report_funnel = report_funnel,
};
