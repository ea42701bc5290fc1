-- Addresses of customers, vendors, employees and sales documents, one row per (owner, role).
-- address_id is '<Entity>:<Id>:<role>' so owners can refer to it (QBO's own Address Id, when
-- present, is kept as qbo_address_id).
CREATE OR REPLACE TABLE staging.address AS
WITH owners AS (
    SELECT 'Customer' AS entity_type, realm_id, id, payload FROM raw.customer
    WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'Vendor', realm_id, id, payload FROM raw.vendor
    WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'Employee', realm_id, id, payload FROM raw.employee
    WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT transaction_type, realm_id, transaction_id, payload FROM staging.int_transaction
    WHERE transaction_type IN (
        'Invoice', 'Estimate', 'SalesReceipt', 'CreditMemo', 'RefundReceipt'
    )
),
roles AS (
    SELECT entity_type, realm_id, id, 'billing' AS address_role, payload -> '$.BillAddr' AS addr
    FROM owners
    UNION ALL
    SELECT entity_type, realm_id, id, 'shipping', payload -> '$.ShipAddr' FROM owners
    UNION ALL
    SELECT entity_type, realm_id, id, 'primary', payload -> '$.PrimaryAddr' FROM owners
)
SELECT
    realm_id,
    entity_type || ':' || id || ':' || address_role AS address_id,
    entity_type,
    id AS entity_id,
    address_role,
    addr ->> '$.Id' AS qbo_address_id,
    addr ->> '$.Line1' AS address_1,
    addr ->> '$.Line2' AS address_2,
    addr ->> '$.Line3' AS address_3,
    addr ->> '$.Line4' AS address_4,
    addr ->> '$.Line5' AS address_5,
    addr ->> '$.City' AS city,
    addr ->> '$.CountrySubDivisionCode' AS country_sub_division_code,
    addr ->> '$.Country' AS country,
    addr ->> '$.PostalCode' AS postal_code,
    TRY_CAST(addr ->> '$.Lat' AS DOUBLE) AS latitude,
    TRY_CAST(addr ->> '$.Long' AS DOUBLE) AS longitude
FROM roles
WHERE addr IS NOT NULL AND json_type(addr) = 'OBJECT';
