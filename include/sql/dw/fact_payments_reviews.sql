-- Payment and review facts beside the sales fact (delete-insert on their natural keys).
-- Rows whose order is not (yet) in the warehouse are kept and flagged has_order = false.
delete from dw.fact_payments
where order_id in (select p.order_id from staging.order_payments as p);

insert into dw.fact_payments (
    order_id, payment_sequential, payment_type, payment_installments, payment_value,
    has_order, ingest_date
)
select
    p.order_id,
    p.payment_sequential,
    case
        when p.payment_type in (select t.payment_type from dw.dim_payment_type as t)
            then p.payment_type
        else 'unknown'
    end as payment_type,
    p.payment_installments,
    p.payment_value,
    o.order_id is not null as has_order,
    p.ingest_date
from staging.order_payments as p
left join dw.fact_orders as o on p.order_id = o.order_id;

delete from dw.fact_reviews
where review_id in (select r.review_id from staging.order_reviews as r);

insert into dw.fact_reviews (
    review_id, order_id, review_score, has_comment, created_at, answered_at, has_order,
    ingest_date
)
select
    r.review_id,
    r.order_id,
    r.review_score,
    coalesce(length(r.review_comment_message), 0) > 0 as has_comment,
    r.review_creation_date as created_at,
    r.review_answer_timestamp as answered_at,
    o.order_id is not null as has_order,
    r.ingest_date
from staging.order_reviews as r
left join dw.fact_orders as o on r.order_id = o.order_id;
