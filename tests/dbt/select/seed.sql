create schema if not exists raw;
create or replace table raw.orders as
  select * from (values (1, 10, 1250, 'DE'), (2, 10, 300, 'FR'), (3, 20, 125, 'DE')) t(id, customer_id, cents, country);
create or replace table raw.customers as
  select * from (values (10, 'ada'), (20, 'bob')) t(id, name);
