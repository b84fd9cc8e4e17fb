select id as order_id, customer_id, cents / 100.0 as amount, country
from {{ source('raw', 'orders') }}
