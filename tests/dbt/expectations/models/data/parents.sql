select * from (values (1, 'alice'), (2, 'bob'), (3, 'carol'), (4, 'dave'), (5, 'eve'), (6, 'frank'))
    as t(id, name)
