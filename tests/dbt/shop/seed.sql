create schema if not exists bronze;
create or replace table bronze.orders (id int, customer_id int, amount decimal(10,2), status varchar, updated_at timestamp);
insert into bronze.orders values
  (1, 10, 5.00, 'placed', '2024-01-01 10:00'),
  (2, 10, 7.50, 'placed', '2024-01-02 10:00'),
  (3, 20, 1.25, 'placed', '2024-01-02 11:00');
create or replace table bronze.customers (id int, name varchar);
insert into bronze.customers values (10, 'ada'), (20, 'bob');
