select c.customer_id, c.name, count(*) as orders, sum(o.amount) as amount
from {{ ref('stg_customers') }} c join {{ ref('stg_orders') }} o using (customer_id)
group by 1, 2
