{% macro cents(col) -%}
  cast({{ col }} * 100 as bigint)
{%- endmacro %}

{# the root project overrides util's shout through the dispatch search order #}
{% macro duckdb__shout(text) -%}
  upper({{ text }}) || '!'
{%- endmacro %}
