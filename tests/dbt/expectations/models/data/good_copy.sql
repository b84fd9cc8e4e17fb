select * from {{ ref('good') }}
