-- 40 days up to yesterday with a steady, repeating metric
select cast(current_date - to_days(d) as date) as day, 100 + d % 3 as metric
from range(1, 41) as r(d)
