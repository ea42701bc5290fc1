-- Accounts as the statements see them: every staged account plus a synthetic row for each
-- special account the books lack; QBO's report group, sign convention and ordinal per account;
-- and which account plays each special role (A/R, A/P, Undeposited Funds, ...) per realm.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE OR REPLACE TABLE marts.int_special_role AS
SELECT * FROM (VALUES
    ('accounts-receivable', 'Accounts Receivable (A/R)', 'Accounts Receivable',
     'AccountsReceivable', 'Asset', 'type', ['AccountsReceivable']),
    ('accounts-payable', 'Accounts Payable (A/P)', 'Accounts Payable',
     'AccountsPayable', 'Liability', 'type', ['AccountsPayable']),
    ('undeposited-funds', 'Undeposited Funds', 'Other Current Asset',
     'UndepositedFunds', 'Asset', 'sub_type', ['UndepositedFunds']),
    ('sales-tax-payable', 'Sales Tax Payable', 'Other Current Liability',
     'GlobalTaxPayable', 'Liability', 'sub_type', ['GlobalTaxPayable', 'SalesTaxPayable']),
    ('retained-earnings', 'Retained Earnings', 'Equity',
     'RetainedEarnings', 'Equity', 'sub_type', ['RetainedEarnings']),
    ('uncategorized-income', 'Uncategorized Income', 'Income',
     'ServiceFeeIncome', 'Revenue', 'name', []),
    ('uncategorized-expense', 'Uncategorized Expense', 'Expense',
     'OtherMiscellaneousServiceCost', 'Expense', 'name', []),
    ('uncategorized-asset', 'Uncategorized Asset', 'Other Current Asset',
     'OtherCurrentAssets', 'Asset', 'name', []),
    ('discounts-given', 'Discounts given', 'Income',
     'DiscountsRefundsGiven', 'Revenue', 'sub_type', ['DiscountsRefundsGiven'])
) AS r(role, account_name, account_type, account_sub_type, classification, match_by, sub_types);

-- (realm_id, role, currency_id, account_id): currency_id '' is the realm-wide choice (lowest
-- Id), a currency code the choice among accounts in that currency (A/R and A/P per currency).
CREATE OR REPLACE TABLE marts.int_account_role AS
WITH realms AS (
    SELECT realm_id FROM staging.account
    UNION
    SELECT realm_id FROM staging.int_transaction
),
candidates AS (
    SELECT
        a.realm_id, r.role, a.account_id, a.currency_id,
        row_number() OVER (
            PARTITION BY a.realm_id, r.role
            ORDER BY TRY_CAST(a.account_id AS BIGINT) NULLS LAST, a.account_id
        ) AS rank_any,
        row_number() OVER (
            PARTITION BY a.realm_id, r.role, a.currency_id
            ORDER BY TRY_CAST(a.account_id AS BIGINT) NULLS LAST, a.account_id
        ) AS rank_currency
    FROM marts.int_special_role AS r
    JOIN staging.account AS a
        ON (r.match_by = 'type' AND a.account_type = r.account_type)
        OR (r.match_by = 'sub_type' AND list_contains(r.sub_types, a.account_sub_type))
        OR (r.match_by = 'name' AND lower(a.name) = lower(r.account_name))
)
SELECT realm_id, role, '' AS currency_id, account_id, false AS is_synthetic
FROM candidates WHERE rank_any = 1
UNION ALL
SELECT realm_id, role, currency_id, account_id, false
FROM candidates WHERE rank_currency = 1 AND currency_id IS NOT NULL
UNION ALL
SELECT realms.realm_id, r.role, '', 'synthetic-' || r.role, true
FROM realms CROSS JOIN marts.int_special_role AS r
WHERE NOT EXISTS (
    SELECT 1 FROM candidates AS c WHERE c.realm_id = realms.realm_id AND c.role = r.role
);

-- One row per realm with the realm-wide special accounts as columns (for joins).
CREATE OR REPLACE TABLE marts.int_realm_account AS
SELECT
    realm_id,
    max(account_id) FILTER (WHERE role = 'accounts-receivable') AS receivable_account_id,
    max(account_id) FILTER (WHERE role = 'accounts-payable') AS payable_account_id,
    max(account_id) FILTER (WHERE role = 'undeposited-funds') AS undeposited_funds_account_id,
    max(account_id) FILTER (WHERE role = 'sales-tax-payable') AS sales_tax_account_id,
    max(account_id) FILTER (WHERE role = 'retained-earnings') AS retained_earnings_account_id,
    max(account_id) FILTER (WHERE role = 'uncategorized-income') AS uncategorized_income_account_id,
    max(account_id) FILTER (WHERE role = 'uncategorized-expense')
        AS uncategorized_expense_account_id,
    max(account_id) FILTER (WHERE role = 'uncategorized-asset') AS uncategorized_asset_account_id,
    max(account_id) FILTER (WHERE role = 'discounts-given') AS discounts_given_account_id
FROM marts.int_account_role
WHERE currency_id = ''
GROUP BY realm_id;

CREATE OR REPLACE TABLE marts.int_account AS
WITH base AS (
    SELECT
        realm_id, account_id, account_number, name, fully_qualified_name, account_type,
        account_sub_type, classification, is_sub_account, parent_account_id, currency_id,
        balance, is_active, false AS is_synthetic
    FROM staging.account
    UNION ALL
    SELECT
        x.realm_id, x.account_id, NULL, r.account_name, r.account_name, r.account_type,
        r.account_sub_type, r.classification, false, NULL, NULL, NULL, true, true
    FROM marts.int_account_role AS x
    JOIN marts.int_special_role AS r USING (role)
    WHERE x.is_synthetic
),
grouped AS (
    SELECT
        *,
        -- QBO's report section: AccountType first, Classification as the fallback.
        coalesce(
            CASE account_type
                WHEN 'Bank' THEN 'BankAccounts'
                WHEN 'Accounts Receivable' THEN 'AR'
                WHEN 'Other Current Asset' THEN 'OtherCurrentAssets'
                WHEN 'Fixed Asset' THEN 'FixedAssets'
                WHEN 'Other Asset' THEN 'OtherAssets'
                WHEN 'Accounts Payable' THEN 'AP'
                WHEN 'Credit Card' THEN 'CreditCards'
                WHEN 'Other Current Liability' THEN 'OtherCurrentLiabilities'
                WHEN 'Long Term Liability' THEN 'LongTermLiabilities'
                WHEN 'Equity' THEN 'Equity'
                WHEN 'Income' THEN 'Income'
                WHEN 'Cost of Goods Sold' THEN 'COGS'
                WHEN 'Expense' THEN 'Expenses'
                WHEN 'Other Income' THEN 'OtherIncome'
                WHEN 'Other Expense' THEN 'OtherExpenses'
            END,
            CASE classification
                WHEN 'Asset' THEN 'OtherCurrentAssets'
                WHEN 'Liability' THEN 'OtherCurrentLiabilities'
                WHEN 'Equity' THEN 'Equity'
                WHEN 'Revenue' THEN 'Income'
                WHEN 'Expense' THEN 'Expenses'
            END,
            'OtherCurrentAssets'
        ) AS report_group
    FROM base
),
classified AS (
    SELECT
        *,
        CASE
            WHEN report_group IN ('BankAccounts', 'AR', 'OtherCurrentAssets', 'FixedAssets',
                                  'OtherAssets') THEN 'Asset'
            WHEN report_group IN ('AP', 'CreditCards', 'OtherCurrentLiabilities',
                                  'LongTermLiabilities') THEN 'Liability'
            WHEN report_group = 'Equity' THEN 'Equity'
            WHEN report_group IN ('Income', 'OtherIncome') THEN 'Revenue'
            ELSE 'Expense'
        END AS account_class,
        list_position(
            ['BankAccounts', 'AR', 'OtherCurrentAssets', 'FixedAssets', 'OtherAssets', 'AP',
             'CreditCards', 'OtherCurrentLiabilities', 'LongTermLiabilities', 'Equity', 'Income',
             'COGS', 'Expenses', 'OtherIncome', 'OtherExpenses'],
            report_group
        ) AS account_ordinal
    FROM grouped
)
SELECT
    c.realm_id,
    c.account_id,
    c.account_number,
    c.name AS account_name,
    c.fully_qualified_name,
    c.account_type,
    c.account_sub_type,
    c.classification,
    c.account_class,
    c.report_group,
    c.account_ordinal,
    CASE WHEN c.account_class IN ('Revenue', 'Expense') THEN 'income_statement'
        ELSE 'balance_sheet' END AS financial_statement_helper,
    CASE WHEN c.account_class IN ('Asset', 'Expense') THEN 'debit' ELSE 'credit' END
        AS account_transaction_type,
    c.is_sub_account,
    c.parent_account_id,
    CASE WHEN c.is_sub_account THEN p.account_number ELSE c.account_number END
        AS parent_account_number,
    CASE WHEN c.is_sub_account THEN p.fully_qualified_name ELSE c.fully_qualified_name END
        AS parent_account_name,
    c.currency_id,
    c.balance AS account_current_balance,
    c.is_active,
    c.is_synthetic
FROM classified AS c
LEFT JOIN base AS p ON p.realm_id = c.realm_id AND p.account_id = c.parent_account_id;
