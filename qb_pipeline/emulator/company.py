"""What every new emulated company starts with: CompanyInfo, Preferences, sales tax, and
(optionally) the starter chart of accounts, terms and a "Services" item QBO gives a new company.

Real: shapes of CompanyInfo and Preferences (API_FACTS 3.12-3.13), US sales tax as a TaxCode
group over TaxRates paid to a TaxAgency, the special accounts QBO creates on demand (A/R, A/P,
Undeposited Funds). Faked: one California-style 8% rate stands for the company's sales tax.
"""

from __future__ import annotations

from typing import Any

CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "CAD": "Canadian Dollar",
    "AUD": "Australian Dollar",
    "MXN": "Mexican Peso",
}

# Special accounts by AccountSubType: created on first use when a company lacks them.
SPECIAL_ACCOUNTS = {
    "AccountsReceivable": ("Accounts Receivable (A/R)", "Accounts Receivable"),
    "AccountsPayable": ("Accounts Payable (A/P)", "Accounts Payable"),
    "UndepositedFunds": ("Undeposited Funds", "Other Current Asset"),
    "GlobalTaxPayable": ("Sales Tax Payable", "Other Current Liability"),
    "OpeningBalanceEquity": ("Opening Balance Equity", "Equity"),
    "RetainedEarnings": ("Retained Earnings", "Equity"),
}

STARTER_ACCOUNTS: list[dict[str, Any]] = [
    {"Name": "Checking", "AccountType": "Bank", "AccountSubType": "Checking"},
    {"Name": "Savings", "AccountType": "Bank", "AccountSubType": "Savings"},
    {"Name": "Services", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome"},
    {
        "Name": "Sales of Product Income",
        "AccountType": "Income",
        "AccountSubType": "SalesOfProductIncome",
    },
    {
        "Name": "Cost of Goods Sold",
        "AccountType": "Cost of Goods Sold",
        "AccountSubType": "SuppliesMaterialsCogs",
    },
    {
        "Name": "Inventory Asset",
        "AccountType": "Other Current Asset",
        "AccountSubType": "Inventory",
    },
    {
        "Name": "Office Supplies",
        "AccountType": "Expense",
        "AccountSubType": "OfficeGeneralAdministrativeExpenses",
    },
    {"Name": "Mastercard", "AccountType": "Credit Card", "AccountSubType": "CreditCard"},
]

STARTER_TERMS = [("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60)]


def company_info(realm_id: str, name: str, country: str, start_date: str) -> dict[str, Any]:
    addr = {
        "Id": "1",
        "Line1": "2500 Garcia Ave",
        "City": "Mountain View",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94043",
        "Country": "USA",
    }
    return {
        "CompanyName": name,
        "LegalName": name,
        "CompanyAddr": dict(addr),
        "CustomerCommunicationAddr": dict(addr),
        "LegalAddr": dict(addr),
        "PrimaryPhone": {"FreeFormNumber": "(650) 944-4444"},
        "CompanyStartDate": start_date,
        "FiscalYearStartMonth": "January",
        "Country": country,
        "Email": {"Address": "noreply@quickbooks.invalid"},
        "WebAddr": {},
        "SupportedLanguages": "en",
        "NameValue": [
            {"Name": "NeoEnabled", "Value": "true"},
            {"Name": "IndustryType", "Value": "Landscaping Services"},
            {"Name": "SubscriptionStatus", "Value": "PAID"},
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
            {"Name": "PayrollFeature", "Value": "false"},
            {"Name": "AccountantFeature", "Value": "false"},
            {"Name": "QBOIndustryType", "Value": "Landscaping Services"},
        ],
    }


def preferences(home_currency: str, multi_currency: bool, name: str) -> dict[str, Any]:
    return {
        "AccountingInfoPrefs": {
            "TrackDepartments": True,
            "DepartmentTerminology": "Location",
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": True,
            "CustomerTerminology": "Customers",
        },
        "ProductAndServicesPrefs": {
            "ForSales": True,
            "ForPurchase": True,
            "QuantityWithPriceAndRate": True,
            "QuantityOnHand": True,
        },
        "SalesFormsPrefs": {
            "CustomTxnNumbers": False,
            "AllowDeposit": False,
            "AllowDiscount": True,
            "AllowEstimates": True,
            "AllowServiceDate": False,
            "AllowShipping": False,
            "DefaultTerms": {"value": "3"},
            "DefaultCustomerMessage": "Thank you for your business!",
        },
        "EmailMessagesPrefs": {
            "InvoiceMessage": {
                "Subject": f"Invoice from {name}",
                "Message": "Your invoice is attached.",
            }
        },
        "VendorAndPurchasesPrefs": {"TrackingByCustomer": True, "BillableExpenseTracking": True},
        "TimeTrackingPrefs": {
            "UseServices": True,
            "BillCustomers": True,
            "WorkWeekStartDate": "Monday",
        },
        "TaxPrefs": {"UsingSalesTax": True, "TaxGroupCodeRef": {"value": "2"}},
        "CurrencyPrefs": {
            "MultiCurrencyEnabled": multi_currency,
            "HomeCurrency": {"value": home_currency},
        },
        "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
        "OtherPrefs": {"NameValue": [{"Name": "Vendor1099Enabled", "Value": "true"}]},
    }


# TaxAgency 1 <- TaxRate 1 (8%) <- TaxCode 2 (group), as the sandbox company has them.
TAX_AGENCY = {
    "DisplayName": "Board of Equalization",
    "Active": True,
    "TaxTrackedOnSales": True,
    "TaxTrackedOnPurchases": False,
}
TAX_RATE = {
    "Name": "California",
    "Description": "Sales Tax",
    "Active": True,
    "RateValue": 8,
    "AgencyRef": {"value": "1"},
    "SpecialTaxType": "NONE",
    "DisplayType": "ReadOnly",
    "EffectiveTaxRate": [{"RateValue": 8}],
}
TAX_CODE = {
    "Name": "California",
    "Description": "California",
    "Active": True,
    "Taxable": True,
    "TaxGroup": True,
    "SalesTaxRateList": {
        "TaxRateDetail": [
            {
                "TaxRateRef": {"value": "1", "name": "California"},
                "TaxTypeApplicable": "TaxOnAmount",
                "TaxOrder": 0,
            }
        ]
    },
    "PurchaseTaxRateList": {"TaxRateDetail": []},
}

DEFAULT_RATES = {"EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66, "MXN": 0.058}
