{{ config(pre_hook="insert into main.audit values ('daily', 'pre')") }}
select cast(updated_at as date) as day, count(*) as orders
from {{ ref('stg_orders') }}
group by 1
