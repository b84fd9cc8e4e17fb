select 1
{{ exceptions.raise_compiler_error('custom failure for ' ~ this.name) }}
