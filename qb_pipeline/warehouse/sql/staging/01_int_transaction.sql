-- Every live (not deleted) transaction of every posting and non-posting type, one row each,
-- with the header fields all transaction types share. Per-type staging tables select from it.
CREATE OR REPLACE TABLE staging.int_transaction AS
WITH src AS (
    SELECT 'Invoice' AS transaction_type, realm_id, id, sync_token, payload
    FROM raw.invoice WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'Payment', realm_id, id, sync_token, payload
    FROM raw.payment WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'Bill', realm_id, id, sync_token, payload
    FROM raw.bill WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'BillPayment', realm_id, id, sync_token, payload
    FROM raw.bill_payment WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'Purchase', realm_id, id, sync_token, payload
    FROM raw.purchase WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'JournalEntry', realm_id, id, sync_token, payload
    FROM raw.journal_entry WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'Deposit', realm_id, id, sync_token, payload
    FROM raw.deposit WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'CreditMemo', realm_id, id, sync_token, payload
    FROM raw.credit_memo WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'SalesReceipt', realm_id, id, sync_token, payload
    FROM raw.sales_receipt WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'RefundReceipt', realm_id, id, sync_token, payload
    FROM raw.refund_receipt WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'Estimate', realm_id, id, sync_token, payload
    FROM raw.estimate WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'Transfer', realm_id, id, sync_token, payload
    FROM raw.transfer WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
    UNION ALL
    SELECT 'VendorCredit', realm_id, id, sync_token, payload
    FROM raw.vendor_credit WHERE NOT coalesce(deleted, false) AND payload IS NOT NULL
),
typed AS (
    SELECT
        realm_id,
        transaction_type,
        id AS transaction_id,
        sync_token,
        payload,
        payload ->> '$.DocNumber' AS doc_number,
        coalesce(
            TRY_CAST(payload ->> '$.TxnDate' AS DATE),
            TRY_CAST(left(payload ->> '$.MetaData.CreateTime', 10) AS DATE)
        ) AS transaction_date,
        TRY_CAST(payload ->> '$.DueDate' AS DATE) AS due_date,
        payload ->> '$.CurrencyRef.value' AS currency_id,
        coalesce(nullif(staging.fx_rate(payload ->> '$.ExchangeRate'), 0), 1) AS exchange_rate,
        -- Transfer carries Amount, every other type TotalAmt.
        coalesce(
            staging.money(payload ->> '$.TotalAmt'), staging.money(payload ->> '$.Amount'), 0
        ) AS total_amount,
        staging.money(payload ->> '$.Balance') AS balance,
        staging.money(payload ->> '$.TxnTaxDetail.TotalTax') AS total_tax,
        payload ->> '$.PrivateNote' AS private_note,
        payload ->> '$.CustomerRef.value' AS customer_id,
        payload ->> '$.VendorRef.value' AS vendor_id,
        payload ->> '$.DepartmentRef.value' AS department_id,
        payload ->> '$.SalesTermRef.value' AS sales_term_id,
        payload ->> '$.DepositToAccountRef.value' AS deposit_to_account_id,
        payload ->> '$.ARAccountRef.value' AS receivable_account_id,
        payload ->> '$.APAccountRef.value' AS payable_account_id,
        payload ->> '$.PaymentMethodRef.value' AS payment_method_id,
        staging.ts(payload ->> '$.MetaData.CreateTime') AS created_at,
        staging.ts(payload ->> '$.MetaData.LastUpdatedTime') AS updated_at
    FROM src
)
SELECT
    *,
    staging.to_home(total_amount, exchange_rate) AS home_total_amount,
    staging.to_home(balance, exchange_rate) AS home_balance,
    -- QBO keeps a voided transaction with zero amounts and "Voided" prefixed to its memo.
    (coalesce(private_note, '') LIKE 'Voided%' AND total_amount = 0) AS is_voided
FROM typed;

-- Lines of every transaction, GroupLineDetail bundles expanded into their component lines
-- (bundle_line_id names the group line), in document order (line_index from 0).
CREATE OR REPLACE TABLE staging.int_transaction_line AS
WITH top AS (
    SELECT
        t.realm_id, t.transaction_type, t.transaction_id, t.exchange_rate,
        CAST(l.key AS INTEGER) AS top_index, l.value AS line
    FROM staging.int_transaction AS t, json_each(t.payload, '$.Line') AS l
),
flat AS (
    SELECT *, 0 AS sub_index, CAST(NULL AS VARCHAR) AS bundle_line_id
    FROM top
    WHERE coalesce(line ->> '$.DetailType', '') <> 'GroupLineDetail'
        OR json_extract(line, '$.GroupLineDetail') IS NULL
    UNION ALL
    SELECT
        top.realm_id, top.transaction_type, top.transaction_id, top.exchange_rate,
        top.top_index, s.value AS line, CAST(s.key AS INTEGER) + 1 AS sub_index,
        top.line ->> '$.Id' AS bundle_line_id
    FROM top, json_each(top.line, '$.GroupLineDetail.Line') AS s
    WHERE (top.line ->> '$.DetailType') = 'GroupLineDetail'
),
detailed AS (
    SELECT
        *,
        line ->> '$.DetailType' AS detail_type,
        json_extract(line, '$.' || coalesce(line ->> '$.DetailType', 'NoDetail')) AS detail
    FROM flat
)
SELECT
    realm_id,
    transaction_type,
    transaction_id,
    CAST(
        row_number() OVER (
            PARTITION BY realm_id, transaction_type, transaction_id
            ORDER BY top_index, sub_index
        ) - 1 AS INTEGER
    ) AS line_index,
    line ->> '$.Id' AS line_id,
    TRY_CAST(line ->> '$.LineNum' AS INTEGER) AS line_num,
    bundle_line_id,
    detail_type,
    line ->> '$.Description' AS description,
    coalesce(staging.money(line ->> '$.Amount'), 0) AS amount,
    staging.to_home(coalesce(staging.money(line ->> '$.Amount'), 0), exchange_rate)
        AS home_amount,
    detail ->> '$.ItemRef.value' AS item_id,
    staging.qty(detail ->> '$.Qty') AS quantity,
    staging.qty(detail ->> '$.UnitPrice') AS unit_price,
    detail ->> '$.AccountRef.value' AS account_id,
    detail ->> '$.ClassRef.value' AS class_id,
    detail ->> '$.DepartmentRef.value' AS department_id,
    detail ->> '$.TaxCodeRef.value' AS tax_code_id,
    detail ->> '$.CustomerRef.value' AS customer_id,
    detail ->> '$.BillableStatus' AS billable_status,
    TRY_CAST(detail ->> '$.ServiceDate' AS DATE) AS service_date,
    detail ->> '$.DiscountAccountRef.value' AS discount_account_id,
    staging.flag(detail ->> '$.PercentBased') AS is_percent_based,
    staging.qty(detail ->> '$.DiscountPercent') AS discount_percent,
    detail ->> '$.PostingType' AS posting_type,
    coalesce(detail ->> '$.Entity.Type', detail ->> '$.Entity.type') AS entity_type,
    coalesce(detail ->> '$.Entity.EntityRef.value', detail ->> '$.Entity.value') AS entity_id,
    detail ->> '$.PaymentMethodRef.value' AS payment_method_id,
    detail ->> '$.CheckNum' AS check_number,
    coalesce(json_array_length(line -> '$.LinkedTxn'), 0) > 0 AS has_linked_txn,
    line ->> '$.LinkedTxn[0].TxnId' AS linked_transaction_id,
    line ->> '$.LinkedTxn[0].TxnType' AS linked_transaction_type,
    line ->> '$.LinkedTxn[0].TxnLineId' AS linked_transaction_line_id
FROM detailed;

-- TxnTaxDetail.TaxLine of every transaction.
CREATE OR REPLACE TABLE staging.int_transaction_tax_line AS
SELECT
    t.realm_id,
    t.transaction_type,
    t.transaction_id,
    CAST(l.key AS INTEGER) AS line_index,
    coalesce(staging.money(l.value ->> '$.Amount'), 0) AS amount,
    staging.to_home(coalesce(staging.money(l.value ->> '$.Amount'), 0), t.exchange_rate)
        AS home_amount,
    l.value ->> '$.TaxLineDetail.TaxRateRef.value' AS tax_rate_id,
    staging.flag(l.value ->> '$.TaxLineDetail.PercentBased') AS is_percent_based,
    staging.qty(l.value ->> '$.TaxLineDetail.TaxPercent') AS tax_percent,
    staging.money(l.value ->> '$.TaxLineDetail.NetAmountTaxable') AS net_amount_taxable,
    staging.money(l.value ->> '$.TaxLineDetail.OverrideDeltaAmount') AS override_delta_amount
FROM staging.int_transaction AS t, json_each(t.payload, '$.TxnTaxDetail.TaxLine') AS l;

-- Header-level LinkedTxn of every transaction (payments on invoices, estimates converted...).
CREATE OR REPLACE TABLE staging.int_transaction_linked_txn AS
SELECT
    t.realm_id,
    t.transaction_type,
    t.transaction_id,
    CAST(l.key AS INTEGER) AS link_index,
    l.value ->> '$.TxnId' AS linked_transaction_id,
    l.value ->> '$.TxnType' AS linked_transaction_type,
    l.value ->> '$.TxnLineId' AS linked_transaction_line_id
FROM staging.int_transaction AS t, json_each(t.payload, '$.LinkedTxn') AS l;
