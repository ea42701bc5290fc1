-- Trial balance of one realm at $end_date from the ledger of $basis, as QBO computes it:
-- balance-sheet accounts cumulative, income-statement accounts for the fiscal year to date,
-- earlier years' profit folded into Retained Earnings. net = debit - credit (home currency).
WITH gl AS (
    SELECT * FROM (
        SELECT * FROM marts.general_ledger
        UNION ALL BY NAME
        SELECT * FROM marts.general_ledger_cash
    )
    WHERE realm_id = $realm_id AND basis = $basis AND transaction_date <= $end_date
),
year_start AS (SELECT CAST(date_trunc('year', CAST($end_date AS DATE)) AS DATE) AS first_day),
lines AS (
    SELECT gl.account_id, gl.debit_amount - gl.credit_amount AS net
    FROM gl, year_start
    WHERE gl.financial_statement_helper = 'balance_sheet'
        OR gl.transaction_date >= year_start.first_day
    UNION ALL
    SELECT ra.retained_earnings_account_id, gl.debit_amount - gl.credit_amount
    FROM gl, year_start, marts.int_realm_account AS ra
    WHERE ra.realm_id = $realm_id AND gl.financial_statement_helper = 'income_statement'
        AND gl.transaction_date < year_start.first_day
)
SELECT l.account_id, coalesce(a.account_name, l.account_id) AS account_name, sum(l.net) AS net
FROM lines AS l
LEFT JOIN marts.int_account AS a ON a.realm_id = $realm_id AND a.account_id = l.account_id
GROUP BY ALL
HAVING sum(l.net) <> 0
ORDER BY l.account_id;
