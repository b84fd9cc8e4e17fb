update bronze.orders set status = 'shipped', updated_at = '2024-01-03 09:00' where id = 2;
insert into bronze.orders values (4, 20, 3.00, 'placed', '2024-01-03 10:00');
