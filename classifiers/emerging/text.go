package emerging

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/veille-project/veille/classifiers/match"
)

// words returns the normalised words of text (lower case, accents folded the
// way the matcher folds them, so terms found here match as catalog terms).
func words(text string) []string {
	return strings.FieldsFunc(match.Normalize(text).Norm, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// stop are function words and reporting verbs of French and English that
// never make a term.
var stop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		the and of to is are was were be been being in on at by for with from that this these those
		it its they them their there here have has had not but or if as an a so than then into over
		about after before also just only very more most some any all each other such what which who
		whom whose when where why how will would can could should may might must shall do does did
		we our you your he she his her him i me my us one two three new now said says say told according
		people like said year years week weeks day days today yesterday last first still even many much
		get got make made going want know think because while during since until again against between
		le la les des de du et est une un que qui dans pour sur pas au aux ont sont avec ce cet cette ces
		il ils elle elles nous vous leur leurs selon mais se ne plus par son sa ses on en y lui eux
		tout tous toute toutes comme fait faire etre avoir ete sont sera seront etait etaient avait
		depuis apres avant aussi encore deja tres bien ici ou dont quand comment pourquoi car donc
		ni soit entre contre sans sous chez vers hier aujourd hui semaine jour jours annee dit disent
		affirme affirment selon notre nos votre vos mon ma mes ton ta tes meme autres autre quelques
		c d l qu s n j m t no none never nothing nobody jamais aucun aucune rien personne
		wa kwa ni za katika kuwa hiyo huo kwamba wao sana bado tena watu hii hawa yetu zao lakini pia baada wakati kama
		hakuna kila iko huko wanasema kwenye imesema na ya la cha vya wa za
		ezali bazali mpo te oyo biso bango ba lokola kaka mpe kasi elobi bato moto eloko lelo bandeko tokoki boye nyonso
		ndenge wapi sikoyo mingi na ya
		ti ayeke so azo ala pepe sara tene mbi lo ni yeke nga ngbanga kode mbeni aga ndo tongana lege ye awe ngu
		atene amu ake alingbi zo aso kue`) {
		m[w] = true
	}
	return m
}()

// generic terms name the subject every candidate shares (the mission, the
// UN, peacekeepers): they never make two texts say the same thing.
var generic = map[string]bool{
	"un": true, "mission": true, "peacekeeper": true, "peacekeeping": true, "helmet": true, "blue": true,
	"united": true, "nations": true, "soldier": true, "troop": true, "force": true,
	"minusma": true, "minusca": true, "monusco": true, "unmiss": true, "unifil": true, "unisfa": true, "monuc": true,
	"minuss": true, "finul": true,
}

// bilingual maps French and English word stems to one shared English term,
// so that a rumour told in both languages shares its salient terms. A key
// matches a word that starts with it; the longest key wins.
var bilingual = map[string]string{
	// the subject
	"casque": "helmet", "bleu": "blue", "onu": "un", "onusien": "un", "nations": "nations", "unies": "united",
	"peacekeep": "peacekeeper", "soldat": "soldier", "soldier": "soldier", "troupe": "troop", "troop": "troop",
	"militaire": "soldier", "forces": "force", "force": "force", "mission": "mission",
	// places, people and things rumours are about
	"enfant": "child", "child": "child", "children": "child", "bebe": "baby", "baby": "baby", "babies": "baby", "femme": "woman", "women": "woman", "woman": "woman",
	"village": "village", "villag": "village", "chef": "chief", "chief": "chief", "eglise": "church", "church": "church",
	"ecole": "school", "school": "school", "hopital": "hospital", "hospital": "hospital", "marche": "market", "market": "market",
	"puits": "well", "wells": "well", "eau": "water", "eaux": "water", "water": "water", "riviere": "river", "fleuve": "river", "river": "river",
	"pluie": "rain", "pluvio": "rain", "rain": "rain", "secheresse": "drought", "drought": "drought", "recolte": "harvest", "harvest": "harvest",
	"champ": "field", "field": "field", "betail": "cattle", "cattle": "cattle", "vache": "cattle", "cow": "cattle",
	// Masts, radars, towers: the structures rumours say do things to people or weather.
	"antenne": "antenna", "antenna": "antenna", "antennae": "antenna", "radar": "antenna", "pylone": "antenna", "mast": "antenna",
	"tour": "antenna", "tower": "antenna", "drone": "drone",
	"machine": "device", "appareil": "device", "device": "device", "equipement": "device", "equipment": "device", "dispositif": "device",
	"aeroport": "airport", "airport": "airport", "airfield": "airport", "piste": "airstrip", "airstrip": "airstrip",
	// weather and crops
	"nuage": "cloud", "cloud": "cloud", "ciel": "sky", "sky": "sky", "saison": "season", "season": "season",
	"seche": "dry", "sec": "dry", "dry": "dry", "dried": "dry", "meteo": "weather", "weather": "weather",
	"climat": "climate", "climate": "climate", "inondation": "flood", "flood": "flood", "chaleur": "heat", "heat": "heat",
	"manioc": "cassava", "cassava": "cassava", "culture": "crop", "crop": "crop", "maize": "maize",
	"agricult": "farm", "farm": "farm", "paysan": "farm", "cultivat": "farm", "maraicher": "farm",
	"tot": "early", "early": "early", "precoce": "early", "helicoptere": "helicopter", "helicopter": "helicopter", "avion": "plane", "plane": "plane",
	"camion": "truck", "truck": "truck", "convoi": "convoy", "convoy": "convoy", "base": "base", "camp": "camp",
	"arme": "weapon", "weapon": "weapon", "munition": "ammunition", "ammunition": "ammunition", "fusil": "gun", "gun": "gun",
	"rebelle": "rebel", "rebel": "rebel", "milice": "militia", "milicien": "militia", "militia": "militia",
	"terroris": "terrorist", "jihadis": "jihadist", "djihadis": "jihadist",
	"gold": "gold", "diamant": "diamond", "diamond": "diamond", "coltan": "coltan", "minerai": "mineral", "mineral": "mineral",
	"petrole": "oil", "oil": "oil", "carburant": "fuel", "fuel": "fuel", "argent": "money", "money": "money", "dollar": "dollar",
	"vaccin": "vaccine", "vaccine": "vaccine", "vaccinat": "vaccine", "medicament": "medicine", "medicine": "medicine",
	"maladie": "disease", "disease": "disease", "virus": "virus", "cholera": "cholera", "ebola": "ebola", "epidemi": "epidemic", "epidemic": "epidemic",
	"poison": "poison", "empoisonn": "poison", "toxique": "toxic", "toxic": "toxic", "sang": "blood", "blood": "blood", "organe": "organ", "organ": "organ",
	"sterile": "sterile", "sterili": "sterile", "infertil": "infertile",
	"sorcier": "sorcery", "sorcellerie": "sorcery", "sorcery": "sorcery", "witch": "sorcery", "fetiche": "fetish", "fetish": "fetish",
	"nuit": "night", "night": "night", "secret": "secret", "secrete": "secret", "cache": "hidden", "hidden": "hidden",
	"prison": "prison", "cellule": "cell", "cell": "cell", "tunnel": "tunnel", "souterrain": "underground", "underground": "underground",
	"espion": "spy", "spy": "spy", "espionn": "spy", "spying": "spy", "camera": "camera",
	// actions rumours say the mission does
	"chass": "chase", "chase": "chase", "chasing": "chase", "drive": "chase", "repouss": "chase", "push": "chase", "dispers": "chase",
	"arret": "stop", "stop": "stop", "stopp": "stop", "cess": "stop", "bloqu": "block", "block": "block", "empech": "block", "prevent": "block",
	"vol": "steal", "vole": "steal", "steal": "steal", "stole": "steal", "pill": "loot", "loot": "loot",
	"tue": "kill", "tuer": "kill", "kill": "kill", "massacr": "massacre", "viol": "rape", "rape": "rape", "enlev": "abduct", "kidnap": "abduct", "abduct": "abduct",
	"brul": "burn", "burn": "burn", "install": "install", "instal": "install", "construi": "build", "build": "build", "built": "build",
	"vend": "sell", "sell": "sell", "sold": "sell", "livr": "deliver", "deliver": "deliver", "transport": "transport",
	"provoqu": "cause", "cause": "cause", "caus": "cause", "propag": "spread", "spread": "spread", "repand": "spread",
	"contamin": "contaminate", "infect": "infect", "detourn": "divert", "divert": "divert",
	"fuite": "flee", "fuir": "flee", "flee": "flee", "fled": "flee", "abandon": "abandon", "quitt": "leave", "leave": "leave", "leaving": "leave",
	"cible": "target", "target": "target", "attaqu": "attack", "attack": "attack",
	"election": "election", "vote": "vote", "fraude": "fraud", "fraud": "fraud", "president": "president", "gouvernement": "government", "government": "government",
	"russe": "russia", "russia": "russia", "wagner": "wagner", "france": "france", "francais": "france", "french": "france",
	"occup": "occupy", "colon": "colonial", "frontiere": "border", "border": "border", "terre": "land", "land": "land",
	"refugie": "refugee", "refugee": "refugee", "deplace": "displaced", "displaced": "displaced",
}

// inflections are the endings a bilingual key may carry and still match:
// "empoisonn" matches "empoisonnent", "viol" does not match "violence".
var inflections = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range strings.Fields("_ s e es ee ees er ers ent ant ants ed ing ings ion ions ation ations ait aient ement ements era eront ez ons ty te tes ser sent sation ze zed zing y ies eur eurs euse al aux ique iques") {
		m[strings.Trim(e, "_")] = true
	}
	return m
}()

// canonical returns the shared term for a normalised word, or "" when the
// word is too short, a number or a function word.
func canonical(w string, b *Bridge) string {
	if stop[w] {
		return ""
	}
	if len(w) < 3 {
		return ""
	}
	digits := true
	for _, r := range w {
		if !unicode.IsDigit(r) {
			digits = false
			break
		}
	}
	if digits {
		return ""
	}
	// The catalog's concepts first: they span every language it speaks.
	if c := b.lookup(w); c != "" {
		return c
	}
	for k := len(w); k >= 3; k-- {
		if v, ok := bilingual[w[:k]]; ok && inflections[w[k:]] {
			return v
		}
	}
	return stem(w)
}

// stem drops a plural or a common English/French inflection so that
// variants of a word share one term. It is deliberately light.
func stem(w string) string {
	n := len(w)
	switch {
	case n > 6 && strings.HasSuffix(w, "ing"):
		return w[:n-3]
	case n > 5 && strings.HasSuffix(w, "ed"):
		return w[:n-2]
	case n > 4 && (strings.HasSuffix(w, "es") && !strings.HasSuffix(w, "ses")):
		return w[:n-1]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return w[:n-1]
	case n > 4 && strings.HasSuffix(w, "eaux"):
		return w[:n-1]
	case n > 4 && strings.HasSuffix(w, "aux"):
		return w[:n-3] + "al"
	}
	return w
}

// missionMention finds a mention of a UN mission, peacekeepers or the UN.
var missionMention = regexp.MustCompile(`(?i)\b(minusma|minusca|monusco|monuc|unmiss|minuss|unifil|finul|unisfa|fisnua|peace-?keep\w*|blue helmets?|casques? bleus?|united nations|nations unies|onu|onusien\w*|mission de l.onu|walinda amani|mlinda amani|umoja wa mataifa)\b`)

// arabicMention are the Arabic names of the missions and peacekeepers, as
// normalised (Arabic script has no \b in Go's regexp).
var arabicMention = []string{"مينوسما", "مينوسكا", "مونوسكو", "يونيفيل", "الامم المتحده", "حفظ السلام", "القبعات الزرق", "الخوذ الزرق"}

// upperUN is "UN" written in capitals: in lower case it is a French article.
var upperUN = regexp.MustCompile(`\bUN\b|\bU\.N\.`)

// MentionsMission reports whether text speaks of a UN mission, its
// peacekeepers or the UN.
func MentionsMission(text string) bool {
	if upperUN.MatchString(text) {
		return true
	}
	norm := match.Normalize(text).Norm
	if missionMention.MatchString(norm) {
		return true
	}
	for _, m := range arabicMention {
		if strings.Contains(norm, m) {
			return true
		}
	}
	return false
}
