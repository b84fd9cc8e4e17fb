-- {{ tojson({'b': [1, 2], 'a': none}) }}
-- {{ fromjson('{"x": {"y": [true, null]}}')['x']['y'] }}
-- {{ fromjson('not json', 'bad') }}
-- {{ fromyaml('a: 1\nb: [x, y]\nc: yes') }}
-- {{ toyaml({'a': 1, 'b': ['x', 'y'], 'c': {'d': 'e f'}}) | replace('\n', ' | ') }}
select 1
