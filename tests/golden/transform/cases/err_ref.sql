select * from {{ ref('bas') }}
