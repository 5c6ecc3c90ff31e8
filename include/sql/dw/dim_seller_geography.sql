-- Type-1 seller and geography dimensions from the batch (delete-insert in one transaction).
delete from dw.dim_seller
where seller_id in (select s.seller_id from staging.sellers as s);

insert into dw.dim_seller (seller_id, seller_zip_code_prefix, seller_city, seller_state)
select
    seller_id,
    seller_zip_code_prefix,
    seller_city,
    seller_state
from staging.sellers;

delete from dw.dim_geography
where zip_code_prefix in (select g.geolocation_zip_code_prefix from staging.geolocation as g);

-- Olist lists many points per zip prefix: keep their centre and the most common city.
insert into dw.dim_geography (zip_code_prefix, city, state_code, latitude, longitude)
with ranked_city as (
    select
        geolocation_zip_code_prefix,
        geolocation_city,
        geolocation_state,
        row_number() over (
            partition by geolocation_zip_code_prefix
            order by count(*) desc, geolocation_city
        ) as rn
    from staging.geolocation
    group by geolocation_zip_code_prefix, geolocation_city, geolocation_state
),

centre as (
    select
        geolocation_zip_code_prefix,
        avg(geolocation_lat) as latitude,
        avg(geolocation_lng) as longitude
    from staging.geolocation
    group by geolocation_zip_code_prefix
)

select
    c.geolocation_zip_code_prefix as zip_code_prefix,
    r.geolocation_city as city,
    r.geolocation_state as state_code,
    c.latitude,
    c.longitude
from centre as c
inner join ranked_city as r
    on c.geolocation_zip_code_prefix = r.geolocation_zip_code_prefix and r.rn = 1;
