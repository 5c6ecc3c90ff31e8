-- Small type-1 dimensions: order status, payment type, and the unknown members of every
-- dimension that facts point orphan keys at. Idempotent: rows are only added when missing.
insert into dw.dim_order_status (order_status, is_fulfilled)
select
    s.order_status,
    s.is_fulfilled
from (
    select
        'delivered' as order_status,
        true as is_fulfilled
    union all
    select
        'shipped' as order_status,
        false as is_fulfilled
    union all
    select
        'canceled' as order_status,
        false as is_fulfilled
    union all
    select
        'unavailable' as order_status,
        false as is_fulfilled
    union all
    select
        'invoiced' as order_status,
        false as is_fulfilled
    union all
    select
        'processing' as order_status,
        false as is_fulfilled
    union all
    select
        'created' as order_status,
        false as is_fulfilled
    union all
    select
        'approved' as order_status,
        false as is_fulfilled
    union all
    select
        'unknown' as order_status,
        false as is_fulfilled
) as s
where s.order_status not in (select o.order_status from dw.dim_order_status as o);

insert into dw.dim_payment_type (payment_type, is_card)
select
    p.payment_type,
    p.is_card
from (
    select
        'credit_card' as payment_type,
        true as is_card
    union all
    select
        'debit_card' as payment_type,
        true as is_card
    union all
    select
        'boleto' as payment_type,
        false as is_card
    union all
    select
        'voucher' as payment_type,
        false as is_card
    union all
    select
        'not_defined' as payment_type,
        false as is_card
    union all
    select
        'unknown' as payment_type,
        false as is_card
) as p
where p.payment_type not in (select t.payment_type from dw.dim_payment_type as t);

insert into dw.dim_customer (
    customer_key, customer_unique_id, customer_zip_code_prefix, customer_city, customer_state,
    attribute_hash, valid_from, valid_to, is_current
)
select
    'unknown' as customer_key,
    'unknown' as customer_unique_id,
    null as customer_zip_code_prefix,
    null as customer_city,
    null as customer_state,
    'unknown' as attribute_hash,
    '1900-01-01'::timestamp as valid_from,
    '9999-12-31'::timestamp as valid_to,
    true as is_current
where not exists (
    select 1 from dw.dim_customer
    where customer_key = 'unknown'
);

insert into dw.dim_product (product_id, category_name, category_name_english, weight_g, photos_qty)
select
    'unknown' as product_id,
    'unknown' as category_name,
    'unknown' as category_name_english,
    null as weight_g,
    null as photos_qty
where not exists (
    select 1 from dw.dim_product
    where product_id = 'unknown'
);

insert into dw.dim_seller (seller_id, seller_zip_code_prefix, seller_city, seller_state)
select
    'unknown' as seller_id,
    null as seller_zip_code_prefix,
    null as seller_city,
    null as seller_state
where not exists (
    select 1 from dw.dim_seller
    where seller_id = 'unknown'
);
