-- the same series with a spike two days ago
select cast(current_date - to_days(d) as date) as day,
       case when d = 2 then 100000 else 100 + d % 3 end as metric
from range(1, 41) as r(d)
