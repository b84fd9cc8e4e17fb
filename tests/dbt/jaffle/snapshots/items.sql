{% snapshot items_ts %}
{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at', invalidate_hard_deletes=True) }}
select id, name, updated_at from {{ source('src', 'items') }}
{% endsnapshot %}

{% snapshot items_check %}
{{ config(unique_key=['id', 'region'], strategy='check', check_cols=['name'], hard_deletes='new_record') }}
select * from {{ source('src', 'items') }}
{% endsnapshot %}
