with o as (
    select customer_id, count(*) as orders, sum({{ cents('amount') }}) as cents
    from {{ ref('stg_orders') }}
    group by 1
)
select c.customer_id, c.name, o.orders, o.cents, u.greeting, {{ util.shout("'x'") }} as shouted
from {{ ref('stg_customers') }} c
join o using (customer_id)
cross join {{ ref('util', 'util_hello') }} u
