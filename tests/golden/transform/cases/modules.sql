-- {{ modules.datetime.datetime(2024, 2, 29, 13, 5, 9).strftime('%Y-%m-%d %H:%M:%S') }}
-- {{ modules.datetime.datetime(2024, 2, 29).isoformat() }} {{ modules.datetime.date(2024, 1, 2) }}
-- {{ modules.re.match('a(b+)', 'abbbc').group(1) }} {{ modules.re.search('[0-9]+', 'x42y').group(0) }}
-- {{ modules.re.findall('\\d', 'a1b2') }} {{ modules.re.split(',', 'a,b') }} {{ modules.re.match('z', 'abc') }}
select 1
