select {{ dbt_utils.star(ref('good'), except=['email', 'updated_at', 'nothing']) }} from {{ ref('good') }}
