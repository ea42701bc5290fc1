-- Purchasing: bills, bill payments, purchases (checks, cash and card expenses), vendor credits.
-- Expense lines use Fivetran's account_expense_* / item_expense_* names.
CREATE OR REPLACE MACRO staging.expense_lines(kind) AS TABLE
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
    CASE WHEN detail_type = 'AccountBasedExpenseLineDetail' THEN account_id END
        AS account_expense_account_id,
    CASE WHEN detail_type = 'AccountBasedExpenseLineDetail' THEN class_id END
        AS account_expense_class_id,
    CASE WHEN detail_type = 'AccountBasedExpenseLineDetail' THEN customer_id END
        AS account_expense_customer_id,
    CASE WHEN detail_type = 'AccountBasedExpenseLineDetail' THEN billable_status END
        AS account_expense_billable_status,
    CASE WHEN detail_type = 'AccountBasedExpenseLineDetail' THEN tax_code_id END
        AS account_expense_tax_code_id,
    CASE WHEN detail_type = 'ItemBasedExpenseLineDetail' THEN item_id END
        AS item_expense_item_id,
    CASE WHEN detail_type = 'ItemBasedExpenseLineDetail' THEN quantity END
        AS item_expense_quantity,
    CASE WHEN detail_type = 'ItemBasedExpenseLineDetail' THEN unit_price END
        AS item_expense_unit_price,
    CASE WHEN detail_type = 'ItemBasedExpenseLineDetail' THEN class_id END
        AS item_expense_class_id,
    CASE WHEN detail_type = 'ItemBasedExpenseLineDetail' THEN customer_id END
        AS item_expense_customer_id,
    CASE WHEN detail_type = 'ItemBasedExpenseLineDetail' THEN billable_status END
        AS item_expense_billable_status,
    CASE WHEN detail_type = 'ItemBasedExpenseLineDetail' THEN tax_code_id END
        AS item_expense_tax_code_id
FROM staging.int_transaction_line
WHERE transaction_type = kind;

CREATE OR REPLACE TABLE staging.bill AS
SELECT
    transaction_id AS bill_id,
    realm_id,
    sync_token,
    doc_number,
    transaction_date,
    due_date,
    currency_id,
    exchange_rate,
    total_amount,
    home_total_amount,
    balance,
    home_balance,
    vendor_id,
    payable_account_id,
    sales_term_id AS term_id,
    department_id,
    private_note,
    is_voided,
    created_at,
    updated_at
FROM staging.int_transaction
WHERE transaction_type = 'Bill';

CREATE OR REPLACE TABLE staging.bill_line AS
SELECT * RENAME (transaction_id AS bill_id) FROM staging.expense_lines('Bill');

CREATE OR REPLACE TABLE staging.bill_linked_txn AS
SELECT
    transaction_id AS bill_id,
    realm_id,
    link_index AS "index",
    linked_transaction_id,
    linked_transaction_type,
    CASE WHEN linked_transaction_type LIKE 'BillPayment%' THEN linked_transaction_id END
        AS bill_payment_id
FROM staging.int_transaction_linked_txn
WHERE transaction_type = 'Bill';

CREATE OR REPLACE TABLE staging.bill_payment AS
SELECT
    t.transaction_id AS bill_payment_id,
    t.realm_id,
    t.sync_token,
    t.doc_number,
    t.transaction_date,
    t.currency_id,
    t.exchange_rate,
    t.total_amount,
    t.home_total_amount,
    t.vendor_id,
    t.payable_account_id,
    t.payload ->> '$.PayType' AS pay_type,
    t.payload ->> '$.CheckPayment.BankAccountRef.value' AS check_bank_account_id,
    t.payload ->> '$.CheckPayment.PrintStatus' AS check_print_status,
    t.payload ->> '$.CreditCardPayment.CCAccountRef.value' AS credit_card_account_id,
    coalesce(
        t.payload ->> '$.CheckPayment.BankAccountRef.value',
        t.payload ->> '$.CreditCardPayment.CCAccountRef.value'
    ) AS payment_account_id,
    t.department_id,
    t.private_note,
    t.is_voided,
    t.created_at,
    t.updated_at
FROM staging.int_transaction AS t
WHERE t.transaction_type = 'BillPayment';

CREATE OR REPLACE TABLE staging.bill_payment_line AS
SELECT
    transaction_id AS bill_payment_id,
    realm_id,
    line_index AS "index",
    amount,
    home_amount,
    linked_transaction_type,
    linked_transaction_id,
    CASE WHEN linked_transaction_type = 'Bill' THEN linked_transaction_id END AS bill_id,
    CASE WHEN linked_transaction_type = 'VendorCredit' THEN linked_transaction_id END
        AS vendor_credit_id,
    CASE WHEN linked_transaction_type = 'JournalEntry' THEN linked_transaction_id END
        AS journal_entry_id
FROM staging.int_transaction_line
WHERE transaction_type = 'BillPayment';

CREATE OR REPLACE TABLE staging.purchase AS
SELECT
    t.transaction_id AS purchase_id,
    t.realm_id,
    t.sync_token,
    t.doc_number,
    t.transaction_date,
    t.currency_id,
    t.exchange_rate,
    t.total_amount,
    t.home_total_amount,
    t.payload ->> '$.AccountRef.value' AS account_id,
    t.payload ->> '$.PaymentType' AS payment_type,
    coalesce(staging.flag(t.payload ->> '$.Credit'), false) AS credit,
    t.payload ->> '$.EntityRef.value' AS entity_id,
    t.payload ->> '$.EntityRef.type' AS entity_type,
    CASE WHEN (t.payload ->> '$.EntityRef.type') = 'Customer'
        THEN t.payload ->> '$.EntityRef.value' END AS customer_id,
    CASE WHEN (t.payload ->> '$.EntityRef.type') = 'Vendor'
        THEN t.payload ->> '$.EntityRef.value' END AS vendor_id,
    CASE WHEN (t.payload ->> '$.EntityRef.type') = 'Employee'
        THEN t.payload ->> '$.EntityRef.value' END AS employee_id,
    t.payment_method_id,
    t.department_id,
    t.payload ->> '$.PrintStatus' AS print_status,
    t.private_note,
    t.is_voided,
    t.created_at,
    t.updated_at
FROM staging.int_transaction AS t
WHERE t.transaction_type = 'Purchase';

CREATE OR REPLACE TABLE staging.purchase_line AS
SELECT * RENAME (transaction_id AS purchase_id) FROM staging.expense_lines('Purchase');

CREATE OR REPLACE TABLE staging.vendor_credit AS
SELECT
    transaction_id AS vendor_credit_id,
    realm_id,
    sync_token,
    doc_number,
    transaction_date,
    currency_id,
    exchange_rate,
    total_amount,
    home_total_amount,
    balance,
    home_balance,
    vendor_id,
    payable_account_id,
    department_id,
    private_note,
    is_voided,
    created_at,
    updated_at
FROM staging.int_transaction
WHERE transaction_type = 'VendorCredit';

CREATE OR REPLACE TABLE staging.vendor_credit_line AS
SELECT * RENAME (transaction_id AS vendor_credit_id) FROM staging.expense_lines('VendorCredit');
