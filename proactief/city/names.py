"""Names and languages of the synthetic city: who the people of Ghent are called.

Households are drawn from a handful of origins in roughly the proportions that Ghent's
population shows (mostly Flemish, sizeable Turkish, Moroccan, Bulgarian and Slovak
communities, French speakers, students and expats from elsewhere), so that names carry
the city's real spread of diacritics and apostrophes: `Zoë`, `D'Hondt`, `Çelik`,
`Van den Bossche`, `Wiśniewska`, `Nguyen`, `El Amrani`.

Surnames that take a feminine form are written `masculine|feminine` (`Ivanov|Ivanova`);
`surname_for` picks the form. Every name here is common in its community and is
combined at random: no person in the city is real.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Origin:
    """A naming tradition: its surnames, first names and the languages its people pick."""

    key: str
    weight: float
    surnames: tuple[str, ...]
    female: tuple[str, ...]
    male: tuple[str, ...]
    # (language, probability) pairs; whatever is left over is Dutch
    languages: tuple[tuple[str, float], ...] = ()
    # Flemish first names follow the generations; other traditions change little
    female_by_era: tuple[tuple[str, ...], ...] = ()
    male_by_era: tuple[tuple[str, ...], ...] = ()


def _split(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


# Birth years where the Flemish first-name fashion turns over.
_ERA_LIMITS = (1965, 1995)

_FLEMISH = Origin(
    key="flemish",
    weight=68.0,
    surnames=_split(
        "Peeters, Janssens, Maes, Jacobs, Mertens, Willems, Claes, Goossens, Wouters,"
        " De Smet, De Meyer, Vermeulen, Van Damme, De Clercq, Declercq, Van de Velde,"
        " Vandenberghe, De Vos, De Backer, Claeys, D'Hondt, D'Haese, D'hooge,"
        " D'Hulster, Van den Bossche, Van den Broeck, Vanden Berghe, Van Acker,"
        " Van Hecke, Verhaeghe, De Wilde, De Paepe, Van Laere, Van Hoecke, De Keyser,"
        " Verstraete, Baert, Coppens, Vanhove, Dhaenens, De Muynck, Van de Walle,"
        " Van der Linden, Vercruysse, Lippens, De Coninck, De Baets, Bracke,"
        " Van Renterghem, Standaert, De Schepper, Van Landeghem, De Moor, Van Parys,"
        " Van Wassenhove, Criel, De Bruyne, Vanderstraeten, Meuleman, Van Overmeire,"
        " Poelman, De Waele, Braeckman, Van Cauwenberghe, Heyndrickx, Hoste, Cnudde,"
        " Goethals, Martens, Van Hove, De Ridder, Bogaert, Temmerman, Van Vooren"
    ),
    female=(),
    male=(),
    female_by_era=(
        _split(
            "Maria, Godelieve, Christiane, Monique, Rita, Marleen, Linda, Martine,"
            " Hilde, Agnes, Paula, Josée, Gisèle, Thérèse, Renée, Noëlla, Mariëtte,"
            " Denise, Simonne, Jeanine, Lutgarde, Rosa"
        ),
        _split(
            "An, Katrien, Sofie, Els, Veerle, Nathalie, Sarah, Leen, Evelien, Lies,"
            " Tine, Joke, Kelly, Ellen, Ine, Liesbeth, Griet, Hanne, Valérie,"
            " Joëlle, Ilse, Inge, Karolien, Annelies, Charlotte"
        ),
        _split(
            "Emma, Olivia, Louise, Mila, Noor, Elena, Lena, Zoë, Chloë, Nore, Marie,"
            " Ella, Fien, Lotte, Lore, Febe, Hanne, Noa, Anaïs, Liv, Amélie,"
            " Juliette, Ines, Jana, Ilona"
        ),
    ),
    male_by_era=(
        _split(
            "Jozef, Marcel, André, Georges, Willy, Roger, Eddy, Luc, Marc, Guido,"
            " Etienne, Frans, Noël, René, Gilbert, Daniël, Robert, Julien, Raymond,"
            " Hendrik, Walter"
        ),
        _split(
            "Tom, Koen, Pieter, Bart, Kristof, Wim, Jeroen, Dries, Stijn, Frederik,"
            " Nico, Kevin, Gert, Joris, Steven, Jens, Thomas, Michaël, Raphaël, Sven,"
            " Geert, Filip, Dieter, Tim"
        ),
        _split(
            "Noah, Lucas, Liam, Louis, Arthur, Jules, Finn, Mathis, Vic, Warre, Wout,"
            " Seppe, Lars, Mauro, Rune, Siebe, Tuur, Lowie, Noé, Loïc, Gaël, Rafaël,"
            " Matthias, Cas, Mats, Jef"
        ),
    ),
)

_ORIGINS: tuple[Origin, ...] = (
    _FLEMISH,
    Origin(
        key="turkish",
        weight=7.0,
        surnames=_split(
            "Yılmaz, Kaya, Demir, Çelik, Şahin, Yıldız, Öztürk, Aydın, Özdemir,"
            " Arslan, Doğan, Kılıç, Aslan, Çetin, Kara, Koç, Kurt, Özkan, Şimşek,"
            " Polat, Erdoğan, Güneş, Akın, Tekin"
        ),
        female=_split(
            "Ayşe, Fatma, Emine, Hatice, Zeynep, Elif, Büşra, Merve, Esra, Gülsüm,"
            " Şeyma, Derya, Hülya, Ecrin, Yağmur, Nisa, Defne, Melek, Gül"
        ),
        male=_split(
            "Mehmet, Mustafa, Ahmet, Hüseyin, Hasan, İbrahim, Emre, Burak, Furkan,"
            " Yusuf, Ömer, Murat, Kerem, Emir, Eymen, Çağlar, Barış, Göktuğ"
        ),
        languages=(("en", 0.02),),
    ),
    Origin(
        key="moroccan",
        weight=5.0,
        surnames=_split(
            "El Amrani, El Idrissi, Benali, Bouzid, El Ouardi, Azzouzi, Ait Ouali,"
            " Boukhari, Amrani, Ben Haddou, El Khayari, Bouhaddou, Ouahabi, Tahiri,"
            " El Moussaoui, Ziani, Belhaj, Lahlou"
        ),
        female=_split(
            "Fatima, Khadija, Nour, Salma, Imane, Yasmina, Aya, Hafsa, Malika,"
            " Naïma, Soukaïna, Ikram, Meryem, Sara, Hajar"
        ),
        male=_split(
            "Mohamed, Youssef, Ilyas, Ayoub, Rayan, Bilal, Hamza, Said, Karim,"
            " Abdelkader, Mehdi, Anass, Adam, Ismaël, Othmane"
        ),
        languages=(("fr", 0.15),),
    ),
    Origin(
        key="bulgarian",
        weight=4.0,
        surnames=_split(
            "Ivanov|Ivanova, Georgiev|Georgieva, Dimitrov|Dimitrova,"
            " Mehmedov|Mehmedova, Ahmedov|Ahmedova, Hasanov|Hasanova,"
            " Aliev|Alieva, Salimov|Salimova, Petrov|Petrova, Yusein, Mustafa,"
            " Stoyanov|Stoyanova, Ismailov|Ismailova"
        ),
        female=_split(
            "Nurten, Fatme, Gyulsen, Emine, Svetla, Ayten, Sevda, Nadezhda,"
            " Silviya, Denitsa, Aylin, Meleknur"
        ),
        male=_split(
            "Sevgin, Ayhan, Ivan, Dimitar, Georgi, Sabri, Erhan, Nikolay, Orhan,"
            " Bilent, Ismail, Plamen"
        ),
        languages=(("en", 0.05),),
    ),
    Origin(
        key="slovak",
        weight=2.0,
        surnames=_split(
            "Horváth, Baláž|Balážová, Kováč|Kováčová, Oláh, Lakatoš|Lakatošová,"
            " Červeňák|Červeňáková, Gažo|Gažová, Dudáš|Dudášová, Puška|Pušková"
        ),
        female=_split("Mária, Žaneta, Renáta, Monika, Vanesa, Denisa, Alžbeta, Simona"),
        male=_split("Ján, Štefan, Dušan, Marek, Milan, Tomáš, Jozef, Lukáš, René"),
        languages=(("en", 0.05),),
    ),
    Origin(
        key="polish",
        weight=1.5,
        surnames=_split(
            "Kowalski|Kowalska, Wiśniewski|Wiśniewska, Wójcik, Kamiński|Kamińska,"
            " Lewandowski|Lewandowska, Zieliński|Zielińska, Nowak, Dąbrowski|Dąbrowska,"
            " Grabowski|Grabowska, Mazur"
        ),
        female=_split("Małgorzata, Agnieszka, Katarzyna, Joanna, Zofia, Ewa, Natalia"),
        male=_split("Łukasz, Wojciech, Piotr, Krzysztof, Paweł, Michał, Tomasz"),
        languages=(("en", 0.15),),
    ),
    Origin(
        key="french",
        weight=3.5,
        surnames=_split(
            "Dubois, Lambert, Dupont, Lefèvre, Mercier, François, Gérard, Renard,"
            " Lejeune, Martin, Leclercq, Simon, Laurent, Denis, Collignon, Hérion,"
            " Delvaux, Lemaître"
        ),
        female=_split(
            "Hélène, Amélie, Céline, Léa, Chloé, Zoé, Renée, Maëlle, Noémie, Gaëlle,"
            " Véronique, Thérèse, Anne-Sophie, Élise, Margaux"
        ),
        male=_split(
            "Mathéo, Benoît, Jérôme, Éric, Frédéric, François, Cédric, Sébastien,"
            " André, Jean-François, Théo, Grégoire, Maxime"
        ),
        languages=(("fr", 0.85),),
    ),
    Origin(
        key="african",
        weight=2.0,
        surnames=_split(
            "Mbuyi, Kabongo, Tshibangu, Diallo, Bah, Okafor, Mensah, Ndiaye, Mukendi,"
            " Ilunga, Kouamé, Traoré, Nkurunziza"
        ),
        female=_split(
            "Grâce, Divine, Christelle, Fatoumata, Aminata, Ngozi, Esther, Josiane,"
            " Bénédicte, Mireille"
        ),
        male=_split(
            "Jean-Pierre, Patrick, Emmanuel, Amadou, Chinedu, Kwame, Didier,"
            " Mamadou, Joël, Hervé"
        ),
        languages=(("fr", 0.45), ("en", 0.15)),
    ),
    Origin(
        key="asian",
        weight=1.0,
        surnames=_split("Nguyen, Tran, Le, Pham, Hoang, Vu, Wang, Li, Zhang, Chen"),
        female=_split("Linh, Anh, Mai, Thu, Lan, Mei, Xiaoling, Hoa"),
        male=_split("Minh, Duc, Tuan, Long, Wei, Jun, Hao, Quang"),
        languages=(("en", 0.3),),
    ),
    Origin(
        key="middle_eastern",
        weight=2.0,
        surnames=_split(
            "Al Hassan, Haidari, Ahmadi, Rahimi, Alizadeh, Hussaini, Al Khalil,"
            " Nazari, Al Ahmad, Sultani, Khoury"
        ),
        female=_split("Zahra, Mariam, Noor, Farida, Rania, Huda, Leila, Shirin"),
        male=_split("Omar, Ahmad, Ali, Hassan, Reza, Mahmoud, Khaled, Jawad"),
        languages=(("en", 0.15), ("fr", 0.05)),
    ),
    Origin(
        key="southern_european",
        weight=1.5,
        surnames=_split(
            "García, Martínez, Fernández, López, Rodríguez, Rossi, Esposito, De Luca,"
            " Ferreira, Gonçalves, Romano"
        ),
        female=_split("María, Lucía, Sofía, Giulia, Francesca, Inês, Ana, Chiara"),
        male=_split("José, Álvaro, Jesús, Marco, João, Giuseppe, Andrés, Luca"),
        languages=(("en", 0.1), ("fr", 0.1)),
    ),
    Origin(
        key="northern",
        weight=2.5,
        surnames=_split(
            "de Vries, van Dijk, Bakker, de Jong, Visser, van den Berg, Smith,"
            " O'Brien, O'Connor, Taylor, McCarthy, Müller, Schäfer, Weiß"
        ),
        female=_split(
            "Sanne, Femke, Anouk, Emily, Siobhán, Sophie, Hannah, Maren, Chloe"
        ),
        male=_split("Daan, Sem, Jasper, James, Oliver, Seán, Jonas, Lukas, Björn"),
        languages=(("en", 0.45),),
    ),
)

_WEIGHTS = tuple(origin.weight for origin in _ORIGINS)


def draw_origin(rng: random.Random) -> Origin:
    """A naming tradition for a new household, in the city's proportions."""
    return rng.choices(_ORIGINS, weights=_WEIGHTS)[0]


def flemish() -> Origin:
    return _FLEMISH


def draw_language(rng: random.Random, origin: Origin) -> str:
    """The language a person registers with: Dutch unless their origin suggests other."""
    roll = rng.random()
    for language, share in origin.languages:
        if roll < share:
            return language
        roll -= share
    return "nl"


def draw_first_name(
    rng: random.Random, origin: Origin, sex: str, birth_year: int
) -> str:
    eras = origin.female_by_era if sex == "F" else origin.male_by_era
    if eras:
        era = sum(birth_year >= limit for limit in _ERA_LIMITS)
        return rng.choice(eras[era])
    return rng.choice(origin.female if sex == "F" else origin.male)


def draw_surname(rng: random.Random, origin: Origin) -> str:
    """A family name in its `masculine|feminine` spelling; see `surname_for`."""
    return rng.choice(origin.surnames)


def surname_for(family_name: str, sex: str) -> str:
    masculine, _, feminine = family_name.partition("|")
    return feminine if sex == "F" and feminine else masculine
