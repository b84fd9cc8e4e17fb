-- {{ env_var('GOLDEN_ENV') }} {{ env_var('GOLDEN_UNSET', 'fallback') }} {{ env_var('GOLDEN_UNSET', 3) }}
select 1
