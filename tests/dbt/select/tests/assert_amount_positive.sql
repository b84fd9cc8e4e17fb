select * from {{ ref('order_totals') }} where amount <= 0
