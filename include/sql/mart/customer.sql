-- Customer dashboard: RFM segments with lifetime value and churn flag per person, and monthly
-- cohort retention.
create or replace view mart.customer_rfm as
with per_order as (
    select
        order_id,
        sum(price + freight_value) as order_value
    from dw.fact_order_items
    group by order_id
),

per_person as (
    select
        o.customer_unique_id,
        max(o.purchased_at) as last_order_at,
        min(o.purchased_at) as first_order_at,
        count(*) as frequency,
        sum(v.order_value) as lifetime_value
    from dw.fact_orders as o
    inner join per_order as v on o.order_id = v.order_id
    where o.customer_unique_id is not null and o.order_status not in ('canceled', 'unavailable')
    group by o.customer_unique_id
),

reference as (
    select max(last_order_at) as as_of from per_person
),

with_recency as (
    select
        p.customer_unique_id,
        p.first_order_at,
        p.last_order_at,
        p.frequency,
        p.lifetime_value,
        datediff(day, p.last_order_at, r.as_of) as recency_days
    from per_person as p
    cross join reference as r
),

-- Quintile cut points: people with the same recency (or value) share a score, so the scores
-- are deterministic without a tie-breaker and need no sort of every person.
recency_cuts as (
    select
        percentile_cont(0.2) within group (order by recency_days) as r20,
        percentile_cont(0.4) within group (order by recency_days) as r40,
        percentile_cont(0.6) within group (order by recency_days) as r60,
        percentile_cont(0.8) within group (order by recency_days) as r80
    from with_recency
),

value_cuts as (
    select
        percentile_cont(0.2) within group (order by lifetime_value) as m20,
        percentile_cont(0.4) within group (order by lifetime_value) as m40,
        percentile_cont(0.6) within group (order by lifetime_value) as m60,
        percentile_cont(0.8) within group (order by lifetime_value) as m80
    from with_recency
),

scored as (
    select
        w.customer_unique_id,
        w.first_order_at,
        w.last_order_at,
        w.recency_days,
        w.frequency,
        w.lifetime_value,
        case
            when w.recency_days <= rc.r20 then 5
            when w.recency_days <= rc.r40 then 4
            when w.recency_days <= rc.r60 then 3
            when w.recency_days <= rc.r80 then 2
            else 1
        end as r_score,
        case
            when w.lifetime_value <= vc.m20 then 1
            when w.lifetime_value <= vc.m40 then 2
            when w.lifetime_value <= vc.m60 then 3
            when w.lifetime_value <= vc.m80 then 4
            else 5
        end as m_score
    from with_recency as w
    cross join recency_cuts as rc
    cross join value_cuts as vc
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

-- One row over all customers (none before the first order): repeat and churn shares and the
-- lifetime value's mean and median.
create or replace view mart.customer_summary as
with totals as (
    select
        count(*) as customers,
        sum(case when is_repeat then 1 else 0 end) as repeat_customers,
        sum(case when is_churned then 1 else 0 end) as churned_customers,
        sum(case when is_repeat then 1 else 0 end)::float / nullif(count(*), 0) as repeat_rate,
        sum(case when is_churned then 1 else 0 end)::float / nullif(count(*), 0) as churn_share,
        avg(lifetime_value) as average_lifetime_value,
        percentile_cont(0.5) within group (order by lifetime_value) as median_lifetime_value
    from mart.customer_rfm
)

select
    customers,
    repeat_customers,
    churned_customers,
    repeat_rate,
    churn_share,
    average_lifetime_value,
    median_lifetime_value
from totals
where customers > 0;

-- One row per RFM segment: its size, value and how long ago its customers last ordered.
create or replace view mart.customer_segments as
select
    segment,
    count(*) as customers,
    sum(lifetime_value) as lifetime_value,
    avg(lifetime_value) as average_lifetime_value,
    avg(recency_days::float) as average_recency_days
from mart.customer_rfm
group by segment;
