-- a leading comment
with mine as (select 1 as id)
select * from mine join {{ ref('eph') }} using (id)
