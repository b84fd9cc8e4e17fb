{{ config(materialized='table', tags=['extra'], meta={'k': 'v'}) }}
-- materialized={{ config.get('materialized') }}
-- tags={{ config.get('tags') }}
-- missing={{ config.get('nope', 'fallback') }}
-- none={{ config.get('nope') }}
select 1
