-- Open invoices ($document = 'Invoice', payments 'Payment') or bills ('Bill', 'BillPayment')
-- of one realm at $report_date, by party and aging bucket, home currency. As QBO's aging
-- summary: the balance at the report date is today's Balance plus what later payments
-- applied; bucket 0 = current, then $aging_period-day buckets, the last one open-ended.
-- Like the emulator's report, unapplied payments and credits are not netted in.
WITH later AS (
    SELECT l.linked_transaction_id AS document_id, sum(l.amount) AS amount
    FROM staging.int_transaction_line AS l
    JOIN staging.int_transaction AS p
        ON p.realm_id = l.realm_id AND p.transaction_type = l.transaction_type
        AND p.transaction_id = l.transaction_id
    WHERE l.realm_id = $realm_id AND l.transaction_type = $payment
        AND l.linked_transaction_type = $document AND p.transaction_date > $report_date
    GROUP BY ALL
),
open_documents AS (
    SELECT
        coalesce(d.customer_id, d.vendor_id) AS party_id,
        CAST($report_date AS DATE) - coalesce(d.due_date, d.transaction_date) AS days_past_due,
        staging.to_home(coalesce(d.balance, 0) + coalesce(later.amount, 0), d.exchange_rate)
            AS amount
    FROM staging.int_transaction AS d
    LEFT JOIN later ON later.document_id = d.transaction_id
    WHERE d.realm_id = $realm_id AND d.transaction_type = $document
        AND d.transaction_date <= $report_date
)
SELECT
    party_id,
    CASE WHEN days_past_due <= 0 THEN 0
        ELSE least((days_past_due - 1) // $aging_period + 1, $num_periods) END AS bucket,
    sum(amount) AS amount
FROM open_documents
WHERE amount > 0
GROUP BY ALL
ORDER BY party_id, bucket;
