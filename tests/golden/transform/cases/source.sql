select * from {{ source('raw', 'events') }} e
join {{ source('raw', 'users') }} u on true
-- {{ source('raw', 'users').identifier }}
