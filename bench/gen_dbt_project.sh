#!/usr/bin/env bash
# gen_dbt_project.sh DIR N: write a dbt project of N models into DIR for the
# transform benchmark. Models sit in folders of 100 (models/f000/, ...), each
# with a properties YAML; model i refs 1-3 earlier models, calls a macro,
# and has a `for` loop and an `if`. Deterministic: the same N gives the same
# project. Also writes an ingot.yml so `ingot run` uses the project's warehouse.
set -euo pipefail
dir=$1; n=$2
rm -rf "$dir"; mkdir -p "$dir/models" "$dir/macros"
cat > "$dir/ingot.yml" <<YML
version: 1
name: bench
YML
cat > "$dir/dbt_project.yml" <<YML
name: bench
version: '1.0'
profile: bench
models:
  bench:
    +materialized: table
YML
cat > "$dir/macros/cents.sql" <<'SQL'
{% macro cents(col, scale=100) -%}
  ({{ col }} * {{ scale }})::bigint
{%- endmacro %}
SQL
awk -v n="$n" -v dir="$dir" 'BEGIN {
  srand(42);
  for (i = 0; i < n; i++) {
    f = sprintf("%s/models/f%03d", dir, int(i / 100));
    if (i % 100 == 0) {
      system("mkdir -p " f);
      yml = f "/_models.yml";
      print "version: 2\nmodels:" > yml;
    }
    name = sprintf("m%05d", i);
    file = f "/" name ".sql";
    print "{{ config(tags=[\"bench\"]) }}" > file;
    print "select" > file;
    print "  {{ cents(\"1.5\") }} as c," > file;
    print "{% for k in range(3) %}" > file;
    print "  {{ k }} as col_{{ k }}," > file;
    print "{% endfor %}" > file;
    print "{% if var(\"flag\", true) %}  1 as flagged{% else %}  0 as flagged{% endif %}" > file;
    if (i == 0) {
      print "from (select 1 as x) s" > file;
    } else {
      np = 1 + int(rand() * 3); if (np > i) np = i;
      print "from (select 1 as x) s" > file;
      for (k = 0; k < np; k++) {
        p = int(rand() * i);
        printf("cross join (select 1 as y%d from {{ ref(\"m%05d\") }} limit 1) p%d\n", k, p, k) > file;
      }
    }
    close(file);
    print "  - name: " name "\n    description: \"model " i "\"\n    columns:\n      - name: c\n        description: cents" >> yml;
    if (i % 100 == 99 || i == n - 1) close(yml);
  }
}'
