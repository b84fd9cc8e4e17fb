{# checks(cases): one row per (name, failing-rows query): the name and how
   many rows the query returns (0: the test passes) #}
{% macro checks(cases) -%}
{% for name, sql in cases -%}
select '{{ name }}' as test, count(*) as failures from ({{ sql }}) as q
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
{%- endmacro %}
