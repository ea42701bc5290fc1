-- Line-level sales and expense cube. Sales: item lines of invoices, sales receipts, credit
-- memos and refund receipts (the last two negative). Expenses: expense lines of bills,
-- purchases and vendor credits (negative, as are card refunds). Journal-entry lines on
-- income or expense accounts and deposit lines on income accounts are included too.
-- Voided documents are left out.
CREATE OR REPLACE TABLE marts.expenses_sales_enhanced AS
WITH lines AS (
    SELECT
        e.realm_id, e.transaction_source AS transaction_type, e.transaction_id,
        e.line_index AS transaction_line_id, e.account_id, e.customer_id, e.vendor_id,
        e.class_id, e.department_id, e.doc_number, e.transaction_date, e.description,
        -- Income lines are credits: flip so a sale is positive (a credit memo negative).
        CASE WHEN a.account_class = 'Revenue' THEN -e.amount ELSE e.amount END AS amount,
        e.exchange_rate,
        CASE WHEN a.account_class = 'Revenue' THEN 'sale' ELSE 'expense' END
            AS transaction_source
    FROM marts.int_accrual_entry AS e
    JOIN marts.int_account AS a USING (realm_id, account_id)
    WHERE NOT e.is_control AND e.line_index IS NOT NULL
        AND a.financial_statement_helper = 'income_statement'
        AND NOT (a.account_type = 'Cost of Goods Sold'
            AND e.transaction_source IN ('Invoice', 'CreditMemo', 'SalesReceipt',
                                         'RefundReceipt'))
)
SELECT
    l.realm_id, l.transaction_source, l.transaction_id, l.transaction_line_id, l.doc_number,
    l.transaction_type, l.transaction_date,
    tl.item_id, tl.quantity AS item_quantity, tl.unit_price AS item_unit_price,
    l.account_id, a.account_name, a.account_sub_type, l.class_id, l.department_id,
    dep.fully_qualified_name AS department_name, l.customer_id,
    c.fully_qualified_name AS customer_name, c.website AS customer_website, l.vendor_id,
    v.display_name AS vendor_name, tl.billable_status, l.description,
    CAST(l.amount AS DECIMAL(18, 2)) AS amount,
    staging.to_home(l.amount, l.exchange_rate) AS converted_amount,
    t.total_amount, t.home_total_amount AS total_converted_amount
FROM lines AS l
JOIN staging.int_transaction AS t
    ON t.realm_id = l.realm_id AND t.transaction_type = l.transaction_type
    AND t.transaction_id = l.transaction_id
LEFT JOIN staging.int_transaction_line AS tl
    ON tl.realm_id = l.realm_id AND tl.transaction_type = l.transaction_type
    AND tl.transaction_id = l.transaction_id AND tl.line_index = l.transaction_line_id
LEFT JOIN marts.int_account AS a ON a.realm_id = l.realm_id AND a.account_id = l.account_id
LEFT JOIN staging.department AS dep
    ON dep.realm_id = l.realm_id AND dep.department_id = l.department_id
LEFT JOIN staging.customer AS c ON c.realm_id = l.realm_id AND c.customer_id = l.customer_id
LEFT JOIN staging.vendor AS v ON v.realm_id = l.realm_id AND v.vendor_id = l.vendor_id;
