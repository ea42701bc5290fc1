-- The general ledger in dbt_quickbooks' shape, accrual basis in marts.general_ledger and cash
-- basis in marts.general_ledger_cash (same columns). Each entry converts to home currency at
-- the transaction's exchange rate, rounded to the cent; the cents that rounding leaves over
-- (conversion, or cash-basis pro-rating) go to the largest non-control entry, so every transaction balances exactly (QBO would post
-- them to an exchange gain/loss account). Entries that convert to zero are dropped.
CREATE OR REPLACE TABLE marts.int_ledger_entry AS
WITH entries AS (
    SELECT 'accrual' AS basis, * FROM marts.int_accrual_entry
    UNION ALL
    SELECT 'cash', * FROM marts.int_cash_entry
),
converted AS (
    SELECT
        *,
        CAST(ROUND(amount * exchange_rate, 2) AS DECIMAL(18, 2)) AS home,
        sum(CAST(ROUND(amount * exchange_rate, 2) AS DECIMAL(18, 2))) OVER txn AS residue,
        sum(CAST(ROUND(amount, 2) AS DECIMAL(18, 2))) OVER txn AS amount_residue,
        row_number() OVER (
            PARTITION BY basis, realm_id, transaction_source, transaction_id
            ORDER BY is_control, abs(ROUND(amount * exchange_rate, 2)) DESC, entry_index
        ) AS adjust_rank
    FROM entries
    WINDOW txn AS (PARTITION BY basis, realm_id, transaction_source, transaction_id)
)
SELECT
    * EXCLUDE (amount, home, residue, amount_residue, adjust_rank),
    -- The transaction-currency side gets the same treatment, so it balances too.
    CAST(ROUND(amount, 2) AS DECIMAL(18, 2))
        - CASE WHEN adjust_rank = 1 THEN amount_residue ELSE 0 END AS amount,
    CASE WHEN adjust_rank = 1 THEN home - residue ELSE home END AS converted
FROM converted;

CREATE OR REPLACE MACRO marts.ledger(which_basis) AS TABLE
WITH posted AS (
    SELECT
        e.*,
        row_number() OVER (
            PARTITION BY e.realm_id, e.transaction_source, e.transaction_id ORDER BY e.entry_index
        ) - 1 AS transaction_index
    FROM marts.int_ledger_entry AS e
    WHERE e.basis = which_basis AND e.converted <> 0
),
shaped AS (
    SELECT
        p.realm_id || ':' || p.transaction_source || ':' || p.transaction_id || ':'
            || p.transaction_index AS unique_id,
        p.realm_id,
        p.transaction_id,
        CAST(p.transaction_index AS INTEGER) AS transaction_index,
        p.transaction_date,
        p.doc_number,
        p.customer_id,
        p.vendor_id,
        p.class_id,
        p.department_id,
        p.account_id,
        a.account_number,
        a.account_name,
        a.is_sub_account,
        a.parent_account_number,
        a.parent_account_name,
        a.account_type,
        a.account_sub_type,
        a.account_class,
        a.report_group,
        a.financial_statement_helper,
        a.account_current_balance,
        CASE WHEN p.converted > 0 THEN 'debit' ELSE 'credit' END AS transaction_type,
        p.transaction_source,
        a.account_transaction_type,
        p.currency_id,
        p.exchange_rate,
        CAST(abs(p.amount) AS DECIMAL(18, 2)) AS amount,
        abs(p.converted) AS converted_amount,
        CASE WHEN p.converted > 0 THEN p.converted ELSE 0 END AS debit_amount,
        CASE WHEN p.converted < 0 THEN -p.converted ELSE 0 END AS credit_amount,
        CASE WHEN (p.converted > 0) = (a.account_transaction_type = 'debit')
            THEN 1 ELSE -1 END AS sign,
        p.description,
        which_basis AS basis
    FROM posted AS p
    LEFT JOIN marts.int_account AS a USING (realm_id, account_id)
)
SELECT
    * EXCLUDE (sign),
    CAST(sign * amount AS DECIMAL(18, 2)) AS adjusted_amount,
    CAST(sign * converted_amount AS DECIMAL(18, 2)) AS adjusted_converted_amount,
    CAST(sum(sign * amount) OVER running AS DECIMAL(18, 2)) AS running_balance,
    CAST(sum(sign * converted_amount) OVER running AS DECIMAL(18, 2))
        AS running_converted_balance
FROM shaped
WINDOW running AS (
    PARTITION BY realm_id, account_id
    ORDER BY transaction_date, transaction_source,
        TRY_CAST(transaction_id AS BIGINT) NULLS LAST, transaction_id, transaction_index
    ROWS UNBOUNDED PRECEDING
);

CREATE OR REPLACE TABLE marts.general_ledger AS SELECT * FROM marts.ledger('accrual');

CREATE OR REPLACE TABLE marts.general_ledger_cash AS SELECT * FROM marts.ledger('cash');
