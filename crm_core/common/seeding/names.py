"""Arabic demo vocabulary: people, companies, places, catalogue, notes and findings.

Spellings are mixed on purpose (أحمد / احمد, إبراهيم / ابراهيم, فاطمة / فاطمه) because that is
how staff type them, and search must find one from the other. Nothing here contains a tab,
a newline or a backslash: the bulk loader writes these strings into PostgreSQL's COPY text
format without escaping them (checked at import time below).
"""

from __future__ import annotations

from decimal import Decimal

DEMO_PASSWORD = "demo-pass-2026"
ADMIN_USERNAME = "admin"
BASE_URL = "http://127.0.0.1:8000/"
ADMIN_URL = "http://127.0.0.1:8000/admin/"

# --- Organisation ----------------------------------------------------------------------------

# code, name, address, phone
BRANCHES = [
    ("CAI", "القاهرة", "١٥ شارع طلعت حرب، وسط البلد، القاهرة", "0223930415"),
    ("ALX", "الإسكندرية", "٢٢ طريق الحرية، سيدي جابر، الإسكندرية", "034250872"),
    ("GIZ", "الجيزة", "٤٠ شارع مراد، الجيزة", "0235720961"),
]

# code, name, branch code, address, is_default
WAREHOUSES = [
    ("CAI-W1", "مخزن القاهرة الرئيسي", "CAI", "المنطقة الصناعية، مدينة نصر", True),
    ("CAI-W2", "مخزن العبور", "CAI", "المنطقة الصناعية الأولى، مدينة العبور", False),
    ("ALX-W1", "مخزن الإسكندرية", "ALX", "طريق المكس، الإسكندرية", True),
    ("GIZ-W1", "مخزن الجيزة", "GIZ", "المنطقة الصناعية، ٦ أكتوبر", True),
]

# code, name
DEPARTMENTS = [
    ("SALES", "المبيعات"),
    ("INSP", "المعاينات"),
    ("STORE", "المخازن"),
    ("ACC", "الحسابات"),
    ("ADMIN", "الإدارة"),
]

ROLE_DEPARTMENT = {
    "manager": "ADMIN",
    "dispatcher": "INSP",
    "inspector": "INSP",
    "sales": "SALES",
    "storekeeper": "STORE",
    "accountant": "ACC",
    "admin": "ADMIN",
}

ADMIN_NAME = ("مسؤول", "النظام")

# username, role, branch code (None: all branches), first name, last name
STAFF = [
    ("hq.manager", "manager", None, "هشام", "الشريف"),
    ("cai.manager", "manager", "CAI", "محمود", "عبد العزيز"),
    ("cai.dispatcher", "dispatcher", "CAI", "ياسمين", "فؤاد"),
    ("cai.inspector1", "inspector", "CAI", "كريم", "منصور"),
    ("cai.inspector2", "inspector", "CAI", "عمرو", "سليمان"),
    ("cai.sales", "sales", "CAI", "نورهان", "السيد"),
    ("cai.storekeeper", "storekeeper", "CAI", "رمضان", "عطية"),
    ("cai.accountant", "accountant", "CAI", "مريم", "جرجس"),
    ("alx.manager", "manager", "ALX", "طارق", "حمدي"),
    ("alx.dispatcher", "dispatcher", "ALX", "دينا", "مختار"),
    ("alx.inspector1", "inspector", "ALX", "إسلام", "زكي"),
    ("alx.inspector2", "inspector", "ALX", "شريف", "النجار"),
    ("alx.sales", "sales", "ALX", "سارة", "عبد الحميد"),
    ("alx.storekeeper", "storekeeper", "ALX", "سيد", "عثمان"),
    ("alx.accountant", "accountant", "ALX", "هبة", "فهمي"),
    ("giz.manager", "manager", "GIZ", "وليد", "رشدي"),
    ("giz.dispatcher", "dispatcher", "GIZ", "منى", "كامل"),
    ("giz.inspector1", "inspector", "GIZ", "حسام", "البنا"),
    ("giz.inspector2", "inspector", "GIZ", "مصطفى", "غنيم"),
    ("giz.sales", "sales", "GIZ", "أيمن", "صبري"),
    ("giz.storekeeper", "storekeeper", "GIZ", "عادل", "حنفي"),
    ("giz.accountant", "accountant", "GIZ", "رانيا", "عزمي"),
]

# --- People and places -----------------------------------------------------------------------------

MALE_NAMES = [
    "محمد",
    "أحمد",
    "احمد",
    "محمود",
    "مصطفى",
    "مصطفي",
    "إبراهيم",
    "ابراهيم",
    "عبد الرحمن",
    "يوسف",
    "عمر",
    "خالد",
    "طارق",
    "حسام",
    "كريم",
    "هشام",
    "ياسر",
    "إسلام",
    "اسلام",
    "علي",
    "علاء",
    "حسن",
    "حسين",
    "سامح",
    "شريف",
    "وليد",
    "أيمن",
    "ايمن",
    "عمرو",
    "رامي",
    "مينا",
    "بيتر",
    "جرجس",
    "أشرف",
    "اشرف",
    "سيد",
    "عادل",
    "ماجد",
    "نادر",
    "إيهاب",
]
FEMALE_NAMES = [
    "فاطمة",
    "فاطمه",
    "مريم",
    "نورا",
    "سارة",
    "ساره",
    "هبة",
    "هبه",
    "آية",
    "أية",
    "إيمان",
    "ايمان",
    "أسماء",
    "اسماء",
    "منى",
    "رانيا",
    "دينا",
    "ياسمين",
    "شيماء",
    "مروة",
    "مروه",
    "نادية",
    "ناديه",
    "سلمى",
    "هالة",
    "أميرة",
    "اميرة",
    "نهى",
    "رحاب",
    "مارينا",
]
FATHER_NAMES = [
    "محمد",
    "أحمد",
    "محمود",
    "علي",
    "حسن",
    "إبراهيم",
    "ابراهيم",
    "عبد الله",
    "مصطفى",
    "سعيد",
    "فتحي",
    "صلاح",
    "جمال",
    "رمضان",
    "عبد الفتاح",
    "كمال",
    "نبيل",
    "فاروق",
    "يوسف",
    "ناصر",
]
FAMILY_NAMES = [
    "السيد",
    "عبد العزيز",
    "الشافعي",
    "المصري",
    "سليمان",
    "عثمان",
    "فؤاد",
    "عبد الحميد",
    "النجار",
    "الشريف",
    "عطية",
    "عطيه",
    "زكي",
    "فهمي",
    "منصور",
    "جاد",
    "حنا",
    "عزيز",
    "البنا",
    "الجمال",
    "حجازي",
    "غنيم",
    "رضوان",
    "الشناوي",
    "بدوي",
    "خليل",
    "شحاتة",
    "شحاته",
    "الأنصاري",
    "الانصاري",
    "إسماعيل",
    "اسماعيل",
]

COMPANY_NAMES = [
    "شركة النور للمقاولات",
    "مؤسسة الأمل للتشطيبات",
    "شركة الدلتا للديكور",
    "المجموعة المصرية للإنشاءات",
    "شركة رؤية للتطوير العقاري",
    "مكتب الهندسة الحديثة",
    "شركة الفيروز للمقاولات العامة",
    "مؤسسة البيت الجديد للتشطيبات",
    "شركة النيل للتوريدات",
    "شركة المستقبل للاستثمار العقاري",
    "مكتب الإتقان للديكور",
    "شركة الصفوة للمباني",
    "شركة الأهرام للتوريدات الهندسية",
    "مؤسسة الرواد للمقاولات",
    "شركة إعمار الدلتا",
    "شركة الواحة للفنادق",
]

# City and districts per branch (the branch's own city first).
CITIES = {
    "CAI": [
        ("القاهرة", ["مدينة نصر", "مصر الجديدة", "المعادي", "الزمالك", "شبرا", "حلوان", "عين شمس", "المقطم"]),
        ("القاهرة الجديدة", ["التجمع الخامس", "الرحاب", "مدينتي"]),
        ("العبور", ["الحي الأول", "الحي السابع"]),
    ],
    "ALX": [
        ("الإسكندرية", ["سموحة", "سيدي جابر", "المنتزه", "العجمي", "محرم بك", "ميامي", "المندرة", "كليوباترا"]),
        ("برج العرب", ["الحي الثاني", "المنطقة الصناعية"]),
        ("دمنهور", ["وسط البلد", "أبو الريش"]),
    ],
    "GIZ": [
        ("الجيزة", ["الدقي", "المهندسين", "الهرم", "فيصل", "العمرانية", "بولاق الدكرور"]),
        ("٦ أكتوبر", ["الحي المتميز", "الحي السابع", "الحصري"]),
        ("الشيخ زايد", ["الحي الأول", "بيفرلي هيلز"]),
    ],
}
STREETS = [
    "شارع التحرير",
    "شارع الجمهورية",
    "شارع جمال عبد الناصر",
    "شارع مصطفى النحاس",
    "شارع عباس العقاد",
    "شارع الثورة",
    "شارع النصر",
    "شارع الهرم",
    "شارع فيصل",
    "طريق الحرية",
    "شارع بورسعيد",
    "شارع ٩",
    "شارع الملك فيصل",
    "شارع السودان",
    "شارع شبرا",
    "شارع الخليفة المأمون",
    "شارع أحمد عرابي",
    "شارع سعد زغلول",
]
EMAIL_USERS = [
    "ahmed",
    "mohamed",
    "mahmoud",
    "mostafa",
    "ibrahim",
    "youssef",
    "omar",
    "khaled",
    "sara",
    "mariam",
    "nora",
    "heba",
    "aya",
    "eman",
    "mona",
    "dina",
    "info",
    "sales",
    "projects",
]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]

# --- Customer categories ------------------------------------------------------------------------

# name, discount %, description
CUSTOMER_CATEGORIES = [
    ("أفراد", Decimal("0"), "عملاء أفراد بسعر القائمة"),
    ("شركات", Decimal("5"), "شركات ومقاولون بخصم ثابت"),
    ("جملة", Decimal("10"), "تجار جملة بخصم على الكميات"),
]

# --- Catalogue -------------------------------------------------------------------------------------

# Category tree: root → children.
PRODUCT_CATEGORIES = {
    "أرضيات": ["سيراميك", "بورسلين", "باركيه"],
    "دهانات": ["دهانات داخلية", "دهانات خارجية"],
    "أدوات صحية": ["خلاطات", "أطقم حمامات", "سخانات"],
    "مستلزمات تركيب": [],
}

# sku, name, (root, child or None), unit, price, cost, reorder level, (min qty, max qty) per order line
PRODUCTS = [
    ("CER-101", "سيراميك أرضيات بيج مطفي ٤٥×٤٥", ("أرضيات", "سيراميك"), "m2", "185.00", "128.00", "150", (10, 120)),
    ("CER-102", "سيراميك حوائط أبيض لامع ٢٥×٤٠", ("أرضيات", "سيراميك"), "m2", "165.00", "112.00", "150", (10, 90)),
    ("CER-103", "سيراميك مطابخ ديكور ٣٠×٦٠", ("أرضيات", "سيراميك"), "m2", "210.00", "149.00", "100", (8, 40)),
    ("CER-104", "سيراميك حمامات رمادي ٣٠×٣٠", ("أرضيات", "سيراميك"), "m2", "175.00", "120.00", "100", (6, 40)),
    ("POR-201", "بورسلين رخامي لامع ٦٠×٦٠", ("أرضيات", "بورسلين"), "m2", "420.00", "305.00", "120", (10, 100)),
    ("POR-202", "بورسلين خشبي ٢٠×١٢٠", ("أرضيات", "بورسلين"), "m2", "465.00", "338.00", "80", (10, 80)),
    ("POR-203", "بورسلين أسود مطفي ٦٠×١٢٠", ("أرضيات", "بورسلين"), "m2", "610.00", "447.00", "60", (8, 50)),
    ("PAR-301", "باركيه HDF سمك ٨ مم", ("أرضيات", "باركيه"), "m2", "350.00", "244.00", "80", (12, 90)),
    ("PAR-302", "باركيه HDF سمك ١٢ مم مقاوم للماء", ("أرضيات", "باركيه"), "m2", "520.00", "371.00", "60", (12, 70)),
    (
        "PNT-401",
        "دهان بلاستيك مطفي أبيض ١٨ لتر",
        ("دهانات", "دهانات داخلية"),
        "piece",
        "1450.00",
        "1080.00",
        "40",
        (1, 12),
    ),
    (
        "PNT-402",
        "دهان بلاستيك ستان ألوان ٩ لتر",
        ("دهانات", "دهانات داخلية"),
        "piece",
        "980.00",
        "715.00",
        "40",
        (1, 12),
    ),
    ("PNT-403", "معجون حوائط جاهز ٢٠ كجم", ("دهانات", "دهانات داخلية"), "piece", "420.00", "298.00", "60", (2, 20)),
    ("PNT-404", "سيلر مائي ١٨ لتر", ("دهانات", "دهانات داخلية"), "piece", "760.00", "540.00", "30", (1, 8)),
    (
        "PNT-501",
        "دهان خارجي مقاوم للعوامل الجوية ١٥ لتر",
        ("دهانات", "دهانات خارجية"),
        "piece",
        "1850.00",
        "1370.00",
        "20",
        (1, 10),
    ),
    ("PNT-502", "دهان جرافيات خارجي ٢٥ كجم", ("دهانات", "دهانات خارجية"), "piece", "690.00", "497.00", "25", (2, 15)),
    ("PNT-503", "عازل مائي للأسطح ٢٠ كجم", ("دهانات", "دهانات خارجية"), "piece", "1250.00", "905.00", "20", (1, 10)),
    ("SAN-601", "خلاط حوض مطبخ ستانلس", ("أدوات صحية", "خلاطات"), "piece", "1650.00", "1190.00", "15", (1, 3)),
    ("SAN-602", "خلاط دش حمام نحاس كروم", ("أدوات صحية", "خلاطات"), "piece", "2100.00", "1520.00", "15", (1, 3)),
    ("SAN-603", "خلاط حوض وجه", ("أدوات صحية", "خلاطات"), "piece", "1150.00", "830.00", "15", (1, 4)),
    ("SAN-701", "طقم حمام كامل أبيض", ("أدوات صحية", "أطقم حمامات"), "piece", "8900.00", "6650.00", "6", (1, 2)),
    ("SAN-702", "قاعدة حمام معلقة", ("أدوات صحية", "أطقم حمامات"), "piece", "4800.00", "3550.00", "8", (1, 3)),
    ("SAN-703", "حوض وجه بعمود", ("أدوات صحية", "أطقم حمامات"), "piece", "1750.00", "1260.00", "10", (1, 3)),
    ("SAN-801", "سخان كهربائي ٥٠ لتر", ("أدوات صحية", "سخانات"), "piece", "5200.00", "3890.00", "10", (1, 2)),
    ("SAN-802", "سخان غاز ١٠ لتر", ("أدوات صحية", "سخانات"), "piece", "4300.00", "3200.00", "10", (1, 2)),
    ("INS-901", "لاصق سيراميك ٢٥ كجم", ("مستلزمات تركيب", None), "piece", "145.00", "98.00", "150", (5, 60)),
    ("INS-902", "لاصق بورسلين مرن ٢٠ كجم", ("مستلزمات تركيب", None), "piece", "260.00", "182.00", "100", (5, 40)),
    ("INS-903", "ترويبة ألوان ٥ كجم", ("مستلزمات تركيب", None), "piece", "95.00", "61.00", "80", (2, 20)),
    ("INS-904", "فواصل سيراميك بلاستيك ٣ مم", ("مستلزمات تركيب", None), "box", "35.00", "19.00", "100", (2, 20)),
    ("INS-905", "زاوية ألومنيوم للسيراميك ٢.٥ م", ("مستلزمات تركيب", None), "piece", "55.00", "34.00", "120", (4, 40)),
    ("INS-906", "شريط عزل لاصق للحمامات", ("مستلزمات تركيب", None), "meter", "48.00", "30.00", "200", (5, 50)),
]

# (sku, warehouse code): left below the reorder level by the base set, so alerts are live.
LOW_STOCK = [
    ("POR-203", "ALX-W1"),
    ("SAN-801", "CAI-W1"),
    ("PNT-503", "GIZ-W1"),
    ("PAR-302", "CAI-W2"),
    ("SAN-702", "ALX-W1"),
]
LOW_STOCK_NOTES = ["تالف أثناء النقل", "عينات لمعرض الفرع", "صرف لمشروع قيد التنفيذ", "تسوية بعد جرد"]

# --- Words for records -------------------------------------------------------------------------------

CUSTOMER_NOTES = [
    "العميل يفضل التواصل بعد الساعة ٥ مساءً.",
    "طلب عرض سعر لسيراميك المطبخ والحمام.",
    "تم الاتفاق على خصم إضافي عند تجاوز الطلب ٥٠ ألف جنيه.",
    "العميل اشتكى من تأخير التوصيل في الطلب السابق، تم الاعتذار.",
    "يحتاج معاينة للشقة الجديدة قبل اختيار البورسلين.",
    "رقم الهاتف الثاني خاص بالمهندس المشرف على الموقع.",
    "يفضل الدفع بالتحويل البنكي.",
    "مقاول يتعامل معنا منذ سنوات، أولوية في المواعيد.",
    "سأل عن ألوان جديدة من دهانات الستان.",
    "الموقع في الدور السابع بدون أسانسير، يلزم عمالة إضافية للتحميل.",
]
ORDER_NOTES = [
    "التسليم بعد الساعة ٤ عصراً.",
    "الاتصال بالعميل قبل التحرك بساعة.",
    "العميل سيستلم من الفرع.",
    "يرجى مراجعة درجة اللون قبل التحميل.",
    "الطلب لمشروع فيلا، التسليم على مرحلتين.",
]
CANCEL_NOTES = [
    "العميل ألغى الطلب.",
    "تم الشراء من مورد آخر.",
    "تأجيل المشروع.",
    "عدم توفر اللون المطلوب.",
    "خطأ في إدخال الطلب.",
]
INSPECTION_CANCEL_REASONS = [
    "العميل طلب التأجيل لوقت لاحق.",
    "الموقع غير جاهز للمعاينة.",
    "تم إلغاء المشروع.",
]
NO_SHOW_REASONS = ["العميل لم يكن متواجداً في الموقع.", "الهاتف مغلق ولم يتم الوصول للعميل."]
INSPECTION_NOTES = [
    "معاينة شقة لتركيب سيراميك وبورسلين.",
    "معاينة حمام لتغيير الأدوات الصحية.",
    "قياس مساحات لأرضيات الباركيه.",
    "معاينة واجهة لأعمال الدهانات الخارجية.",
    "معاينة سطح لأعمال العزل المائي.",
]

# outcome → [(findings, recommendations)]
INSPECTION_FINDINGS = {
    "passed": [
        (
            "الأرضية مستوية وجاهزة للتركيب، لا توجد رطوبة ظاهرة.",
            "يمكن البدء في التركيب مباشرة؛ يُقترح بورسلين ٦٠×٦٠.",
        ),
        ("الحوائط سليمة ومعالجة، المقاسات مطابقة للرسومات.", "توريد الكميات المحسوبة مع زيادة ٥٪ للهالك."),
        ("الحمام جاهز لتركيب الأطقم الجديدة، التمديدات سليمة.", "تركيب طقم الحمام وخلاط الدش."),
    ],
    "failed": [
        ("توجد رطوبة عالية في الحائط الشمالي وتشققات في المحارة.", "معالجة الرطوبة والعزل قبل أي تشطيب."),
        ("الأرضية غير مستوية بفرق يصل إلى ٣ سم.", "عمل طبقة تسوية ثم إعادة المعاينة."),
    ],
    "follow_up": [
        ("العميل لم يحدد اللون بعد، تم أخذ المقاسات.", "زيارة متابعة مع كتالوج الألوان."),
        ("جزء من الموقع مغلق، تمت معاينة الصالة فقط.", "تحديد موعد آخر لمعاينة الغرف."),
    ],
}
CARRIERS = ["أرامكس", "بوسطة", "فيديكس مصر", "مرسال"]
SHIPPING_NOTES = ["", "", "الاتصال قبل الوصول.", "التسليم لحارس العقار.", "يوجد أسانسير خدمة."]


def _check_copy_safe() -> None:
    """Refuse data the COPY text format would need escaped (tab, newline, backslash)."""
    texts: list[str] = []
    for name, value in globals().items():
        if not name.isupper():
            continue
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, list | tuple):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
    bad = [t for t in texts if any(c in t for c in "\t\n\r\\")]
    if bad:
        raise ValueError(f"seeding.names: strings unsafe for COPY: {bad[:3]}")


_check_copy_safe()


# --- Small generators shared by the base set and the bulk loader ------------------------------------

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
MOBILE_PREFIXES = ("010", "011", "012", "015")


def person_name(rng) -> str:
    first = rng.choice(MALE_NAMES) if rng.random() < 0.68 else rng.choice(FEMALE_NAMES)
    return f"{first} {rng.choice(FATHER_NAMES)} {rng.choice(FAMILY_NAMES)}"


def egyptian_mobile(rng) -> str:
    """010/011/012/015 + 8 digits; some typed with spaces, some in Arabic-Indic digits."""
    number = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
    style = rng.random()
    if style < 0.12:
        return number.translate(_ARABIC_INDIC)
    if style < 0.24:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    return number


def place(rng, branch_code: str) -> tuple[str, str]:
    """(city, street address) near a branch."""
    cities = CITIES.get(branch_code) or CITIES["CAI"]
    city, districts = cities[0] if rng.random() < 0.75 else rng.choice(cities[1:])
    number = str(rng.randint(1, 140))
    if rng.random() < 0.4:
        number = number.translate(_ARABIC_INDIC)
    return city, f"{number} {rng.choice(STREETS)}، {rng.choice(districts)}"


def email_address(rng, serial: int) -> str:
    return f"{rng.choice(EMAIL_USERS)}{serial}@{rng.choice(EMAIL_DOMAINS)}"


def tax_number(rng) -> str:
    return f"{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}"


def float_exact_balance(total: str, paid: str, balance: str) -> bool:
    """Whether ``total - paid == balance`` also holds in binary floating point.

    SQLite stores DecimalFields as REAL, so its ``order_balance_consistent`` CHECK compares
    doubles: a payment of 617 on a total of 1234.57 leaves 617.57, yet 1234.57 - 617.0 is
    617.5699999999999 there and the insert fails. Partial payments of the demo data are chosen
    so the check holds on either database.
    """
    return float(total) - float(paid) == float(balance)


def partial_payment(total: int, share: float) -> int:
    """A partial payment near ``share`` of ``total`` (both in piastres), or 0 if none fits.

    The amount is chosen so that ``total - paid == balance`` holds in binary floating point too
    (see :func:`float_exact_balance`): either the payment is whole pounds and the balance stays
    in the total's power-of-two range, or the balance is whole pounds and the payment stays in
    it. Within one binade, numbers that differ by whole pounds have the same rounding error.
    """
    if total < 200 * 100:
        return 0
    binade = (1 << ((total // 100).bit_length() - 1)) * 100
    room = total - binade
    if room < 100:
        return 0
    desired = int(total * share)
    if desired <= room:
        amount = max(100, desired // 100 * 100)
    else:
        amount = total - max(100, min(room, total - desired) // 100 * 100)
    money = _money_text
    if 0 < amount < total and float_exact_balance(money(total), money(amount), money(total - amount)):
        return amount
    return 0


def _money_text(piastres: int) -> str:
    return f"{piastres // 100}.{piastres % 100:02d}"
