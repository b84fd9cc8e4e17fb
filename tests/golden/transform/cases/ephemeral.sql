select * from {{ ref('eph2') }} join {{ ref('eph') }} using (id)
