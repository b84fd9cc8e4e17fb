{{ config(materialized='ephemeral') }}
select id as customer_id, {{ shout('name') }} as name
from {{ source('raw', 'customers') }}
