-- Invoices (A/R) and bills (A/P), one row each, with what has been applied to them, status
-- and aging measured at the as_of_date variable (set by marts.build_marts, default today).
-- current_balance is QBO's Balance; computed_balance = total - applied payments and credits
-- (a reconciliation check compares the two).
CREATE OR REPLACE TABLE marts.ap_ar_enhanced AS
WITH applied AS (
    SELECT
        l.realm_id, l.linked_transaction_type AS document_type,
        l.linked_transaction_id AS document_id,
        sum(l.amount) AS total_current_payment,
        min(p.transaction_date) AS initial_payment_date,
        max(p.transaction_date) AS recent_payment_date
    FROM staging.int_transaction_line AS l
    JOIN staging.int_transaction AS p
        ON p.realm_id = l.realm_id AND p.transaction_type = l.transaction_type
        AND p.transaction_id = l.transaction_id
    WHERE l.transaction_type IN ('Payment', 'BillPayment')
        AND l.linked_transaction_type IN ('Invoice', 'Bill') AND NOT p.is_voided
    GROUP BY ALL
),
estimates AS (
    SELECT x.realm_id, x.invoice_id, min(x.estimate_id) AS estimate_id
    FROM staging.invoice_linked_txn AS x WHERE x.estimate_id IS NOT NULL GROUP BY ALL
),
documents AS (
    SELECT
        'invoice' AS transaction_type, 'Invoice' AS document_type, i.realm_id,
        i.invoice_id AS transaction_id, i.doc_number, e.estimate_id, i.department_id,
        'customer' AS transaction_with, c.customer_id AS customer_vendor_id,
        c.fully_qualified_name AS customer_vendor_name,
        c.balance AS customer_vendor_balance, c.billing_address_id,
        c.website AS customer_vendor_website, i.delivery_type,
        est.transaction_status AS estimate_status, est.total_amount AS estimate_amount,
        i.transaction_date, i.due_date, i.currency_id, i.exchange_rate, i.total_amount,
        i.home_total_amount, i.balance, i.home_balance, i.is_voided
    FROM staging.invoice AS i
    LEFT JOIN staging.customer AS c USING (realm_id, customer_id)
    LEFT JOIN estimates AS e USING (realm_id, invoice_id)
    LEFT JOIN staging.estimate AS est USING (realm_id, estimate_id)
    UNION ALL
    SELECT
        'bill', 'Bill', b.realm_id, b.bill_id, b.doc_number, NULL, b.department_id,
        'vendor', v.vendor_id, v.display_name, v.balance, v.billing_address_id, v.web_url,
        NULL, NULL, NULL, b.transaction_date, b.due_date, b.currency_id, b.exchange_rate,
        b.total_amount, b.home_total_amount, b.balance, b.home_balance, b.is_voided
    FROM staging.bill AS b
    LEFT JOIN staging.vendor AS v USING (realm_id, vendor_id)
),
measured AS (
    SELECT
        d.*,
        coalesce(a.total_current_payment, 0) AS total_current_payment,
        a.initial_payment_date,
        a.recent_payment_date,
        CAST(getvariable('as_of_date') AS DATE) AS as_of_date,
        CAST(getvariable('as_of_date') AS DATE) - coalesce(d.due_date, d.transaction_date)
            AS days_past_due,
        coalesce(d.balance, d.total_amount - coalesce(a.total_current_payment, 0))
            AS current_balance
    FROM documents AS d
    LEFT JOIN applied AS a
        ON a.realm_id = d.realm_id AND a.document_type = d.document_type
        AND a.document_id = d.transaction_id
)
SELECT
    m.realm_id, m.transaction_type, m.transaction_id, m.doc_number, m.estimate_id,
    dep.fully_qualified_name AS department_name, m.transaction_with, m.customer_vendor_id,
    m.customer_vendor_name, m.customer_vendor_balance,
    addr.city AS customer_vendor_address_city, addr.country AS customer_vendor_address_country,
    concat_ws(' ', addr.address_1, addr.address_2) AS customer_vendor_address_line,
    m.customer_vendor_website, m.delivery_type, m.estimate_status, m.transaction_date,
    m.currency_id, m.exchange_rate, m.total_amount,
    m.home_total_amount AS converted_total_amount, m.estimate_amount, m.current_balance,
    coalesce(m.home_balance, staging.to_home(m.current_balance, m.exchange_rate))
        AS converted_current_balance,
    m.total_current_payment,
    CAST(m.total_amount - m.total_current_payment AS DECIMAL(18, 2)) AS computed_balance,
    CASE
        WHEN m.is_voided THEN 'Voided'
        WHEN m.current_balance <= 0 THEN 'Paid'
        WHEN m.current_balance < m.total_amount THEN 'Partially Paid'
        ELSE 'Open'
    END AS status,
    m.due_date,
    m.as_of_date,
    (m.current_balance > 0 AND m.days_past_due > 0) AS is_overdue,
    CASE WHEN m.current_balance > 0 AND m.days_past_due > 0 THEN m.days_past_due ELSE 0 END
        AS days_overdue,
    CASE
        WHEN m.current_balance <= 0 THEN NULL
        WHEN m.days_past_due <= 0 THEN 'Current'
        WHEN m.days_past_due <= 30 THEN '1 - 30'
        WHEN m.days_past_due <= 60 THEN '31 - 60'
        WHEN m.days_past_due <= 90 THEN '61 - 90'
        ELSE '91 and over'
    END AS aging_bucket,
    m.initial_payment_date,
    m.recent_payment_date
FROM measured AS m
LEFT JOIN staging.department AS dep
    ON dep.realm_id = m.realm_id AND dep.department_id = m.department_id
LEFT JOIN staging.address AS addr
    ON addr.realm_id = m.realm_id AND addr.address_id = m.billing_address_id;
