-- Name lists (accounts, customers, vendors, items, ...): one typed row per live object.
-- Inactive rows are kept (is_active = false): old transactions still refer to them.
CREATE OR REPLACE TABLE staging.account AS
SELECT
    realm_id,
    id AS account_id,
    sync_token,
    payload ->> '$.Name' AS name,
    payload ->> '$.FullyQualifiedName' AS fully_qualified_name,
    payload ->> '$.AcctNum' AS account_number,
    payload ->> '$.AccountType' AS account_type,
    payload ->> '$.AccountSubType' AS account_sub_type,
    payload ->> '$.Classification' AS classification,
    coalesce(staging.flag(payload ->> '$.SubAccount'), false) AS is_sub_account,
    payload ->> '$.ParentRef.value' AS parent_account_id,
    payload ->> '$.CurrencyRef.value' AS currency_id,
    staging.money(payload ->> '$.CurrentBalance') AS balance,
    staging.money(payload ->> '$.CurrentBalanceWithSubAccounts') AS balance_with_sub_accounts,
    payload ->> '$.Description' AS description,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw.account
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;

CREATE OR REPLACE TABLE staging.customer AS
SELECT
    realm_id,
    id AS customer_id,
    sync_token,
    payload ->> '$.DisplayName' AS display_name,
    payload ->> '$.FullyQualifiedName' AS fully_qualified_name,
    payload ->> '$.CompanyName' AS company_name,
    payload ->> '$.GivenName' AS given_name,
    payload ->> '$.FamilyName' AS family_name,
    payload ->> '$.PrimaryEmailAddr.Address' AS email,
    payload ->> '$.PrimaryPhone.FreeFormNumber' AS phone_number,
    payload ->> '$.WebAddr.URI' AS website,
    coalesce(staging.flag(payload ->> '$.Job'), false) AS is_job,
    payload ->> '$.ParentRef.value' AS parent_customer_id,
    TRY_CAST(payload ->> '$.Level' AS INTEGER) AS level,
    staging.money(payload ->> '$.Balance') AS balance,
    staging.money(payload ->> '$.BalanceWithJobs') AS balance_with_jobs,
    payload ->> '$.CurrencyRef.value' AS currency_id,
    payload ->> '$.SalesTermRef.value' AS sales_term_id,
    payload ->> '$.PaymentMethodRef.value' AS payment_method_id,
    staging.flag(payload ->> '$.Taxable') AS is_taxable,
    payload ->> '$.PreferredDeliveryMethod' AS preferred_delivery_method,
    CASE WHEN (payload -> '$.BillAddr') IS NOT NULL THEN 'Customer:' || id || ':billing' END
        AS billing_address_id,
    CASE WHEN (payload -> '$.ShipAddr') IS NOT NULL THEN 'Customer:' || id || ':shipping' END
        AS shipping_address_id,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw.customer
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;

CREATE OR REPLACE TABLE staging.vendor AS
SELECT
    realm_id,
    id AS vendor_id,
    sync_token,
    payload ->> '$.DisplayName' AS display_name,
    payload ->> '$.CompanyName' AS company_name,
    payload ->> '$.GivenName' AS given_name,
    payload ->> '$.FamilyName' AS family_name,
    payload ->> '$.PrimaryEmailAddr.Address' AS email,
    payload ->> '$.PrimaryPhone.FreeFormNumber' AS phone_number,
    payload ->> '$.WebAddr.URI' AS web_url,
    payload ->> '$.AcctNum' AS account_number,
    coalesce(staging.flag(payload ->> '$.Vendor1099'), false) AS is_1099,
    staging.money(payload ->> '$.Balance') AS balance,
    payload ->> '$.CurrencyRef.value' AS currency_id,
    payload ->> '$.TermRef.value' AS term_id,
    CASE WHEN (payload -> '$.BillAddr') IS NOT NULL THEN 'Vendor:' || id || ':billing' END
        AS billing_address_id,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw.vendor
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;

CREATE OR REPLACE TABLE staging.item AS
SELECT
    realm_id,
    id AS item_id,
    sync_token,
    payload ->> '$.Name' AS name,
    payload ->> '$.FullyQualifiedName' AS fully_qualified_name,
    payload ->> '$.Sku' AS sku,
    payload ->> '$.Type' AS type,
    payload ->> '$.Description' AS description,
    payload ->> '$.PurchaseDesc' AS purchase_description,
    staging.qty(payload ->> '$.UnitPrice') AS unit_price,
    staging.qty(payload ->> '$.PurchaseCost') AS purchase_cost,
    staging.flag(payload ->> '$.Taxable') AS is_taxable,
    payload ->> '$.IncomeAccountRef.value' AS income_account_id,
    payload ->> '$.ExpenseAccountRef.value' AS expense_account_id,
    payload ->> '$.AssetAccountRef.value' AS asset_account_id,
    coalesce(staging.flag(payload ->> '$.TrackQtyOnHand'), false) AS is_tracking_quantity,
    staging.qty(payload ->> '$.QtyOnHand') AS quantity_on_hand,
    TRY_CAST(payload ->> '$.InvStartDate' AS DATE) AS inventory_start_date,
    payload ->> '$.ParentRef.value' AS parent_item_id,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw.item
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;

CREATE OR REPLACE TABLE staging."class" AS
SELECT
    realm_id,
    id AS class_id,
    sync_token,
    payload ->> '$.Name' AS name,
    payload ->> '$.FullyQualifiedName' AS fully_qualified_name,
    payload ->> '$.ParentRef.value' AS parent_class_id,
    coalesce(staging.flag(payload ->> '$.SubClass'), false) AS is_sub_class,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw."class"
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;

CREATE OR REPLACE TABLE staging.department AS
SELECT
    realm_id,
    id AS department_id,
    sync_token,
    payload ->> '$.Name' AS name,
    payload ->> '$.FullyQualifiedName' AS fully_qualified_name,
    payload ->> '$.ParentRef.value' AS parent_department_id,
    coalesce(staging.flag(payload ->> '$.SubDepartment'), false) AS is_sub_department,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw.department
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;

CREATE OR REPLACE TABLE staging.term AS
SELECT
    realm_id,
    id AS term_id,
    sync_token,
    payload ->> '$.Name' AS name,
    payload ->> '$.Type' AS type,
    TRY_CAST(payload ->> '$.DueDays' AS INTEGER) AS due_days,
    TRY_CAST(payload ->> '$.DiscountDays' AS INTEGER) AS discount_days,
    staging.qty(payload ->> '$.DiscountPercent') AS discount_percent,
    TRY_CAST(payload ->> '$.DayOfMonthDue' AS INTEGER) AS day_of_month_due,
    TRY_CAST(payload ->> '$.DueNextMonthDays' AS INTEGER) AS due_next_month_days,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw.term
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;

CREATE OR REPLACE TABLE staging.payment_method AS
SELECT
    realm_id,
    id AS payment_method_id,
    sync_token,
    payload ->> '$.Name' AS name,
    payload ->> '$.Type' AS type,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw.payment_method
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;

CREATE OR REPLACE TABLE staging.employee AS
SELECT
    realm_id,
    id AS employee_id,
    sync_token,
    payload ->> '$.DisplayName' AS display_name,
    payload ->> '$.GivenName' AS given_name,
    payload ->> '$.FamilyName' AS family_name,
    payload ->> '$.PrimaryEmailAddr.Address' AS email,
    payload ->> '$.PrimaryPhone.FreeFormNumber' AS phone_number,
    TRY_CAST(payload ->> '$.HiredDate' AS DATE) AS hired_date,
    TRY_CAST(payload ->> '$.ReleasedDate' AS DATE) AS released_date,
    coalesce(staging.flag(payload ->> '$.BillableTime'), false) AS is_billable_time,
    coalesce(staging.flag(payload ->> '$.Active'), true) AS is_active,
    staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
    staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
FROM raw.employee
WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL;
