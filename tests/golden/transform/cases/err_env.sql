select '{{ env_var('GOLDEN_NOT_SET') }}'
