select * from {{ source('raw', 'nothing') }}
