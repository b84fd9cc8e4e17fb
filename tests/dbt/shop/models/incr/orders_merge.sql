{{ config(incremental_strategy='merge', unique_key='id') }}
select id, status, updated_at from {{ ref('stg_orders') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
