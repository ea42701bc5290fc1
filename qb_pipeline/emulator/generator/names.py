"""Name pools and vendor templates for synthetic companies.

Real: nothing; every name is invented (a few well-known chains, as a real company's books
would show). Vendor templates tie a vendor and a memo to the expense account it truly belongs
to, the signal the categoriser learns (e.g. Shell + "fuel for truck" -> Fuel). Not implemented:
localised names outside the US.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST_NAMES = tuple(
    " ".join(
        (
            "Amy Ben Carla Dan Elena Frank Grace Hector Irene Jack Kara Luis Maya Nate Olivia",
            "Paul Quinn Rosa Sam Tina Uma Victor Wendy Xavier Yara Zane Aaron Bianca Caleb",
            "Diana Ethan Fiona George Hana Ivan Julia Kevin Lena Marco Nina Oscar Priya Ravi",
            "Sofia Tom Vera Will Zoe Adele Bruno Chloe Derek Esme Felix Gwen Hugo Ines Jonah",
            "Kim Leo Mia Noor",
        )
    ).split()
)
LAST_NAMES = tuple(
    " ".join(
        (
            "Anderson Baker Chen Diaz Evans Fischer Garcia Hughes Ibarra Jensen Kowalski",
            "Lopez Murphy Nguyen Ortiz Patel Quinlan Rossi Schmidt Tanaka Underwood Vargas",
            "Walsh Xu Young Zimmerman Abbott Bishop Castillo Dunn Ellis Ford Gomez Holt",
            "Iverson Jordan Khan Lambert Moreno Novak Olsen Pierce Reyes Silva Torres Vance",
            "Wong Yates Becker Cruz Dixon Fraser Grant Hale Kim Lowe Mason Nash Owens Park",
        )
    ).split()
)
COMPANY_WORDS = tuple(
    " ".join(
        (
            "Summit Harbor Cedar Maple Granite Willow Redwood Lakeside Pioneer Sterling",
            "Bluebird Oak Riverbend Copper Silverline Northwind Sunrise Golden Evergreen",
            "Coastal Meadow Ironwood Crescent Horizon Keystone Prairie Birch Falcon Juniper",
            "Aspen Beacon Canyon Driftwood Ember Foxglove",
        )
    ).split()
)
COMPANY_NOUNS = tuple(
    " ".join(
        (
            "Bistro Bakery Dental Realty Fitness Cafe Hotel Market Clinic Properties Builders",
            "Academy Studios Partners Group Motors Vineyards Outfitters Apartments Labs",
            "Brewing Holdings",
        )
    ).split()
)
COMPANY_SUFFIXES = ("LLC", "Inc", "Co", "& Sons", "Ltd", "Corp")
STREETS = (
    "Ocean View Rd",
    "Elm St",
    "Sierra Way",
    "Willow Rd",
    "Finch St",
    "Mountain View Dr",
    "Easy St",
    "Harbor Blvd",
    "Park Ave",
    "Mission St",
    "Lake Dr",
    "Pine Ct",
)
CITIES = (
    ("Middlefield", "CA", "94482"),
    ("Bayshore", "CA", "94326"),
    ("Menlo Park", "CA", "94304"),
    ("San Pablo", "CA", "94806"),
    ("Half Moon Bay", "CA", "94019"),
    ("Palo Alto", "CA", "94301"),
    ("Redwood City", "CA", "94063"),
    ("San Mateo", "CA", "94401"),
)
PLACE_NAMES = (
    "Bayshore",
    "Cedar Ridge",
    "Harbor Point",
    "Sierra Vista",
    "Redwood Valley",
    "Oak Hollow",
    "Silver Lake",
    "Mission Hills",
    "Pacific Crest",
    "Willow Creek",
    "Craig's",
    "Half Moon",
)


@dataclass(frozen=True)
class VendorTemplate:
    """A vendor and what it is bought for: (memo, true account key) pairs and a typical amount."""

    name: str
    mode: str  # purchase | bill | recurring (a monthly bill)
    uses: tuple[tuple[str, str], ...]
    typical: float
    payment_type: str = "CreditCard"  # purchases: CreditCard | Check | Cash
    is_1099: bool = False
    term: str = "Net 30"


_V = VendorTemplate
COMMON_VENDORS: tuple[VendorTemplate, ...] = (
    _V("Shell", "purchase", (("fuel for truck", "fuel"), ("diesel for mower", "fuel")), 68.0),
    _V("Chevron", "purchase", (("gas - crew truck", "fuel"), ("fuel for van", "fuel")), 72.0),
    _V("Staples", "purchase", (("printer paper", "office"), ("toner cartridges", "office")), 85.0),
    _V("Home Depot", "purchase", (("hand tools", "supplies"), ("shop supplies", "supplies")), 140),
    _V(
        "Costco",
        "purchase",
        (
            ("coffee and snacks for office", "meals"),
            ("paper towels", "office"),
            ("printer paper", "office"),
        ),
        120.0,
    ),
    _V(
        "Amazon",
        "purchase",
        (
            ("office chair", "office"),
            ("hand tools", "supplies"),
            ("software license", "software"),
            ("shipping boxes", "shipping"),
        ),
        95,
    ),
    _V("Bob's Burger Joint", "purchase", (("lunch for crew", "meals"),), 45.0),
    _V("Blue Bottle Cafe", "purchase", (("client coffee meeting", "meals"),), 24.0),
    _V("Delta Air Lines", "purchase", (("flight to trade show", "travel"),), 420.0),
    _V("Marriott", "purchase", (("hotel - trade show", "travel"),), 310.0),
    _V("Google Ads", "purchase", (("search ads", "advertising"),), 250.0),
    _V(
        "Acme Print Shop",
        "purchase",
        (("flyers", "advertising"), ("business cards", "advertising")),
        130.0,
        "Check",
    ),
    _V("Jiffy Lube", "purchase", (("oil change - truck", "vehicle_repairs"),), 89.0),
    _V("Intuit", "purchase", (("QuickBooks subscription", "software"),), 90.0),
    _V("Adobe", "purchase", (("Creative Cloud subscription", "software"),), 55.0),
    _V(
        "FedEx",
        "purchase",
        (("shipping samples", "shipping"), ("overnight delivery", "shipping")),
        38.0,
    ),
    _V("USPS", "purchase", (("postage", "shipping"),), 22.0, "Cash"),
    _V("Chamber of Commerce", "purchase", (("annual membership dues", "dues"),), 300.0, "Check"),
    _V(
        "City Business License Office",
        "purchase",
        (("business license renewal", "taxes_licenses"),),
        250.0,
        "Check",
    ),
    _V(
        "Tony's Auto Repair",
        "bill",
        (("brake repair - truck", "vehicle_repairs"), ("tire replacement", "vehicle_repairs")),
        480.0,
        is_1099=True,
    ),
    _V(
        "Hartwell & Co CPAs",
        "bill",
        (("quarterly bookkeeping", "legal"), ("tax preparation", "legal")),
        900.0,
        is_1099=True,
    ),
    _V("Lee Law Group", "bill", (("contract review", "legal"),), 1200.0, is_1099=True),
    _V(
        "Sunbelt Rentals", "bill", (("equipment rental", "equipment_rental"),), 350.0, term="Net 15"
    ),
    _V("Quick Fix Plumbing", "bill", (("office plumbing repair", "repairs"),), 260.0, is_1099=True),
    _V("Bayview Properties LLC", "recurring", (("monthly rent", "rent"),), 2400.0, "Check", True),
    _V(
        "Pacific Gas & Electric",
        "recurring",
        (("electric bill", "utilities"),),
        210.0,
        term="Net 15",
    ),
    _V("Comcast Business", "recurring", (("internet service", "phone"),), 130.0, term="Net 15"),
    _V("State Farm Insurance", "recurring", (("liability insurance premium", "insurance"),), 380.0),
    _V("Verizon Wireless", "recurring", (("mobile phones", "phone"),), 160.0, term="Net 15"),
    _V("City Water Dept", "recurring", (("water bill", "utilities"),), 75.0, term="Net 15"),
)

INDUSTRY_VENDORS: dict[str, tuple[VendorTemplate, ...]] = {
    "landscaping": (
        _V(
            "Green Acres Nursery",
            "bill",
            (("plants for job", "job_materials"), ("sod pallets", "job_materials")),
            650.0,
        ),
        _V(
            "Rock & Stone Supply",
            "bill",
            (("decorative rock", "job_materials"), ("pavers", "job_materials")),
            540.0,
        ),
        _V("Norton Lumber", "bill", (("lumber for deck", "job_materials"),), 410.0),
        _V(
            "Juan Lopez Contracting",
            "bill",
            (("subcontracted installation", "subcontractors"),),
            1100.0,
            is_1099=True,
        ),
    ),
    "wholesale": (
        _V("Pacific Roasters Supply", "bill", (("green coffee beans", "cogs"),), 2400.0),
        _V("PackRight Packaging", "bill", (("paper cups and lids", "cogs"), ("bags", "cogs")), 900),
        _V("Leaf & Kettle Imports", "bill", (("tea restock", "cogs"),), 1100.0),
        _V("FreightCo Logistics", "bill", (("freight - inbound", "shipping"),), 480.0),
    ),
    "design": (
        _V("Fabric Warehouse", "bill", (("fabric for client", "job_materials"),), 620.0),
        _V("Furniture Source", "bill", (("furniture for client", "cogs"),), 1800.0),
        _V("Print Lab", "purchase", (("plan printing", "office"),), 75.0, "Check"),
        _V(
            "Maria Ortiz Upholstery",
            "bill",
            (("upholstery work", "subcontractors"),),
            850.0,
            is_1099=True,
        ),
    ),
}

# Extra vendors for larger companies: a name pattern and what they sell.
EXTRA_VENDOR_KINDS: tuple[tuple[str, str, tuple[tuple[str, str], ...], float, bool], ...] = (
    ("{w} Contracting", "bill", (("subcontracted labor", "subcontractors"),), 900.0, True),
    ("{w} Supply Co", "bill", (("job materials", "job_materials"),), 450.0, False),
    ("{w} Office Products", "purchase", (("office supplies", "office"),), 70.0, False),
    ("{w} Fuel Stop", "purchase", (("fuel for truck", "fuel"),), 60.0, False),
    ("{w} Grill", "purchase", (("team lunch", "meals"),), 55.0, False),
    ("{w} Consulting", "bill", (("consulting services", "legal"),), 1500.0, True),
)


def person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def company_name_words(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)} {rng.choice(COMPANY_SUFFIXES)}"


def phone(rng: random.Random) -> str:
    return f"({rng.choice((415, 650, 408, 510))}) 555-{rng.randrange(10000):04d}"


def address(rng: random.Random) -> dict[str, str]:
    city, state, postal = rng.choice(CITIES)
    return {
        "Line1": f"{rng.randrange(10, 9999)} {rng.choice(STREETS)}",
        "City": city,
        "CountrySubDivisionCode": state,
        "PostalCode": postal,
    }
