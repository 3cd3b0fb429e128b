"""Every word list and pattern the reasoner reads questions and choices with, in one place.

Patterns describe how people ask (any phrasing of "who", "how much", "did I ... ?", "what's
coming up"), never how one generator words its questions; tests/test_reasoning.py asks each kind
in several wordings.
"""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be been before being below between both but by can could
    did do does doing down during each few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom whose why will with would you your yours yourself
    time times last first ago today yesterday tonight morning afternoon evening night week day days recently ever
    tell remember remind again usually often normally typically many much
    see saw seen meet met go went gone going come came happen happened happening get got i'm i've
    place places
    say said says ask asked asks told hear heard mention mentioned suggest suggested plan planned
    so um uh oh hey okay ok well like actually exactly anyway remind reminds wait what's where's when's who's how's
    did didn't don't doesn't wasn't weren't isn't aren't i'd i'll i'll we'd we're we've you're it's that's there's let's
    gonna wanna gotta kind sort thing stuff one ones end ended again back right just around roughly approximately""".split()
)  # "which place" frames a question, and nobody says "I ask you": speech acts search through SPEECH_CUES

# Words a question uses for a speech act -> words the speaker most likely said.
SPEECH_CUES: dict[str, tuple[str, ...]] = {
    "remind": ("remember", "forget"),
    "reminded": ("remember", "forget"),
    "suggest": ("let's",),
    "suggested": ("let's",),
    "plan": ("let's",),
    "planned": ("let's",),
    "recommend": ("should", "try"),
    "recommended": ("should", "try"),
    "promise": ("i'll",),
    "promised": ("i'll",),
    "cost": ("price",),
    "pay": ("price",),
    "paid": ("price",),
}

# What a question asks, tried in order: the first that matches decides the answer's kind.
KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    ("count", r"\bhow (many|often)\b|\bnumber of (times|visits)\b|\bhow frequently\b"),
    ("how_much", r"\bhow much\b.*\b(cost|costs|pay|paid|spend|spent|charge[ds]?|price|come to|came to|was it|is it|be)\b"
                 r"|\bwhat (was|is|'s) the (price|cost|total|bill)\b|\bwhat did .* (cost|costing|charge|come to)\b|\bprice of\b"
                 r"|\bend(ed)? up (costing|paying|being)\b"),
    ("who", r"\b(who|whom|whose)\b|\bwhich (person|people|friend|one of them)\b|\bwith whom\b"
            r"|\bwhat('s| is| was) (the |his |her |their )?name\b|\bwhat (was|is) (he|she|the \w+) called\b"
            r"|\b(caller|companions?)\b|\bname\?"),
    ("where", r"\bwhere\b|\bwhich (place|shop|store|room|city|cafe|restaurant|bar|spot)\b|\bwhat (place|shop|store)\b"),
    ("when", r"\bwhen\b|\bwhat time\b|\bwhat day\b|\bwhich day\b|\bwhat date\b|\bhow long ago\b|\bwhat hour\b"),
    ("yes_no", r"^\s*(did|do|does|was|were|is|are|have|has|had|am|will|can|could|should)\s+(i|we|you|he|she|they|it|there|\w+)\b"),
)  # fmt: skip

# Seen (text in view, things looked at) versus heard (said, asked).
SEEN = r"\b(see|saw|seen|label|sign|read|written|writing|look(ed)? at|notice(d)?|displayed|in view|poster|menu|board|receipt|note)\b"
HEARD = (
    r"\b(say|said|says|saying|ask(ed)?|tell|told|mention(ed)?|hear|heard|remind(ed)?|promise(d)?|plan(ned)?|suggest(ed)?|"
    r"talk(ed)?|recommend(ed)?|want(ed)?|wanted me|call(ed)?|agree(d)?|decide(d)?|offer(ed)?)\b"
)

HABIT = r"\b(usually|normally|typically|often|tend to|most days|every (day|morning|evening|week)|most often|the most|regularly)\b"
MOST = r"\b(most often|the most|most (time|frequently)|more than anyone)\b"

# "Which of these did I NOT buy?": the answer is the choice without evidence.
NEGATION = r"\b(not|never|didn't|don't|doesn't|wasn't|weren't|haven't|hasn't|isn't|aren't|forgot to|without)\b"

# A choice that says nothing matches ("none of these", "nobody", "no one asked").
NONE_CHOICE = r"^\s*(none( of (these|the above|them|those))?|nobody|no one|nothing|neither|not mentioned|no[ -]?one)\b"
YES = r"^\s*(yes|yeah|yep|he did|she did|i did|they did|it was|correct)\b"
NO = r"^\s*(no|nope|not|he didn't|she didn't|i didn't|they didn't|never)\b"

# "What did it end up costing?", "where's the key now?": the latest version of something that changed.
UPDATE = r"\b(end(ed)? up|in the end|finally|final|actually|now|right now|currently|anymore|at the moment|these days|latest|after all)\b"

# A question about what lies ahead of the asking moment: plans, appointments, things to bring.
FUTURE = (
    r"\b(will|going to|gonna|supposed to|due|upcoming|coming up|next|later|planned for|scheduled|booked)\b"
    r"|\b(do|does) (i|we) (need|have) to\b|\bshould (i|we)\b"
    r"|\b(am|are|is) (i|we|you|they|he|she)( \w+)? (meeting|going|having|seeing|taking|bringing|getting|leaving|coming|doing)\b"
    r"|\b(when|what time)('s| is| are)\b"
)
PAST = r"\b(did|was|were|had|went|saw|said|asked|told|bought|paid|got|made|ago|yesterday|last)\b"

# Question words for the kinds of fact (memory/facts.py FactKind values) a question is about.
FACT_CUES: dict[str, str] = {
    "request": r"\b(ask(ed)?|want(ed)?|need(ed)? me|remind(ed)?|get me|pick up|grab|bring|favou?r|request(ed)?)\b",
    "promise": r"\b(promise(d)?|said (he|she|they|i)('d| would| will)|offer(ed)? to|going to (send|call|bring))\b",
    "plan": r"\b(plan(ned|s)?|meet(ing)?|dinner|lunch|party|trip|visit|appointment|when is|what time is|schedule[d]?|moved|changed)\b",
    "appointment": r"\b(appointment|vet|dentist|doctor|check-?up|booking|booked|reservation)\b",
    "purchase": r"\b(buy|bought|purchase[d]?|order(ed)?|pay|paid|get at|got at)\b",
    "price": r"\b(cost|costs|price|how much|pay|paid|charge[ds]?|total|bill|quote[d]?)\b",
    "decision": r"\b(decide[d]?|decision|settle[d]? on|chose|choose|go with|went with)\b",
    "recommendation": r"\b(recommend(ed|ation)?|suggest(ed|ion)?|should (i|we) try|tip)\b",
    "placement": r"\b(leave|left|put|lent|lend|borrow(ed)?|keep|kept|stash(ed)?|hid|hide)\b",
}

# "Where did I go after the bank?": the anchor is what follows; "before lunch" is a time, not an anchor.
SEQUENCE = (
    r"\b(?:right |just |straight |directly |soon )?(?P<rel>after|before)\s+(?:leaving |visiting |going to |being at |i left |i was at )?"
    r"(?P<anchor>(?!(?:breakfast|lunch|dinner|noon|midday|that|this|the question)\b)[\w' -]+?)\s*(?:\?|$|\b(?:on|yesterday|today|this|last)\b)"
)

# Where someone said they are from / live: a place named in speech, not where the wearer was.
SAID_PLACE = r"\b(from|come from|comes from|grew up|born|live[sd]?|moving to|moved to|meet|meeting|go for|suggest|recommend)\b"

# "At half past three", "around 3:30", "at 10 am": a clock time in the question.
CLOCK_PREFIX = r"\b(at|around|about|near|by|circa|approximately)\s+"

# Languages egomem cannot read yet: a question with none of these English function words is refused.
ENGLISH_HINTS = frozenset(
    "the a an i me my you your did do does was were is are what who where when how which why to of at in on with and "
    "or have has had it this that there can could would should will".split()
)

# Function words of other languages: a question full of them is not English, whatever its letters.
FOREIGN_HINTS = frozenset(
    "que qué quoi est-ce qu'est ce les des une el los las del por para cómo dónde cuándo quién der die das und ist ich "
    "wo wer wann wie je tu il elle nous vous mi ti che cosa dove quando chi sono ho hai".split()
)

PLACE_GENERIC = frozenset(
    "the a an of and at in on to my our de la le du shop store place cafe bar restaurant house street".split()
)  # words too common to name a place on their own


def matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None
