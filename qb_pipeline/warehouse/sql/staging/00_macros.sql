-- Typing helpers shared by every staging file: QBO JSON scalars to DuckDB types.
-- Money is DECIMAL(18,2); quantities, unit prices and costs keep 6 places; rates 10.
CREATE SCHEMA IF NOT EXISTS staging;

CREATE OR REPLACE MACRO staging.money(v) AS TRY_CAST(v AS DECIMAL(18, 2));

CREATE OR REPLACE MACRO staging.qty(v) AS TRY_CAST(v AS DECIMAL(18, 6));

CREATE OR REPLACE MACRO staging.fx_rate(v) AS TRY_CAST(v AS DECIMAL(18, 10));

CREATE OR REPLACE MACRO staging.ts(v) AS TRY_CAST(v AS TIMESTAMPTZ);

CREATE OR REPLACE MACRO staging.flag(v) AS TRY_CAST(v AS BOOLEAN);

-- Home-currency amount: rounded half away from zero to the cent, as QBO converts.
CREATE OR REPLACE MACRO staging.to_home(amount, rate) AS
    CAST(ROUND(CAST(amount AS DECIMAL(38, 10)) * coalesce(rate, 1), 2) AS DECIMAL(18, 2));
