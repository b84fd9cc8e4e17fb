{{ config(unique_key='id', on_schema_change=var('osc', 'append_new_columns')) }}
select id, status{% if var('extra', false) %}, 'x' as extra{% endif %}
from {{ ref('stg_orders') }}
