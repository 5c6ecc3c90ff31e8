-- Executive dashboard: revenue, orders, average order value and month-over-month growth,
-- by month and customer state. Growth is against the calendar month before; a state that bought
-- nothing that month has no growth figure.
create or replace view mart.executive_monthly as
with monthly as (
    select
        d.month_start,
        coalesce(o.customer_state, 'unknown') as customer_state,
        count(distinct f.order_id) as orders,
        sum(f.price) as revenue,
        sum(f.freight_value) as freight
    from dw.fact_order_items as f
    inner join dw.dim_date as d on f.order_date_key = d.date_key
    left join dw.fact_orders as o on f.order_id = o.order_id
    where f.order_status not in ('canceled', 'unavailable')
    group by d.month_start, coalesce(o.customer_state, 'unknown')
)

select
    month_start,
    customer_state,
    orders,
    revenue,
    freight,
    revenue / nullif(orders, 0) as average_order_value,
    case
        when
            lag(month_start) over (partition by customer_state order by month_start)
            = dateadd(month, -1, month_start)
            then revenue / nullif(
                lag(revenue) over (partition by customer_state order by month_start), 0
            ) - 1
    end as revenue_growth
from monthly;
