-- ref with one and two arguments, a model with a custom schema, the relation's parts
select * from {{ ref('base') }}
join {{ ref('golden', 'base') }} using (id)
join {{ ref('fact') }} on true
-- {{ ref('base').identifier }} {{ ref('fact').schema }} {{ ref('base').database }}
-- {{ ref('base').include(database=false) }}
