//! The raw material of the demo data set: real localities of New Delhi, Gurugram and Noida with
//! their coordinates and PIN codes, names, and scrap lots with market-like prices (paise).

use entity::products::Unit;

/// A locality: (name, city, state, PIN code, latitude, longitude).
pub type Place = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
);

pub const PLACES: &[Place] = &[
    (
        "Connaught Place",
        "New Delhi",
        "Delhi",
        "110001",
        28.6315,
        77.2167,
    ),
    (
        "Karol Bagh",
        "New Delhi",
        "Delhi",
        "110005",
        28.6519,
        77.1909,
    ),
    (
        "Lajpat Nagar",
        "New Delhi",
        "Delhi",
        "110024",
        28.5677,
        77.2433,
    ),
    (
        "Hauz Khas",
        "New Delhi",
        "Delhi",
        "110016",
        28.5494,
        77.2001,
    ),
    ("Saket", "New Delhi", "Delhi", "110017", 28.5245, 77.2066),
    (
        "Dwarka Sector 10",
        "New Delhi",
        "Delhi",
        "110075",
        28.5810,
        77.0570,
    ),
    (
        "Janakpuri",
        "New Delhi",
        "Delhi",
        "110058",
        28.6219,
        77.0878,
    ),
    (
        "Rohini Sector 7",
        "New Delhi",
        "Delhi",
        "110085",
        28.7159,
        77.1137,
    ),
    (
        "Pitampura",
        "New Delhi",
        "Delhi",
        "110034",
        28.7033,
        77.1322,
    ),
    (
        "Mayur Vihar Phase 1",
        "New Delhi",
        "Delhi",
        "110091",
        28.6045,
        77.2945,
    ),
    (
        "Greater Kailash",
        "New Delhi",
        "Delhi",
        "110048",
        28.5482,
        77.2380,
    ),
    (
        "Rajouri Garden",
        "New Delhi",
        "Delhi",
        "110027",
        28.6415,
        77.1209,
    ),
    (
        "Okhla Phase 2",
        "New Delhi",
        "Delhi",
        "110020",
        28.5355,
        77.2730,
    ),
    ("Mayapuri", "New Delhi", "Delhi", "110064", 28.6365, 77.1300),
    (
        "DLF Phase 3",
        "Gurugram",
        "Haryana",
        "122002",
        28.4929,
        77.0930,
    ),
    (
        "Sector 14",
        "Gurugram",
        "Haryana",
        "122001",
        28.4722,
        77.0469,
    ),
    (
        "Sohna Road",
        "Gurugram",
        "Haryana",
        "122018",
        28.4120,
        77.0420,
    ),
    (
        "Udyog Vihar",
        "Gurugram",
        "Haryana",
        "122016",
        28.5050,
        77.0800,
    ),
    (
        "Golf Course Road",
        "Gurugram",
        "Haryana",
        "122011",
        28.4504,
        77.0990,
    ),
    (
        "Sector 18",
        "Noida",
        "Uttar Pradesh",
        "201301",
        28.5700,
        77.3260,
    ),
    (
        "Sector 62",
        "Noida",
        "Uttar Pradesh",
        "201309",
        28.6270,
        77.3650,
    ),
    (
        "Sector 50",
        "Noida",
        "Uttar Pradesh",
        "201303",
        28.5710,
        77.3610,
    ),
    (
        "Sector 137",
        "Noida",
        "Uttar Pradesh",
        "201305",
        28.5080,
        77.4050,
    ),
    (
        "Sector 63 Industrial Area",
        "Noida",
        "Uttar Pradesh",
        "201301",
        28.6270,
        77.3800,
    ),
];

pub const FIRST_NAMES: &[&str] = &[
    "Aarav", "Vivaan", "Aditya", "Ishaan", "Arjun", "Kabir", "Rohan", "Karan", "Rahul", "Sanjay",
    "Amit", "Vikram", "Anil", "Suresh", "Ramesh", "Priya", "Ananya", "Diya", "Isha", "Kavya",
    "Meera", "Neha", "Pooja", "Riya", "Sneha", "Sunita", "Anjali", "Deepika", "Lakshmi", "Farah",
    "Imran", "Gurpreet", "Harpreet", "Simran", "Zoya", "Asha",
];

pub const LAST_NAMES: &[&str] = &[
    "Sharma", "Verma", "Gupta", "Singh", "Kumar", "Agarwal", "Mehta", "Jain", "Malhotra", "Kapoor",
    "Chopra", "Bansal", "Yadav", "Khan", "Iyer", "Nair", "Reddy", "Das", "Bose", "Rao",
];

pub const SHOP_WORDS: &[&str] = &[
    "Kabaad Ghar",
    "Scrap Traders",
    "Recyclers",
    "Raddi Wale",
    "Metal Mart",
    "Green Recycling",
    "Kabadi Bazaar",
    "Scrap Point",
    "Waste Solutions",
    "Salvage Co.",
];

pub const STREETS: &[&str] = &[
    "Main Market",
    "Gali No. 4",
    "Block C",
    "Near Metro Station",
    "Ring Road",
    "Service Lane",
    "Industrial Area",
    "Sabzi Mandi Road",
    "Pocket B",
    "Opposite Park",
];

/// A scrap lot: (category slug, name, unit, low price, high price) — prices in paise per unit.
pub type Lot = (&'static str, &'static str, Unit, i64, i64);

pub const LOTS: &[Lot] = &[
    (
        "iron-steel",
        "Heavy melting iron scrap",
        Unit::Kg,
        2_800,
        3_600,
    ),
    ("iron-steel", "Iron rods and bars", Unit::Kg, 3_000, 3_800),
    ("iron-steel", "Cast iron pieces", Unit::Kg, 2_500, 3_200),
    (
        "copper",
        "Copper wire (bare, bright)",
        Unit::Kg,
        68_000,
        76_000,
    ),
    ("copper", "Copper pipes", Unit::Kg, 60_000, 70_000),
    ("brass", "Brass fittings and taps", Unit::Kg, 40_000, 48_000),
    ("brass", "Brass utensils", Unit::Kg, 38_000, 45_000),
    (
        "aluminium",
        "Aluminium cans (pressed)",
        Unit::Kg,
        11_000,
        14_000,
    ),
    (
        "aluminium",
        "Aluminium window sections",
        Unit::Kg,
        14_000,
        17_500,
    ),
    (
        "stainless-steel",
        "Stainless steel utensils",
        Unit::Kg,
        4_500,
        6_000,
    ),
    ("newspaper", "Old newspapers", Unit::Kg, 1_200, 1_800),
    (
        "cardboard",
        "Corrugated cardboard boxes",
        Unit::Kg,
        800,
        1_200,
    ),
    (
        "books-notebooks",
        "Old books and notebooks",
        Unit::Kg,
        1_000,
        1_500,
    ),
    (
        "office-paper",
        "Shredded office paper",
        Unit::Kg,
        900,
        1_400,
    ),
    ("pet-bottles", "PET bottles (clear)", Unit::Kg, 1_800, 2_600),
    (
        "hard-plastic",
        "Hard plastic buckets and crates",
        Unit::Kg,
        1_500,
        2_200,
    ),
    ("plastic-film", "LDPE plastic film", Unit::Kg, 1_000, 1_600),
    (
        "computers-laptops",
        "Old laptops (for parts)",
        Unit::Piece,
        80_000,
        250_000,
    ),
    (
        "computers-laptops",
        "Desktop CPUs",
        Unit::Piece,
        50_000,
        150_000,
    ),
    (
        "mobile-phones",
        "Old mobile phones",
        Unit::Piece,
        10_000,
        60_000,
    ),
    ("batteries", "Lead-acid batteries", Unit::Kg, 8_000, 11_000),
    (
        "batteries",
        "Inverter batteries",
        Unit::Piece,
        150_000,
        300_000,
    ),
    (
        "cables-wires",
        "Mixed electrical cables",
        Unit::Kg,
        15_000,
        25_000,
    ),
    (
        "home-appliances",
        "Old refrigerators",
        Unit::Piece,
        150_000,
        350_000,
    ),
    (
        "home-appliances",
        "Window air conditioners",
        Unit::Piece,
        250_000,
        500_000,
    ),
    (
        "home-appliances",
        "Washing machines",
        Unit::Piece,
        100_000,
        250_000,
    ),
    ("glass-bottles", "Glass bottles (mixed)", Unit::Kg, 200, 500),
    ("window-glass", "Broken window glass", Unit::Kg, 100, 300),
    ("rubber-tyres", "Old car tyres", Unit::Piece, 5_000, 15_000),
    (
        "rubber-tyres",
        "Rubber scrap",
        Unit::Tonne,
        800_000,
        1_500_000,
    ),
    ("textiles", "Cotton cloth waste", Unit::Kg, 1_000, 2_500),
    ("wood", "Wooden pallets", Unit::Piece, 15_000, 40_000),
    ("wood", "Old furniture wood", Unit::Kg, 500, 1_200),
];

pub const GRADES: &[&str] = &[
    "", "Grade A ", "Sorted ", "Bulk ", "Mixed ", "Premium ", "Loose ", "Baled ",
];

/// Chat lines: the buyer asks, the vendor answers.
pub const CHAT: &[(&str, &str)] = &[
    (
        "Namaste! When can you pick up the material?",
        "Tomorrow between 10 and 12, is that fine?",
    ),
    (
        "Is the weight checked on a digital scale?",
        "Yes ji, we weigh in front of you and share a photo.",
    ),
    (
        "Please call before coming, the gate is locked.",
        "Sure, our driver will call 15 minutes before.",
    ),
    (
        "Can you also take some old cartons?",
        "Yes, we will add them to the order at the same rate.",
    ),
];
