-- Customer dashboard: RFM segments with lifetime value and churn flag per person, and monthly
-- cohort retention.
create or replace view mart.customer_rfm as
with per_person as (
    select
        o.customer_unique_id,
        max(o.purchased_at) as last_order_at,
        min(o.purchased_at) as first_order_at,
        count(distinct o.order_id) as frequency,
        sum(i.price + i.freight_value) as lifetime_value
    from dw.fact_orders as o
    inner join dw.fact_order_items as i on o.order_id = i.order_id
    where o.customer_unique_id is not null and o.order_status not in ('canceled', 'unavailable')
    group by o.customer_unique_id
),

reference as (
    select max(last_order_at) as as_of from per_person
),

scored as (
    select
        p.customer_unique_id,
        p.first_order_at,
        p.last_order_at,
        p.frequency,
        p.lifetime_value,
        datediff(day, p.last_order_at, r.as_of) as recency_days,
        ntile(5) over (
            order by datediff(day, p.last_order_at, r.as_of) desc, p.customer_unique_id
        ) as r_score,
        ntile(5) over (order by p.lifetime_value, p.customer_unique_id) as m_score
    from per_person as p
    cross join reference as r
)

select
    customer_unique_id,
    first_order_at,
    last_order_at,
    recency_days,
    frequency,
    lifetime_value,
    r_score,
    m_score,
    case
        when frequency > 1 and r_score >= 4 then 'loyal'
        when r_score >= 4 then 'new'
        when m_score >= 4 then 'big spender at risk'
        when r_score <= 2 then 'hibernating'
        else 'occasional'
    end as segment,
    recency_days > 180 as is_churned,
    frequency > 1 as is_repeat
from scored;

create or replace view mart.customer_cohorts as
with first_month as (
    select
        customer_unique_id,
        date_trunc('month', min(purchased_at)) as cohort_month
    from dw.fact_orders
    where customer_unique_id is not null
    group by customer_unique_id
),

activity as (
    select distinct
        f.cohort_month,
        o.customer_unique_id,
        datediff(month, f.cohort_month, date_trunc('month', o.purchased_at)) as months_since
    from dw.fact_orders as o
    inner join first_month as f on o.customer_unique_id = f.customer_unique_id
)

select
    cohort_month,
    months_since,
    count(*) as customers,
    count(*)::float / max(count(*)) over (partition by cohort_month) as retention
from activity
group by cohort_month, months_since;
