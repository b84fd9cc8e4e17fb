-- {{ var('color') }} {{ var('nested')['a'] }} {{ var('scoped') }} {{ var('cli_var') }} {{ var('absent', 'dflt') }}
select 1
