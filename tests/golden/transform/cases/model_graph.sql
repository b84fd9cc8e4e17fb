-- {{ model.unique_id }} {{ model.name }} {{ model.resource_type }} {{ model.package_name }}
-- {{ model.config.materialized }} {{ model.tags }} {{ model.fqn }}
-- {{ graph.nodes['model.golden.base'].description }}
-- {{ graph.nodes['model.golden.base'].config.meta }}
-- {{ graph.sources['source.golden.raw.users'].identifier }}
select * from {{ ref('base') }}
