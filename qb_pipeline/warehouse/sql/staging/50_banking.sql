-- Journal entries, deposits and transfers.
CREATE OR REPLACE TABLE staging.journal_entry AS
SELECT
    t.transaction_id AS journal_entry_id,
    t.realm_id,
    t.sync_token,
    t.doc_number,
    t.transaction_date,
    t.currency_id,
    t.exchange_rate,
    t.total_amount,
    t.home_total_amount,
    coalesce(staging.flag(t.payload ->> '$.Adjustment'), false) AS is_adjustment,
    t.private_note,
    t.created_at,
    t.updated_at
FROM staging.int_transaction AS t
WHERE t.transaction_type = 'JournalEntry';

CREATE OR REPLACE TABLE staging.journal_entry_line AS
SELECT
    transaction_id AS journal_entry_id,
    realm_id,
    line_index AS "index",
    line_id,
    line_num,
    description,
    amount,
    home_amount,
    posting_type,
    account_id,
    class_id,
    department_id,
    entity_type,
    entity_id,
    CASE WHEN entity_type = 'Customer' THEN entity_id END AS customer_id,
    CASE WHEN entity_type = 'Vendor' THEN entity_id END AS vendor_id,
    CASE WHEN entity_type = 'Employee' THEN entity_id END AS employee_id,
    billable_status,
    tax_code_id
FROM staging.int_transaction_line
WHERE transaction_type = 'JournalEntry' AND detail_type = 'JournalEntryLineDetail';

CREATE OR REPLACE TABLE staging.deposit AS
SELECT
    t.transaction_id AS deposit_id,
    t.realm_id,
    t.sync_token,
    t.doc_number,
    t.transaction_date,
    t.currency_id,
    t.exchange_rate,
    t.total_amount,
    t.home_total_amount,
    t.deposit_to_account_id AS account_id,
    t.payload ->> '$.CashBack.AccountRef.value' AS cash_back_account_id,
    staging.money(t.payload ->> '$.CashBack.Amount') AS cash_back_amount,
    t.payload ->> '$.CashBack.Memo' AS cash_back_memo,
    t.department_id,
    t.private_note,
    t.created_at,
    t.updated_at
FROM staging.int_transaction AS t
WHERE t.transaction_type = 'Deposit';

CREATE OR REPLACE TABLE staging.deposit_line AS
SELECT
    transaction_id AS deposit_id,
    realm_id,
    line_index AS "index",
    line_id,
    line_num,
    detail_type,
    description,
    amount,
    home_amount,
    account_id AS deposit_account_id,
    class_id AS deposit_class_id,
    entity_type AS deposit_entity_type,
    entity_id AS deposit_entity_id,
    CASE WHEN entity_type = 'Customer' THEN entity_id END AS deposit_customer_id,
    payment_method_id AS deposit_payment_method_id,
    check_number AS deposit_check_number,
    has_linked_txn,
    linked_transaction_type,
    linked_transaction_id
FROM staging.int_transaction_line
WHERE transaction_type = 'Deposit';

CREATE OR REPLACE TABLE staging.transfer AS
SELECT
    t.transaction_id AS transfer_id,
    t.realm_id,
    t.sync_token,
    t.transaction_date,
    t.currency_id,
    t.exchange_rate,
    t.total_amount AS amount,
    t.home_total_amount AS home_amount,
    t.payload ->> '$.FromAccountRef.value' AS from_account_id,
    t.payload ->> '$.ToAccountRef.value' AS to_account_id,
    t.private_note,
    t.created_at,
    t.updated_at
FROM staging.int_transaction AS t
WHERE t.transaction_type = 'Transfer';
