"""Normalisers: turn the many spellings of one value into one comparable form.

Each function takes a raw string (possibly empty or ``None``) and returns a canonical value or ``None``.
A placeholder ("N/A", "n.a.", "unknown", "-") is no value (``is_placeholder``; features and ingest
treat it as blank).

* Organisation names: transliterate (ü→ue, ß→ss, then ASCII via Unidecode), lower-case, drop dots,
  commas and apostrophes *inside* tokens (so ``S.A.R.L.`` → ``sarl`` and ``Ridg,e`` → ``ridge``), turn
  other punctuation into spaces, ``&``/``+`` → ``and``, expand common abbreviations (Mfg, Intl, Svcs,
  Cons. …), then peel legal forms off the end with a multi-country table (``gmbh and co kg``, ``llc``,
  ``bv``, ``sarl``, spelled out as ``aktiengesellschaft`` or ``sociedad anonima``, ``a s``, ``sp z oo``,
  ``sdn bhd`` …), and off the start where custom writes them first (``OOO``, ``Aktiebolaget``,
  ``Kabushiki Kaisha``, ``Công ty TNHH``); forms in Cyrillic, Chinese, Japanese, Korean or Thai
  script (ЗАО, 有限公司, 株式会社, 주식회사) are read before the name is transliterated, which would
  make name words of them; and, as a fallback, cleanco (whose term list lacks most of the spelled-out
  and Japanese forms, and every canonical code). The legal form is returned separately, mapped
  to a canonical code and a *family* (the jurisdictions that use it) so that ``Inc`` and ``Corp`` agree
  while ``LLP`` and ``N.V.`` disagree. A leading ``The`` is dropped, and so are what systems write
  around a name: a qualifier in parentheses that is no legal form ("(UK)"), a department or branch
  after a dash, a company's state after its form ("i.L.", "en liquidation"); a trade or former name
  ("t/a", "DBA", "formerly") is a second name (``trade_name``).
* Web domains: registrable domain (tldextract with its bundled suffix list, never fetched) from a URL,
  bare host or e-mail address (the first of a list, or of ``Name <address>``), internationalised
  names in their ASCII (IDNA) form; free-mail and ISP domains identify nobody and give ``None``, as
  do social networks and other platforms where a party has a page, while a site on a platform's own
  subdomain (``acme.myshopify.com``) is the party's.
* Phones: digits only (a trailing ``x123``/``ext 123`` extension is dropped, stray letters are
  typos), parsed with phonenumbers in the record's country into E.164; unparseable numbers fall
  back to their digits so that they still compare.
* Tax IDs: compacted and validated with python-stdnum (EU VAT in any member state, US EIN, …);
  a bare national number gains its country prefix when the country is known; labels around the
  number ("VAT No:", "USt-IdNr.", "EIN", a Swiss "MWST") are dropped.
* Countries: any name, alpha-2/alpha-3 code or common alias (USA, U.S., Deutschland, Nederland,
  Great Britain, UK …) → ISO 3166 alpha-2.
* Addresses: street-type and direction abbreviations expanded (St → street, Rd → road, Str. →
  strasse), a unit inside the building (suite, apartment, flat) told apart, and the house number
  outside it split off; postal codes compacted, a US ZIP+4 to its ZIP code.
* Persons: given/family names folded like org names, without a title before them or a degree or
  generation after them; a whole name split as "Given Family" or "Family, Given", or by its
  patronymic in a Russian register's order ("Иванов Иван Иванович"); the generation (Jr., Sr., III)
  kept on its own; given names also yield their canonical forms via the ``nicknames`` package (Bill →
  william); birth dates in common formats → ISO; national IDs compacted.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from typing import Any

import idna
import phonenumbers
import pycountry
from rapidfuzz.distance import OSA
from unidecode import unidecode

# --------------------------------------------------------------------------------------------------
# text folding

_GERMANIC = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_INNER_PUNCT = re.compile("[.,'`\u2019\u00b4]")
_OTHER_PUNCT = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


# what people type into a field they cannot fill: it holds no value ("N/A" in a country field is not
# Namibia, "unknown" no company's name)
_PLACEHOLDERS = frozenset(
    {
        "n/a", "#n/a", "n.a", "n.a.", "n. a.", "null", "unknown", "unbekannt", "inconnu", "tbd", "tba",
        "not available", "not applicable", "not known", "not provided",
    }
)  # fmt: skip


def is_placeholder(text: str) -> bool:
    """Blank, punctuation alone, or a stand-in for a value ("N/A", "unknown"), in a party's fields: not
    "None" or "Nil", which are a product's or a person's name as often."""
    text = text.strip()
    # every field of every record is asked: a set, not a pattern
    return not text or (len(text) <= 16 and (text.lower() in _PLACEHOLDERS or not text.strip("-?._/ ")))


def fold(text: str | None) -> str:
    """Lower-case ASCII with umlauts transliterated, inner punctuation removed, the rest spaced."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text)).translate(_GERMANIC)
    text = unidecode(text).lower()
    text = text.replace("&", " and ").replace("+", " and ")
    text = _INNER_PUNCT.sub("", text)
    text = _OTHER_PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


# --------------------------------------------------------------------------------------------------
# organisation names

ABBREVIATIONS: dict[str, str] = {
    "mfg": "manufacturing",
    "mfr": "manufacturing",
    "mnfg": "manufacturing",
    "intl": "international",
    "int": "international",
    "svcs": "services",
    "svc": "services",
    "srvcs": "services",
    "serv": "services",
    "service": "services",
    "cons": "consulting",
    "consult": "consulting",
    "consultants": "consulting",
    "consultancy": "consulting",
    "tech": "technologies",
    "technology": "technologies",
    "techn": "technologies",
    "grp": "group",
    "hldgs": "holdings",
    "hldg": "holdings",
    "holding": "holdings",
    "assoc": "associates",
    "assocs": "associates",
    "bros": "brothers",
    "natl": "national",
    "mgmt": "management",
    "mgt": "management",
    "sys": "systems",
    "solns": "solutions",
    "sol": "solutions",
    "dev": "development",
    "ent": "enterprises",
    "ents": "enterprises",
    "ind": "industries",
    "inds": "industries",
    "lab": "labs",
    "laboratories": "labs",
    "laboratory": "labs",
    "mktg": "marketing",
    "dist": "distribution",
    "distr": "distribution",
    "fin": "financial",
    "ins": "insurance",
    "pharm": "pharmaceuticals",
    "pharma": "pharmaceuticals",
    "univ": "university",
    "ctr": "center",
    "cie": "compagnie",
    "centre": "center",
    "cntr": "center",
    "amer": "america",
    "eng": "engineering",
    "engg": "engineering",
    "log": "logistics",
    "prods": "products",
    "prod": "products",
    "comms": "communications",
    "comm": "communications",
    "telecom": "telecommunications",
    "sci": "sciences",
    "partner": "partners",
    "ptnrs": "partners",
}

# legal form token sequences (after fold) → canonical code
_LEGAL_FORMS: dict[str, str] = {
    "gmbh and co kg": "gmbh_co_kg",
    "gmbh co kg": "gmbh_co_kg",
    "gmbh and cokg": "gmbh_co_kg",
    "gmbh cokg": "gmbh_co_kg",
    "ag and co kg": "kg",
    "co kg": "kg",
    "cokg": "kg",
    "kg": "kg",
    "kgaa": "kgaa",
    "ohg": "ohg",
    "gmbh": "gmbh",
    "mbh": "gmbh",
    "ggmbh": "gmbh",
    "ug": "ug",
    "ug haftungsbeschraenkt": "ug",
    "ag": "ag",
    "ev": "ev",
    "se": "se",
    "bv": "bv",
    "b v": "bv",
    "nv": "nv",
    "n v": "nv",
    "vof": "vof",
    "cv": "cv",
    "sa": "sa",
    "s a": "sa",
    "sas": "sas",
    "sasu": "sas",
    "sarl": "sarl",
    "s a r l": "sarl",
    "eurl": "eurl",
    "snc": "snc",
    "sca": "sca",
    "scs": "scs",
    "sci": "sci",
    "spa": "spa",
    "srl": "srl",
    "sl": "sl",
    "slu": "sl",
    "llc": "llc",
    "l l c": "llc",
    "lllp": "llp",
    "llp": "llp",
    "l l p": "llp",
    "lp": "lp",
    "l p": "lp",
    "inc": "inc",
    "incorporated": "inc",
    "corp": "corp",
    "corporation": "corp",
    "co": "co",
    "cie": "co",  # "& Cie", the French "& Co."
    "company": "co",
    "and co": "co",
    "and company": "co",
    "co inc": "inc",
    "co ltd": "ltd",
    "company limited": "ltd",
    "ltd": "ltd",
    "limited": "ltd",
    "limitee": "ltd",  # Canada
    "ltee": "ltd",
    "plc": "plc",
    "pty ltd": "pty",
    "pty": "pty",
    "pvt ltd": "pvt",
    "private limited": "pvt",
    "ab": "ab",
    "as": "as",
    "asa": "as",
    "aps": "aps",
    "oy": "oy",
    "oyj": "oy",
    "kk": "kk",
    "pc": "pc",
    "pllc": "llc",
    "ltda": "ltda",
    # spelled out, as registers and contracts write them
    "aktiengesellschaft": "ag",
    "gesellschaft mit beschraenkter haftung": "gmbh",
    "kommanditgesellschaft": "kg",
    "offene handelsgesellschaft": "ohg",
    "eingetragener verein": "ev",
    "eingetragene genossenschaft": "eg",
    "eg": "eg",
    "gbr": "gbr",
    "besloten vennootschap": "bv",
    "naamloze vennootschap": "nv",
    "bvba": "bv",  # the Belgian BVBA, a BV since 2019
    "sprl": "srl",  # the Belgian SPRL, an SRL since 2019
    "societe anonyme": "sa",
    "sociedad anonima": "sa",
    "sociedade anonima": "sa",
    "sa de cv": "sa",  # Mexico: "de C.V." (variable capital) qualifies the S.A.
    "sab de cv": "sa",
    "sapi de cv": "sa",
    "societe par actions simplifiee": "sas",
    "societe a responsabilite limitee": "sarl",
    "societa per azioni": "spa",
    "societa a responsabilita limitata": "srl",
    "sociedad limitada": "sl",
    "s de rl de cv": "srl",
    "s de rl": "srl",
    "public limited company": "plc",
    "limited liability company": "llc",
    "limited liability partnership": "llp",
    "limited partnership": "lp",
    "pty limited": "pty",
    "proprietary limited": "pty",
    "limited sirketi": "ltd",
    "a s": "as",  # A/S, Danish and Norwegian
    "aktieselskab": "as",
    "aksjeselskap": "as",
    "allmennaksjeselskap": "as",
    "aktiebolag": "ab",
    "aktiebolaget": "ab",
    "ab publ": "ab",  # "AB (publ)", a public Swedish company
    "abp": "oy",  # the Swedish name of a Finnish Oyj
    "osakeyhtio": "oy",
    "julkinen osakeyhtio": "oy",
    "kabushiki kaisha": "kk",
    "kabushikikaisha": "kk",
    "kabushiki gaisha": "kk",
    "godo kaisha": "gk",
    "ooo": "ooo",
    "jsc": "jsc",
    "pjsc": "jsc",
    "ojsc": "jsc",
    "cjsc": "jsc",
    "oao": "jsc",
    "sp z oo": "sp_zoo",
    "sp zoo": "sp_zoo",  # "sp. z.o.o."
    "spolka z oo": "sp_zoo",
    "spolka z ograniczona odpowiedzialnoscia": "sp_zoo",
    "sro": "sro",
    "s r o": "sro",
    "spol s r o": "sro",
    "spol sro": "sro",
    "doo": "doo",
    "d o o": "doo",
    "kft": "kft",
    "zrt": "zrt",
    "nyrt": "nyrt",
    "pte ltd": "pte",
    "pte": "pte",
    "sdn bhd": "bhd",
    "bhd": "bhd",
    "berhad": "bhd",
    "tbk": "tbk",
    "eireli": "eireli",
    "lda": "ltda",  # Portugal
    "unipessoal lda": "ltda",
    "sau": "sa",  # Spain: a single-member S.A., as an S.L.U. is an S.L.
    "s a u": "sa",
    "srls": "srl",
    "gesmbh": "gmbh",  # Austria
    "ges m b h": "gmbh",
    "ae": "sa",  # Greece: the Anonymi Etaireia is a société anonyme, and written S.A. in English
    "anonymi etaireia": "sa",
    "public company limited": "plc",  # Thailand
    "pcl": "plc",
    "sp k": "spk",  # Poland: "Sp. z o.o. Sp.k.", a limited partnership whose partner is a company
    "spk": "spk",
    "sp j": "spj",
    "spj": "spj",
    "slne": "sl",  # Spain
    "sll": "sl",
    "sad": "sa",
    "s coop": "coop",
    "scoop": "coop",
    "s rl de cv": "srl",  # Mexico, the "de" of "S. de R.L." left out
    "eood": "ood",  # Bulgaria
    "ood": "ood",
    "ead": "ead",
    "ltd sti": "ltd",  # Turkey: "Ltd. Şti.", often after "San. ve Tic." (industry and trade)
    "tic ltd sti": "ltd",
    "san ve tic ltd sti": "ltd",
    "sanayi ve ticaret ltd sti": "ltd",
    "tic as": "as",
    "san ve tic as": "as",
    "sanayi ve ticaret as": "as",
    "cong ty tnhh": "tnhh",  # Viet Nam, before the name by custom and after it in some systems
    "cong ty tnhh mtv": "tnhh",
    "cong ty trach nhiem huu han": "tnhh",
    "cong ty co phan": "jsc",
    "cong ty hop danh": "partnership",
    "doanh nghiep tu nhan": "sole",
    # native-script forms as _romanised_form writes them (see _CYRILLIC_FORMS, _UNSPACED_FORMS)
    "individualnyi predprinimatel": "ip",
    "aktsionerno druzhestvo": "ad",
    "borisat chamkat": "ltd",  # Thailand
    "borisat mahachon chamkat": "plc",
    "hang hunsuan chamkat": "lp",
    "hang hunsuan saman": "partnership",
    "yugen kaisha": "yk",
    "jusik hoesa": "jh",
    "yuhan hoesa": "yh",
}
_MAX_FORM_TOKENS = max(len(k.split()) for k in _LEGAL_FORMS)
_FORM_WORDS = frozenset(t for k in _LEGAL_FORMS for t in k.split())
# forms written before the name by custom ("OOO Romashka", "Aktiebolaget Volvo", "LLC Yandex"); not
# those that are also words or initials at the start of a name (Pão, Zao, Tov, K.K. Birla), which the
# table leaves out or keeps to the end
_LEADING_CODES = frozenset({"ooo", "jsc", "yk", "gk", "jh", "yh", "tnhh", "partnership", "sole", "ip"})
_LEADING_SPELLINGS = frozenset(
    {"llc", "aktiebolaget", "kabushiki kaisha", "kabushikikaisha"}
    | {"borisat chamkat", "borisat mahachon chamkat", "hang hunsuan chamkat"}  # Thai, as romanised
)
_LEADING_FORMS = {k: v for k, v in _LEGAL_FORMS.items() if v in _LEADING_CODES or k in _LEADING_SPELLINGS}
_MAX_LEADING_TOKENS = max(len(k.split()) for k in _LEADING_FORMS)

# families: legal forms used in the same jurisdictions; a subsidiary abroad carries another family
LEGAL_FAMILY: dict[str, str] = {
    "llc": "us",
    "inc": "us",
    "corp": "us",
    "co": "any",
    "lp": "us",
    "pc": "us",
    "llp": "gb",
    "ltd": "gb",
    "plc": "gb",
    "pty": "au",
    "pvt": "in",
    "gmbh": "de",
    "gmbh_co_kg": "de",
    "kg": "de",
    "kgaa": "de",
    "ohg": "de",
    "ug": "de",
    "ag": "de",
    "ev": "de",
    "se": "eu",
    "bv": "nl",
    "nv": "nl",
    "vof": "nl",
    "cv": "nl",
    "sa": "fr",
    "sas": "fr",
    "sarl": "fr",
    "eurl": "fr",
    "snc": "fr",
    "sca": "fr",
    "scs": "fr",
    "sci": "fr",
    "spa": "it",
    "srl": "it",
    "sl": "es",
    "ab": "se",
    "as": "no",
    "aps": "dk",
    "oy": "fi",
    "kk": "jp",
    "gk": "jp",
    "ltda": "br",
    "eireli": "br",
    "eg": "de",
    "gbr": "de",
    "ooo": "ru",
    "jsc": "ru",
    "sp_zoo": "pl",
    "sro": "cz",
    "doo": "balkans",
    "kft": "hu",
    "zrt": "hu",
    "nyrt": "hu",
    "pte": "sg",
    "bhd": "my",
    "tbk": "id",
    "tnhh": "vn",
    "partnership": "vn",
    "sole": "vn",
    "spk": "pl",
    "spj": "pl",
    "coop": "es",
    "ood": "bg",
    "ead": "bg",
    "ad": "bg",
    "ip": "ru",
    "yk": "jp",
    "jh": "kr",
    "yh": "kr",
}

# Local forms that systems kept in English give in translation ("OOO Romashka" is "Romashka LLC" there,
# "Toshiba K.K." "Toshiba Corporation"): against an English form they say nothing either way.
TRANSLATED_FORMS = frozenset(
    {"ooo", "jsc", "sp_zoo", "sro", "doo", "kft", "zrt", "nyrt", "kk", "gk", "yk", "pte", "bhd", "tbk"}
    | {"tnhh", "partnership", "sole", "jh", "yh", "ood", "ead", "ad", "ip"}
)
ENGLISH_FORMS = frozenset({"llc", "ltd", "inc", "corp", "plc", "co", "pvt", "pty", "lp", "llp"})

# "and" in the languages whose legal forms we peel ("GmbH u. Co. KG", "Muller et Fils"), so that
# the "&" / "and" / "und" spellings of one name, and of its legal form, agree
_CONJUNCTIONS = {"und": "and", "u": "and", "et": "and"}

_NAME_STOPWORDS = frozenset({"the", "and", "of", "de", "la", "le", "les", "du", "der", "die", "das", "van"})


def _expand(tokens: list[str]) -> list[str]:
    return [ABBREVIATIONS.get(t, t) for t in tokens]


def split_legal_form(folded: str) -> tuple[str, str | None]:
    """Peel legal-form token sequences off the end of a folded name, and a form written first off its
    start; return (rest, canonical form)."""
    tokens = folded.split()
    form: str | None = None
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for n in range(min(_MAX_FORM_TOKENS, len(tokens) - 1), 0, -1):
            tail = " ".join(tokens[-n:])
            if tail in _LEGAL_FORMS:
                # the outermost (last) form is the one that names the legal entity
                form = form or _LEGAL_FORMS[tail]
                tokens = tokens[:-n]
                changed = True
                break
    for n in range(min(_MAX_LEADING_TOKENS, len(tokens) - 1), 0, -1):
        head = " ".join(tokens[:n])
        if head in _LEADING_FORMS:
            form = form or _LEADING_FORMS[head]
            tokens = tokens[n:]
            break
    return " ".join(tokens), form


# spelled-out legal forms long enough that one typo (two in a long word) cannot make them another word,
# and GmbH, which no word is one letter from ("rGmbH", a letter of the name glued to it)
_TYPO_FORMS = {
    w: form for w, form in _LEGAL_FORMS.items() if " " not in w and (len(w) >= 7 or form == "gmbh")
}


def _misspelt_form(token: str) -> str | None:
    """The legal form a misspelt last token stands for ("Corporatioqn", "Incorported"), if any."""
    if len(token) < 5:
        return None
    limit = 1 if len(token) < 8 else 2
    for written, form in _TYPO_FORMS.items():
        if OSA.distance(token, written, score_cutoff=limit) <= limit:
            return form
    return None


# "Acme Ltd t/a Widget World", "Acme Inc. DBA WidgetCo", "Acme (formerly Widget Co)": the legal name
# first, then another name the party goes by. A bare "DBA" or "AKA" is also a word of names ("Remote
# DBA Experts"): only after a legal form's or a comma's full stop, or in parentheses, is it one.
_ALIAS = re.compile(
    r"(?:\s+\(?|\s*\(\s*)(?:t/a|d/b/a|a/k/a|trading as|doing business as|formerly|vormals)\s+"
    r"|(?:[.,]\s*|\s*\(\s*)(?:dba|aka)\s+",
    re.I,
)
# "Acme Corporation - Accounts Payable", "Acme | Billing": a department or branch after the name
_QUALIFIER = re.compile(r"\s+[-\u2013\u2014|]\s+")
_PARENTHESES = re.compile(r"\(([^()]*)\)")
# Legal forms in the scripts their countries write them, romanised as in _LEGAL_FORMS before the name
# is transliterated: Unidecode reads 株式会社 as Chinese ("zhu shi hui she"), and ЗАО, АО and ПАО are no
# forms once in Latin letters (Zao is a word). Chinese, Japanese and Thai write no spaces between words
# (nor Korean before a form in parentheses), so their forms are found anywhere; Cyrillic ones as words
# only (the АО inside a word is none).
_UNSPACED_FORMS = {
    "株式会社": "kabushiki kaisha", "(株)": "kabushiki kaisha", "（株）": "kabushiki kaisha",
    "㈱": "kabushiki kaisha", "有限会社": "yugen kaisha", "(有)": "yugen kaisha", "（有）": "yugen kaisha",
    "㈲": "yugen kaisha", "合同会社": "godo kaisha",
    "股份有限公司": "co ltd", "有限责任公司": "co ltd", "有限責任公司": "co ltd", "有限公司": "co ltd",
    "주식회사": "jusik hoesa", "(주)": "jusik hoesa", "㈜": "jusik hoesa", "（주）": "jusik hoesa",
    "유한회사": "yuhan hoesa",
    "(유)": "yuhan hoesa",
    "บจก.": "borisat chamkat", "บมจ.": "borisat mahachon chamkat", "หจก.": "hang hunsuan chamkat",
    "ห้างหุ้นส่วนจำกัด": "hang hunsuan chamkat", "หสน.": "hang hunsuan saman",
    "ห้างหุ้นส่วนสามัญ": "hang hunsuan saman",
}  # fmt: skip
_CYRILLIC_FORMS = {
    "ооо": "ooo", "общество с ограниченной ответственностью": "ooo",
    "тов": "ooo", "товариство з обмеженою відповідальністю": "ooo",
    "зао": "cjsc", "закрытое акционерное общество": "cjsc",
    "оао": "ojsc", "открытое акционерное общество": "ojsc",
    "пао": "pjsc", "публичное акционерное общество": "pjsc",
    "ао": "jsc", "акционерное общество": "jsc",
    "ип": "individualnyi predprinimatel", "индивидуальный предприниматель": "individualnyi predprinimatel",
    "еоод": "eood", "оод": "ood", "ад": "aktsionerno druzhestvo", "еад": "ead",  # Bulgaria
}  # fmt: skip
_NATIVE_FORM = re.compile(
    "|".join(re.escape(k) for k in sorted(_UNSPACED_FORMS, key=len, reverse=True))
    + r"|(?<!\w)(?:"
    + "|".join(re.escape(k) for k in sorted(_CYRILLIC_FORMS, key=len, reverse=True))
    + r")(?!\w)",
    re.I,
)


def _romanised_form(match: re.Match[str]) -> str:
    """A form before or after the name in its romanised words; one inside it ("ソニー(株) 大阪支社", Sony's
    Osaka branch) is dropped, so that no form words stand among the name's."""
    whole, text = match.string, match.group(0)
    if whole[: match.start()].strip() and whole[match.end() :].strip():
        return " "
    form = _UNSPACED_FORMS.get(text) or _CYRILLIC_FORMS.get(text.lower())
    return f" {form} " if form else text


# "TheDavis", "TheHaynes LLC": the space after a leading article lost (a capital follows it)
_GLUED_ARTICLE = re.compile(r"^\s*The(?=[A-Z])")
# the state of a company after its form ("GmbH i.L.", "SA en liquidation"), not part of its name; without
# a form before it, it may be ("Metall IG")
_STATUS = re.compile(r"(?:\s+(?:i ?l|i ?g|in liquidation|en liquidation|in liquidazione|en liquidacion))+$")
_STATUS_ENDS = frozenset({"l", "il", "g", "ig", "liquidation", "liquidazione", "liquidacion"})


def _parenthesis(match: re.Match[str]) -> str:
    # kept when it is (part of) a legal form: "UG (haftungsbeschränkt)", "(Pty) Ltd", "AB (publ)"; a
    # country or other qualifier ("Acme Corp (UK) Ltd") goes
    words = fold(match.group(1)).split()
    # a letter alone ("(M)", Malaysia's mark) is no form, though forms spelled letter by letter hold it
    is_form = words and all(w in _FORM_WORDS for w in words) and any(len(w) > 1 for w in words)
    return f" {match.group(1)} " if is_form else " "


# what a name must hold for _name_parts to have work (most names hold none of it)
_NAME_PART_MARKS = re.compile(r"[(|\u2013\u2014]| - |/a|dba|aka|trading|doing|formerly|vormals", re.I)


def _name_parts(raw: str) -> tuple[str, str | None]:
    """(the name the party is registered under, another name it goes by or None)."""
    if not _NAME_PART_MARKS.search(raw):
        return raw, None
    legal, *alias = _ALIAS.split(raw, maxsplit=1)
    legal = _PARENTHESES.sub(_parenthesis, legal)
    head, *tail = _QUALIFIER.split(legal, maxsplit=1)
    # "Smith - Jones LLP" is one name: what follows the dash holds its legal form
    if tail and head.strip() and not org_name(tail[0])[1]:
        legal = head
    return legal, (alias[0].strip(" )") or None) if alias else None


def trade_name(raw: str | None) -> str | None:
    """The normalised other name of "Acme Ltd t/a Widget World" (``widget world``), if one is given; not
    a legal form alone."""
    if not raw:
        return None
    alias = _name_parts(str(raw))[1]
    name = org_name(alias)[0] if alias else ""
    return name if name and name not in _LEGAL_FORMS else None


@lru_cache(maxsize=200_000)
def org_name(raw: str | None) -> tuple[str, str | None]:
    """Normalised organisation name without legal form, and the canonical legal form (or None).

    >>> org_name("The WEST CONSULTING L.L.C.")
    ('west consulting', 'llc')
    """
    if raw:
        raw = _NATIVE_FORM.sub(_romanised_form, _GLUED_ARTICLE.sub("The ", raw))
    folded = " ".join(_CONJUNCTIONS.get(t, t) for t in fold(_name_parts(raw)[0] if raw else raw).split())
    if (
        folded.rpartition(" ")[2] in _STATUS_ENDS
        and (status := _STATUS.search(folded))
        and split_legal_form(folded[: status.start()])[1]
    ):
        folded = folded[: status.start()]
    if not folded:
        return "", None
    rest, form = split_legal_form(folded)
    *head, last = rest.split()
    if form and head and last == "and":
        # the "&" of "Smith & Co. KG", or of a "GmbH & Co. KG" whose GmbH is misspelt, ends no name
        *head, last = head
        rest = " ".join([*head, last])
        if form == "kg" and head and OSA.distance(last, "gmbh", score_cutoff=1) <= 1:
            rest, form = " ".join(head), "gmbh_co_kg"
    elif form is None and head and (typo := _misspelt_form(last)):
        rest, form = " ".join(head), typo
    if form is None:
        try:
            from cleanco import basename

            base = fold(basename(rest))
            if base and base != rest and rest.startswith(base):
                rest = base
        except Exception:  # cleanco is a fallback only
            pass
    tokens = _expand(rest.split())
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    if len(tokens) > 1 and tokens[0] == "st":
        tokens[0] = "saint"  # "St. John's Hospital"; "Main St Bakery" keeps its street
    return " ".join(tokens), form


def name_tokens(norm: str) -> list[str]:
    """Tokens that carry identity (stopwords dropped)."""
    return [t for t in norm.split() if t not in _NAME_STOPWORDS]


def legal_family(form: str | None) -> str | None:
    return LEGAL_FAMILY.get(form) if form else None


# --------------------------------------------------------------------------------------------------
# countries

# what neither CLDR nor ISO 3166 spells: abbreviations, parts of the UK, older and informal names
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "grande bretagne": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "bundesrepublik deutschland": "DE",
    "ger": "DE",
    "holland": "NL",
    "la france": "FR",
    "osterreich": "AT",
    "korea": "KR",
    "republic of korea": "KR",
    "czech republic": "CZ",
    "turkey": "TR",
    "ivory coast": "CI",
    "eire": "IE",  # names of four letters are left out of the CLDR ones below
    "irak": "IQ",
    "kuba": "CU",
    "macedonia": "MK",
    "prc": "CN",
    "uae": "AE",
    "el": "GR",  # Greek VAT prefix
}

# Country names as systems in these languages write them, from CLDR (Babel): "Allemagne", "Alemania",
# "Vereinigte Staaten", "Magyarország". Latin-script languages only: a name in another script would be
# compared by its transliteration, which no one types.
_NAME_LOCALES = (
    "en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "fi", "is", "pl", "cs", "sk", "hu", "ro",
    "tr", "hr", "sl", "et", "lv", "lt", "ga", "ca", "id", "ms",
)  # fmt: skip


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Folded country name → alpha-2, over ``_NAME_LOCALES``; a name that two languages give to two
    countries ("Kongo") is left out."""
    from babel import Locale

    known = {c.alpha_2 for c in pycountry.countries}
    codes: dict[str, set[str]] = {}
    for locale in _NAME_LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if code in known:
                # "Türkei" is typed "Tuerkei" and "Turkei"; a name as short as "Man" or "Oma" is
                # another word in other languages
                for key in {fold(name), fold(unidecode(name))}:
                    if len(key) >= 5:
                        codes.setdefault(key, set()).add(code)
    return {key: next(iter(found)) for key, found in codes.items() if len(found) == 1}


@lru_cache(maxsize=4096)
def country(raw: str | None) -> str | None:
    """ISO 3166 alpha-2 for any name (in the languages of ``_NAME_LOCALES``), code or alias; None when
    unknown."""
    key = fold(raw)
    if not key or is_placeholder(str(raw)):
        return None
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    for candidate in (key, key.replace(" ", "")):
        try:
            if len(candidate) == 2:
                c = pycountry.countries.get(alpha_2=candidate.upper())
            elif len(candidate) == 3:
                c = pycountry.countries.get(alpha_3=candidate.upper())
            else:
                c = None
            if c:
                return c.alpha_2
        except (KeyError, LookupError):
            pass
    if code := _country_names().get(key):
        return code
    for name in (str(raw).strip(), key):
        try:
            return pycountry.countries.lookup(name).alpha_2
        except LookupError:
            pass
    if key.startswith("the "):
        return country(key[4:])
    return None


# --------------------------------------------------------------------------------------------------
# web domains

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com",
        "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.nl", "outlook.com",
        "outlook.de", "outlook.fr", "live.com", "live.nl", "live.fr", "live.co.uk", "msn.com", "aol.com",
        "icloud.com", "me.com", "mac.com", "gmx.de", "gmx.net", "gmx.com", "gmx.at", "web.de",
        "t-online.de", "freenet.de", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr",
        "btinternet.com", "sky.com", "virginmedia.com", "mail.com", "protonmail.com", "proton.me",
        "yandex.ru", "yandex.com", "mail.ru", "qq.com", "163.com", "126.com", "zoho.com", "hey.com",
        "fastmail.com", "ziggo.nl", "kpnmail.nl", "hetnet.nl", "planet.nl", "xs4all.nl", "home.nl",
        "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net",
        "example.com", "example.org", "test.com",
    }
)  # fmt: skip
# sites where many parties keep a page ("facebook.com/acme", "linkedin.com/company/acme", a link
# shortener): the domain is the platform's, not the party's. Shops and sites on a platform's own
# subdomain ("acme.myshopify.com") are the party's: the public suffix list's private part says so.
PLATFORM_DOMAINS = frozenset(
    {
        "facebook.com", "fb.com", "instagram.com", "linkedin.com", "twitter.com", "x.com", "youtube.com",
        "tiktok.com", "pinterest.com", "xing.com", "google.com", "goo.gl", "bit.ly", "linktr.ee",
        "wa.me", "t.me", "yelp.com", "tripadvisor.com", "amazon.com", "ebay.com", "etsy.com",
    }
)  # fmt: skip


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # bundled public-suffix snapshot only: this machine (and production) must never fetch at runtime
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


_EMAIL_HOST = re.compile(r"[^\s<>@,;]+@([^\s<>@,;]+)")
_LIST_SEPARATORS = re.compile(r"[\s,;|]+")


@lru_cache(maxsize=200_000)
def web_domain(raw: str | None) -> str | None:
    """Registrable domain (``acme.co.uk``) of a URL, host or e-mail address, or of the first in a list
    (``Jane <jane@acme.com>``, ``a@gmail.com; b@acme.com``) that has one; None for free-mail, a page
    on a platform or junk."""
    if not raw:
        return None
    text = str(raw).strip().lower()
    if "@" in text:
        items = [(host, False) for host in _EMAIL_HOST.findall(text)]
    else:
        items = [(site, True) for site in _LIST_SEPARATORS.split(text)]
    return next((dom for item, site in items if (dom := _registrable(item, site=site))), None)


def _registrable(item: str, *, site: bool) -> str | None:
    host, _, path = re.sub(r"^[a-z]+://", "", item).partition("/")
    host = host.split("?")[0].split(":")[0].strip(". ")
    if "." not in host:
        return None
    if not host.isascii():
        # one spelling for an internationalised domain: "müller.de" is "xn--mller-kva.de" on the wire,
        # by the rules browsers follow (UTS #46, IDNA 2008: "straße.de" is not "strasse.de")
        try:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError:
            return None
    ext = _extractor()(host)
    if not ext.domain or not ext.suffix:
        return None
    dom = f"{ext.domain}.{ext.suffix}"
    if dom in FREE_MAIL_DOMAINS:
        return None
    # a page on a platform ("facebook.com/acme", "sites.google.com/view/acme") is the platform's; the
    # platform's own site, or its staff's mail, is the platform's company's
    if site and dom in PLATFORM_DOMAINS and (path.strip("/") or ext.subdomain not in ("", "www")):
        return None
    return dom


def domain_label(dom: str | None) -> str | None:
    """The name part of a registrable domain: ``acme`` for ``acme.co.uk``."""
    if not dom:
        return None
    return _extractor()(dom).domain or None


_CCTLD_COUNTRY = {"uk": "GB"}


def domain_country(dom: str | None) -> str | None:
    """Country implied by a country-code top-level domain, if any."""
    if not dom:
        return None
    last = dom.rsplit(".", 1)[-1]
    if last in _CCTLD_COUNTRY:
        return _CCTLD_COUNTRY[last]
    if len(last) == 2 and last not in {"io", "co", "ai", "tv", "me", "cc", "ly", "eu"}:
        return last.upper()
    return None


# --------------------------------------------------------------------------------------------------
# phones

_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*\d{1,6}\s*$", re.I)


@lru_cache(maxsize=200_000)
def phone(raw: str | None, country_code: str | None = None) -> str | None:
    """E.164 (``+4953...``) when parseable, else ``+?digits``; None when too short to mean anything."""
    if not raw:
        return None
    text = _EXTENSION.sub("", str(raw).strip())
    plus = text.lstrip().startswith(("+", "00"))
    digits = re.sub(r"\D", "", text)
    if text.lstrip().startswith("00"):
        digits = digits[2:]
    if len(digits) < 6:
        return None
    candidates = [f"+{digits}"] if plus else []
    candidates.append(digits)
    for cand in candidates:
        try:
            num = phonenumbers.parse(cand, (country_code or "US") if not cand.startswith("+") else None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    # the number may carry its country code without "+" (e.g. 31127291004 in NL)
    if not plus:
        try:
            num = phonenumbers.parse(f"+{digits}", None)
            if phonenumbers.is_valid_number(num):
                return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
    return digits


def phone_national(e164: str | None) -> str | None:
    """National significant number (no country code, no trunk 0) for fuzzy comparison."""
    if not e164:
        return None
    if e164.startswith("+"):
        try:
            return str(phonenumbers.parse(e164, None).national_number)
        except phonenumbers.NumberParseException:
            return e164[1:]
    return e164.lstrip("0")


# --------------------------------------------------------------------------------------------------
# tax IDs

_US_LIKE_NO_PREFIX = {"US": "ein"}


# words systems write around a tax ID ("VAT No: GB…", "USt-IdNr. DE…", "CHE-116.281.710 MWST",
# "EIN 12-3456789"): kept, they would make one number look like another and so a conflict
_TAX_LABELS = frozenset(
    {
        "VAT", "VATNO", "VATREG", "TAX", "TAXID", "UST", "USTID", "USTIDNR", "IDNR", "STNR", "STEUERNR",
        "MWST", "MVA", "MOMS", "BTW", "TVA", "IVA", "PIVA", "NIF", "CIF", "NIPC", "EIN", "TIN", "ABN",
        "GST", "GSTIN", "UID", "KVK", "SIREN", "SIRET", "CNPJ", "RFC", "REG", "REGISTRATION", "NUMBER",
    }
)  # fmt: skip
# after a label, "No" and "Nr" are part of it, not Norway
_LABEL_TAILS = frozenset({"NO", "NR", "ID", "NUM"})


# labels written after the number, glued to it or not ("CHE116281710MWST", "NO 995 525 828 MVA")
_TAX_SUFFIX = re.compile(r"(?<=\d)(?:MWST|TVA|IVA|MVA|MOMS)$")


def _unlabelled(tokens: list[str]) -> str:
    """The compact number of a tax ID's words without the labels before and after it."""
    start = 0
    while start < len(tokens) - 1 and (
        tokens[start] in _TAX_LABELS
        or (start and tokens[start] in _LABEL_TAILS)
        or (tokens[start] == "P" and tokens[start + 1] == "IVA")  # the Italian "P. IVA"
    ):
        start += 1
    return _TAX_SUFFIX.sub("", "".join(tokens[start:]))


@lru_cache(maxsize=1000)
def _tax_modules(cc: str, kinds: tuple[str, ...]) -> list[Any]:
    """python-stdnum's modules for these kinds of number in a country (a look-up per record cost more
    than checking the number)."""
    from stdnum.util import get_cc_module

    return [m for m in (get_cc_module(cc.lower(), kind) for kind in kinds) if m]


@lru_cache(maxsize=200_000)
def tax_id(raw: str | None, country_code: str | None = None) -> tuple[str | None, bool]:
    """(compact tax ID, valid?) — EU VAT numbers keep their country prefix."""
    if not raw:
        return None, False
    from stdnum.eu import vat as eu_vat

    words = re.findall(r"[A-Z0-9]+", str(raw).upper())
    compact = _unlabelled(words)
    if len(compact) < 5:
        return None, False
    if compact[:2].isalpha():
        cc = compact[:2]
        try:
            valid = bool(eu_vat.is_valid(compact))
        except Exception:
            valid = False
        if not valid and cc not in eu_vat.MEMBER_STATES:
            # the United Kingdom left the EU's module; Switzerland's UID keeps its "CHE" whole, and
            # Norway's checker wants the "MVA" after the number
            forms = dict.fromkeys((compact, compact[2:], "".join(words)))
            valid = any(m.is_valid(x) for m in _tax_modules(cc, ("vat", "uid")) for x in forms)
        return compact, valid
    cc = (country_code or "").upper()
    if cc == "US":
        from stdnum.us import ein

        return compact, bool(ein.is_valid(compact))
    if cc:
        prefixed = ("EL" if cc == "GR" else cc) + compact
        try:
            if eu_vat.is_valid(prefixed):
                return prefixed, True
        except Exception:
            pass
        for mod in _tax_modules(cc, ("vat", "tin")):
            try:
                if mod.is_valid(compact):
                    return compact, True
            except Exception:
                pass
    return compact, False


def tax_country(tax: str | None) -> str | None:
    if tax and tax[:2].isalpha():
        cc = tax[:2]
        return "GR" if cc == "EL" else cc
    return None


# --------------------------------------------------------------------------------------------------
# addresses

# The US Postal Service's standard street suffix abbreviations (Publication 28, appendix C1), which
# address-cleaning software writes ("Stacy Lndg", "Kim Strav"), but not those that are words of other
# languages' street lines (VIA for viaduct, EST for estate, IS for island, UN for union) or a suffix's own
# name; the table below them wins where the two differ ("str" is a German Strasse).
_USPS_SUFFIXES: dict[str, str] = {
    "aly": "alley", "anx": "annex", "arc": "arcade", "byu": "bayou", "bch": "beach", "bnd": "bend",
    "blf": "bluff", "blfs": "bluffs", "btm": "bottom", "br": "branch", "brg": "bridge", "brk": "brook",
    "brks": "brooks", "bg": "burg", "bgs": "burgs", "byp": "bypass", "cp": "camp", "cyn": "canyon",
    "cpe": "cape", "cswy": "causeway", "ctr": "center", "ctrs": "centers", "cirs": "circles",
    "clf": "cliff", "clfs": "cliffs", "clb": "club", "cmn": "common", "cmns": "commons", "cor": "corner",
    "cors": "corners", "crse": "course", "cts": "courts", "cv": "cove", "cvs": "coves", "crk": "creek",
    "cres": "crescent", "crst": "crest", "xing": "crossing", "xrd": "crossroad", "xrds": "crossroads",
    "curv": "curve", "dl": "dale", "dm": "dam", "dv": "divide", "drs": "drives", "ests": "estates",
    "expy": "expressway", "ext": "extension", "exts": "extensions", "fls": "falls", "fry": "ferry",
    "fld": "field", "flds": "fields", "flt": "flat", "flts": "flats", "frd": "ford", "frds": "fords",
    "frst": "forest", "frg": "forge", "frgs": "forges", "frk": "fork", "frks": "forks", "ft": "fort",
    "fwy": "freeway", "gdn": "garden", "gdns": "gardens", "gtwy": "gateway", "gln": "glen", "glns": "glens",
    "grn": "green", "grns": "greens", "grv": "grove", "grvs": "groves", "hbr": "harbor", "hbrs": "harbors",
    "hvn": "haven", "hts": "heights", "hl": "hill", "hls": "hills", "holw": "hollow", "inlt": "inlet",
    "iss": "islands", "jct": "junction", "jcts": "junctions", "ky": "key", "kys": "keys", "knl": "knoll",
    "knls": "knolls", "lk": "lake", "lks": "lakes", "lndg": "landing", "lgt": "light", "lgts": "lights",
    "lf": "loaf", "lck": "lock", "lcks": "locks", "ldg": "lodge", "mnr": "manor", "mnrs": "manors",
    "mdw": "meadow", "mdws": "meadows", "ml": "mill", "mls": "mills", "msn": "mission", "mtwy": "motorway",
    "mtn": "mountain", "mtns": "mountains", "nck": "neck", "orch": "orchard", "opas": "overpass",
    "pkwys": "parkways", "psge": "passage", "pne": "pine", "pnes": "pines", "pln": "plain",
    "plns": "plains", "plz": "plaza", "pt": "point", "pts": "points", "prt": "port", "prts": "ports",
    "pr": "prairie", "radl": "radial", "rnch": "ranch", "rpd": "rapid", "rpds": "rapids", "rst": "rest",
    "rdg": "ridge", "rdgs": "ridges", "riv": "river", "rte": "route", "shl": "shoal", "shls": "shoals",
    "shr": "shore", "shrs": "shores", "skwy": "skyway", "spg": "spring", "spgs": "springs",
    "sqs": "squares", "sta": "station", "stra": "stravenue", "strm": "stream", "smt": "summit",
    "trwy": "throughway", "trce": "trace", "trak": "track", "trfy": "trafficway", "trl": "trail",
    "trlr": "trailer", "tunl": "tunnel", "tpke": "turnpike", "upas": "underpass", "uns": "unions",
    "vly": "valley", "vlys": "valleys", "vw": "view", "vws": "views", "vlg": "village", "vlgs": "villages",
    "vl": "ville", "vis": "vista", "wl": "well", "wls": "wells",
    "strav": "stravenue",
    "cntr": "center",
}  # fmt: skip

STREET_ABBREVIATIONS: dict[str, str] = _USPS_SUFFIXES | {
    "st": "street",
    "str": "strasse",
    "strasse": "strasse",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "bd": "boulevard",
    "bld": "boulevard",
    "dr": "drive",
    "ln": "lane",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "hwy": "highway",
    "pkwy": "parkway",
    "ter": "terrace",
    "cir": "circle",
    "rds": "roads",
    "sts": "streets",
    "mt": "mount",
    "ste": "suite",
    "apt": "apartment",
    "fl": "floor",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "ne": "northeast",
    "nw": "northwest",
    "se": "southeast",
    "sw": "southwest",
    "r": "rue",
    "rua": "rue",  # Portuguese, abbreviated R. as the French
    "ch": "chemin",
    "imp": "impasse",
    "pte": "porte",
    "pas": "passage",
    "all": "allee",
    "rte": "route",
    "fbg": "faubourg",
    "avenida": "avenue",
    "avda": "avenue",
    "vle": "viale",
    "pzza": "piazza",
    "cso": "corso",
    "straat": "strasse",  # Dutch, abbreviated Str. as the German
    "ul": "ulica",  # Polish
    "ctra": "carretera",  # Spanish
    "bldg": "building",
}


_GLUED_NUMBER = re.compile(r"([a-z]{3,})(\d)")
_CALLE = re.compile(r"\bC/\s*", re.I)  # Spanish "C/ Mayor, 3": the slash that abbreviates "calle"


@lru_cache(maxsize=200_000)
def street(raw: str | None) -> str:
    """Folded street line with abbreviations expanded (in the languages of the countries we know most
    of: "Str." is a German Strasse or a Dutch straat, "R." a French rue or a Portuguese rua); the
    street word glued to a name ("Hauptstrasse", "Kerkstraat") split off, as it is abbreviated."""
    # a house number glued to its street ("Hauptstr.5", "Poelitzallee55") is split off, as typed apart
    text = _GLUED_NUMBER.sub(r"\1 \2", fold(_CALLE.sub("Calle ", raw) if raw else raw))
    if not text:
        return ""
    tokens = [STREET_ABBREVIATIONS.get(t, t) for t in text.split()]
    out = []
    for t in tokens:
        if t.endswith("strasse") and len(t) > 7:
            out.extend([t[:-7], "strasse"])
        elif t.endswith("straat") and len(t) > 6:
            out.extend([t[:-6], "strasse"])
        elif t.endswith("str") and len(t) > 5 and not t.endswith("strasse"):
            out.extend([t[:-3], "strasse"])
        else:
            out.append(t)
    return " ".join(out)


# a unit inside the building ("Suite 936", "Apt. 872", "Flat 8", "Studio 03"): one system writes it,
# another leaves it out or puts it on the second line, so it neither makes nor breaks an address
_UNIT = re.compile(r"\b(?:suite|apartment|unit|flat|floor|room|studio|office)\s+\S*\d\S*")


@lru_cache(maxsize=20_000)  # the lines of one record's neighbourhood: a pair asks for both twice
def street_unit(street_norm: str) -> tuple[str, str | None]:
    """A normalised street line without its units, and the units: ``("12 main street", "suite 4")``
    (a unit has a number: the "Ste" of "Rue Ste-Catherine", read as a suite, is none)."""
    units = _UNIT.findall(street_norm)
    if not units:
        return street_norm, None
    core = _SPACES.sub(" ", _UNIT.sub(" ", street_norm)).strip()
    return (core, " ".join(units)) if core else (street_norm, None)


_NUMBER = re.compile(r"\b(\d+[a-z]?)\b")


def house_number(street_norm: str) -> str | None:
    """The house number of a normalised street line: its first number outside a unit ("12" of "suite
    400 12 main street"), or the unit's where the line has no other ("8" of "flat 8 higgins
    parkways": two flats of one street are two addresses)."""
    m = _NUMBER.search(street_unit(street_norm)[0]) or _NUMBER.search(street_norm)
    return m.group(1) if m else None


_ZIP_PLUS_FOUR = re.compile(r"(\d{5})[- ]\d{4}")


def postal_code(raw: str | None) -> str | None:
    text = str(raw or "").strip()
    # a US ZIP+4 is its ZIP code in a finer grain, which most systems do not keep
    if zip5 := _ZIP_PLUS_FOUR.fullmatch(text):
        return zip5.group(1)
    text = re.sub(r"[^A-Z0-9]", "", text.upper())
    return text or None


# --------------------------------------------------------------------------------------------------
# persons


# what is written around a person's name and is no part of it: a title before it, a degree or the
# generation after it. Only there: "Michael Herr" and "Olive Senior" keep their family names, and a
# name of one word is that word.
_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "herr", "frau", "mme", "mlle", "dott", "dipl"}
)
_DEGREES = frozenset({"phd", "md", "mba", "esq", "cpa", "msc", "bsc"})
# a father and son of one name at one address often differ by nothing else; "II" is a junior too
_GENERATIONS = {
    "jr": "jr", "junior": "jr", "ii": "jr", "2nd": "jr", "sr": "sr", "senior": "sr",
    "iii": "iii", "3rd": "iii", "iv": "iv", "4th": "iv",
}  # fmt: skip


def _person_tokens(raw: str | None, keep: int) -> list[str]:
    """The words of a name, folded one by one ("Jean-Pierre" one word, "jean pierre"), without the
    titles before it, and without the degrees and generation after it as long as `keep` words are left
    (1 for a given or family name, 2 for a whole name)."""
    tokens = [w for w in map(fold, str(raw or "").split()) if w]
    while len(tokens) > 1 and tokens[0] in _TITLES:
        tokens = tokens[1:]
    while len(tokens) > keep and (tokens[-1] in _DEGREES or tokens[-1] in _GENERATIONS):
        tokens = tokens[:-1]
    return tokens


def person_name(raw: str | None) -> str:
    return " ".join(_person_tokens(raw, 1))


def _generation_of(raw: str | None, keep: int) -> str | None:
    tokens = fold(raw).split()
    while tokens and tokens[-1] in _DEGREES:
        tokens = tokens[:-1]
    return _GENERATIONS.get(tokens[-1]) if len(tokens) > keep else None


def generation(family_name: str | None, whole_name: str | None) -> str | None:
    """The generation a person's family name or whole name ends with ("Smith Jr." → ``jr``, "John
    Smith III" → ``iii``, "Smith, John Jr." → ``jr``); none in "Olive Senior" or "Santos, Junior"."""
    if found := _generation_of(family_name, 1):
        return found
    text = str(whole_name or "")
    if "," in text:
        family, given = text.split(",", 1)
        alone = fold(given).split()
        if len(alone) == 1 and len(alone[0]) < 5 and alone[0] in _GENERATIONS:  # "Smith, Jr."
            return _GENERATIONS[alone[0]]
        return _generation_of(given, 1) or _generation_of(family, 1)
    return _generation_of(text, 2)


# the endings of an East Slavic patronymic (Ivanovich, Petrovna, Hryhorovych, Kuzminichna; Ilyich in
# Cyrillic only, where no Western name ends so); a Petrovich or Abramovich after two given names in Latin
# letters is a family name, so the register's order is read from Cyrillic names alone
_PATRONYMIC = re.compile(r"(?:ovich|evich|ovych|evych|ovna|evna|ivna|ichna)$")
_CYRILLIC_PATRONYMIC = re.compile(r"(?:ich|ych|ovna|evna|ivna|ichna)$")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
# the particles of a family name, which "Family, Given" may leave after the given name ("Beethoven,
# Ludwig van")
_PARTICLES = frozenset(
    {"van", "von", "zu", "der", "den", "de", "da", "di", "du", "des", "del", "della", "dos", "la", "le"}
    | {"ter", "ten"}
)


def person_parts(raw: str | None) -> tuple[str, str]:
    """(given, family) of a person's whole name, written "Given Family" or "Family, Given".

    A support desk or billing platform often holds a person's name in one field; the family name is
    everything after the first word ("anna", "van henegouwen"), so a middle name counts with it. A
    Russian name with its patronymic is written family name first in registers ("Иванов Иван
    Иванович") and given name first elsewhere ("Ivan Ivanovich Ivanov"): the patronymic tells the
    order (the register's is read in Cyrillic only), and is left out as a middle name would be.
    """
    text = str(raw or "")
    if "," in text:
        family, given = text.split(",", 1)
        words = fold(given).split()
        # "Jane Smith, MBA" and "Smith, Jr." give no given name; "Santos, Junior" does
        if words and not all(w in _DEGREES or (w in _GENERATIONS and len(w) < 5) for w in words):
            given_words, particles = given.split(), []
            # a particle is written in lower case ("Ludwig van"); "Nguyen, Thi Van" has a middle name
            while len(given_words) > 1 and given_words[-1] in _PARTICLES:
                particles.insert(0, given_words.pop())
            return person_name(" ".join(given_words)), " ".join([*particles, person_name(family)])
        text = family  # "Jane Smith, MBA": what follows the comma is no given name
    tokens = _person_tokens(text, 2)
    if len(tokens) < 2:
        return "", " ".join(tokens)
    patronymic = _CYRILLIC_PATRONYMIC if _CYRILLIC.search(text) else _PATRONYMIC
    if len(tokens) == 3 and patronymic.search(tokens[1]):
        return tokens[0], tokens[2]
    if len(tokens) == 3 and patronymic is _CYRILLIC_PATRONYMIC and patronymic.search(tokens[2]):
        return tokens[1], tokens[0]
    return tokens[0], " ".join(tokens[1:])


def email_address(raw: str | None) -> str | None:
    """A mailbox in comparable form (``Anna <Anna.Berg@GMX.de>`` → ``anna.berg@gmx.de``); None when
    there is no address."""
    text = str(raw or "").strip().lower()
    if "<" in text and text.endswith(">"):
        text = text[text.rindex("<") + 1 : -1]
    text = text.removeprefix("mailto:").strip()
    local, at, host = text.rpartition("@")
    if not at or not local or "." not in host or any(c.isspace() for c in text):
        return None
    return text


@lru_cache(maxsize=1)
def _nicknamer():
    from nicknames import NickNamer

    return NickNamer()


@lru_cache(maxsize=50_000)
def name_and_nicknames(given: str) -> frozenset[str]:
    """A given name, the full names it is a nickname of and its own nicknames (``thomas`` →
    ``thomas``, ``tom``, ``tommy``, ``thom``). Not capped as ``given_name_forms`` is: a nickname of
    many names ("rick" of eleven) is still a nickname of each."""
    try:
        return frozenset({given, *_nicknamer().canonicals_of(given), *_nicknamer().nicknames_of(given)})
    except Exception:
        return frozenset({given})


def _swapped(x: str, y: str) -> bool:
    """Is `x` `y` with two neighbouring letters swapped ("tomym", "tommy")?"""
    if len(x) != len(y) or x == y:
        return False
    diff = [i for i, (a, b) in enumerate(zip(x, y, strict=True)) if a != b]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]] and x[diff[1]] == y[diff[0]]


def misspelt_nickname(x: str, y: str) -> bool:
    """Is one given name a typo of one of the other's nicknames or full names ("Tomym" of Tommy,
    Thomas's nickname; "Crhistopher" of Christopher, Chris's full name)? Only two neighbouring letters
    swapped, the typing slip that least often makes another name: one letter changed, added or dropped
    turns Harry into Barry and Doris into Boris. A typo of the name itself is for a string similarity to
    find."""
    for typo, name in ((x, y), (y, x)):
        if len(name_and_nicknames(typo)) > 1:
            continue  # a name the nickname list knows is no typo
        if any(_swapped(typo, form) for form in name_and_nicknames(name) - {name}):
            return True
    return False


@lru_cache(maxsize=50_000)
def given_name_forms(given: str) -> tuple[str, ...]:
    """The given name and its canonical forms (``bill`` → ``bill``, ``william``)."""
    first = given.split()[0] if given else ""
    if not first:
        return ()
    forms = {first}
    try:
        canon = _nicknamer().canonicals_of(first)
        # a nickname with many unrelated canonicals says little; keep the set small
        if len(canon) <= 4:
            forms |= canon
    except Exception:
        pass
    return tuple(sorted(forms))


_DATE_PATTERNS = [
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), ("a", "b", "y")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
]

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january", "janvier", "januar", "januari"),
            ("feb", "february", "fevrier", "februar", "februari"),
            ("mar", "march", "mars", "maerz", "maart"),
            ("apr", "april", "avril"),
            ("may", "mai", "mei"),
            ("jun", "june", "juin", "juni"),
            ("jul", "july", "juillet", "juli"),
            ("aug", "august", "aout", "augustus"),
            ("sep", "sept", "september", "septembre"),
            ("oct", "october", "octobre", "oktober"),
            ("nov", "november", "novembre"),
            ("dec", "december", "decembre", "dezember"),
        ],
        start=1,
    )
    for m in names
}


def birth_date(raw: str | None, country_code: str | None = None) -> str | None:
    """ISO date from ISO, D/M/Y (M/D/Y in the US, or when unambiguous), compact or '3 March 1980'."""
    text = str(raw or "").strip()
    if re.search(r"[A-Za-z]", text) and not _DATE_PATTERNS[0][0].match(text):
        text = fold(text)  # "8 March 1980"; an ISO date-time keeps its date
    if not text:
        return None
    y = m = d = None
    for pattern, order in _DATE_PATTERNS:
        hit = pattern.match(text)
        if not hit:
            continue
        parts = dict(zip(order, (int(g) for g in hit.groups()), strict=True))
        if "y" in parts and "m" in parts:
            y, m, d = parts["y"], parts["m"], parts["d"]
        else:
            a, b, y = parts["a"], parts["b"], parts["y"]
            if a > 12 or (b <= 12 and country_code != "US"):
                d, m = a, b
            else:
                m, d = a, b
        break
    else:
        tokens = text.split()
        nums = [int(t) for t in tokens if t.isdigit()]
        months = [_MONTHS[t] for t in tokens if t in _MONTHS]
        years = [n for n in nums if n > 31]
        days = [n for n in nums if n <= 31]
        if months and years and days:
            y, m, d = years[0], months[0], days[0]
    if y is None:
        return None
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def national_id(raw: str | None) -> str | None:
    text = re.sub(r"[^A-Z0-9]", "", str(raw or "").upper())
    return text or None
