select o.order_id, c.first_name from {{ ref('stg_orders') }} o join {{ ref('customers') }} c using (customer_id)
