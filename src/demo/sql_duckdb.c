/* Every SQL statement the demo runs, in DuckDB's dialect: forgetting the
 * previous run's loads, the silver and gold models (over the bronze tables
 * the file-ingest layer loads),
 * and the report's queries. A PostgreSQL backend adds sql_postgres.c with the
 * same table; nothing else in src/demo/ holds SQL.
 *
 * The silver and gold models are plain SELECTs so that they can move to the
 * project's dbt models (a later issue) as they are. Sums are over DECIMAL
 * (exact), and every division is a single operation on exact inputs, so a
 * rebuild gives identical results. */
#include "demo/demo_int.h"

/* ----------------------------------------------------------------- reset */

/* What the lake recorded about the demo source's earlier batches: the demo
 * rebuilds from scratch, so its load history starts again with each run. */
static const char reset_loads[] =
    "DELETE FROM ingot.schema_changes WHERE batch_id IN\n"
    "    (SELECT batch_id FROM ingot.loads WHERE source = {{source}});\n"
    "DELETE FROM ingot.source_state WHERE source = {{source}};\n"
    "DELETE FROM ingot.loads WHERE source = {{source}};";

static const char materialize[] = "CREATE OR REPLACE TABLE {{relation}} AS\n{{sql}}";

/* ---------------------------------------------------------------- silver */

/* Bronze has the types the file-ingest layer detects (ids BIGINT, money
 * DOUBLE, dates DATE, times TIMESTAMP, the web events' context a STRUCT).
 * The casts below state silver's types whatever bronze holds: they are
 * no-ops on those types, exact for money (a DOUBLE read from "12.99" casts
 * to DECIMAL 12.99), and still right if a column were widened to VARCHAR by
 * a later file. */

static const ig_demo_model silver[] = {
    {"silver", "customers",
     /* the latest version of each customer; names and emails tidied */
     "SELECT CAST(customer_id AS BIGINT) AS customer_id,\n"
     "       trim(first_name) AS first_name,\n"
     "       trim(last_name) AS last_name,\n"
     "       trim(first_name) || ' ' || trim(last_name) AS full_name,\n"
     "       nullif(lower(trim(email)), '') AS email,\n"
     "       upper(trim(country)) AS country,\n"
     "       trim(city) AS city,\n"
     "       CAST(signup_date AS DATE) AS signup_date,\n"
     "       lower(trim(segment)) AS segment,\n"
     "       CAST(updated_at AS TIMESTAMP) AS updated_at\n"
     "FROM bronze.demo__customers\n"
     "QUALIFY row_number() OVER (PARTITION BY CAST(customer_id AS BIGINT)\n"
     "                           ORDER BY CAST(updated_at AS TIMESTAMP) DESC,\n"
     "                                    _ingot_row_number DESC) = 1"},
    {"silver", "products",
     "SELECT CAST(product_id AS BIGINT) AS product_id,\n"
     "       trim(sku) AS sku,\n"
     "       trim(name) AS name,\n"
     "       trim(category) AS category,\n"
     "       CAST(price AS DECIMAL(12,2)) AS price,\n"
     "       CAST(cost AS DECIMAL(12,2)) AS cost,\n"
     "       CAST(created_at AS TIMESTAMP) AS created_at\n"
     "FROM bronze.demo__products\n"
     "QUALIFY row_number() OVER (PARTITION BY CAST(product_id AS BIGINT)\n"
     "                           ORDER BY _ingot_row_number DESC) = 1"},
    {"silver", "orders",
     "SELECT CAST(order_id AS BIGINT) AS order_id,\n"
     "       CAST(customer_id AS BIGINT) AS customer_id,\n"
     "       CAST(ordered_at AS TIMESTAMP) AS ordered_at,\n"
     "       CAST(CAST(ordered_at AS TIMESTAMP) AS DATE) AS order_date,\n"
     "       lower(trim(status)) AS status,\n"
     "       lower(trim(channel)) AS channel,\n"
     "       upper(trim(currency)) AS currency\n"
     "FROM bronze.demo__orders\n"
     "QUALIFY row_number() OVER (PARTITION BY CAST(order_id AS BIGINT)\n"
     "                           ORDER BY _ingot_row_number DESC) = 1"},
    {"silver", "order_items",
     /* lines exported twice are the same line: keep one */
     "SELECT CAST(order_item_id AS BIGINT) AS order_item_id,\n"
     "       CAST(order_id AS BIGINT) AS order_id,\n"
     "       CAST(product_id AS BIGINT) AS product_id,\n"
     "       CAST(quantity AS INTEGER) AS quantity,\n"
     "       CAST(unit_price AS DECIMAL(12,2)) AS unit_price,\n"
     "       CAST(discount AS DECIMAL(12,2)) AS discount,\n"
     "       CAST(CAST(quantity AS INTEGER) * CAST(unit_price AS DECIMAL(12,2))\n"
     "            - CAST(discount AS DECIMAL(12,2)) AS DECIMAL(12,2)) AS line_amount\n"
     "FROM bronze.demo__order_items\n"
     "QUALIFY row_number() OVER (PARTITION BY CAST(order_item_id AS BIGINT)\n"
     "                           ORDER BY _ingot_row_number) = 1"},
    {"silver", "payments",
     "SELECT CAST(payment_id AS BIGINT) AS payment_id,\n"
     "       CAST(order_id AS BIGINT) AS order_id,\n"
     "       lower(trim(method)) AS method,\n"
     "       CAST(amount AS DECIMAL(12,2)) AS amount,\n"
     "       lower(trim(status)) AS status,\n"
     "       CAST(paid_at AS TIMESTAMP) AS paid_at\n"
     "FROM bronze.demo__payments\n"
     "QUALIFY row_number() OVER (PARTITION BY CAST(payment_id AS BIGINT)\n"
     "                           ORDER BY _ingot_row_number) = 1"},
    {"silver", "web_events",
     /* delivered at least once: keep the first copy of each event id; the
      * session's known user stitched onto every event of the session */
     "SELECT CAST(event_id AS UUID) AS event_id,\n"
     "       lower(trim(event_type)) AS event_type,\n"
     "       CAST(anonymous_id AS UUID) AS anonymous_id,\n"
     "       CAST(user_id AS BIGINT) AS user_id,\n"
     "       max(CAST(user_id AS BIGINT)) OVER (PARTITION BY session_id) AS customer_id,\n"
     "       session_id,\n"
     "       CAST(\"timestamp\" AS TIMESTAMP) AS event_at,\n"
     "       url,\n"
     "       CAST(product_id AS BIGINT) AS product_id,\n"
     "       CAST(order_id AS BIGINT) AS order_id,\n"
     "       context.user_agent AS user_agent,\n"
     "       context.locale AS locale,\n"
     "       coalesce(regexp_matches(lower(context.user_agent), 'bot|crawler|spider'), false)\n"
     "           AS is_bot\n"
     "FROM bronze.demo__web_events\n"
     "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _ingot_row_number) = 1"},
    {NULL, NULL, NULL},
};

/* ------------------------------------------------------------------ gold */

static const ig_demo_model gold[] = {
    {"gold", "fct_orders",
     /* one row per order; revenue is what the customer pays for the items
      * (after discounts); it counts as earned when is_completed */
     "WITH items AS (\n"
     "    SELECT i.order_id,\n"
     "           count(*) AS item_lines,\n"
     "           sum(i.quantity) AS units,\n"
     "           sum(i.quantity * i.unit_price) AS gross_amount,\n"
     "           sum(i.discount) AS discount_amount,\n"
     "           sum(i.line_amount) AS revenue,\n"
     "           sum(i.quantity * p.cost) AS cost\n"
     "    FROM silver.order_items i\n"
     "    LEFT JOIN silver.products p ON p.product_id = i.product_id\n"
     "    GROUP BY i.order_id),\n"
     "paid AS (\n"
     "    SELECT order_id,\n"
     "           sum(CASE status WHEN 'paid' THEN amount WHEN 'refunded' THEN -amount ELSE 0 END)\n"
     "               AS net_paid\n"
     "    FROM silver.payments\n"
     "    GROUP BY order_id)\n"
     "SELECT o.order_id,\n"
     "       o.customer_id,\n"
     "       o.ordered_at,\n"
     "       o.order_date,\n"
     "       CAST(date_trunc('month', o.order_date) AS DATE) AS order_month,\n"
     "       o.status,\n"
     "       o.channel,\n"
     "       o.status = 'completed' AS is_completed,\n"
     "       CAST(coalesce(i.item_lines, 0) AS INTEGER) AS item_lines,\n"
     "       CAST(coalesce(i.units, 0) AS INTEGER) AS units,\n"
     "       CAST(coalesce(i.gross_amount, 0) AS DECIMAL(14,2)) AS gross_amount,\n"
     "       CAST(coalesce(i.discount_amount, 0) AS DECIMAL(14,2)) AS discount_amount,\n"
     "       CAST(coalesce(i.revenue, 0) AS DECIMAL(14,2)) AS revenue,\n"
     "       CAST(coalesce(i.cost, 0) AS DECIMAL(14,2)) AS cost,\n"
     "       CAST(coalesce(i.revenue, 0) - coalesce(i.cost, 0) AS DECIMAL(14,2)) AS margin,\n"
     "       CAST(coalesce(paid.net_paid, 0) AS DECIMAL(14,2)) AS net_paid\n"
     "FROM silver.orders o\n"
     "LEFT JOIN items i ON i.order_id = o.order_id\n"
     "LEFT JOIN paid ON paid.order_id = o.order_id"},
    {"gold", "dim_customers",
     "SELECT c.customer_id,\n"
     "       c.full_name,\n"
     "       c.email,\n"
     "       c.country,\n"
     "       c.city,\n"
     "       c.segment,\n"
     "       c.signup_date,\n"
     "       min(f.ordered_at) AS first_order_at,\n"
     "       max(f.ordered_at) AS last_order_at,\n"
     "       count(f.order_id) AS orders,\n"
     "       CAST(coalesce(sum(f.revenue), 0) AS DECIMAL(14,2)) AS lifetime_value,\n"
     "       CAST(sum(f.revenue) / nullif(count(f.order_id), 0) AS DECIMAL(14,2))\n"
     "           AS avg_order_value\n"
     "FROM silver.customers c\n"
     "LEFT JOIN gold.fct_orders f ON f.customer_id = c.customer_id AND f.is_completed\n"
     "GROUP BY c.customer_id, c.full_name, c.email, c.country, c.city, c.segment,\n"
     "         c.signup_date"},
    {"gold", "revenue_by_month",
     "SELECT order_month AS month,\n"
     "       count(*) AS orders,\n"
     "       count(DISTINCT customer_id) AS customers,\n"
     "       CAST(sum(revenue) AS DECIMAL(16,2)) AS revenue,\n"
     "       CAST(sum(margin) AS DECIMAL(16,2)) AS margin,\n"
     "       CAST(sum(revenue) / count(*) AS DECIMAL(14,2)) AS avg_order_value\n"
     "FROM gold.fct_orders\n"
     "WHERE is_completed\n"
     "GROUP BY order_month"},
    {"gold", "top_products",
     /* every product that sold, ranked by revenue from completed orders */
     "SELECT CAST(row_number() OVER (ORDER BY sum(i.line_amount) DESC, p.product_id)\n"
     "            AS INTEGER) AS rank,\n"
     "       p.product_id,\n"
     "       p.sku,\n"
     "       p.name,\n"
     "       p.category,\n"
     "       CAST(sum(i.quantity) AS BIGINT) AS units,\n"
     "       count(DISTINCT i.order_id) AS orders,\n"
     "       CAST(sum(i.line_amount) AS DECIMAL(16,2)) AS revenue,\n"
     "       CAST(sum(i.line_amount - i.quantity * p.cost) AS DECIMAL(16,2)) AS margin\n"
     "FROM silver.order_items i\n"
     "JOIN silver.orders o ON o.order_id = i.order_id AND o.status = 'completed'\n"
     "JOIN silver.products p ON p.product_id = i.product_id\n"
     "GROUP BY p.product_id, p.sku, p.name, p.category"},
    {"gold", "funnel",
     /* human sessions that reached each step of the purchase funnel */
     "WITH steps(step_order, step) AS (\n"
     "    VALUES (1, 'page_view'), (2, 'product_view'), (3, 'add_to_cart'),\n"
     "           (4, 'checkout_started'), (5, 'order_completed')),\n"
     "reached AS (\n"
     "    SELECT s.step_order, s.step, count(DISTINCT e.session_id) AS sessions\n"
     "    FROM steps s\n"
     "    LEFT JOIN silver.web_events e ON e.event_type = s.step AND NOT e.is_bot\n"
     "    GROUP BY s.step_order, s.step)\n"
     "SELECT CAST(step_order AS INTEGER) AS step_order,\n"
     "       step,\n"
     "       sessions,\n"
     "       CAST(coalesce(100.0 * sessions\n"
     "                     / nullif(lag(sessions) OVER (ORDER BY step_order), 0), 100)\n"
     "            AS DECIMAL(5,1)) AS pct_of_previous,\n"
     "       CAST(100.0 * sessions / nullif(first_value(sessions) OVER (ORDER BY step_order), 0)\n"
     "            AS DECIMAL(5,1)) AS pct_of_sessions\n"
     "FROM reached"},
    {NULL, NULL, NULL},
};

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
    .materialize = materialize,
    .silver = silver,
    .gold = gold,
    .report_revenue = report_revenue,
    .report_products = report_products,
    .report_funnel = report_funnel,
};
