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

-- The same figures over all states, one row per month: growth is against the calendar month
-- before (none when that month sold nothing); is_complete is false for the run date's month.
create or replace view mart.executive_months as
with monthly as (
    select
        month_start,
        sum(orders) as orders,
        sum(revenue) as revenue,
        sum(freight) as freight
    from mart.executive_monthly
    group by month_start
)

select
    month_start,
    orders,
    revenue,
    freight,
    revenue / nullif(orders, 0) as average_order_value,
    case
        when lag(month_start) over (order by month_start) = dateadd(month, -1, month_start)
            then revenue / nullif(lag(revenue) over (order by month_start), 0) - 1
    end as revenue_growth,
    -- The run date's own month is still filling up: its growth against a whole month misleads.
    month_start < date_trunc('month', '{{ ds }}'::date) as is_complete
from monthly;

-- All months by customer state: revenue, its share of the total and the state's rank.
create or replace view mart.executive_states as
with by_state as (
    select
        customer_state,
        sum(orders) as orders,
        sum(revenue) as revenue
    from mart.executive_monthly
    group by customer_state
)

select
    customer_state,
    orders,
    revenue,
    revenue / nullif(sum(revenue) over (), 0) as revenue_share,
    rank() over (order by revenue desc) as revenue_rank
from by_state;

-- One row over all months (none before the first order): the headline figures.
create or replace view mart.executive_summary as
with totals as (
    select
        count(*) as months,
        min(month_start) as first_month,
        max(month_start) as last_month,
        sum(orders) as orders,
        sum(revenue) as revenue,
        sum(freight) as freight,
        sum(revenue) / nullif(sum(orders), 0) as average_order_value
    from mart.executive_months
)

select
    months,
    first_month,
    last_month,
    orders,
    revenue,
    freight,
    average_order_value
from totals
where months > 0;
