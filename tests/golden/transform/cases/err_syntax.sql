select 1
{% if true %}
  {{ 1 + }}
{% endif %}
