-- Profit and loss of one realm over [$start_date, $end_date] from the ledger of $basis:
-- per income-statement account, amount in its sign convention (income credit-positive,
-- expenses debit-positive), home currency.
SELECT
    account_id, account_name, report_group, account_class,
    sum(adjusted_converted_amount) AS amount
FROM (
    SELECT * FROM marts.general_ledger
    UNION ALL BY NAME
    SELECT * FROM marts.general_ledger_cash
)
WHERE realm_id = $realm_id AND basis = $basis
    AND financial_statement_helper = 'income_statement'
    AND transaction_date BETWEEN $start_date AND $end_date
GROUP BY ALL
ORDER BY account_id;
