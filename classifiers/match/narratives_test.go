package match_test

import (
	"context"
	"testing"

	"github.com/veille-project/veille/classifiers"
	"github.com/veille-project/veille/classifiers/catalog"
	"github.com/veille-project/veille/classifiers/match"
)

func newMatcher(t testing.TB) *match.Matcher {
	t.Helper()
	m, err := match.New(catalog.Default())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func classify(t testing.TB, m *match.Matcher, text, lang string) classifiers.Result {
	t.Helper()
	res, err := m.Classify(context.Background(), classifiers.Doc{ID: "t", Text: text, Lang: lang})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func find(res classifiers.Result, narrative string) (classifiers.Flag, bool) {
	for _, f := range res.Flags {
		if f.Narrative == narrative {
			return f, true
		}
	}
	return classifiers.Flag{}, false
}

// Sentences written for these tests, one per narrative and language, each
// asserting the narrative.
var narrativeCases = []struct {
	narrative, lang, text string
}{
	{"weapons-to-armed-groups", "en", "Everyone in Kidal knows the MINUSMA convoys sell rifles and bullets to the jihadists after dark."},
	{"weapons-to-armed-groups", "fr", "Les Casques bleus livrent des munitions aux rebelles de la CPC, on les a vus à Kabo."},
	{"weapons-to-armed-groups", "ar", "جنود المينوسكا يعطو السلاح للمتمردين في الليل، الكل يعرف."},
	{"weapons-to-armed-groups", "sw", "Walinda amani wa MONUSCO wanawapa waasi silaha usiku huko Rutshuru."},
	{"weapons-to-armed-groups", "ln", "Ba casques bleus bazali kopesa mindoki na ba rebelles na Ituri."},
	{"weapons-to-armed-groups", "sg", "Asoda ti MINUSCA amû ngombe na a-rebelle na Kaga-Bandoro."},

	{"collusion-with-terrorists", "en", "The blue helmets in Tessalit are hiding the terrorists inside their camp, they are partners."},
	{"collusion-with-terrorists", "fr", "La MONUSCO protège les ADF, elle travaille avec eux depuis des années."},
	{"collusion-with-terrorists", "ar", "قوات اليونيفيل تحمي حزب الله في الجنوب وتغطي على أنفاقه."},
	{"collusion-with-terrorists", "sw", "MONUSCO inashirikiana na waasi wa ADF, ndiyo maana mauaji hayaishi."},
	{"collusion-with-terrorists", "ln", "MONUSCO ezali kosunga ba M23, bazali elongo na bango."},
	{"collusion-with-terrorists", "sg", "MINUSCA ayeke na mbage ti a-rebelle ti 3R na Ouham-Pendé."},

	{"resource-exploitation", "en", "UNMISS is only in South Sudan to steal our oil and ship it abroad."},
	{"resource-exploitation", "fr", "Les Casques bleus pillent les diamants de Bria et les envoient en Europe."},
	{"resource-exploitation", "ar", "بعثة مونوسكو تنهب الذهب والكولتان من شرق الكونغو."},
	{"resource-exploitation", "sw", "Walinda amani wanaiba dhahabu yetu huko Ituri."},
	{"resource-exploitation", "ln", "Ba MONUSCO bazali koyiba wolo na coltan ya mboka na biso."},
	{"resource-exploitation", "sg", "Azo ti MINUSCA anzï lôr ti Bambari."},

	{"foreign-occupation", "en", "MINUSCA is a neo-colonial army in blue, sent to keep Africa on its knees."},
	{"foreign-occupation", "fr", "La MINUSMA est une armée d'occupation, une nouvelle colonisation du Sahel."},
	{"foreign-occupation", "ar", "اليونيفيل قوة احتلال في الجنوب ولازم تطلع."},
	{"foreign-occupation", "sw", "MONUSCO ni wakoloni wapya wanaotaka kugawanya nchi yetu."},
	{"foreign-occupation", "ln", "MONUSCO ezali ba colons, balingi kokabola mboka."},
	{"foreign-occupation", "sg", "MINUSCA ayeke turugu ti Farânzi na Beafrika."},

	{"regime-destabilisation", "en", "The UN mission is plotting a coup against the transition with French help."},
	{"regime-destabilisation", "fr", "La MINUSCA finance les opposants pour renverser le président."},
	{"regime-destabilisation", "ar", "البعثة الأممية تتجسس على الجيش لصالح فرنسا."},
	{"regime-destabilisation", "sw", "MONUSCO inawafadhili wapinzani ili kumpindua rais."},
	{"regime-destabilisation", "ln", "MONUSCO ezali kopesa mbongo na ba opposants mpo na kobwaka leta."},
	{"regime-destabilisation", "sg", "MINUSCA ayeke sara complot ti zi président na kiti."},

	{"child-abduction-organ-trafficking", "en", "Parents, watch out: UN trucks are kidnapping children near the school in Bria."},
	{"child-abduction-organ-trafficking", "fr", "Des Casques bleus enlèvent les enfants pour vendre leurs organes."},
	{"child-abduction-organ-trafficking", "ar", "عساكر الأمم المتحدة يخطفون الأطفال من السوق."},
	{"child-abduction-organ-trafficking", "sw", "Walinda amani wanawateka watoto huko Beni na kuuza viungo vyao."},
	{"child-abduction-organ-trafficking", "ln", "Ba casques bleus bazali kokanga bana na Bunia."},
	{"child-abduction-organ-trafficking", "sg", "Asoda ti MINUSCA ayeke mû amolenge na Bangassou."},

	{"deliberate-disease-spread", "en", "The peacekeepers brought cholera to Haiti on purpose and now they are doing it here."},
	{"deliberate-disease-spread", "fr", "Les Casques bleus ont apporté le choléra exprès pour justifier leur présence."},
	{"deliberate-disease-spread", "ar", "عناصر البعثة نشروا الكوليرا في المخيم عمدا."},
	{"deliberate-disease-spread", "sw", "Walinda amani walileta ugonjwa wa Ebola kwa makusudi."},
	{"deliberate-disease-spread", "ln", "Ba casques bleus bamemaka bokono ya Ebola na nko."},
	{"deliberate-disease-spread", "sg", "Vaccin ti asoda ti MINUSCA ayeke poison."},

	{"attacks-on-civilians", "en", "MONUSCO soldiers shot unarmed protesters in Uvira on purpose."},
	{"attacks-on-civilians", "fr", "Les Casques bleus ont massacré des villageois à Kabo, personne n'en parle."},
	{"attacks-on-civilians", "ar", "جنود المينوسكا قتلوا المدنيين في السوق."},
	{"attacks-on-civilians", "sw", "Walinda amani wa MONUSCO waliua raia wasio na silaha huko Goma."},
	{"attacks-on-civilians", "ln", "Basoda ya MONUSCO babomi bato na Beni."},
	{"attacks-on-civilians", "sg", "Asoda ti MINUSCA afâ azo na Bambari."},

	{"election-manipulation", "en", "MINUSCA rigged the vote in Bangui, they stuffed the ballot boxes themselves."},
	{"election-manipulation", "fr", "La MONUSCO a truqué les élections en transportant des urnes déjà remplies."},
	{"election-manipulation", "ar", "البعثة زوروا الانتخابات لصالح الحزب الحاكم."},
	{"election-manipulation", "sw", "UNMISS inataka kuiba kura ili kumpendelea mgombea wao."},
	{"election-manipulation", "ln", "MONUSCO esali fraude na maponami, bamemaki ba bulletins oyo ba cochaki déjà."},
	{"election-manipulation", "sg", "MINUSCA ayeke sara fraude na élection ti Beafrika."},

	{"fake-mission-communique", "en", "OFFICIAL COMMUNIQUE from UNMISS: curfew in Juba from 7pm, anyone outside will be arrested."},
	{"fake-mission-communique", "fr", "Communiqué officiel de la MINUSCA : couvre-feu à Bambari dès 17h, restez chez vous."},
	{"fake-mission-communique", "ar", "بيان من اليونيفيل: على كل سكان الناقورة الإخلاء فوراً."},
	{"fake-mission-communique", "sw", "TANGAZO RASMI LA MONUSCO: ajira 200 Beni, tuma dola 15 kwa M-Pesa."},
	{"fake-mission-communique", "ln", "COMMUNIQUÉ ya MONUSCO: couvre-feu na Goma ntango ya 18h."},
	{"fake-mission-communique", "sg", "Communiqué ti MINUSCA: couvre-feu na Bangui na 18h."},

	{"abandonment-of-civilians", "en", "When the militia attacked Kiwanja the blue helmets ran away and left us to die."},
	{"abandonment-of-civilians", "fr", "Les Casques bleus ont fui pendant l'attaque des miliciens, ils nous ont abandonnés."},
	{"abandonment-of-civilians", "ar", "عساكر البعثة هربوا لما جا الهجوم وخلونا للمسلحين."},
	{"abandonment-of-civilians", "sw", "Walinda amani walikimbia wakati wa shambulio la ADF."},
	{"abandonment-of-civilians", "ln", "Ba casques bleus bakimaki ntango ba ADF bayaki."},
	{"abandonment-of-civilians", "sg", "Tongana a-rebelle aga, asoda ti MINUSCA akpë."},
}

func TestEachNarrativeInEachLanguage(t *testing.T) {
	m := newMatcher(t)
	for _, tc := range narrativeCases {
		t.Run(tc.narrative+"/"+tc.lang, func(t *testing.T) {
			res := classify(t, m, tc.text, tc.lang)
			f, ok := find(res, tc.narrative)
			if !ok {
				t.Fatalf("no %s flag for %q; got %+v", tc.narrative, tc.text, res.Flags)
			}
			if f.Stance != classifiers.StanceAssert {
				t.Errorf("stance = %s, want assert (%+v)", f.Stance, f.Evidence)
			}
			if len(f.Evidence) == 0 || f.Evidence[0].Rule == "" {
				t.Errorf("flag without traced evidence: %+v", f)
			}
		})
	}
}

// Texts that carry no narrative: criticism, true news, incidents without
// the mission.
func TestNegativesDoNotFire(t *testing.T) {
	m := newMatcher(t)
	for _, tc := range []struct{ lang, text string }{
		{"en", "MONUSCO has failed to stop the ADF and the mandate should be reviewed."},
		{"en", "The Security Council extended MINUSCA's mandate by one year on Thursday."},
		{"en", "Two peacekeepers were killed when their convoy hit a mine near Kidal, the mission said."},
		{"en", "Ebola cases are rising in Beni, health officials said, urging people to wash their hands."},
		{"en", "Police arrested three men who kidnapped a child in Juba last week."},
		{"en", "A UN truck overturned on the Bangui road, injuring two passengers."},
		{"fr", "La MINUSMA a remis son camp de Tombouctou aux forces armées maliennes."},
		{"fr", "Le prix de l'or a encore augmenté au marché de Bunia cette semaine."},
		{"fr", "Dix ans de mission et toujours pas de route : la MINUSCA ne sert pas à grand-chose."},
		{"sw", "Mvua kubwa imenyesha Goma leo na barabara zimefungwa."},
		{"ln", "Match ya lelo na stade ya Martyrs, tokutana kuna."},
		{"ar", "ارتفعت أسعار الخبز في أسواق بيروت هذا الأسبوع."},
		// Mission and narrative words together, but someone else is the doer.
		{"en", "A UN Group of Experts report says the M23 receives weapons and ammunition from Rwanda."},
		{"en", "UN experts found that armed groups smuggle gold from Ituri through Uganda."},
		{"en", "UNMISS said armed youth burned several villages in Jonglei and called on leaders to stop the violence."},
		{"en", "Protesters accused the government of rigging the elections; the UN called for calm."},
		{"en", "The UN said a peacekeeper was shot dead by unidentified gunmen in Bria."},
		{"en", "The mission investigated reports that its soldiers were involved in smuggling fuel; two were repatriated."},
		{"fr", "Le chef de la MONUSCO a condamné le massacre de civils par les ADF à Lubero."},
		{"fr", "Les Casques bleus ont arrêté un chef de milice accusé d'avoir massacré des civils."},
		{"fr", "Selon un rapport de l'ONU, les ADF reçoivent des armes et des financements de l'État islamique."},
		{"sw", "ADF wamewaua watu kumi Beni, MONUSCO imelaani shambulio hilo."},
	} {
		res := classify(t, m, tc.text, tc.lang)
		if len(res.Flags) > 0 {
			t.Errorf("%q: unexpected flags %+v", tc.text, res.Flags)
		}
	}
}
