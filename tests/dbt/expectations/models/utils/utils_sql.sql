-- dbt_utils' SQL generators on the test data: one row with a value from each
-- depends_on: {{ ref('utils_star') }}
{%- set categories = dbt_utils.get_column_values(ref('good'), 'category', order_by='category') %}
with starred as (
    select {{ dbt_utils.star(ref('good'), except=['email', 'updated_at', 'nothing'], relation_alias='g') }}
    from {{ ref('good') }} as g
),
pivoted as (
    select {{ dbt_utils.pivot('category', categories) }} from {{ ref('good') }}
),
spine as (
    select count(*) as days from ({{ dbt_utils.date_spine('day', "cast('2024-01-01' as date)", "cast('2024-01-08' as date)") }}) as s
),
unioned as (
    select count(*) as n, count(distinct _dbt_source_relation) as sources, count(email) as emails
    from ({{ dbt_utils.union_relations([ref('good'), ref('parents')]) }}) as u
)
select
    (select count(*) from starred) as star_rows,
    (select string_agg(column_name, ',' order by ordinal_position) from information_schema.columns
      where table_name = 'utils_star') as star_columns,
    (select {{ dbt_utils.generate_surrogate_key(['id', 'name']) }} from {{ ref('good') }} where id = 1) as surrogate_key,
    {{ dbt_utils.safe_divide('10', '0') }} as divided_by_zero,
    {{ dbt_utils.safe_divide('10', '4') }} as divided,
    '{{ categories | join(",") }}' as categories,
    (select a || '/' || b || '/' || c from pivoted) as pivot_counts,
    (select days from spine) as spine_days,
    (select n || '/' || sources || '/' || emails from unioned) as union_counts
