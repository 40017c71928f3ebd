# ruff: noqa: RUF001, E501  (names in their own scripts; one generated row per line)
"""Build the full-name rows of tests/risk/corpus.csv (SPEC §14) from name components and rules.

Written for this project from published naming and transliteration conventions (ALA-LC and
common press spellings of Arabic names, BGN/PCGN and passport spellings of Russian names,
Western honorifics and name particles); it copies no benchmark. Deterministic (fixed seed):

    .venv/bin/python -m tests.risk.make_corpus   # rewrites the rows whose category starts with name_

Every category is one behaviour of the matcher, with positives (the same person written
another way) and hard negatives (another person written alike). The word-level rows above them
(categories without the `name_` prefix) are the per-attribute matcher's and stay as they are.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus.csv")
PREFIX = "name_"

GIVEN = [
    "John",
    "Michael",
    "Peter",
    "Thomas",
    "David",
    "James",
    "Robert",
    "Daniel",
    "Andrew",
    "Richard",
    "Stephen",
    "George",
    "Edward",
    "Henry",
    "Walter",
    "Arthur",
    "Martin",
    "Lucas",
    "Oliver",
    "Simon",
    "Victor",
    "Patrick",
    "Anna",
    "Elena",
    "Sofia",
    "Laura",
    "Sarah",
    "Helen",
    "Clara",
    "Emma",
    "Julia",
    "Monica",
    "Teresa",
    "Irene",
    "Agnes",
    "Beatrice",
    "Lorenzo",
    "Matteo",
    "Giovanni",
    "Francesco",
    "Pablo",
    "Diego",
    "Carlos",
    "Miguel",
    "Rafael",
    "Tobias",
    "Hans",
    "Klaus",
    "Dieter",
    "Werner",
    "Gunther",
    "Ingrid",
    "Astrid",
    "Lars",
    "Sven",
    "Erik",
    "Nils",
    "Bjorn",
    "Piotr",
    "Tomasz",
    "Krzysztof",
    "Marek",
    "Pavel",
    "Jakub",
    "Ondrej",
]

SURNAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Taylor",
    "Anderson",
    "Thompson",
    "Harrison",
    "Fletcher",
    "Cartwright",
    "Garcia",
    "Martinez",
    "Rodriguez",
    "Gonzalez",
    "Lopez",
    "Romero",
    "Navarro",
    "Rossi",
    "Bianchi",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "Muller",
    "Schneider",
    "Fischer",
    "Weber",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schulz",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schroeder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Kowalski",
    "Nowak",
    "Wisniewski",
    "Wojcik",
    "Kaminski",
    "Lewandowski",
    "Dvorak",
    "Novotny",
    "Svoboda",
    "Lindqvist",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Dubois",
    "Laurent",
    "Lefebvre",
    "Moreau",
    "Fournier",
    "Girard",
    "Bonnet",
    "Mercier",
    "Blanchard",
]

# Spellings of one Arabic name (ALA-LC, and the usual English, French and press forms)
ARABIC_VARIANTS = [
    ["Muhammad", "Mohammed", "Mohamed", "Muhammed", "Mohammad"],
    ["Ahmad", "Ahmed"],
    ["Husayn", "Hussein", "Hussain", "Husain"],
    ["Hasan", "Hassan"],
    ["Usama", "Osama"],
    ["Yusuf", "Youssef", "Yousef", "Yusef"],
    ["Umar", "Omar"],
    ["Khalid", "Khaled"],
    ["Ibrahim", "Ebrahim"],
    ["Said", "Saeed", "Sayeed"],
    ["Faysal", "Faisal"],
    ["Tariq", "Tareq", "Tarik"],
    ["Karim", "Kareem"],
    ["Mustafa", "Mostafa", "Moustafa"],
    ["Mahmud", "Mahmoud"],
    ["Nasir", "Nasser", "Naser"],
    ["Rashid", "Rasheed", "Rachid"],
    ["Walid", "Waleed"],
    ["Zayd", "Zaid", "Zeid"],
    ["Abd al-Aziz", "Abdulaziz", "Abdel Aziz", "Abdelaziz"],
    ["Abd al-Rahman", "Abdulrahman", "Abdel Rahman", "Abdurrahman"],
    ["Abdallah", "Abdullah", "Abdulla"],
    ["Sulayman", "Suleiman", "Sulaiman"],
    ["Jafar", "Jaafar"],
    ["Hamza", "Hamzah"],
    ["Bilal", "Belal"],
    ["Anwar", "Anouar"],
    ["Salih", "Saleh"],
    ["Adil", "Adel"],
    ["Jalal", "Djalal"],
]
ARABIC_FAMILY = [
    "Tikriti",
    "Baghdadi",
    "Masri",
    "Zawahiri",
    "Hashimi",
    "Qahtani",
    "Shammari",
    "Otaibi",
    "Ghamdi",
    "Harbi",
    "Dosari",
    "Anzi",
    "Mutairi",
    "Zahrani",
    "Shehri",
    "Juhani",
    "Rashidi",
    "Saadi",
    "Kubaisi",
    "Jubouri",
]

# Spellings of one Russian name (BGN/PCGN, passport ICAO, French and German forms)
RUSSIAN_VARIANTS = [
    ["Aleksandr", "Alexander", "Alexandr"],
    ["Sergei", "Sergey", "Serguei"],
    ["Dmitri", "Dmitry", "Dmitriy"],
    ["Nikolai", "Nikolay"],
    ["Andrei", "Andrey"],
    ["Mikhail", "Michail", "Mihail"],
    ["Yevgeny", "Evgeny", "Evgeniy"],
    ["Aleksei", "Alexei", "Alexey"],
    ["Vasily", "Vasiliy", "Vassili"],
    ["Pyotr", "Petr"],
    ["Fyodor", "Fedor", "Fiodor"],
    ["Tatyana", "Tatiana", "Tatjana"],
    ["Natalya", "Natalia", "Natalja"],
    ["Ivanov", "Ivanoff"],
    ["Smirnov", "Smirnoff"],
    ["Kuznetsov", "Kuznetzov", "Kusnezow"],
    ["Popov", "Popoff"],
    ["Sokolov", "Sokoloff"],
    ["Chekhov", "Tchekhov", "Tschechow"],
    ["Khrushchev", "Khrushchov", "Chruschtschow"],
    ["Zhukov", "Joukov", "Schukow"],
    ["Tchaikovsky", "Chaikovsky", "Tschaikowski"],
    ["Gorbachev", "Gorbachov", "Gorbatschow"],
    ["Yeltsin", "Eltsine", "Jelzin"],
]

TITLES = [
    "Mr",
    "Mr.",
    "Mrs",
    "Dr",
    "Dr.",
    "Prof.",
    "Sir",
    "Shaikh",
    "Sheikh",
    "Haji",
    "Hajji",
    "Sayyid",
    "Mullah",
    "Maulana",
    "General",
    "Col.",
    "Captain",
    "Imam",
    "Mufti",
]

GENDER_PAIRS = [
    ("Carl", "Carla"),
    ("Mario", "Maria"),
    ("Paulo", "Paula"),
    ("Roberto", "Roberta"),
    ("Antonio", "Antonia"),
    ("Francesco", "Francesca"),
    ("Gabriel", "Gabriela"),
    ("Julian", "Juliana"),
    ("Daniel", "Daniela"),
    ("Marco", "Marca"),
    ("Luciano", "Luciana"),
    ("Adriano", "Adriana"),
    ("Fabio", "Fabia"),
    ("Martin", "Martina"),
    ("Christian", "Christiana"),
    ("Stefano", "Stefania"),
]
FIRST_SOUND_PAIRS = [
    ("Fernandez", "Hernandez"),
    ("Martinez", "Hartinez"),
    ("Kowalski", "Nowalski"),
    ("Bruno", "Pruno"),
    ("Romero", "Homero"),
    ("Garcia", "Marcia"),
    ("Weber", "Leber"),
    ("Becker", "Decker"),
    ("Wagner", "Gagner"),
    ("Meyer", "Beyer"),
    ("Hansen", "Jansen"),
    ("Nielsen", "Bielsen"),
]

# Names in their own scripts, hand-written, with their usual Latin spelling
SCRIPT_PAIRS = [
    ("Владимир Путин", "Vladimir Putin"),
    ("Сергей Лавров", "Sergei Lavrov"),
    ("Дмитрий Медведев", "Dmitry Medvedev"),
    ("Михаил Горбачёв", "Mikhail Gorbachev"),
    ("Борис Ельцин", "Boris Yeltsin"),
    ("Алексей Навальный", "Alexei Navalny"),
    ("Сергей Шойгу", "Sergei Shoigu"),
    ("Николай Патрушев", "Nikolai Patrushev"),
    ("Виктор Янукович", "Viktor Yanukovych"),
    ("Александр Лукашенко", "Alexander Lukashenko"),
    ("Рамзан Кадыров", "Ramzan Kadyrov"),
    ("Игорь Сечин", "Igor Sechin"),
    ("Юрий Гагарин", "Yuri Gagarin"),
    ("Андрей Громыко", "Andrei Gromyko"),
    ("Ελευθέριος Βενιζέλος", "Eleftherios Venizelos"),
    ("Γιώργος Παπανδρέου", "Georgios Papandreou"),
    ("Κωνσταντίνος Καραμανλής", "Konstantinos Karamanlis"),
    ("Αλέξης Τσίπρας", "Alexis Tsipras"),
    ("Ανδρέας Παπανδρέου", "Andreas Papandreou"),
    ("Νίκος Καζαντζάκης", "Nikos Kazantzakis"),
    ("أسامة بن لادن", "Usama bin Laden"),
    ("صدام حسين", "Saddam Hussein"),
    ("محمد علي", "Muhammad Ali"),
    ("أحمد حسن", "Ahmad Hassan"),
    ("خالد مشعل", "Khaled Mashal"),
    ("عمر البشير", "Omar al-Bashir"),
    ("حسن نصر الله", "Hassan Nasrallah"),
    ("محمود عباس", "Mahmoud Abbas"),
    ("يوسف القرضاوي", "Yusuf al-Qaradawi"),
    ("أيمن الظواهري", "Ayman al-Zawahiri"),
    ("أبو بكر البغدادي", "Abu Bakr al-Baghdadi"),
    ("بشار الأسد", "Bashar al-Assad"),
    ("معمر القذافي", "Muammar Qaddafi"),
    ("عبد الله عزام", "Abdullah Azzam"),
    ("سيف الإسلام القذافي", "Saif al-Islam Qaddafi"),
    ("习近平", "Xi Jinping"),
    ("李克强", "Li Keqiang"),
    ("王毅", "Wang Yi"),
    ("毛泽东", "Mao Zedong"),
    ("周恩来", "Zhou Enlai"),
    ("邓小平", "Deng Xiaoping"),
    ("胡锦涛", "Hu Jintao"),
    ("温家宝", "Wen Jiabao"),
    ("江泽民", "Jiang Zemin"),
    ("Тарас Шевченко", "Taras Shevchenko"),
    ("Володимир Зеленський", "Volodymyr Zelenskyy"),
    ("Јосип Броз Тито", "Josip Broz Tito"),
    ("Слободан Милошевић", "Slobodan Milosevic"),
]

PARTICLE_SURNAMES = [
    ("van", "Dijk"),
    ("van der", "Berg"),
    ("von", "Braun"),
    ("de", "Souza"),
    ("da", "Silva"),
    ("dos", "Santos"),
    ("del", "Toro"),
    ("di", "Marco"),
    ("de la", "Cruz"),
    ("van", "Houten"),
    ("von", "Weizsacker"),
    ("le", "Clerc"),
    ("du", "Pont"),
    ("ter", "Horst"),
    ("de", "Vries"),
    ("van", "Rijn"),
]


def _typo(word: str, rng: random.Random) -> str:
    """One keyboard-style edit after the first letter: delete, double, swap or replace."""
    i = rng.randrange(2, len(word) - 1)
    kind = rng.choice(["delete", "double", "swap", "replace"])
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    vowels = "aeiou"
    pool = vowels if word[i] in vowels else "rstnlm"
    return word[:i] + rng.choice([c for c in pool if c != word[i]]) + word[i + 1 :]


def _other(rng: random.Random, pool: list[str], *avoid: str) -> str:
    """A name of the pool that is neither `avoid` nor shares its first two letters."""
    while True:
        pick = rng.choice(pool)
        if all(pick != a and pick[:2].lower() != a[:2].lower() for a in avoid):
            return pick


# Spelling conventions of one name across transliteration systems (issue 16): Arabic
# diphthongs (ay / ei / ai), French `ou` for `w`, German spellings of Russian names (sch for zh,
# j for y, w for v), Russian ё written yo or e, and Arabic-script names with ayn, qaf and kha
# (ع ق خ) and the article glued to `abd` — each beside a hard negative.
CONVENTION_ROWS: list[tuple[str, str, int, str]] = [
    ("Zaynab Haddad", "Zeinab Haddad", 1, "phonetic"),
    ("Zaynab Haddad", "Zainab Hamdan", 0, "phonetic"),
    ("Layla Nasser", "Leila Nasser", 1, "phonetic"),
    ("Layla Nasser", "Lina Nasser", 0, "phonetic"),
    ("Faisal Rahimi", "Feisal Rahimi", 1, "phonetic"),
    ("Faisal Rahimi", "Fadil Rahimi", 0, "phonetic"),
    ("Khairi Jaber", "Kheiri Jaber", 1, "phonetic"),
    ("Khairi Jaber", "Khalil Jaber", 0, "phonetic"),
    ("Marwan Qasim", "Marouane Qassim", 1, "phonetic"),
    ("Marwan Qasim", "Marzouk Qassim", 0, "phonetic"),
    ("Souad Hamdi", "Suad Hamdi", 1, "phonetic"),
    ("Souad Hamdi", "Sana Hamdi", 0, "phonetic"),
    ("Radwan Aziz", "Redouane Aziz", 1, "phonetic"),
    ("Anwar Saleh", "Ammar Saleh", 0, "phonetic"),
    ("Mikhail Zhirinovsky", "Michail Schirinowski", 1, "phonetic"),
    ("Mikhail Zhirinovsky", "Michail Schukow", 0, "phonetic"),
    ("Yegor Zhiltsov", "Jegor Schilzow", 1, "phonetic"),
    ("Yegor Zhiltsov", "Igor Schilzow", 0, "phonetic"),
    ("Pyotr Zhuravlev", "Petr Zhuravlev", 1, "phonetic"),
    ("Pyotr Zhuravlev", "Pavel Zhuravlev", 0, "phonetic"),
    ("Yuri Jakowlew", "Yuri Yakovlev", 1, "phonetic"),
    ("Yuri Yakovlev", "Yuri Yashin", 0, "phonetic"),
    ("Khalid Qasim", "خالد قاسم", 1, "scripts"),
    ("Khalid Qasim", "خالد حسن", 0, "scripts"),
    ("Abd al-Aziz Qadir", "عبد العزيز قادر", 1, "scripts"),
    ("Abd al-Aziz Qadir", "عبد الرحمن قادر", 0, "scripts"),
    ("Umar Ali Khadr", "عمر علي خضر", 1, "scripts"),
    ("Umar Ali Khadr", "عمر علي يوسف", 0, "scripts"),
    ("Ali Saad Abd al-Qawi", "علي سعد عبد القوي", 1, "scripts"),
    ("Ali Saad Abd al-Qawi", "علي سعيد منصور", 0, "scripts"),
    ("Ammar Abd al-Karim Zawahiri", "عمار عبد الكريم الظواهري", 1, "scripts"),
    ("Ammar Abd al-Karim Zawahiri", "عمار عبد الكريم الحسيني", 0, "scripts"),
]


def build(rng: random.Random) -> list[tuple[str, str, int, str]]:
    rows: list[tuple[str, str, int, str]] = []

    def add(listed: str, screened: str, expected: int, category: str) -> None:
        rows.append((listed, screened, expected, PREFIX + category))

    def person() -> tuple[str, str, str]:
        return rng.choice(GIVEN), _other(rng, GIVEN), rng.choice(SURNAMES)

    for _ in range(60):  # order, case, punctuation
        g, m, s = person()
        form = rng.choice(
            [
                f"{s}, {g} {m}",
                f"{s} {g} {m}",
                f"{g.upper()} {m.upper()} {s.upper()}",
                f"{g.lower()}-{m.lower()} {s.lower()}",
                f"{s.upper()}, {g}",
                f"{g}. {s}.",
            ]
        )
        add(f"{g} {m} {s}", form, 1, "order_case")
        add(f"{g} {s}", f"{s}, {_other(rng, GIVEN, g)}", 0, "order_case")
    accents = {"a": "á", "e": "é", "o": "ö", "u": "ü", "i": "í", "n": "ñ", "c": "ç"}
    for _ in range(50):  # accents and spacing
        g, m, s = person()
        accented = "".join(accents.get(c, c) if rng.random() < 0.3 else c for c in s)
        add(f"{g} {s}", f"{g} {accented}", 1, "accents_spacing")
        add(f"{g} {m} {s}", f"{g}{m} {s}", 1, "accents_spacing")
        add(f"{g} {s}", f"{_other(rng, GIVEN, g)} {accented}", 0, "accents_spacing")
    for _ in range(60):  # titles and honorifics
        g, m, s = person()
        title = rng.choice(TITLES)
        add(f"{g} {m} {s}", f"{title} {g} {m} {s}", 1, "titles")
        add(f"{title} {g} {s}", f"{_other(rng, GIVEN, g)} {s}", 0, "titles")
    for _ in range(50):  # particles: weak words
        g = rng.choice(GIVEN)
        particle, family = rng.choice(PARTICLE_SURNAMES)
        add(
            f"{g} {particle} {family}",
            rng.choice(
                [
                    f"{g} {family}",
                    f"{g} {particle.title()}{family.lower()}",
                    f"{family}, {g} {particle}",
                ]
            ),
            1,
            "particles",
        )
        a, f = rng.choice(ARABIC_VARIANTS)[0], rng.choice(ARABIC_FAMILY)
        add(
            f"{a} al-{f}",
            rng.choice([f"{a} {f}", f"{a} Al {f}", f"{a} el-{f}", f"{a} Al{f.lower()}"]),
            1,
            "particles",
        )
        add(
            f"{g} {particle} {family}",
            f"{_other(rng, GIVEN, g)} {particle} {family}",
            0,
            "particles",
        )
        add(f"{a} al-{f}", f"{a} al-{_other(rng, ARABIC_FAMILY, f)}", 0, "particles")
    for _ in range(60):  # initials
        g, m, s = person()
        add(
            f"{g} {m} {s}",
            rng.choice([f"{g} {m[0]} {s}", f"{g} {m[0]}. {s}", f"{g[0]}. {m} {s}"]),
            1,
            "initials",
        )
        wrong = _other(rng, GIVEN, m)[0]
        if wrong != m[0]:
            add(f"{g} {m} {s}", f"{g} {wrong}. {s}", 0, "initials")
    for _ in range(60):  # a missing or extra middle name
        g, m, s = person()
        add(f"{g} {m} {s}", f"{g} {s}", 1, "middle_name")
        add(f"{g} {s}", f"{g} {m} {s}", 1, "middle_name")
        add(f"{g} {m} {s}", f"{g} {_other(rng, GIVEN, m, g)} {s}", 0, "middle_name")
    for _ in range(70):  # typos
        g, _, s = person()
        long = [w for w in (g, s) if len(w) >= 5]
        if not long:
            continue
        target = rng.choice(long)
        typed = f"{g} {s}".replace(target, _typo(target, rng), 1)
        add(f"{g} {s}", typed, 1, "typos")
    for a, b in GENDER_PAIRS:
        s = rng.choice(SURNAMES)
        add(f"{a} {s}", f"{b} {s}", 0, "typos")
    for a, b in FIRST_SOUND_PAIRS:
        g = rng.choice(GIVEN)
        add(f"{g} {a}", f"{g} {b}", 0, "typos")
    for _ in range(90):  # phonetic and transliteration variants
        group = rng.choice(ARABIC_VARIANTS)
        other_group = rng.choice([v for v in ARABIC_VARIANTS if v is not group])
        family = rng.choice(ARABIC_FAMILY)
        a, b = rng.sample(group, 2)
        add(f"{a} {family}", f"{b} {family}", 1, "phonetic")
        add(f"{a} {family}", f"{rng.choice(other_group)} {family}", 0, "phonetic")
        first_group, last_group = (
            rng.sample(RUSSIAN_VARIANTS[:13], 1)[0],
            rng.sample(RUSSIAN_VARIANTS[13:], 1)[0],
        )
        add(
            f"{first_group[0]} {last_group[0]}",
            f"{rng.choice(first_group[1:])} {rng.choice(last_group[1:])}",
            1,
            "phonetic",
        )
    for script, latin in SCRIPT_PAIRS:  # non-Latin scripts
        add(latin, script, 1, "scripts")
        other = rng.choice([p for p in SCRIPT_PAIRS if p[1].split()[0][:2] != latin.split()[0][:2]])
        add(latin, other[0], 0, "scripts")
    for _ in range(60):  # shared surname: same person spelled differently, or someone else
        g, _, s = person()
        add(
            f"{g} {s}", f"{g} {s}e" if not s.endswith("e") else f"{g} {s[:-1]}", 1, "shared_surname"
        )
        add(f"{g} {s}", s, 0, "shared_surname")
        add(f"{g} {s}", f"{_other(rng, GIVEN, g)} {s}", 0, "shared_surname")
    for _ in range(60):  # patronymic chains and swaps
        a_group, b_group = rng.sample(ARABIC_VARIANTS[:19], 2)
        a, b = a_group[0], b_group[0]
        family = rng.choice(ARABIC_FAMILY)
        add(
            f"{a} bin {b} al-{family}",
            rng.choice(
                [
                    f"{a} ibn {b} {family}",
                    f"{rng.choice(a_group)} bin {rng.choice(b_group)} Al {family}",
                    f"{a} {b} {family}",
                ]
            ),
            1,
            "patronymic",
        )
        add(f"{a} bin {b}", f"{b} bin {a}", 0, "patronymic")
        add(f"{a} bin {b} al-{family}", f"{b} ibn {a} al-{family}", 0, "patronymic")
    for listed, screened, expected, category in CONVENTION_ROWS:
        add(listed, screened, expected, category)
    return rows


def main() -> None:
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        kept = [r for r in csv.DictReader(handle) if not r["category"].startswith(PREFIX)]
    rows = build(random.Random(20261129))
    seen: set[tuple[str, str]] = set()
    with CORPUS.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["listed", "screened", "expected", "category"])
        for r in kept:
            writer.writerow([r["listed"], r["screened"], r["expected"], r["category"]])
        for listed, screened, expected, category in rows:
            if (listed, screened) in seen or listed == screened:
                continue
            seen.add((listed, screened))
            writer.writerow([listed, screened, expected, category])


if __name__ == "__main__":
    main()
