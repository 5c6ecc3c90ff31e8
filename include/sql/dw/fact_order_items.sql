-- Order-item fact: price and freight per line, with the order's date, customer version,
-- status and delivery. Orphan products, sellers and orders are kept and mapped to 'unknown'.
delete from dw.fact_order_items
where order_id in (select i.order_id from staging.order_items as i);

insert into dw.fact_order_items (
    order_id, order_item_id, order_date_key, customer_key, customer_unique_id, product_id,
    product_key, seller_id, seller_key, order_status, purchased_at, price, freight_value,
    delivery_days, is_on_time, ingest_date
)
with items as (
    select
        order_id,
        order_item_id,
        product_id,
        seller_id,
        price,
        freight_value,
        ingest_date
    from staging.order_items
)

select
    i.order_id,
    i.order_item_id,
    coalesce(o.order_date_key, cast(to_char(i.ingest_date, 'YYYYMMDD') as integer))
        as order_date_key,
    coalesce(o.customer_key, 'unknown') as customer_key,
    o.customer_unique_id,
    i.product_id,
    coalesce(p.product_id, 'unknown') as product_key,
    i.seller_id,
    coalesce(s.seller_id, 'unknown') as seller_key,
    coalesce(o.order_status, 'unknown') as order_status,
    o.purchased_at,
    i.price,
    i.freight_value,
    o.delivery_days,
    o.is_on_time,
    i.ingest_date
from items as i
left join dw.fact_orders as o on i.order_id = o.order_id
left join dw.dim_product as p on i.product_id = p.product_id
left join dw.dim_seller as s on i.seller_id = s.seller_id;
