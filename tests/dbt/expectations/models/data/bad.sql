-- the same columns with rows that break the tests: a duplicate id, a name
-- in two casings, an empty string, a category outside the set, a malformed
-- email, overlapping and inverted ranges, a gap in the days, stale times
select id, name, amount, category, email, day, lo, hi, seq,
       case when id = 3 then 7 end as nothing,
       cast(now() as timestamp) - to_days(10 + id) as updated_at
from (values
    (1, 'alice', 10.0, 'a', 'alice@example.com', date '2024-01-01', 0, 10, 1),
    (2, 'Alice', 5.0, 'b', 'alice-at-example', date '2024-01-02', 5, 20, 3),
    (2, 'bob', 999.0, 'z', 'x@y', date '2024-01-05', 20, 15, 2),
    (3, '', 30.0, 'a', 'carol@example.com', date '2024-01-06', 30, 40, 4),
    (4, null, 40.0, 'a', null, date '2024-01-07', 40, 50, 6)
) as t(id, name, amount, category, email, day, lo, hi, seq)
