-- Star schema. Dimensions carry an 'unknown' member so orphan keys are kept, not dropped.
-- Keys: natural ids for the type-1 dimensions; an md5 surrogate for the SCD2 customer.

create table if not exists dw.dim_date (
    date_key integer not null,
    calendar_date date not null,
    year_number smallint not null,
    month_number smallint not null,
    month_start date not null,
    day_of_week smallint not null,
    is_weekend boolean not null,
    primary key (date_key)
)
diststyle all
sortkey (date_key);

-- SCD type 2 on customer_unique_id: one row per version of a person's address.
create table if not exists dw.dim_customer (
    customer_key varchar(32) not null,
    customer_unique_id varchar(64) not null,
    customer_zip_code_prefix varchar(16),
    customer_city varchar(256),
    customer_state varchar(8),
    attribute_hash varchar(32) not null,
    valid_from timestamp not null,
    valid_to timestamp not null,
    is_current boolean not null,
    primary key (customer_key)
)
diststyle all
sortkey (customer_unique_id, valid_from);

-- Olist gives every order its own customer_id; this maps it to the person.
create table if not exists dw.customer_map (
    customer_id varchar(64) not null,
    customer_unique_id varchar(64) not null,
    primary key (customer_id)
)
diststyle key
distkey (customer_id);

create table if not exists dw.dim_product (
    product_id varchar(64) not null,
    category_name varchar(128) not null,
    category_name_english varchar(128) not null,
    weight_g integer,
    photos_qty integer,
    primary key (product_id)
)
diststyle all
sortkey (product_id);

create table if not exists dw.dim_seller (
    seller_id varchar(64) not null,
    seller_zip_code_prefix varchar(16),
    seller_city varchar(256),
    seller_state varchar(8),
    primary key (seller_id)
)
diststyle all
sortkey (seller_id);

create table if not exists dw.dim_geography (
    zip_code_prefix varchar(16) not null,
    city varchar(256),
    state_code varchar(8),
    latitude double precision,
    longitude double precision,
    primary key (zip_code_prefix)
)
diststyle all
sortkey (zip_code_prefix);

create table if not exists dw.dim_order_status (
    order_status varchar(32) not null,
    is_fulfilled boolean not null,
    primary key (order_status)
)
diststyle all;

create table if not exists dw.dim_payment_type (
    payment_type varchar(32) not null,
    is_card boolean not null,
    primary key (payment_type)
)
diststyle all;

-- Order-item grain: the sales fact every revenue figure comes from.
create table if not exists dw.fact_order_items (
    order_id varchar(64) not null,
    order_item_id integer not null,
    order_date_key integer not null,
    customer_key varchar(32) not null,
    customer_unique_id varchar(64),
    product_id varchar(64) not null,
    product_key varchar(64) not null,
    seller_id varchar(64) not null,
    seller_key varchar(64) not null,
    order_status varchar(32) not null,
    purchased_at timestamp,
    price decimal(12, 2) not null,
    freight_value decimal(12, 2) not null,
    delivery_days integer,
    is_on_time boolean,
    ingest_date date not null,
    primary key (order_id, order_item_id),
    foreign key (customer_key) references dw.dim_customer (customer_key),
    foreign key (product_key) references dw.dim_product (product_id),
    foreign key (seller_key) references dw.dim_seller (seller_id),
    foreign key (order_date_key) references dw.dim_date (date_key)
)
diststyle key
distkey (order_id)
sortkey (order_date_key);

-- Order grain: status, delivery and totals, one row per order.
create table if not exists dw.fact_orders (
    order_id varchar(64) not null,
    order_date_key integer not null,
    customer_key varchar(32) not null,
    customer_unique_id varchar(64),
    customer_state varchar(8),
    order_status varchar(32) not null,
    purchased_at timestamp not null,
    delivered_at timestamp,
    estimated_at timestamp,
    delivery_days integer,
    is_on_time boolean,
    ingest_date date not null,
    primary key (order_id),
    foreign key (customer_key) references dw.dim_customer (customer_key)
)
diststyle key
distkey (order_id)
sortkey (order_date_key);

create table if not exists dw.fact_payments (
    order_id varchar(64) not null,
    payment_sequential integer not null,
    payment_type varchar(32) not null,
    payment_installments integer,
    payment_value decimal(12, 2) not null,
    has_order boolean not null,
    ingest_date date not null,
    primary key (order_id, payment_sequential),
    foreign key (payment_type) references dw.dim_payment_type (payment_type)
)
diststyle key
distkey (order_id)
sortkey (order_id);

create table if not exists dw.fact_reviews (
    review_id varchar(64) not null,
    order_id varchar(64) not null,
    review_score integer not null,
    has_comment boolean not null,
    created_at timestamp,
    answered_at timestamp,
    has_order boolean not null,
    ingest_date date not null,
    primary key (review_id, order_id)
)
diststyle key
distkey (order_id)
sortkey (order_id);
