select country, sum(amount) as amount from {{ ref('stg_orders') }} group by 1
