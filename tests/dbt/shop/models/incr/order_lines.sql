{{ config(incremental_strategy='merge', unique_key=['id', 'line']) }}
select id, line, status from {{ ref('stg_orders') }}, (select unnest([1, 2]) as line)
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ ref('orders_merge') }}) - interval 1 day
{% endif %}
