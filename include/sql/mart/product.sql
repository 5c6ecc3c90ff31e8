-- Product dashboard: category ranking by revenue, with freight share, review score and
-- on-time delivery rate. Canceled and unavailable orders are not revenue, as on the executive
-- dashboard.
create or replace view mart.product_categories as
with reviews as (
    select
        order_id,
        avg(review_score::float) as review_score
    from dw.fact_reviews
    group by order_id
),

by_category as (
    select
        p.category_name_english as category,
        count(distinct f.order_id) as orders,
        count(*) as items,
        sum(f.price) as revenue,
        sum(f.freight_value) as freight,
        avg(r.review_score) as average_review_score,
        avg(case when f.is_on_time then 1.0 when not f.is_on_time then 0.0 end) as on_time_rate
    from dw.fact_order_items as f
    inner join dw.dim_product as p on f.product_key = p.product_id
    left join reviews as r on f.order_id = r.order_id
    where f.order_status not in ('canceled', 'unavailable')
    group by p.category_name_english
)

select
    category,
    orders,
    items,
    revenue,
    average_review_score,
    on_time_rate,
    freight / nullif(revenue + freight, 0) as freight_share,
    rank() over (order by revenue desc) as revenue_rank
from by_category;
