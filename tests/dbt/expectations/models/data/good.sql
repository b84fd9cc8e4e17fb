-- rows every test passes on
select id, name, amount, category, email, day, lo, hi, seq,
       cast(null as integer) as nothing,
       cast(now() as timestamp) - to_hours(id) as updated_at
from (values
    (1, 'alice', 10.0, 'a', 'alice@example.com', date '2024-01-01', 0, 10, 1),
    (2, 'bob', 20.0, 'b', 'bob@example.com', date '2024-01-02', 10, 20, 2),
    (3, 'carol', 30.0, 'a', 'carol@example.com', date '2024-01-03', 20, 30, 3),
    (4, 'dave', 40.0, 'b', 'dave@example.com', date '2024-01-04', 30, 40, 4),
    (5, 'eve', 50.0, 'c', 'eve@example.com', date '2024-01-05', 40, 50, 5)
) as t(id, name, amount, category, email, day, lo, hi, seq)
