-- add={{ add(2, 3) }} greet={{ greet('ada') }} dispatch={{ only_default() }}
-- call={% call wrap('b') %}inner{% endcall %}
-- ns={{ golden.add(1, 1) }} dbt={{ dbt.type_string() }} {{ dbt.dateadd('day', 1, 'd') }} {{ dbt.type_int() }}
select 1
