-- this={{ this }} name={{ this.name }} schema={{ this.schema }}
-- target={{ target.name }} {{ target.type }} {{ target.schema }} {{ target.threads }} {{ target.profile_name }}
select 1
