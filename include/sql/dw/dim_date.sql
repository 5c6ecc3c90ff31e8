-- Generated date dimension, 2016-01-01 to 2035-12-31 (idempotent: only missing days are added).
insert into dw.dim_date (
    date_key, calendar_date, year_number, month_number, month_start, day_of_week, is_weekend
)
with digits as (
    select 0 as d
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9
),

day_numbers as (
    select a.d + 10 * b.d + 100 * c.d + 1000 * e.d as n
    from digits as a
    cross join digits as b
    cross join digits as c
    cross join digits as e
),

days as (
    select dateadd(day, n, '2016-01-01'::date)::date as calendar_date
    from day_numbers
    where n < 7305
)

select
    (to_char(calendar_date, 'YYYYMMDD'))::integer as date_key,
    calendar_date,
    extract(year from calendar_date) as year_number,
    extract(month from calendar_date) as month_number,
    date_trunc('month', calendar_date)::date as month_start,
    extract(dow from calendar_date) as day_of_week,
    extract(dow from calendar_date) in (0, 6) as is_weekend
from days
where calendar_date not in (select dd.calendar_date from dw.dim_date as dd);
