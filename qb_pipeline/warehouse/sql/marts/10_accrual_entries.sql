-- Accrual-basis double entry, one row per debit (+) or credit (-) in the transaction currency,
-- before conversion. The rules are QBO's (and the emulator's ledger.py), per transaction type:
--   Invoice / CreditMemo (reversed): Dr A/R TotalAmt; Cr each item line's income account;
--     Dr discount lines; Cr Sales Tax Payable TotalTax; inventory items Dr COGS / Cr asset
--     at Qty x PurchaseCost.
--   SalesReceipt / RefundReceipt (reversed): as Invoice with the deposit account for A/R.
--   Payment: Dr deposit account (Undeposited Funds by default) / Cr A/R, TotalAmt.
--   Bill / VendorCredit (reversed): Cr A/P TotalAmt; Dr each expense line's account.
--   BillPayment: Dr A/P / Cr bank or card. Purchase: Cr paid-from account; Dr lines
--     (Credit = true reverses). JournalEntry: lines as posted. Deposit: Dr deposit account;
--     Cr line accounts (Undeposited Funds for deposited payments); Dr cash-back account.
--   Transfer: Dr to-account / Cr from-account.
-- is_control marks the document-total side; conversion rounding is never put on it.
-- Voided transactions post nothing.
CREATE OR REPLACE TABLE marts.int_accrual_entry AS
WITH txn AS (
    SELECT
        t.*,
        ra.*  EXCLUDE (realm_id),
        coalesce(nullif(t.receivable_account_id, ''), ar.account_id, ra.receivable_account_id)
            AS ar_account,
        coalesce(nullif(t.payable_account_id, ''), ap.account_id, ra.payable_account_id)
            AS ap_account,
        coalesce(nullif(t.deposit_to_account_id, ''), ra.undeposited_funds_account_id)
            AS deposit_account,
        CASE WHEN t.transaction_type IN ('CreditMemo', 'RefundReceipt', 'VendorCredit') THEN -1
            WHEN t.transaction_type = 'Purchase'
                AND coalesce(staging.flag(t.payload ->> '$.Credit'), false) THEN -1
            ELSE 1 END AS sign
    FROM staging.int_transaction AS t
    JOIN marts.int_realm_account AS ra USING (realm_id)
    LEFT JOIN marts.int_account_role AS ar
        ON ar.realm_id = t.realm_id AND ar.role = 'accounts-receivable'
        AND ar.currency_id = t.currency_id
    LEFT JOIN marts.int_account_role AS ap
        ON ap.realm_id = t.realm_id AND ap.role = 'accounts-payable'
        AND ap.currency_id = t.currency_id
    WHERE NOT t.is_voided AND t.transaction_type <> 'Estimate'
),
line AS (
    SELECT l.*, i.type AS item_type, i.income_account_id, i.expense_account_id,
        i.asset_account_id, i.purchase_cost
    FROM staging.int_transaction_line AS l
    LEFT JOIN staging.item AS i ON i.realm_id = l.realm_id AND i.item_id = l.item_id
),
entries AS (
    -- Sales documents: the control side.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 0 AS entry_index,
        CASE WHEN t.transaction_type IN ('Invoice', 'CreditMemo') THEN t.ar_account
            ELSE t.deposit_account END AS account_id,
        t.sign * t.total_amount AS amount, true AS is_control, NULL AS line_index
    FROM txn AS t
    WHERE t.transaction_type IN ('Invoice', 'CreditMemo', 'SalesReceipt', 'RefundReceipt')
    UNION ALL
    -- Sales item lines: income.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 1 + 4 * l.line_index,
        coalesce(nullif(l.income_account_id, ''), t.uncategorized_income_account_id),
        -t.sign * l.amount, false, l.line_index
    FROM txn AS t JOIN line AS l USING (realm_id, transaction_type, transaction_id)
    WHERE t.transaction_type IN ('Invoice', 'CreditMemo', 'SalesReceipt', 'RefundReceipt')
        AND l.detail_type = 'SalesItemLineDetail'
    UNION ALL
    -- Inventory sold: Dr COGS, Cr inventory asset, at Qty x PurchaseCost.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 1 + 4 * l.line_index + s.k,
        CASE s.k WHEN 1 THEN l.expense_account_id ELSE l.asset_account_id END,
        CASE s.k WHEN 1 THEN 1 ELSE -1 END * t.sign
            * CAST(coalesce(l.quantity, 0) * coalesce(l.purchase_cost, 0) AS DECIMAL(38, 10)),
        false, l.line_index
    FROM txn AS t JOIN line AS l USING (realm_id, transaction_type, transaction_id)
    CROSS JOIN (VALUES (1), (2)) AS s(k)
    WHERE t.transaction_type IN ('Invoice', 'CreditMemo', 'SalesReceipt', 'RefundReceipt')
        AND l.detail_type = 'SalesItemLineDetail' AND l.item_type = 'Inventory'
        AND nullif(l.expense_account_id, '') IS NOT NULL
        AND nullif(l.asset_account_id, '') IS NOT NULL
        AND coalesce(l.quantity, 0) * coalesce(l.purchase_cost, 0) <> 0
    UNION ALL
    -- Discount lines.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 1 + 4 * l.line_index,
        coalesce(nullif(l.discount_account_id, ''), t.discounts_given_account_id),
        t.sign * l.amount, false, l.line_index
    FROM txn AS t JOIN line AS l USING (realm_id, transaction_type, transaction_id)
    WHERE t.transaction_type IN ('Invoice', 'CreditMemo', 'SalesReceipt', 'RefundReceipt')
        AND l.detail_type = 'DiscountLineDetail'
    UNION ALL
    -- Sales tax.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 1000000,
        t.sales_tax_account_id, -t.sign * coalesce(t.total_tax, 0), false, NULL
    FROM txn AS t
    WHERE t.transaction_type IN ('Invoice', 'CreditMemo', 'SalesReceipt', 'RefundReceipt')
    UNION ALL
    -- Customer payments.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, s.k,
        CASE s.k WHEN 0 THEN t.deposit_account ELSE t.ar_account END,
        CASE s.k WHEN 0 THEN 1 ELSE -1 END * t.total_amount, true, NULL
    FROM txn AS t CROSS JOIN (VALUES (0), (1)) AS s(k)
    WHERE t.transaction_type = 'Payment'
    UNION ALL
    -- Bills, vendor credits and purchases: the control side.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 0,
        CASE WHEN t.transaction_type = 'Purchase'
            THEN coalesce(nullif(t.payload ->> '$.AccountRef.value', ''),
                          t.uncategorized_expense_account_id)
            ELSE t.ap_account END,
        -t.sign * t.total_amount, true, NULL
    FROM txn AS t
    WHERE t.transaction_type IN ('Bill', 'VendorCredit', 'Purchase')
    UNION ALL
    -- Their expense lines.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 1 + 4 * l.line_index,
        coalesce(
            CASE WHEN l.detail_type = 'AccountBasedExpenseLineDetail' THEN nullif(l.account_id, '')
                WHEN l.item_type = 'Inventory' AND nullif(l.asset_account_id, '') IS NOT NULL
                    THEN l.asset_account_id
                ELSE nullif(l.expense_account_id, '') END,
            t.uncategorized_expense_account_id
        ),
        t.sign * l.amount, false, l.line_index
    FROM txn AS t JOIN line AS l USING (realm_id, transaction_type, transaction_id)
    WHERE t.transaction_type IN ('Bill', 'VendorCredit', 'Purchase')
        AND l.detail_type IN ('AccountBasedExpenseLineDetail', 'ItemBasedExpenseLineDetail')
    UNION ALL
    -- Bill payments.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, s.k,
        CASE s.k WHEN 0 THEN t.ap_account
            ELSE coalesce(
                nullif(t.payload ->> '$.CheckPayment.BankAccountRef.value', ''),
                nullif(t.payload ->> '$.CreditCardPayment.CCAccountRef.value', ''),
                t.uncategorized_asset_account_id
            ) END,
        CASE s.k WHEN 0 THEN 1 ELSE -1 END * t.total_amount, true, NULL
    FROM txn AS t CROSS JOIN (VALUES (0), (1)) AS s(k)
    WHERE t.transaction_type = 'BillPayment'
    UNION ALL
    -- Journal entries.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 1 + 4 * l.line_index,
        l.account_id,
        CASE WHEN l.posting_type = 'Credit' THEN -1 ELSE 1 END * l.amount, false, l.line_index
    FROM txn AS t JOIN line AS l USING (realm_id, transaction_type, transaction_id)
    WHERE t.transaction_type = 'JournalEntry' AND l.detail_type = 'JournalEntryLineDetail'
        AND nullif(l.account_id, '') IS NOT NULL
    UNION ALL
    -- Deposits: the control side, the lines, cash back.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 0, t.deposit_account,
        t.total_amount, true, NULL
    FROM txn AS t WHERE t.transaction_type = 'Deposit'
    UNION ALL
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 1 + 4 * l.line_index,
        CASE WHEN l.has_linked_txn THEN t.undeposited_funds_account_id
            ELSE coalesce(nullif(l.account_id, ''), t.uncategorized_income_account_id) END,
        -l.amount, false, l.line_index
    FROM txn AS t JOIN line AS l USING (realm_id, transaction_type, transaction_id)
    WHERE t.transaction_type = 'Deposit'
    UNION ALL
    SELECT t.realm_id, t.transaction_type, t.transaction_id, 1000000,
        t.payload ->> '$.CashBack.AccountRef.value',
        coalesce(staging.money(t.payload ->> '$.CashBack.Amount'), 0), false, NULL
    FROM txn AS t
    WHERE t.transaction_type = 'Deposit'
        AND nullif(t.payload ->> '$.CashBack.AccountRef.value', '') IS NOT NULL
    UNION ALL
    -- Transfers.
    SELECT t.realm_id, t.transaction_type, t.transaction_id, s.k,
        coalesce(
            nullif(t.payload ->> CASE s.k WHEN 0 THEN '$.ToAccountRef.value'
                ELSE '$.FromAccountRef.value' END, ''),
            t.uncategorized_asset_account_id
        ),
        CASE s.k WHEN 0 THEN 1 ELSE -1 END * t.total_amount, true, NULL
    FROM txn AS t CROSS JOIN (VALUES (0), (1)) AS s(k)
    WHERE t.transaction_type = 'Transfer'
)
SELECT
    e.realm_id,
    e.transaction_type AS transaction_source,
    e.transaction_id,
    e.entry_index,
    e.account_id,
    CAST(e.amount AS DECIMAL(38, 10)) AS amount,
    e.is_control,
    e.line_index,
    t.transaction_date,
    t.doc_number,
    t.currency_id,
    t.exchange_rate,
    t.department_id,
    coalesce(
        l.customer_id,
        CASE WHEN l.entity_type = 'Customer' THEN l.entity_id END,
        t.customer_id,
        CASE WHEN (t.payload ->> '$.EntityRef.type') = 'Customer'
            THEN t.payload ->> '$.EntityRef.value' END
    ) AS customer_id,
    coalesce(
        CASE WHEN l.entity_type = 'Vendor' THEN l.entity_id END,
        t.vendor_id,
        CASE WHEN (t.payload ->> '$.EntityRef.type') = 'Vendor'
            THEN t.payload ->> '$.EntityRef.value' END
    ) AS vendor_id,
    l.class_id,
    l.description
FROM entries AS e
JOIN staging.int_transaction AS t
    ON t.realm_id = e.realm_id AND t.transaction_type = e.transaction_type
    AND t.transaction_id = e.transaction_id
LEFT JOIN staging.int_transaction_line AS l
    ON l.realm_id = e.realm_id AND l.transaction_type = e.transaction_type
    AND l.transaction_id = e.transaction_id AND l.line_index = e.line_index;
