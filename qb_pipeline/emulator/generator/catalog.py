"""Static catalogue of a synthetic small business: chart of accounts, kinds of business, items.

Real: account types and camel-case sub-types are QBO's (API_FACTS 3.4); item types Service,
NonInventory and Inventory with the account refs QBO requires (3.3). Faked: every name, price
and SKU is invented. Not implemented: Group/Category items, sub-accounts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountSpec:
    key: str  # the generator's handle, never sent
    name: str
    account_type: str
    sub_type: str


@dataclass(frozen=True)
class ItemSpec:
    name: str
    item_type: str  # Service | NonInventory | Inventory
    price: float
    sku: str
    income_key: str
    taxable: bool
    unit: str = "each"
    cost: float = 0.0


@dataclass(frozen=True)
class BusinessKind:
    key: str
    label: str
    suffixes: tuple[str, ...]
    income_accounts: tuple[AccountSpec, ...]
    items: tuple[ItemSpec, ...]
    season_peak_day: int  # day of year when sales peak
    season_strength: float
    classes: tuple[str, ...]
    departments: tuple[str, ...]


_A = AccountSpec
BASE_ACCOUNTS: tuple[AccountSpec, ...] = (
    _A("checking", "Checking", "Bank", "Checking"),
    _A("savings", "Savings", "Bank", "Savings"),
    _A("petty_cash", "Petty Cash", "Bank", "CashOnHand"),
    _A("undeposited", "Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    _A("ar", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    _A("inventory", "Inventory Asset", "Other Current Asset", "Inventory"),
    _A("prepaid", "Prepaid Expenses", "Other Current Asset", "PrepaidExpenses"),
    _A("vehicles", "Truck", "Fixed Asset", "Vehicles"),
    _A("equipment", "Machinery and Equipment", "Fixed Asset", "MachineryAndEquipment"),
    _A("accum_depr", "Accumulated Depreciation", "Fixed Asset", "AccumulatedDepreciation"),
    _A("ap", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    _A("visa", "Visa Business Card", "Credit Card", "CreditCard"),
    _A("sales_tax", "Sales Tax Payable", "Other Current Liability", "SalesTaxPayable"),
    _A("payroll_liab", "Payroll Liabilities", "Other Current Liability", "PayrollTaxPayable"),
    _A("loan", "Equipment Loan", "Long Term Liability", "NotesPayable"),
    _A("obe", "Opening Balance Equity", "Equity", "OpeningBalanceEquity"),
    _A("retained", "Retained Earnings", "Equity", "RetainedEarnings"),
    _A("owner", "Owner's Investment", "Equity", "PartnersEquity"),
    _A("discounts", "Discounts given", "Income", "DiscountsRefundsGiven"),
    _A("interest_income", "Interest Earned", "Other Income", "InterestEarned"),
    _A("cogs", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    _A("job_materials", "Job Materials", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    _A("advertising", "Advertising & Marketing", "Expense", "AdvertisingPromotional"),
    _A("bank_fees", "Bank Charges & Fees", "Expense", "BankCharges"),
    _A("fuel", "Fuel", "Expense", "Auto"),
    _A("vehicle_repairs", "Vehicle Repairs", "Expense", "Auto"),
    _A("dues", "Dues & Subscriptions", "Expense", "DuesSubscriptions"),
    _A("equipment_rental", "Equipment Rental", "Expense", "EquipmentRental"),
    _A("insurance", "Insurance", "Expense", "Insurance"),
    _A("interest", "Interest Paid", "Expense", "InterestPaid"),
    _A("legal", "Legal & Professional Fees", "Expense", "LegalProfessionalFees"),
    _A("meals", "Meals and Entertainment", "Expense", "EntertainmentMeals"),
    _A("office", "Office Supplies", "Expense", "OfficeGeneralAdministrativeExpenses"),
    _A("software", "Software & Apps", "Expense", "OfficeGeneralAdministrativeExpenses"),
    _A("rent", "Rent or Lease", "Expense", "RentOrLeaseOfBuildings"),
    _A("repairs", "Repairs & Maintenance", "Expense", "RepairMaintenance"),
    _A("shipping", "Shipping & Delivery", "Expense", "ShippingFreightDelivery"),
    _A("subcontractors", "Subcontractors", "Expense", "OtherMiscellaneousServiceCost"),
    _A("supplies", "Supplies & Tools", "Expense", "SuppliesMaterials"),
    _A("taxes_licenses", "Taxes & Licenses", "Expense", "TaxesPaid"),
    _A("travel", "Travel", "Expense", "Travel"),
    _A("utilities", "Utilities", "Expense", "Utilities"),
    _A("phone", "Phone & Internet", "Expense", "Utilities"),
    _A("wages", "Wages", "Expense", "PayrollExpenses"),
    _A("payroll_taxes", "Payroll Taxes", "Expense", "PayrollExpenses"),
    _A("depreciation", "Depreciation", "Other Expense", "Depreciation"),
    _A("uncategorized", "Uncategorized Expense", "Expense", "OtherMiscellaneousServiceCost"),
)

# Expense accounts a mis-categorised line may land on (the ~5-10% noise).
NOISE_ACCOUNT_KEYS: tuple[str, ...] = (
    "office",
    "supplies",
    "meals",
    "repairs",
    "uncategorized",
    "dues",
    "travel",
    "fuel",
    "advertising",
    "legal",
)

_I = ItemSpec
LANDSCAPING = BusinessKind(
    key="landscaping",
    label="landscaping and design firm",
    suffixes=("Landscaping & Design", "Garden Design", "Landscape Services", "Yard & Garden Co"),
    income_accounts=(
        _A("income_services", "Landscaping Services", "Income", "ServiceFeeIncome"),
        _A("income_design", "Design income", "Income", "ServiceFeeIncome"),
        _A("income_product", "Sales of Product Income", "Income", "SalesOfProductIncome"),
    ),
    items=(
        _I("Design consultation", "Service", 75.0, "LS-DES-01", "income_design", False, "hour"),
        _I("Garden design plan", "Service", 450.0, "LS-DES-02", "income_design", False),
        _I("Gardening", "Service", 45.0, "LS-SVC-01", "income_services", False, "hour"),
        _I("Lawn maintenance", "Service", 65.0, "LS-SVC-02", "income_services", False, "visit"),
        _I("Tree trimming", "Service", 120.0, "LS-SVC-03", "income_services", False, "tree"),
        _I("Installation labor", "Service", 55.0, "LS-SVC-04", "income_services", False, "hour"),
        _I("Irrigation repair", "Service", 95.0, "LS-SVC-05", "income_services", False),
        _I("Mulch", "NonInventory", 38.0, "LS-MAT-01", "income_product", True, "yard", 22.0),
        _I("Topsoil", "NonInventory", 42.0, "LS-MAT-02", "income_product", True, "yard", 25.0),
        _I("Sod", "NonInventory", 35.0, "LS-MAT-03", "income_product", True, "pallet", 20.0),
        _I("Sprinkler heads", "Inventory", 4.0, "LS-INV-01", "income_product", True, "each", 1.5),
        _I("Irrigation pump", "Inventory", 310.0, "LS-INV-02", "income_product", True, "each", 180),
        _I(
            "Garden lighting kit",
            "Inventory",
            145.0,
            "LS-INV-03",
            "income_product",
            True,
            "kit",
            70,
        ),
        _I("Rock fountain", "Inventory", 275.0, "LS-INV-04", "income_product", True, "each", 125),
    ),
    season_peak_day=160,
    season_strength=0.45,
    classes=("Residential", "Commercial", "Municipal"),
    departments=("North Yard", "South Yard"),
)

WHOLESALE = BusinessKind(
    key="wholesale",
    label="coffee and tea wholesaler",
    suffixes=("Coffee Wholesale", "Coffee & Tea Supply", "Roasters Wholesale", "Provisions"),
    income_accounts=(
        _A("income_product", "Sales of Product Income", "Income", "SalesOfProductIncome"),
        _A("income_services", "Service & Repair Income", "Income", "ServiceFeeIncome"),
        _A("income_design", "Training income", "Income", "ServiceFeeIncome"),
    ),
    items=(
        _I("House blend 5lb", "Inventory", 48.0, "WH-COF-01", "income_product", True, "bag", 26),
        _I("Espresso roast 5lb", "Inventory", 54.0, "WH-COF-02", "income_product", True, "bag", 29),
        _I("Decaf blend 5lb", "Inventory", 52.0, "WH-COF-03", "income_product", True, "bag", 30),
        _I("Green tea case", "Inventory", 36.0, "WH-TEA-01", "income_product", True, "case", 18),
        _I("Chai concentrate case", "Inventory", 42.0, "WH-TEA-02", "income_product", True, "case"),
        _I("Paper cups 1000ct", "Inventory", 65.0, "WH-SUP-01", "income_product", True, "box", 38),
        _I("Lids 1000ct", "Inventory", 39.0, "WH-SUP-02", "income_product", True, "box", 21),
        _I("Oat milk case", "NonInventory", 28.0, "WH-DRY-01", "income_product", True, "case", 17),
        _I("Custom printed cups", "NonInventory", 180.0, "WH-PRT-01", "income_product", True),
        _I("Delivery", "Service", 25.0, "WH-SVC-01", "income_services", False, "trip"),
        _I("Espresso machine service", "Service", 140.0, "WH-SVC-02", "income_services", False),
        _I("Barista training", "Service", 85.0, "WH-SVC-03", "income_design", False, "hour"),
    ),
    season_peak_day=330,
    season_strength=0.3,
    classes=("Cafes", "Grocery", "Offices"),
    departments=("Warehouse", "Route Sales"),
)

DESIGN = BusinessKind(
    key="design",
    label="interior design studio",
    suffixes=("Interior Design", "Design Studio", "Interiors", "Home & Design"),
    income_accounts=(
        _A("income_design", "Design income", "Income", "ServiceFeeIncome"),
        _A("income_services", "Project management income", "Income", "ServiceFeeIncome"),
        _A("income_product", "Furnishings sales", "Income", "SalesOfProductIncome"),
    ),
    items=(
        _I("Design hours", "Service", 110.0, "DS-SVC-01", "income_design", False, "hour"),
        _I("Room design package", "Service", 1200.0, "DS-SVC-02", "income_design", False),
        _I("Color consultation", "Service", 150.0, "DS-SVC-03", "income_design", False),
        _I("Project management", "Service", 90.0, "DS-SVC-04", "income_services", False, "hour"),
        _I("Installation", "Service", 70.0, "DS-SVC-05", "income_services", False, "hour"),
        _I("Fabric", "NonInventory", 48.0, "DS-MAT-01", "income_product", True, "yard", 26.0),
        _I("Custom drapery", "NonInventory", 650.0, "DS-MAT-02", "income_product", True),
        _I("Accent lamp", "Inventory", 185.0, "DS-INV-01", "income_product", True, "each", 90),
        _I("Throw pillow set", "Inventory", 95.0, "DS-INV-02", "income_product", True, "set", 40),
        _I("Area rug", "Inventory", 720.0, "DS-INV-03", "income_product", True, "each", 380),
    ),
    season_peak_day=100,
    season_strength=0.2,
    classes=("Residential", "Hospitality"),
    departments=("Studio", "Showroom"),
)

BUSINESS_KINDS: tuple[BusinessKind, ...] = (LANDSCAPING, WHOLESALE, DESIGN)

TERMS: tuple[tuple[str, int], ...] = (
    ("Due on receipt", 0),
    ("Net 15", 15),
    ("Net 30", 30),
    ("Net 60", 60),
)

PAYMENT_METHODS: tuple[tuple[str, str], ...] = (
    ("Cash", "NON_CREDIT_CARD"),
    ("Check", "NON_CREDIT_CARD"),
    ("Visa", "CREDIT_CARD"),
    ("MasterCard", "CREDIT_CARD"),
    ("American Express", "CREDIT_CARD"),
    ("Discover", "CREDIT_CARD"),
    ("ACH", "NON_CREDIT_CARD"),
)

FOREIGN_CURRENCIES: tuple[tuple[str, float], ...] = (("EUR", 1.08), ("GBP", 1.27), ("CAD", 0.74))


def kind_for_seed(seed: int) -> BusinessKind:
    """The kind of business a seed builds (varies by seed)."""
    return BUSINESS_KINDS[seed % len(BUSINESS_KINDS)]


def all_accounts(kind: BusinessKind) -> tuple[AccountSpec, ...]:
    """The whole chart of accounts of a company of this kind (~50 accounts)."""
    return kind.income_accounts + BASE_ACCOUNTS
