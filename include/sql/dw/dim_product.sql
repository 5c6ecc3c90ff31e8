-- Type-1 product dimension with the English category name; the batch's products replace their
-- previous rows (delete-insert in one transaction).
delete from dw.dim_product
where product_id in (select p.product_id from staging.products as p);

insert into dw.dim_product (product_id, category_name, category_name_english, weight_g, photos_qty)
with translation as (
    select
        product_category_name,
        max(product_category_name_english) as product_category_name_english
    from staging.product_category_name_translation
    group by product_category_name
),

known_translation as (
    -- A translation landed on an earlier day is kept on the dimension rows already built.
    select distinct
        category_name as product_category_name,
        category_name_english as product_category_name_english
    from dw.dim_product
    where category_name <> category_name_english
)

select
    p.product_id,
    coalesce(p.product_category_name, 'unknown') as category_name,
    coalesce(
        t.product_category_name_english,
        k.product_category_name_english,
        p.product_category_name,
        'unknown'
    ) as category_name_english,
    p.product_weight_g as weight_g,
    p.product_photos_qty as photos_qty
from staging.products as p
left join translation as t on p.product_category_name = t.product_category_name
left join known_translation as k on p.product_category_name = k.product_category_name;
