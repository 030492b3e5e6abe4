"""Normalisers on real-world variants."""

import pytest

from matching import normalize as nz
from matching.features import features


@pytest.mark.parametrize(
    ("raw", "name", "form"),
    [
        ("The WEST CONSULTING L.L.C.", "west consulting", "llc"),
        ("Beacon Ridg,e Inc.", "beacon ridge", "inc"),
        ("Beacon Ridge Incorporated", "beacon ridge", "inc"),
        ("Müller GmbH & Co. KG", "mueller", "gmbh_co_kg"),
        ("Carter P.L.C.", "carter", "plc"),
        ("Silver Ventures S.A.R.L.", "silver ventures", "sarl"),
        ("Evergreen Mfg BV", "evergreen manufacturing", "bv"),
        ("Star Point Intl Svcs", "star point international services", None),
        ("Stone & Hoffman", "stone and hoffman", None),
        ("Dehmel Point GmbH u. Co. KG", "dehmel point", "gmbh_co_kg"),
        ("Muller et Fils SARL", "muller and fils", "sarl"),
        ("Fisher Corporatioqn", "fisher", "corp"),
        ("Wong Incorported", "wong", "inc"),
        ("Lakeside Valley gLimited", "lakeside valley", "ltd"),
        ("Squid Ink", "squid ink", None),
        ("Star Limitless", "star limitless", None),
        # legal forms of many countries, spelled out, abbreviated, or written first
        ("Siemens Aktiengesellschaft", "siemens", "ag"),
        ("Maersk A/S", "maersk", "as"),
        ("Aktiebolaget Volvo", "volvo", "ab"),
        ("OOO Romashka", "romashka", "ooo"),
        ("Gazprom PJSC", "gazprom", "jsc"),
        ("Kabushiki Kaisha Toshiba", "toshiba", "kk"),
        ("Grupo Bimbo, S.A.B. de C.V.", "grupo bimbo", "sa"),
        ("YPF Sociedad Anónima", "ypf", "sa"),
        ("Vodafone Group Public Limited Company", "vodafone group", "plc"),
        ("Orlen Sp. z o.o.", "orlen", "sp_zoo"),
        ("Avast Software s.r.o.", "avast software", "sro"),
        ("DBS Bank Pte. Ltd.", "dbs bank", "pte"),
        ("Petronas Sdn Bhd", "petronas", "bhd"),
        ("Sonae SGPS Lda", "sonae sgps", "ltda"),
        ("Telefónica de España S.A.U.", "telefonica de espana", "sa"),
        ("Müller Ges.m.b.H.", "mueller", "gmbh"),
        ("Siam Cement Public Company Limited", "siam cement", "plc"),
        ("Athinaiki Zythopoiia AE", "athinaiki zythopoiia", "sa"),
        ("Bank Central Asia (Persero) Tbk", "bank central asia", "tbk"),
        ("Công ty TNHH Samsung Electronics Việt Nam", "samsung electronics viet nam", "tnhh"),
        # forms in the scripts their countries write them, before the name, after it, or glued to it
        ("株式会社トヨタ", "toyota", "kk"),
        ("(株)トヨタ", "toyota", "kk"),
        ("华为技术有限公司", "hua wei ji zhu", "ltd"),
        ("삼성전자 주식회사", "samseongjeonja", "jh"),
        ("㈜삼성전자", "samseongjeonja", "jh"),
        ("ЗАО «Ромашка»", "romashka", "jsc"),
        ("Сбербанк России ПАО", "sberbank rossii", "jsc"),
        ("Общество с ограниченной ответственностью «Ромашка»", "romashka", "ooo"),
        ("Αθηναϊκή Ζυθοποιία Α.Ε.", "athenaike zuthopoiia", "sa"),
        ("Софарма АД", "sofarma", "ad"),
        ("ИП Иванов", "ivanov", "ip"),
        ("บจก. สยาม", "syaam", "ltd"),
        # stacked forms, and forms written where custom does not put them
        ("Kowalczyk Sp. z o.o. Sp.k.", "kowalczyk", "spk"),
        ("Kowalczyk San. ve Tic. Ltd. Şti.", "kowalczyk", "ltd"),
        ("Samsung Electronics Vietnam Công ty TNHH", "samsung electronics vietnam", "tnhh"),
        # a GmbH & Co. KG whose GmbH is misspelt; a name that merely resembles a short legal form
        ("Beacon Logistics GmblH & Co KG", "beacon logistics", "gmbh_co_kg"),
        ("Golden Supply GmH & Co KG", "golden supply", "gmbh_co_kg"),
        ("Smith & Co. KG", "smith", "kg"),
        ("Smith Bernad", "smith bernad", None),
        ("Lübs and Atzle rGmbH", "luebs and atzle", "gmbh"),  # a letter of the name glued to GmbH
        # words and initials that are legal forms elsewhere
        ("Pão de Açúcar", "pao de acucar", None),
        ("K.K. Birla Group", "kk birla group", None),
        ("Mazel Tov Ltd", "mazel tov", "ltd"),
        ("PT Solutions", "pt solutions", None),  # an Indonesian PT first, and initials in other names
        ("Интер РАО", "inter rao", None),  # RAO, a form once, is part of this company's name
        ("Autobedrijf Epe B.V.", "autobedrijf epe", "bv"),  # Epe, a town, not the Greek E.P.E.
        ("Acme (M) Sdn Bhd", "acme", "bhd"),  # a country's letter in parentheses is no form
        ("ソニー(株) 大阪支社", "soni da ban zhi she", None),  # a form inside the name is dropped
        ("Acme IP", "acme ip", None),  # ИП is a form; IP in Latin letters is no ИП
        ("КАО Ромашка", "kao romashka", None),  # an АО inside a word is none
        ("Acme Gamba & Co KG", "acme gamba", "kg"),
        # what else systems write into a name field
        ("Shire Foods (UK) Ltd", "shire foods", "ltd"),
        ("Gold Fields (Pty) Ltd", "gold fields", "pty"),
        ("Sun Field UG (haftungsbeschränkt)", "sun field", "ug"),
        ("Sun Field UG (haftungsbeschnänkt)", "sun field", "ug"),
        ("Ericsson AB (publ)", "ericsson", "ab"),
        ("Orlen sp. z.o.o.", "orlen", "sp_zoo"),
        ("Gold Fields Proprietary Limited", "gold fields", "pty"),
        ("Kaester GmbH i.L.", "kaester", "gmbh"),
        ("Delmas S.A. en liquidation", "delmas", "sa"),
        ("Northwind Corporation - Accounts Payable", "northwind", "corp"),
        ("Northwind Ltd t/a Widget World", "northwind", "ltd"),
        ("Northwind Inc. DBA WidgetCo", "northwind", "inc"),
        ("St. John's Hospital", "saint johns hospital", None),
        ("Cie de Saint-Gobain", "compagnie de saint gobain", None),
        ("Coca-Cola Company", "coca cola", "co"),
        ("Boulangerie Gagnon Ltée", "boulangerie gagnon", "ltd"),
        # a leading article whose space was lost; a name that only begins with the letters
        ("TheDavis Corp.", "davis", "corp"),
        ("TheHaynes LLC", "haynes", "llc"),
        ("Theodor Weiss GmbH", "theodor weiss", "gmbh"),
        ("Thermo Fisher Scientific", "thermo fisher scientific", None),
    ],
)
def test_org_name(raw, name, form):
    assert nz.org_name(raw) == (name, form)


def test_a_trade_name_is_a_second_name():
    f = features("customer", {"name": "Northwind Ltd t/a Widget World", "legal_name": "Northwind Limited"})
    assert f["names"] == ["northwind", "widget world"]
    assert features("customer", {"name": "Acme, Inc. (formerly Widget Co)"})["names"] == ["acme", "widget"]
    assert nz.trade_name("Northwind Ltd") is None
    assert nz.trade_name("Northwind Ltd t/a Ltd") is None
    # "DBA" and "AKA" are words of names unless a full stop, a comma or a parenthesis marks them
    assert nz.org_name("Remote DBA Experts Ltd") == ("remote dba experts", "ltd")
    assert nz.org_name("Studio Aka Ltd") == ("studio aka", "ltd")
    assert nz.trade_name("Northwind, dba Widget World") == "widget world"


def test_what_a_dash_or_a_status_cuts_off_holds_no_legal_form():
    assert nz.org_name("Smith - Jones LLP") == ("smith jones", "llp")
    assert nz.org_name("Metall IG") == ("metall ig", None)  # no company state without a company form
    assert nz.org_name("Main St Bakery Inc") == ("main st bakery", "inc")  # only a first St is a saint
    assert nz.org_name("Lombard Odier & Cie") == ("lombard odier", "co")


def test_org_name_and_or_ampersand_agree():
    assert nz.org_name("Stone & Hoffman Ltd")[0] == nz.org_name("Stone and Hoffman Limited")[0]
    assert nz.org_name("Kaester und Sohn GmbH") == nz.org_name("Kaester & Sohn GmbH")


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("USA", "US"),
        ("U.S.", "US"),
        ("United States of America", "US"),
        ("Nederland", "NL"),
        ("The Netherlands", "NL"),
        ("Deutschland", "DE"),
        ("DEU", "DE"),
        ("Great Britain", "GB"),
        ("UK", "GB"),
        ("fra", "FR"),
        # names in the languages records come in, with and without their accents
        ("Allemagne", "DE"),
        ("Vereinigte Staaten", "US"),
        ("Países Bajos", "NL"),
        ("Magyarország", "HU"),
        ("Česko", "CZ"),
        ("Turkei", "TR"),
        ("Turkey", "TR"),
        ("Éire", "IE"),
        ("Kongo", None),  # the Republic of the Congo or the Democratic Republic, by language
        ("Man", None),  # the Isle of Man in a language or two, and a word in all
        ("Perú", "PE"),
        ("", None),
        ("Atlantis", None),
    ],
)
def test_country(raw, iso):
    assert nz.country(raw) == iso


@pytest.mark.parametrize(
    ("raw", "dom"),
    [
        ("https://www.carter.co.uk/about", "carter.co.uk"),
        ("SUMMITINDUSTRIES.NL", "summitindustries.nl"),
        ("billing@starpointconsulting.com", "starpointconsulting.com"),
        ("jane.doe@gmail.com", None),
        ("someone@hotmail.co.uk", None),
        ("not a domain", None),
        ("Jane Doe <jane.doe@Carter.co.uk>", "carter.co.uk"),
        ("ap@carter.co.uk; finance@carter-group.com", "carter.co.uk"),
        ("www.carter.co.uk, www.carter.de", "carter.co.uk"),
        # an internationalised domain in either spelling
        ("https://www.müller-bau.de/impressum", "xn--mller-bau-q9a.de"),
        ("xn--mller-bau-q9a.de", "xn--mller-bau-q9a.de"),
        # a platform's page is nobody's domain; a shop on a platform's subdomain is the shop's
        ("https://www.facebook.com/carterbakery", None),
        ("linkedin.com/company/carter", None),
        ("https://carter-bakery.myshopify.com/", "carter-bakery.myshopify.com"),
        ("https://sites.google.com/view/carter", None),
        ("google.com", "google.com"),  # the platform's own site
        ("jane@fb.com", "fb.com"),  # and its staff's mail
        # the first of a list that names a party's domain
        ("jane@gmail.com; accounts@carter.co.uk", "carter.co.uk"),
        ("facebook.com/carter www.carter.co.uk", "carter.co.uk"),
        # UTS 46 (IDNA 2008), as browsers: "straße.de" is not "strasse.de"
        ("www.straße.de", "xn--strae-oqa.de"),
    ],
)
def test_web_domain(raw, dom):
    assert nz.web_domain(raw) == dom


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("05 16 73 74 87", "FR", "+33516737487"),
        ("+1-706-799-0344x00288", "US", "+17067990344"),
        ("(706) 799-0344", "US", "+17067990344"),
        ("08537 536631", "DE", "+498537536631"),
        ("+49(0)5055 049206", "DE", "+495055049206"),
        ("0049 5055 049206", None, "+495055049206"),
    ],
)
def test_phone(raw, country, e164):
    assert nz.phone(raw, country) == e164


def test_tax_id_compact_and_validity():
    assert nz.tax_id("DE 136 695 976", "DE") == ("DE136695976", True)
    assert nz.tax_id("136695976", "DE") == ("DE136695976", True)  # prefix added when country known
    assert nz.tax_id("DE136695977", "DE") == ("DE136695977", False)  # bad check digit
    compact, _ = nz.tax_id("03-1705905", "US")
    assert compact == "031705905"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("VAT No: GB 980 7806 84", "GB", ("GB980780684", True)),
        ("USt-IdNr.: DE 136 695 976", "DE", ("DE136695976", True)),
        ("TVA FR40303265045", None, ("FR40303265045", True)),
        ("P.IVA IT 00743110157", "IT", ("IT00743110157", True)),
        ("EIN 03-1705905", "US", ("031705905", True)),
        ("CHE-116.281.710 MWST", "CH", ("CHE116281710", True)),
        ("CHE116281710MWST", "CH", ("CHE116281710", True)),
        # a Norwegian number keeps its country, which is also the word "No"
        ("NO 974 760 673 MVA", "NO", ("NO974760673", True)),
        ("NO974760673MVA", "NO", ("NO974760673", True)),
        # a Spanish public body's CIF begins with a P, which is no label
        ("P-2807900-B", "ES", ("ESP2807900B", True)),
    ],
)
def test_tax_id_labels_are_not_part_of_the_number(raw, country, expected):
    assert nz.tax_id(raw, country) == expected


def test_a_labelled_tax_id_is_the_same_tax_id():
    from matching.compare import identifier
    from matching.settings import default_settings

    spec = default_settings("customer").field("tax_id")
    a = features("customer", {"name": "Carter Ltd", "tax_id": "VAT reg. no. GB980780684"})
    b = features("customer", {"name": "Carter Ltd", "tax_id": "GB 980 7806 84"})
    assert identifier(a, b, spec)[0] == "exact"


@pytest.mark.parametrize("placeholder", ["N/A", "n.a.", "#N/A", "-", "unknown", "Not provided", "?", "null"])
def test_placeholders_are_missing_values(placeholder):
    f = features(
        "customer",
        {"name": "Carter Ltd", "country": placeholder, "phone": placeholder, "tax_id": placeholder},
    )
    assert f.get("country") is None and f.get("phone") is None and f.get("tax_id") is None
    # a product may be called what a party's field would only hold for want of a value
    assert features("product", {"name": "Unknown"})["name"] == "unknown"
    # "NA" alone is Namibia's code, and Nil a given name
    assert features("customer", {"name": "Carter Ltd", "country": "NA"})["country"] == "NA"
    assert (
        features("customer", {"party_type": "individual", "given_name": "Nil", "family_name": "Kaya"})[
            "given"
        ]
        == "nil"
    )


def test_postal_codes_and_units():
    assert nz.postal_code("02110-1234") == nz.postal_code("02110") == "02110"
    assert nz.postal_code("sw1a 1aa") == "SW1A1AA"
    assert nz.street_unit("12 main street suite 400") == ("12 main street", "suite 400")
    assert nz.street_unit("flat 8 higgins parkways") == ("higgins parkways", "flat 8")
    assert nz.street_unit("12 main street suite 4 floor 2") == ("12 main street", "suite 4 floor 2")
    # the "Ste" of a French street, which reads as a suite, has no number: no unit
    assert nz.street_unit(nz.street("1200 Rue Ste-Catherine O"))[1] is None
    # the house number is outside the unit, or the unit's where there is no other: two flats of one
    # street are two addresses
    assert nz.house_number(nz.street("Suite 400, 12 Main St")) == "12"
    assert nz.house_number(nz.street("Flat 8, Higgins Parkways")) == "8"
    # a building is no unit: in the Gulf states' addresses its number is the house number
    assert nz.street("Bldg 45, Street 230, Zone 25") == "building 45 street 230 zone 25"
    assert nz.house_number(nz.street("Building 45, Street 230, Zone 25")) == "45"


def test_street_abbreviations():
    assert nz.street("Rosa-Herrmann-Str. 34") == nz.street("Rosa-Herrmann-Straße 34")
    assert nz.street("12 Main St") == nz.street("12 Main Street")
    assert nz.street("5 Oak Rd.") == "5 oak road"
    # words of other languages' street lines that the Postal Service uses for other suffixes
    assert nz.street("Via Roma 1") == "via roma 1"
    assert nz.street("5 Boulevard Est") == "5 boulevard est"


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("Kerkstr. 4", "Kerkstraat 4"),
        ("Avda. de la Constitución 5", "Avenida de la Constitución 5"),
        ("R. Augusta 100", "Rua Augusta 100"),
        ("12 all. des Tilleuls", "12 Allée des Tilleuls"),
        ("P.zza Navona 1", "Piazza Navona 1"),
        ("V.le Monza 2", "Viale Monza 2"),
        ("C/ Mayor, 3", "Calle Mayor 3"),
        ("ul. Marszałkowska 1", "ulica Marszałkowska 1"),
        ("Ctra. de Madrid 5", "Carretera de Madrid 5"),
        # the US Postal Service's standard abbreviations, as address-cleaning software writes them
        ("67931 Knight Strav.", "67931 Knight Stravenue"),
        ("4 Georgia Drs", "4 Georgia Drives"),
        ("3M Ctr", "3M Center"),
        ("12 Stacy Lndg", "12 Stacy Landing"),
    ],
)
def test_street_abbreviations_of_many_languages(short, long):
    assert nz.street(short) == nz.street(long)


def test_persons():
    assert "william" in nz.given_name_forms("bill")
    assert nz.birth_date("1980-04-03") == "1980-04-03"
    assert nz.birth_date("03/04/1980", "FR") == "1980-04-03"
    assert nz.birth_date("04/03/1980", "US") == "1980-04-03"
    assert nz.birth_date("3 April 1980") == "1980-04-03"
    assert nz.birth_date("1980-04-03T00:00:00Z") == "1980-04-03"
    assert nz.national_id("123-45-6789") == "123456789"


def test_a_persons_whole_name_splits_into_given_and_family():
    assert nz.person_parts("Berg, Anna") == ("anna", "berg")
    assert nz.person_parts("ANNA VAN DEN BERG") == ("anna", "van den berg")
    assert nz.person_parts("Dr. Jean-Pierre Dupont") == ("jean pierre", "dupont")
    assert nz.person_parts("Müller") == ("", "mueller")
    # generations and degrees are no part of a name, nor is a degree after a comma a given name
    assert nz.person_parts("John Smith III") == ("john", "smith")
    assert nz.person_parts("Ms. Jane Smith, MBA") == ("jane", "smith")
    assert nz.person_parts("Doe, Jane, PhD") == ("jane", "doe")
    # a title only before the name, a degree or generation only after it, and never the whole name
    assert nz.person_parts("Michael Herr") == ("michael", "herr")
    assert nz.person_parts("Olive Senior") == ("olive", "senior")
    assert nz.person_parts("Santos, Junior") == ("junior", "santos")
    assert nz.person_name("Herr") == "herr"


@pytest.mark.parametrize(
    "whole",
    ["Иванов Иван Иванович", "Иван Иванович Иванов", "Ivan Ivanovich Ivanov", "Ivanov, Ivan", "Ivan Ivanov"],
)
def test_a_russian_name_in_a_registers_order_or_anothers_splits_alike(whole):
    """A register writes the family name first and the patronymic last; the patronymic tells the order."""
    assert nz.person_parts(whole) == ("ivan", "ivanov")
    assert nz.person_parts("Ленин Владимир Ильич") == ("vladimir", "lenin")


@pytest.mark.parametrize(
    ("whole", "parts"),
    [
        ("Anna Maria Petrovich", ("anna", "maria petrovich")),  # a Serbian family name, no patronymic
        ("Kevin James Abramovich", ("kevin", "james abramovich")),
        ("Nguyen, Thi Van", ("thi van", "nguyen")),  # a middle name, not the particle van
        ("Dietrich Ronald Heinrich", ("dietrich", "ronald heinrich")),
        ("Beethoven, Ludwig van", ("ludwig", "van beethoven")),  # the particle is the family name's
        ("Cruz, Juan de la", ("juan", "de la cruz")),
    ],
)
def test_names_that_only_resemble_those_orders_keep_theirs(whole, parts):
    assert nz.person_parts(whole) == parts


@pytest.mark.parametrize(
    ("family", "whole", "expected"),
    [
        ("Smith Jr.", None, "jr"),
        (None, "John Smith III", "iii"),
        (None, "Smith, John Jr", "jr"),
        (None, "Smith Jr., John", "jr"),
        (None, "Smith, Jr.", "jr"),
        (None, "John Smith II", "jr"),  # a II is a junior
        (None, "Olive Senior", None),
        (None, "Santos, Junior", None),
        ("Senior", "Olive Senior", None),
    ],
)
def test_generation(family, whole, expected):
    assert nz.generation(family, whole) == expected


def test_only_a_person_has_a_generation():
    assert features("customer", {"name": "Carlyle Partners III LP"}).get("generation") is None


def test_a_persons_name_keeps_what_would_be_a_legal_form_or_abbreviation_in_a_company_name():
    def name(raw: str) -> list[str]:
        return features("customer", {"party_type": "individual", "name": raw})["names"]

    assert name("Maria Sá") == ["maria sa"]  # not Maria, a société anonyme
    assert name("Dev Patel") == ["dev patel"]  # not "development"
    assert features("customer", {"party_type": "individual", "name": "Li Co"})["legal_form"] is None


def test_email_addresses():
    assert nz.email_address("Anna Berg <Anna.Berg@GMX.de>") == "anna.berg@gmx.de"
    assert nz.email_address(" mailto:ops@wouters.com") == "ops@wouters.com"
    for junk in ("", "anna", "anna@localhost", "@gmx.de", "anna berg@gmx.de"):
        assert nz.email_address(junk) is None, junk


def test_street_with_glued_house_number():
    assert nz.street("Poelitzallee55") == nz.street("Pölitzallee 55") == "poelitzallee 55"
    assert nz.house_number(nz.street("Hauptstr.5")) == "5"
    assert nz.street("12a Main St") == "12a main street"
