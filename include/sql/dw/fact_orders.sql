-- Order-grain fact for the batch's orders (delete-insert: a re-delivered order replaces itself).
-- The customer version is the one valid when the order was placed; an order whose customer is
-- unknown points at the 'unknown' member and is counted by the quality checks.
delete from dw.fact_orders
where order_id in (select o.order_id from staging.orders as o);

insert into dw.fact_orders (
    order_id, order_date_key, customer_key, customer_unique_id, customer_state, order_status,
    purchased_at, delivered_at, estimated_at, delivery_days, is_on_time, ingest_date
)
with orders as (
    select
        o.order_id,
        o.order_status,
        o.order_purchase_timestamp,
        o.order_delivered_customer_date,
        o.order_estimated_delivery_date,
        o.ingest_date,
        m.customer_unique_id
    from staging.orders as o
    left join dw.customer_map as m on o.customer_id = m.customer_id
)

select
    o.order_id,
    cast(to_char(o.order_purchase_timestamp, 'YYYYMMDD') as integer) as order_date_key,
    coalesce(c.customer_key, 'unknown') as customer_key,
    o.customer_unique_id,
    c.customer_state,
    case
        when o.order_status in (select s.order_status from dw.dim_order_status as s)
            then o.order_status
        else 'unknown'
    end as order_status,
    o.order_purchase_timestamp as purchased_at,
    o.order_delivered_customer_date as delivered_at,
    o.order_estimated_delivery_date as estimated_at,
    datediff(day, o.order_purchase_timestamp, o.order_delivered_customer_date) as delivery_days,
    case
        when o.order_delivered_customer_date is null then null
        else cast(o.order_delivered_customer_date as date) <= cast(o.order_estimated_delivery_date as date)
    end as is_on_time,
    o.ingest_date
from orders as o
left join dw.dim_customer as c
    on
        o.customer_unique_id = c.customer_unique_id
        and o.order_purchase_timestamp >= c.valid_from
        and o.order_purchase_timestamp < c.valid_to;
