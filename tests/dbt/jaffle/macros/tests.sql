{% test row_count_at_least(model, n) %}
select 1 from (select count(*) as c from {{ model }}) where c < {{ n }}
{% endtest %}
