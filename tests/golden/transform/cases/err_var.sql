select {{ var('not_defined') }}
