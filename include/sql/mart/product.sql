-- Product dashboard: category ranking by revenue, with freight share, review score and
-- on-time delivery rate. Canceled and unavailable orders are not revenue, as on the executive
-- dashboard.

-- One row per category: what it sold and how its orders were delivered and reviewed.
create or replace view mart.product_category_sales as
with reviews as (
    select
        order_id,
        avg(review_score::float) as review_score
    from dw.fact_reviews
    group by order_id
)

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
group by p.category_name_english;

create or replace view mart.product_categories as
select
    category,
    orders,
    items,
    revenue,
    average_review_score,
    on_time_rate,
    freight / nullif(revenue + freight, 0) as freight_share,
    rank() over (order by revenue desc) as revenue_rank
from mart.product_category_sales;

-- One row over all categories (none before the first sale). Review score and on-time rate are
-- the categories' figures weighted by their items, over the categories that have one; the top
-- category is the first by revenue (then by name).
create or replace view mart.product_summary as
with ranked as (
    select
        category,
        items,
        revenue,
        freight,
        average_review_score,
        on_time_rate,
        row_number() over (order by revenue desc, category asc) as revenue_place
    from mart.product_category_sales
),

totals as (
    select
        count(*) as categories,
        sum(items) as items,
        sum(revenue) as revenue,
        sum(freight) as freight,
        sum(freight) / nullif(sum(revenue) + sum(freight), 0) as freight_share,
        sum(average_review_score * items)
        / nullif(sum(case when average_review_score is not null then items end), 0)
            as average_review_score,
        sum(on_time_rate * items)
        / nullif(sum(case when on_time_rate is not null then items end), 0) as on_time_rate,
        max(case when revenue_place = 1 then category end) as top_category,
        max(case when revenue_place = 1 then revenue end) / nullif(sum(revenue), 0) as top_category_share
    from ranked
)

select
    categories,
    items,
    revenue,
    freight,
    freight_share,
    average_review_score,
    on_time_rate,
    top_category,
    top_category_share
from totals
where categories > 0;
