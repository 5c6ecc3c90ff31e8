-- SCD type 2 customer on customer_unique_id. For each person in the batch:
-- 1. expire the current version when the tracked attributes (zip, city, state) changed;
-- 2. insert a version when the person is new or changed. A person's first version is valid from
--    1900-01-01 so every historic order finds it; a change is valid from the person's first order
--    in the batch (or the run date). Re-running a batch changes nothing: its hashes are current,
--    and a batch older than the current version (an earlier date re-run) is history already.
-- The key includes valid_from: a person who moves back to an earlier address gets a new key.
delete from dw.customer_map
where customer_id in (select c.customer_id from staging.customers as c);

insert into dw.customer_map (customer_id, customer_unique_id)
select
    customer_id,
    max(customer_unique_id) as customer_unique_id
from staging.customers
group by customer_id;

create temp table batch_customer as
with latest_address as (
    select
        c.customer_unique_id,
        c.customer_zip_code_prefix,
        c.customer_city,
        c.customer_state,
        md5(
            coalesce(c.customer_zip_code_prefix, '') || '|'
            || coalesce(c.customer_city, '') || '|' || coalesce(c.customer_state, '')
        ) as attribute_hash,
        min(o.order_purchase_timestamp) over (
            partition by c.customer_unique_id
        ) as first_order_at,
        row_number() over (
            partition by c.customer_unique_id
            order by o.order_purchase_timestamp desc nulls last, c.customer_id desc
        ) as rn
    from staging.customers as c
    left join staging.orders as o on c.customer_id = o.customer_id
)

select
    customer_unique_id,
    customer_zip_code_prefix,
    customer_city,
    customer_state,
    attribute_hash,
    coalesce(first_order_at, '{{ ds }}'::timestamp) as change_at
from latest_address
where rn = 1;

update dw.dim_customer
set valid_to = b.change_at, is_current = false
from batch_customer as b
where
    dw.dim_customer.customer_unique_id = b.customer_unique_id
    and dw.dim_customer.is_current
    and dw.dim_customer.attribute_hash <> b.attribute_hash
    and b.change_at > dw.dim_customer.valid_from;

insert into dw.dim_customer (
    customer_key, customer_unique_id, customer_zip_code_prefix, customer_city, customer_state,
    attribute_hash, valid_from, valid_to, is_current
)
with new_version as (
    select
        b.customer_unique_id,
        b.customer_zip_code_prefix,
        b.customer_city,
        b.customer_state,
        b.attribute_hash,
        case
            when exists (
                select 1 from dw.dim_customer as h
                where h.customer_unique_id = b.customer_unique_id
            ) then b.change_at
            else '1900-01-01'::timestamp
        end as valid_from
    from batch_customer as b
    where not exists (
        select 1 from dw.dim_customer as d
        where d.customer_unique_id = b.customer_unique_id and d.is_current
    )
)

select
    md5(
        customer_unique_id || '|' || attribute_hash || '|'
        || to_char(valid_from, 'YYYY-MM-DD HH24:MI:SS')
    ) as customer_key,
    customer_unique_id,
    customer_zip_code_prefix,
    customer_city,
    customer_state,
    attribute_hash,
    valid_from,
    '9999-12-31'::timestamp as valid_to,
    true as is_current
from new_version;

drop table batch_customer;
