-- {{ zip([1, 2], ['a', 'b']) | list }} {{ range(3) | list }} {{ dbt_version }}
-- {{ invocation_id | length }} {{ run_started_at.year > 2000 }} {{ execute }} {{ flags.FULL_REFRESH }}
-- {{ local_md5('abc') }}
select 1
