-- Monthly statements from the ledgers, both bases in one table each (column basis =
-- 'accrual' | 'cash'; always filter on it). Amounts follow the account's sign convention
-- (adjusted_*: assets and expenses debit-positive, liabilities, equity and income
-- credit-positive). Fiscal years start in January.
CREATE OR REPLACE TABLE marts.int_ledger_monthly AS
SELECT
    basis, realm_id, account_id,
    CAST(date_trunc('month', transaction_date) AS DATE) AS period_first_day,
    sum(adjusted_amount) AS net_change,
    sum(adjusted_converted_amount) AS net_converted_change
FROM (
    SELECT * FROM marts.general_ledger
    UNION ALL BY NAME
    SELECT * FROM marts.general_ledger_cash
)
GROUP BY ALL;

CREATE OR REPLACE TABLE marts.general_ledger_by_period AS
WITH realm_span AS (
    SELECT basis, realm_id, max(period_first_day) AS last_month
    FROM marts.int_ledger_monthly GROUP BY ALL
),
account_span AS (
    SELECT basis, realm_id, account_id, min(period_first_day) AS first_month
    FROM marts.int_ledger_monthly GROUP BY ALL
),
spine AS (
    SELECT a.basis, a.realm_id, a.account_id, CAST(m.month AS DATE) AS period_first_day
    FROM account_span AS a
    JOIN realm_span AS r USING (basis, realm_id),
        LATERAL (SELECT unnest(generate_series(a.first_month, r.last_month, INTERVAL 1 MONTH))
            AS month) AS m
),
filled AS (
    SELECT
        s.*, acc.* EXCLUDE (realm_id, account_id),
        coalesce(m.net_change, 0) AS period_net_change,
        coalesce(m.net_converted_change, 0) AS period_net_converted_change
    FROM spine AS s
    LEFT JOIN marts.int_ledger_monthly AS m USING (basis, realm_id, account_id, period_first_day)
    LEFT JOIN marts.int_account AS acc USING (realm_id, account_id)
),
running AS (
    SELECT
        *,
        -- Balance-sheet accounts carry their balance forever; income-statement accounts
        -- restart every fiscal year (their ending balance is the year-to-date figure).
        sum(period_net_change) OVER w AS period_ending_balance,
        sum(period_net_converted_change) OVER w AS period_ending_converted_balance
    FROM filled
    WINDOW w AS (
        PARTITION BY basis, realm_id, account_id,
            CASE WHEN financial_statement_helper = 'income_statement'
                THEN year(period_first_day) ELSE 0 END
        ORDER BY period_first_day ROWS UNBOUNDED PRECEDING
    )
)
SELECT
    basis, realm_id, account_id, account_number, account_name, is_sub_account,
    parent_account_number, parent_account_name, account_type, account_sub_type, account_class,
    report_group, financial_statement_helper,
    CAST(date_trunc('year', period_first_day) AS DATE) AS date_year,
    period_first_day,
    CAST(last_day(period_first_day) AS DATE) AS period_last_day,
    CAST(period_ending_balance - period_net_change AS DECIMAL(18, 2))
        AS period_beginning_balance,
    CAST(period_net_change AS DECIMAL(18, 2)) AS period_net_change,
    CAST(period_ending_balance AS DECIMAL(18, 2)) AS period_ending_balance,
    CAST(period_ending_converted_balance - period_net_converted_change AS DECIMAL(18, 2))
        AS period_beginning_converted_balance,
    CAST(period_net_converted_change AS DECIMAL(18, 2)) AS period_net_converted_change,
    CAST(period_ending_converted_balance AS DECIMAL(18, 2)) AS period_ending_converted_balance,
    account_ordinal
FROM running;

CREATE OR REPLACE TABLE marts.profit_and_loss AS
SELECT
    basis, realm_id, period_first_day AS calendar_date, account_class, is_sub_account,
    parent_account_number, parent_account_name, account_type, account_sub_type, report_group,
    account_number, account_id, account_name,
    period_net_change AS amount,
    period_net_converted_change AS converted_amount,
    account_ordinal
FROM marts.general_ledger_by_period
WHERE financial_statement_helper = 'income_statement';

-- Balance sheet at each month end. As QBO shows it: profit of earlier fiscal years is folded
-- into the Retained Earnings account, this year's profit is a 'Net Income' row (account_id
-- 'net-income'), so assets = liabilities + equity every month.
CREATE OR REPLACE TABLE marts.balance_sheet AS
WITH profit AS (
    SELECT
        basis, realm_id, period_first_day,
        sum(CASE WHEN account_class = 'Revenue' THEN period_net_change
            ELSE -period_net_change END) AS month_profit,
        sum(CASE WHEN account_class = 'Revenue' THEN period_net_converted_change
            ELSE -period_net_converted_change END) AS month_converted_profit
    FROM marts.general_ledger_by_period
    WHERE financial_statement_helper = 'income_statement'
    GROUP BY ALL
),
months AS (
    SELECT DISTINCT basis, realm_id, period_first_day FROM marts.general_ledger_by_period
),
profit_to_date AS (
    SELECT
        m.basis, m.realm_id, m.period_first_day,
        sum(coalesce(p.month_profit, 0)) OVER w AS total_profit,
        sum(coalesce(p.month_converted_profit, 0)) OVER w AS total_converted_profit,
        sum(coalesce(p.month_profit, 0)) OVER y AS year_profit,
        sum(coalesce(p.month_converted_profit, 0)) OVER y AS year_converted_profit
    FROM months AS m
    LEFT JOIN profit AS p USING (basis, realm_id, period_first_day)
    WINDOW
        w AS (PARTITION BY m.basis, m.realm_id ORDER BY m.period_first_day
            ROWS UNBOUNDED PRECEDING),
        y AS (PARTITION BY m.basis, m.realm_id, year(m.period_first_day)
            ORDER BY m.period_first_day ROWS UNBOUNDED PRECEDING)
),
lines AS (
    SELECT basis, realm_id, period_first_day, account_id,
        period_ending_balance AS amount, period_ending_converted_balance AS converted_amount
    FROM marts.general_ledger_by_period
    WHERE financial_statement_helper = 'balance_sheet'
    UNION ALL
    SELECT p.basis, p.realm_id, p.period_first_day, ra.retained_earnings_account_id,
        p.total_profit - p.year_profit, p.total_converted_profit - p.year_converted_profit
    FROM profit_to_date AS p JOIN marts.int_realm_account AS ra USING (realm_id)
    UNION ALL
    SELECT basis, realm_id, period_first_day, 'net-income', year_profit, year_converted_profit
    FROM profit_to_date
),
summed AS (
    SELECT basis, realm_id, period_first_day, account_id,
        sum(amount) AS amount, sum(converted_amount) AS converted_amount
    FROM lines GROUP BY ALL
)
SELECT
    s.basis, s.realm_id, s.period_first_day AS calendar_date,
    coalesce(a.account_class, 'Equity') AS account_class,
    coalesce(a.is_sub_account, false) AS is_sub_account,
    a.parent_account_number, coalesce(a.parent_account_name, 'Net Income') AS parent_account_name,
    coalesce(a.account_type, 'Equity') AS account_type, a.account_sub_type,
    coalesce(a.report_group, 'Equity') AS report_group,
    a.account_number, s.account_id, coalesce(a.account_name, 'Net Income') AS account_name,
    CAST(s.amount AS DECIMAL(18, 2)) AS amount,
    CAST(s.converted_amount AS DECIMAL(18, 2)) AS converted_amount,
    coalesce(a.account_ordinal, 10) AS account_ordinal
FROM summed AS s
LEFT JOIN marts.int_account AS a USING (realm_id, account_id);

-- Indirect cash-flow statement from month-to-month balance-sheet changes. cash_net_period is
-- the change of the line's balance; cash_flow_amount is its effect on cash (an asset that
-- grows uses cash, a liability or equity that grows brings it), so per period the
-- Operating + Investing + Financing effects add up to the change in 'Cash or Cash
-- Equivalents'.
CREATE OR REPLACE TABLE marts.cash_flow_statement AS
WITH classified AS (
    SELECT
        *,
        CASE
            WHEN account_type = 'Bank' THEN 'Cash or Cash Equivalents'
            WHEN account_type IN ('Accounts Receivable', 'Credit Card', 'Other Current Asset',
                                  'Accounts Payable', 'Other Current Liability')
                THEN 'Operating'
            -- This year's profit and the earlier years' profit folded into Retained Earnings.
            WHEN account_id = 'net-income' OR account_sub_type = 'RetainedEarnings'
                THEN 'Operating'
            WHEN account_type IN ('Fixed Asset', 'Other Asset') THEN 'Investing'
            WHEN account_type = 'Long Term Liability' OR account_class = 'Equity' THEN 'Financing'
            ELSE 'Operating'
        END AS cash_flow_type,
        coalesce(lag(amount) OVER w, 0) AS cash_beginning_period,
        coalesce(lag(converted_amount) OVER w, 0) AS cash_beginning_converted_period
    FROM marts.balance_sheet
    WINDOW w AS (PARTITION BY basis, realm_id, account_id ORDER BY calendar_date)
)
SELECT
    basis, realm_id,
    realm_id || ':' || basis || ':' || account_id || ':' || calendar_date AS account_unique_id,
    calendar_date AS cash_flow_period,
    account_class, is_sub_account, parent_account_number, parent_account_name, account_type,
    account_sub_type, account_number, account_id, account_name, cash_flow_type,
    CASE cash_flow_type WHEN 'Cash or Cash Equivalents' THEN 1 WHEN 'Operating' THEN 2
        WHEN 'Investing' THEN 3 ELSE 4 END AS cash_flow_ordinal,
    amount AS cash_ending_period,
    CAST(cash_beginning_period AS DECIMAL(18, 2)) AS cash_beginning_period,
    CAST(amount - cash_beginning_period AS DECIMAL(18, 2)) AS cash_net_period,
    CAST(CASE WHEN account_class = 'Asset' AND cash_flow_type <> 'Cash or Cash Equivalents'
        THEN cash_beginning_period - amount ELSE amount - cash_beginning_period END
        AS DECIMAL(18, 2)) AS cash_flow_amount,
    converted_amount AS cash_ending_converted_period,
    CAST(cash_beginning_converted_period AS DECIMAL(18, 2)) AS cash_beginning_converted_period,
    CAST(converted_amount - cash_beginning_converted_period AS DECIMAL(18, 2))
        AS cash_net_converted_period,
    CAST(CASE WHEN account_class = 'Asset' AND cash_flow_type <> 'Cash or Cash Equivalents'
        THEN cash_beginning_converted_period - converted_amount
        ELSE converted_amount - cash_beginning_converted_period END
        AS DECIMAL(18, 2)) AS cash_flow_converted_amount
FROM classified;
