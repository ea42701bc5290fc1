-- Cash-basis double entry (our rule; QBO's cash-basis reports work the same way in outline):
-- invoices, credit memos, bills and vendor credits post nothing when issued. A customer
-- payment posts Dr deposit account for TotalAmt and, for each invoice or credit memo it
-- applies, that document's accrual lines other than A/R (income, discounts, tax, COGS)
-- scaled by applied amount / document total; what the payment does not apply stays on A/R.
-- Bill payments mirror this with bills and vendor credits against A/P. Every other type
-- (sales receipts, refunds, purchases, deposits, journal entries, transfers) posts as on
-- the accrual basis. Amounts convert at the payment's exchange rate.
CREATE OR REPLACE TABLE marts.int_cash_entry AS
WITH applications AS (
    SELECT
        l.realm_id, l.transaction_type, l.transaction_id, l.line_index, l.amount AS applied,
        d.transaction_type AS document_type, d.transaction_id AS document_id,
        d.total_amount AS document_total
    FROM staging.int_transaction_line AS l
    JOIN staging.int_transaction AS d
        ON d.realm_id = l.realm_id AND d.transaction_id = l.linked_transaction_id
        AND d.transaction_type = l.linked_transaction_type
    WHERE l.transaction_type IN ('Payment', 'BillPayment')
        AND (
            (l.transaction_type = 'Payment' AND d.transaction_type IN ('Invoice', 'CreditMemo'))
            OR (l.transaction_type = 'BillPayment'
                AND d.transaction_type IN ('Bill', 'VendorCredit'))
        )
        AND NOT d.is_voided AND d.total_amount <> 0
),
scaled AS (
    SELECT
        a.realm_id, a.transaction_type AS transaction_source, a.transaction_id,
        a.line_index, e.entry_index AS document_entry_index, e.account_id,
        CAST(e.amount * a.applied / a.document_total AS DECIMAL(38, 10)) AS amount,
        e.class_id, e.description
    FROM applications AS a
    JOIN marts.int_accrual_entry AS e
        ON e.realm_id = a.realm_id AND e.transaction_source = a.document_type
        AND e.transaction_id = a.document_id AND NOT e.is_control
),
payments AS (
    SELECT * FROM marts.int_accrual_entry
    WHERE transaction_source IN ('Payment', 'BillPayment')
),
cash_side AS (
    -- Payment: the deposit debit (entry 0); BillPayment: the bank/card credit (entry 1).
    SELECT * FROM payments
    WHERE (transaction_source = 'Payment' AND entry_index = 0)
        OR (transaction_source = 'BillPayment' AND entry_index = 1)
),
open_side AS (
    SELECT * FROM payments
    WHERE (transaction_source = 'Payment' AND entry_index = 1)
        OR (transaction_source = 'BillPayment' AND entry_index = 0)
),
recognised AS (
    SELECT
        s.realm_id, s.transaction_source, s.transaction_id,
        CAST(10 + row_number() OVER (
            PARTITION BY s.realm_id, s.transaction_source, s.transaction_id
            ORDER BY s.line_index, s.document_entry_index
        ) AS BIGINT) AS entry_index,
        s.account_id, s.amount, false AS is_control, s.line_index,
        p.transaction_date, p.doc_number, p.currency_id, p.exchange_rate, p.department_id,
        p.customer_id, p.vendor_id, s.class_id, s.description
    FROM scaled AS s
    JOIN cash_side AS p USING (realm_id, transaction_source, transaction_id)
),
recognised_total AS (
    SELECT realm_id, transaction_source, transaction_id, sum(amount) AS amount
    FROM recognised
    GROUP BY ALL
),
balancing AS (
    -- Whatever the applications leave unrecognised stays on A/R or A/P (unapplied amounts).
    SELECT
        o.realm_id, o.transaction_source, o.transaction_id, CAST(1000000 AS BIGINT),
        o.account_id,
        -(c.amount + coalesce(r.amount, 0)) AS amount,
        false, NULL, o.transaction_date, o.doc_number, o.currency_id, o.exchange_rate,
        o.department_id, o.customer_id, o.vendor_id, NULL, NULL
    FROM open_side AS o
    JOIN cash_side AS c USING (realm_id, transaction_source, transaction_id)
    LEFT JOIN recognised_total AS r USING (realm_id, transaction_source, transaction_id)
)
SELECT * FROM marts.int_accrual_entry
WHERE transaction_source NOT IN (
    'Invoice', 'CreditMemo', 'Bill', 'VendorCredit', 'Payment', 'BillPayment'
)
UNION ALL
SELECT * FROM cash_side
UNION ALL
SELECT * FROM recognised
UNION ALL
SELECT * FROM balancing;
