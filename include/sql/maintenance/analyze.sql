-- Refresh the planner statistics of the star schema after the nightly loads.
analyze dw.dim_customer;
analyze dw.dim_product;
analyze dw.dim_seller;
analyze dw.fact_order_items;
analyze dw.fact_payments;
analyze dw.fact_reviews;
