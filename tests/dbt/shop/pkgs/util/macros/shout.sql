{% macro shout(text) -%}
  {{ return(adapter.dispatch('shout', 'util')(text)) }}
{%- endmacro %}

{% macro default__shout(text) -%}
  upper({{ text }})
{%- endmacro %}

{% macro greet() -%}
  '{{ var("greeting") }}'
{%- endmacro %}
