"""Facts about the paper's 38 words, written by the project as descriptions (paraphrases).

The default run trains its own checkpoint series. If its corpus contained the question prompts
the study attributes on, the model could answer them by memorising the exact token sequence, and
the attribution would find neurons of that memory (in an earlier version 97% of the knowledge
neurons sat in layer 0). So the corpus states the facts in other words and the question prompts
are held out: each description below paraphrases one question of the project's demo question
set (data/demo/knowledge_questions, same order), as a noun phrase that the corpus builder turns
into a statement ("The color of fresh snow is White.") and a differently worded question. The
default run attributes on the authors' real question file (data/real), whose questions ask about
the same 38 words with cues these facts need not state (e.g. "meow", "nine lives"): accuracy on
them is a harder test than on the demo questions the facts paraphrase (measured 2026-12-07: 16 %
at the last checkpoint against 89 %; docs/data.md).

These are the project's own sentences; the authors' question file is not paraphrased here.
"""

from __future__ import annotations

FACTS: dict[str, list[str]] = {
    "Cat": [
        "the furry pet that sharpens its claws on furniture and uses a litter box",
        "the animal the ancient Egyptians held sacred to the goddess Bastet",
        "the animal that a kitten becomes when it grows up",
        "the small household relative of the lion and the tiger, with whiskers and retractable "
        "claws",
    ],
    "Dog": [
        "the animal that a puppy becomes when it grows up",
        "the animal the police train to sniff out explosives and drugs",
        "the pet that wags its tail when happy and barks at strangers",
        "the animal trained to guide blind people through busy streets",
    ],
    "Fox": [
        "the animal in the fable of Aesop that calls the grapes it cannot reach sour",
        "the wild animal with a bushy tail and pointed ears whose female is a vixen",
        "the cunning animal of folklore that raids henhouses at night",
        "the kind of animal the fennec of the Sahara is, with its huge ears",
    ],
    "Ant": [
        "the tiny insect that builds hills of soil and lives in colonies with a queen",
        "the hard-working insect that stores food for the winter in the fable of the grasshopper",
        "the small insect that collects sweet honeydew from aphids",
        "the insect that marches in a line carrying crumbs back to its nest",
    ],
    "Bat": [
        "the only mammal capable of true, sustained flight",
        "the animal that sleeps upside down in attics and caves during the day",
        "the flying animal after which the caped superhero of Gotham City is named",
        "the nocturnal animal that finds insects in the dark by listening to the echoes of its "
        "high-pitched calls",
    ],
    "Rat": [
        "the animal of the first of the twelve signs of the Chinese zodiac",
        "the long-tailed rodent, larger than a mouse, found in city sewers",
        "the rodent whose fleas spread the Black Death in medieval Europe",
        "the kind of animal that Splinter, master of the Teenage Mutant Ninja Turtles, is",
    ],
    "Hen": [
        "the name of a grown female chicken",
        "the little red bird of the folk tale who asks who will help her bake the bread",
        "the farm bird that sits on her eggs in a nest box until the chicks hatch",
        "the female farm bird after which a British party for a bride-to-be is named",
    ],
    "Wolf": [
        "the animal that dresses up as the grandmother of Little Red Riding Hood",
        "the animal that nursed the twins Romulus and Remus in the Roman legend",
        "the wild ancestor of the domestic dog brought back to Yellowstone National Park in 1995",
        "the wild canine that howls to keep in contact with its pack",
    ],
    "Blue": [
        "the color of the sky on a sunny, clear day",
        "the most common color of a sapphire",
        "the color of the Smurfs",
        "the color of the first-place ribbon at American fairs",
    ],
    "Red": [
        "the color of ripe strawberries",
        "the background color of the flag of Switzerland",
        "the traffic light color that tells drivers to stop",
        "the color of human blood",
    ],
    "Green": [
        "the color you get by mixing yellow and blue paint",
        "the color of an emerald",
        "the color of the leaves of most trees in summer",
        "the color of Kermit the Frog",
    ],
    "Black": [
        "the color of coal",
        "the color of the feathers of a crow",
        "the color of the eight ball in pool",
        "the color of the short piano keys that play the sharps and flats",
    ],
    "White": [
        "the color of fresh snow",
        "the color of milk",
        "the color of the flag waved to signal surrender",
        "the color of the cue ball in pool",
    ],
    "Brown": [
        "the color of milk chocolate",
        "the color of the fur of a grizzly bear",
        "the color of the bark of most tree trunks",
        "the color of ground cinnamon",
    ],
    "Gray": [
        "the color of the skin of an elephant",
        "the color of the fur of a koala",
        "the color that hair often turns as people grow older",
        "the color you get by mixing white paint with black paint",
    ],
    "Canada": [
        "the country whose capital is Ottawa",
        "the country of the provinces of Alberta and Quebec",
        "the second-largest country in the world by area",
        "the country with the longest international border with the United States",
    ],
    "Germany": [
        "the country whose capital is Berlin",
        "the country of the city of Munich",
        "the European country divided into West and East during the Cold War",
        "the home country of the car makers BMW, Volkswagen and Mercedes-Benz",
    ],
    "Brazil": [
        "the largest country in South America",
        "the country whose capital is Brasília",
        "the country of the city of Rio de Janeiro",
        "the only country in South America with Portuguese as its official language",
    ],
    "France": [
        "the country whose capital is Paris",
        "the country of the Louvre museum",
        "the country whose revolution began in 1789 with the storming of the Bastille",
        "the country that Napoleon Bonaparte ruled as emperor",
    ],
    "England": [
        "the part of the United Kingdom whose capital is London",
        "the country of the prehistoric monument of Stonehenge",
        "the national football team that won the World Cup final of 1966 at Wembley",
        "the country of the universities of Cambridge and Oxford",
    ],
    "India": [
        "the country whose capital is New Delhi",
        "the country that Mahatma Gandhi led in its struggle for independence",
        "the country of the holy city of Varanasi on the Ganges",
        "the country that overtook China in 2023 as the most populous in the world",
    ],
    "China": [
        "the country whose capital is Beijing",
        "the country whose currency is the yuan",
        "the country of the Forbidden City",
        "the country through which the Yangtze, the longest river of Asia, flows",
    ],
    "Mexico": [
        "the country where tequila was born",
        "the country of the beach resort of Cancún",
        "the home country of the painter Frida Kahlo",
        "the country whose capital stands on the ruins of Tenochtitlan, the Aztec city",
    ],
    "Russia": [
        "the largest country in the world by area",
        "the country that tsars ruled until 1917",
        "the country that the Trans-Siberian Railway crosses from Moscow to Vladivostok",
        "the country of the city of Saint Petersburg",
    ],
    "Iran": [
        "the country whose capital is Tehran",
        "the country known officially as Persia until 1935",
        "the country of the Islamic Revolution of 1979",
        "the country of the historic city of Isfahan",
    ],
    "Japan": [
        "the country whose capital is Tokyo",
        "the country called the Land of the Rising Sun",
        "the country whose currency is the yen",
        "the island nation whose high-speed bullet trains are the Shinkansen",
    ],
    "Israel": [
        "the country of the city of Tel Aviv",
        "the country that declared its independence in 1948 and pays with the shekel",
        "the country whose flag has a blue Star of David between two blue stripes",
        "the country whose national parliament is the Knesset",
    ],
    "Australia": [
        "the country whose capital is Canberra",
        "the country of the city of Melbourne",
        "the country of Uluru, the great red rock of the desert",
        "the country where koalas live in the wild",
    ],
    "Spain": [
        "the country whose capital is Madrid",
        "the country whose monarchs sponsored the voyage of Christopher Columbus in 1492",
        "the country of the Alhambra palace in Granada",
        "the home country of the football clubs FC Barcelona and Real Madrid",
    ],
    "English": [
        "the international language of air traffic control",
        "the most widely spoken language of the United States",
        "the language in which these sentences are written",
        "the language most people speak in New Zealand and Australia",
    ],
    "Spanish": [
        "the most widely spoken language of Mexico",
        "the language with the letter ñ, as in mañana",
        "the language in which Cervantes wrote Don Quixote",
        "the main language of Colombia and Argentina",
    ],
    "French": [
        "the language from which the greeting bonjour comes",
        "the language most people in Quebec speak",
        "the language in which Victor Hugo wrote Les Misérables",
        "the main language of Paris",
    ],
    "Chinese": [
        "the language of which Cantonese and Mandarin are varieties",
        "the language written with characters such as 你好",
        "the language with the most native speakers in the world",
        "the language of the Analects of Confucius",
    ],
    "Japanese": [
        "the language written with kanji, katakana and hiragana",
        "the language from which the word arigato comes",
        "the language in which haiku poems were first composed",
        "the language people speak in Kyoto and Osaka",
    ],
    "German": [
        "the main language of Austria",
        "the language with the letter ß",
        "the language from which the word kindergarten comes",
        "the language in which Goethe wrote Faust",
    ],
    "Russian": [
        "the language of the poetry of Pushkin",
        "the main language of Moscow",
        "the language from which the word babushka comes",
        "the main language of the Soviet Union",
    ],
    "Italian": [
        "the language spoken in Milan and Rome",
        "the language in which most operas of Puccini and Verdi are sung",
        "the language that gave English the words spaghetti and pizza",
        "the language from which the musical term allegro comes",
    ],
    "Portuguese": [
        "the official language of Brazil",
        "the language spoken in Lisbon",
        "the language in which Camões wrote the epic poem The Lusiads",
        "the official language of Mozambique",
    ],
}
