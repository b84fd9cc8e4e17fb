{% macro add(a, b) %}{{ return(a + b) }}{% endmacro %}

{% macro greet(name) -%}
  {{ return(adapter.dispatch('greet')(name)) }}
{%- endmacro %}
{% macro default__greet(name) %}hello {{ name }}{% endmacro %}

{% macro wrap(tag) -%}
  <{{ tag }}>{{ caller() }}</{{ tag }}>
{%- endmacro %}

{% macro only_default() %}{{ return(adapter.dispatch('only_default')()) }}{% endmacro %}
{% macro default__only_default() %}default impl{% endmacro %}
{% macro duckdb__only_default() %}duckdb impl{% endmacro %}

{#- the root project overrides one of dbt's cross-database macros -#}
{% macro duckdb__type_int() %}INT4{% endmacro %}

{% macro from_missing() -%}
  select * from {{ ref('not_a_model') }}
{%- endmacro %}
