select id, customer_id, amount, status, updated_at
from {{ source('raw', 'orders') }}
where amount >= {{ var('min_amount') }}
