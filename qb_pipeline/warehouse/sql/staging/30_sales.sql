-- Sales documents (invoice, estimate, sales receipt, credit memo, refund receipt), their lines
-- (Fivetran's sales_item_* / discount_* names), tax lines and links; customer payments.
CREATE OR REPLACE MACRO staging.sales_lines(kind) AS TABLE
SELECT
    transaction_id,
    realm_id,
    line_index AS "index",
    line_id,
    line_num,
    bundle_line_id,
    detail_type,
    description,
    amount,
    home_amount,
    CASE WHEN detail_type = 'SalesItemLineDetail' THEN item_id END AS sales_item_item_id,
    CASE WHEN detail_type = 'SalesItemLineDetail' THEN quantity END AS sales_item_quantity,
    CASE WHEN detail_type = 'SalesItemLineDetail' THEN unit_price END AS sales_item_unit_price,
    CASE WHEN detail_type = 'SalesItemLineDetail' THEN class_id END AS sales_item_class_id,
    CASE WHEN detail_type = 'SalesItemLineDetail' THEN tax_code_id END AS sales_item_tax_code_id,
    CASE WHEN detail_type = 'SalesItemLineDetail' THEN service_date END
        AS sales_item_service_date,
    discount_account_id,
    CASE WHEN detail_type = 'DiscountLineDetail' THEN class_id END AS discount_class_id,
    discount_percent,
    CASE WHEN detail_type = 'DiscountLineDetail' THEN is_percent_based END
        AS discount_is_percent_based,
    linked_transaction_id,
    linked_transaction_type
FROM staging.int_transaction_line
WHERE transaction_type = kind;

CREATE OR REPLACE MACRO staging.tax_lines(kind) AS TABLE
SELECT
    transaction_id, realm_id, line_index AS "index", amount, home_amount, tax_rate_id,
    is_percent_based, tax_percent, net_amount_taxable, override_delta_amount
FROM staging.int_transaction_tax_line
WHERE transaction_type = kind;

CREATE OR REPLACE MACRO staging.sales_headers(kind) AS TABLE
SELECT
    t.transaction_id,
    t.realm_id,
    t.sync_token,
    t.doc_number,
    t.transaction_date,
    t.due_date,
    t.currency_id,
    t.exchange_rate,
    t.total_amount,
    t.home_total_amount,
    t.balance,
    t.home_balance,
    t.total_tax,
    t.customer_id,
    t.department_id,
    t.sales_term_id,
    t.deposit_to_account_id,
    t.payment_method_id,
    t.receivable_account_id,
    t.payload ->> '$.TxnTaxDetail.TxnTaxCodeRef.value' AS tax_code_id,
    staging.flag(t.payload ->> '$.ApplyTaxAfterDiscount') AS apply_tax_after_discount,
    staging.money(t.payload ->> '$.RemainingCredit') AS remaining_credit,
    t.payload ->> '$.TxnStatus' AS transaction_status,
    TRY_CAST(t.payload ->> '$.ExpirationDate' AS DATE) AS expiration_date,
    t.payload ->> '$.PrintStatus' AS print_status,
    t.payload ->> '$.EmailStatus' AS email_status,
    t.payload ->> '$.DeliveryInfo.DeliveryType' AS delivery_type,
    t.payload ->> '$.BillEmail.Address' AS bill_email,
    t.payload ->> '$.CustomerMemo.value' AS customer_memo,
    t.payload ->> '$.PaymentRefNum' AS payment_reference_number,
    CASE WHEN (t.payload -> '$.BillAddr') IS NOT NULL
        THEN kind || ':' || t.transaction_id || ':billing' END AS billing_address_id,
    CASE WHEN (t.payload -> '$.ShipAddr') IS NOT NULL
        THEN kind || ':' || t.transaction_id || ':shipping' END AS shipping_address_id,
    t.private_note,
    t.is_voided,
    t.created_at,
    t.updated_at
FROM staging.int_transaction AS t
WHERE t.transaction_type = kind;

CREATE OR REPLACE TABLE staging.invoice AS
SELECT * EXCLUDE (remaining_credit, transaction_status, expiration_date, payment_reference_number,
                  deposit_to_account_id, payment_method_id)
    RENAME (transaction_id AS invoice_id)
FROM staging.sales_headers('Invoice');

CREATE OR REPLACE TABLE staging.invoice_line AS
SELECT * RENAME (transaction_id AS invoice_id) FROM staging.sales_lines('Invoice');

CREATE OR REPLACE TABLE staging.invoice_tax_line AS
SELECT * RENAME (transaction_id AS invoice_id) FROM staging.tax_lines('Invoice');

CREATE OR REPLACE TABLE staging.invoice_linked_txn AS
SELECT
    transaction_id AS invoice_id,
    realm_id,
    link_index AS "index",
    linked_transaction_id,
    linked_transaction_type,
    CASE WHEN linked_transaction_type = 'Payment' THEN linked_transaction_id END AS payment_id,
    CASE WHEN linked_transaction_type = 'Estimate' THEN linked_transaction_id END AS estimate_id,
    CASE WHEN linked_transaction_type = 'CreditMemo' THEN linked_transaction_id END
        AS credit_memo_id
FROM staging.int_transaction_linked_txn
WHERE transaction_type = 'Invoice';

CREATE OR REPLACE TABLE staging.estimate AS
SELECT * EXCLUDE (balance, home_balance, remaining_credit, payment_reference_number,
                  deposit_to_account_id, payment_method_id, receivable_account_id)
    RENAME (transaction_id AS estimate_id)
FROM staging.sales_headers('Estimate');

CREATE OR REPLACE TABLE staging.estimate_line AS
SELECT * RENAME (transaction_id AS estimate_id) FROM staging.sales_lines('Estimate');

CREATE OR REPLACE TABLE staging.estimate_tax_line AS
SELECT * RENAME (transaction_id AS estimate_id) FROM staging.tax_lines('Estimate');

CREATE OR REPLACE TABLE staging.sales_receipt AS
SELECT * EXCLUDE (due_date, sales_term_id, remaining_credit, transaction_status, expiration_date,
                  receivable_account_id)
    RENAME (transaction_id AS sales_receipt_id)
FROM staging.sales_headers('SalesReceipt');

CREATE OR REPLACE TABLE staging.sales_receipt_line AS
SELECT * RENAME (transaction_id AS sales_receipt_id) FROM staging.sales_lines('SalesReceipt');

CREATE OR REPLACE TABLE staging.sales_receipt_tax_line AS
SELECT * RENAME (transaction_id AS sales_receipt_id) FROM staging.tax_lines('SalesReceipt');

CREATE OR REPLACE TABLE staging.credit_memo AS
SELECT * EXCLUDE (due_date, sales_term_id, transaction_status, expiration_date,
                  payment_reference_number, deposit_to_account_id, payment_method_id)
    RENAME (transaction_id AS credit_memo_id)
FROM staging.sales_headers('CreditMemo');

CREATE OR REPLACE TABLE staging.credit_memo_line AS
SELECT * RENAME (transaction_id AS credit_memo_id) FROM staging.sales_lines('CreditMemo');

CREATE OR REPLACE TABLE staging.credit_memo_tax_line AS
SELECT * RENAME (transaction_id AS credit_memo_id) FROM staging.tax_lines('CreditMemo');

CREATE OR REPLACE TABLE staging.refund_receipt AS
SELECT * EXCLUDE (due_date, sales_term_id, remaining_credit, transaction_status, expiration_date,
                  receivable_account_id)
    RENAME (transaction_id AS refund_receipt_id)
FROM staging.sales_headers('RefundReceipt');

CREATE OR REPLACE TABLE staging.refund_receipt_line AS
SELECT * RENAME (transaction_id AS refund_receipt_id) FROM staging.sales_lines('RefundReceipt');

CREATE OR REPLACE TABLE staging.refund_receipt_tax_line AS
SELECT * RENAME (transaction_id AS refund_receipt_id) FROM staging.tax_lines('RefundReceipt');

CREATE OR REPLACE TABLE staging.payment AS
SELECT
    t.transaction_id AS payment_id,
    t.realm_id,
    t.sync_token,
    t.transaction_date,
    t.currency_id,
    t.exchange_rate,
    t.total_amount,
    t.home_total_amount,
    staging.money(t.payload ->> '$.UnappliedAmt') AS unapplied_amount,
    staging.to_home(staging.money(t.payload ->> '$.UnappliedAmt'), t.exchange_rate)
        AS home_unapplied_amount,
    t.customer_id,
    t.deposit_to_account_id,
    t.receivable_account_id,
    t.payment_method_id,
    t.payload ->> '$.PaymentRefNum' AS reference_number,
    t.private_note,
    t.is_voided,
    t.created_at,
    t.updated_at
FROM staging.int_transaction AS t
WHERE t.transaction_type = 'Payment';

CREATE OR REPLACE TABLE staging.payment_line AS
SELECT
    transaction_id AS payment_id,
    realm_id,
    line_index AS "index",
    amount,
    home_amount,
    linked_transaction_type,
    linked_transaction_id,
    CASE WHEN linked_transaction_type = 'Invoice' THEN linked_transaction_id END AS invoice_id,
    CASE WHEN linked_transaction_type = 'CreditMemo' THEN linked_transaction_id END
        AS credit_memo_id,
    CASE WHEN linked_transaction_type = 'JournalEntry' THEN linked_transaction_id END
        AS journal_entry_id
FROM staging.int_transaction_line
WHERE transaction_type = 'Payment';
