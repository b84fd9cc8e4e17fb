{% set t = run_query("select 1 as n, 'x' as s union all select 2, 'y' order by n") %}
{% if execute %}
-- {{ t.column_names }} {{ t.columns[0].values() }} {{ t.columns[1].name }}
{% for row in t.rows %}-- {{ row[0] }} {{ row['s'] }} {{ row.n }}
{% endfor %}
{% endif %}
{% call statement('q', fetch_result=True) %}select 42 as answer{% endcall %}
{% if execute %}-- {{ load_result('q')['data'] }} {{ load_result('q')['table'].columns[0].values()[0] }}{% endif %}
-- {{ adapter.get_relation(database=target.database, schema='nowhere', identifier='none') }}
-- {{ adapter.quote('Mixed Case') }} {{ adapter.type() }}
select 1
