-- Generated from include/glue/olist_contract.py by `dwh compile`: do not edit by hand.
-- To change a staging table, change the contract and run `bin/dwh compile`
-- (`bin/dwh compile --check` fails when this file is out of date).
-- One table per processed entity, columns in the processed Parquet order, then lineage and the
-- ingest date partition. Loads truncate and reload a table per logical date, so no keys are
-- enforced here.

create table if not exists staging.orders (
    order_id varchar(64),
    customer_id varchar(64),
    order_status varchar(32),
    order_purchase_timestamp timestamp,
    order_approved_at timestamp,
    order_delivered_carrier_date timestamp,
    order_delivered_customer_date timestamp,
    order_estimated_delivery_date timestamp,
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (order_id)
sortkey (ingest_date);

create table if not exists staging.order_items (
    order_id varchar(64),
    order_item_id integer,
    product_id varchar(64),
    seller_id varchar(64),
    shipping_limit_date timestamp,
    price decimal(12, 2),
    freight_value decimal(12, 2),
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (order_id)
sortkey (ingest_date);

create table if not exists staging.order_payments (
    order_id varchar(64),
    payment_sequential integer,
    payment_type varchar(32),
    payment_installments integer,
    payment_value decimal(12, 2),
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (order_id)
sortkey (ingest_date);

create table if not exists staging.order_reviews (
    review_id varchar(64),
    order_id varchar(64),
    review_score integer,
    review_comment_title varchar(512),
    review_comment_message varchar(4096),
    review_creation_date timestamp,
    review_answer_timestamp timestamp,
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (review_id)
sortkey (ingest_date);

create table if not exists staging.customers (
    customer_id varchar(64),
    customer_unique_id varchar(64),
    customer_zip_code_prefix varchar(16),
    customer_city varchar(256),
    customer_state varchar(8),
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (customer_id)
sortkey (ingest_date);

create table if not exists staging.products (
    product_id varchar(64),
    product_category_name varchar(256),
    product_name_lenght integer,
    product_description_lenght integer,
    product_photos_qty integer,
    product_weight_g integer,
    product_length_cm integer,
    product_height_cm integer,
    product_width_cm integer,
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (product_id)
sortkey (ingest_date);

create table if not exists staging.sellers (
    seller_id varchar(64),
    seller_zip_code_prefix varchar(16),
    seller_city varchar(256),
    seller_state varchar(8),
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (seller_id)
sortkey (ingest_date);

create table if not exists staging.geolocation (
    geolocation_zip_code_prefix varchar(16),
    geolocation_lat double precision,
    geolocation_lng double precision,
    geolocation_city varchar(256),
    geolocation_state varchar(8),
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (geolocation_zip_code_prefix)
sortkey (ingest_date);

create table if not exists staging.product_category_name_translation (
    product_category_name varchar(256),
    product_category_name_english varchar(256),
    _source_file varchar(1024),
    _source_line bigint,
    ingest_date date not null
)
diststyle key
distkey (product_category_name)
sortkey (ingest_date);
