package entity

import "strings"

// The word lists behind typing. They are deliberately general (countries,
// states, big cities, common given names, well-known organisations); the
// rules in entity.go do the rest, so a name missing here is still found,
// just typed from context.

var givenNames = words(`
aaron abby abigail adam adrian ahmed aidan aisha alan albert alberto alejandra alejandro alex alexander alexandra alexis alfredo ali alice alicia alison allison amanda amber amy ana andrea andreas andrew andy angel angela angelo anita ann anna anne annie anthony antoine antonio april ariana arnold arthur ashley audrey austin barack barbara ben benjamin bernard bernie beth betty bill billy bob bobby bonnie brad bradley brandon brenda brett brian bridget brittany bruce bruno bryan bucky caitlin caleb camila carl carla carlos carmen carol caroline carolyn carrie casey catherine cathy charles charlie charlotte chelsea cheryl chloe chris christian christina christine christopher chuck cindy claire clara claude claudia colin connor courtney craig cristina crystal cynthia daisy dale dan dana daniel daniela danielle danny darren dave david dean deborah debra denise dennis derek diana diane diego dominic don donald donna doris dorothy doug douglas drew dylan earl ed eddie edgar edith eduardo edward elena eli elijah elizabeth ella ellen elon emily emma emmanuel enrique eric erica erik erin ernest esther ethan eugene eva evan felipe fernando florence frances francesca francesco francis francisco frank franklin fred gabriel gabriela gabrielle gary gavin gene george gerald gina giovanni giuseppe glenn gloria grace greg gregory hailey hannah hans harold harry hazel heather helen henry hillary holly howard hugo ian isaac isabel isabella jack jackie jackson jacob jacqueline jake james jamie jan jane janet janice jared jason javier jay jean jeff jeffrey jenna jennifer jenny jeremy jerome jerry jesse jessica jesus jill jim jimmy joan joanna joanne joe joel johann john johnny jon jonathan jordan jorge jose josé joseph josh joshua joy joyce juan judith judy julia julian julie justin karen karl kate katherine kathleen kathryn katie kay keith kelly ken kenneth kevin kim kimberly kristen kyle lance larry laura lauren lawrence leah lee leo leon leonardo leslie lily lin linda lisa liz lori louis louise lucas lucia lucy luis luke lydia lynn madison manuel marc marco marcus margaret maria mariana marie marilyn mario marion mark marta martha martin mary matt matthew maureen max megan melanie melissa michael michel michelle miguel mike mohamed mohammed molly monica nancy naomi natalie nathan neil nicholas nick nicole nikki noah norman olivia oscar owen pablo pamela patricia patrick paul paula pedro peggy peter philip phillip pierre rachel rafael ralph randy ray raymond rebecca richard rick rita rob robert roberto robin roger ron ronald rosa rose ross roy ruby russell ruth ryan sally sam samantha samuel sandra sara sarah scott sean sebastian sergio shannon sharon shawn sheila shirley simon sofia sophia sophie stephanie stephen steve steven susan suzanne sylvia tamara tammy ted teresa terry theresa thomas tim timothy tina todd tom tommy tony tracy travis tyler valerie vanessa victor victoria vincent virginia walter wanda wayne wendy william willie xavier yolanda yvonne zach zachary
`)

var places = words(`
afghanistan albania algeria america andorra angola argentina armenia australia austria azerbaijan bahamas bahrain bangladesh belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei bulgaria burma cambodia cameroon canada chad chile china colombia congo croatia cuba cyprus czechia denmark ecuador egypt england eritrea estonia ethiopia europe fiji finland france gabon gambia gaza georgia germany ghana greece greenland guatemala guinea guyana haiti honduras hungary iceland india indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya korea kosovo kuwait laos latvia lebanon liberia libya lithuania luxembourg madagascar malawi malaysia mali malta mexico moldova monaco mongolia montenegro morocco mozambique myanmar namibia nepal netherlands nicaragua niger nigeria norway oman pakistan palestine panama paraguay peru philippines poland portugal qatar romania russia rwanda scotland senegal serbia singapore slovakia slovenia somalia spain sudan sweden switzerland syria taiwan tanzania thailand togo tunisia turkey uganda ukraine uruguay uzbekistan venezuela vietnam wales yemen zambia zimbabwe africa asia antarctica oceania
alabama alaska arizona arkansas california colorado connecticut delaware florida hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming
amsterdam athens atlanta austin baghdad baltimore bangkok barcelona beijing beirut berlin bogota bogotá boston brussels budapest buenos cairo caracas chicago cleveland dallas delhi denver detroit dubai dublin edinburgh geneva glasgow hamburg havana helsinki hollywood houston istanbul jakarta jerusalem johannesburg kabul karachi kyiv kiev lagos lima lisbon liverpool london madrid manchester manila marseille melbourne miami milan minneapolis montreal moscow mumbai munich nairobi naples nashville oslo ottawa paris philadelphia phoenix pittsburgh portland prague quebec rome santiago seattle seoul shanghai singapore stockholm sydney tehran tokyo toronto vancouver venice vienna warsaw zurich malibu brooklyn manhattan queens bronx harlem sacramento orlando tampa honolulu anchorage memphis louisville milwaukee omaha tucson albuquerque charlotte raleigh richmond newark
`)

// multiPlaces are places of several words, by their folded form.
var multiPlaces = words(`
new_york new_york_city los_angeles san_francisco san_diego san_jose las_vegas new_orleans new_jersey new_mexico new_hampshire north_carolina south_carolina north_dakota south_dakota west_virginia rhode_island united_states united_kingdom united_arab_emirates saudi_arabia south_africa south_korea north_korea new_zealand hong_kong sri_lanka costa_rica puerto_rico el_salvador dominican_republic czech_republic ivory_coast mexico_city rio_de_janeiro sao_paulo são_paulo buenos_aires tel_aviv washington_dc capitol_hill silicon_valley wall_street middle_east latin_america european_union great_britain northern_ireland
`)

var orgs = words(`
amazon apple google alphabet microsoft meta facebook instagram whatsapp twitter tiktok youtube netflix tesla spacex nvidia intel ibm oracle samsung sony nintendo uber lyft airbnb paypal visa mastercard walmart target costco disney warner hbo cnn bbc nbc cbs abc fox msnbc reuters bloomberg ap afp efe politico axios vox nasa fbi cia nsa fda cdc who nato un unesco unicef imf opec fifa uefa nfl nba mlb nhl mls ncaa pentagon congress senate parliament openai anthropic snapchat reddit linkedin pinterest telegram signal spotify shopify ebay alibaba tencent huawei baidu xiaomi boeing airbus ford gm toyota honda volkswagen bmw mercedes ferrari nike adidas starbucks mcdonald's mcdonalds pfizer moderna goldman jpmorgan citigroup hsbc barclays deutsche ubs blackrock berkshire exxon chevron shell bp gazprom aramco
`)

var multiOrgs = words(`
new_york_post new_york_times washington_post wall_street_journal associated_press fox_news white_house supreme_court european_commission world_bank federal_reserve united_nations world_health_organization amazon_web_services google_play app_store apple_store big_tech justice_department state_department electoral_college
`)

// orgSuffixes end organisation names.
var orgSuffixes = words(`
inc inc. llc ltd ltd. corp corp. corporation co co. company companies group holdings bank university college institute school court department ministry party council committee commission agency association foundation post times news journal press club fc senate congress parliament services technologies technology tech airlines airways motors media network networks studios records church hospital police army navy force forces union league federation office administration authority board bureau organization organisation alliance fund trust capital partners labs systems pharmaceuticals energy industries enterprises magazine tribune herald gazette chronicle daily weekly radio tv television channel
`)

var placeSuffixes = words(`
county city river street avenue road island islands mountains mountain valley province state region bay lake sea ocean coast beach park square bridge airport hill hills heights district
`)

// personTitles before a name mark a person.
var personTitles = words(`
mr mr. mrs mrs. ms ms. dr dr. prof prof. sir president vice-president vice senator sen sen. rep rep. representative gov gov. governor mayor judge justice minister secretary chancellor king queen prince princess pope ceo founder chairman chairwoman attorney lawyer coach captain general gen. lt. sgt. officer detective spokesman spokeswoman spokesperson director chief actor actress singer rapper star player quarterback pitcher striker host author writer journalist reporter editor professor dean leader premier boss manager executive analyst economist scientist researcher doctor nurse
`)

// sentenceWords are capitalised only because they open a sentence or a
// heading; they never start an entity.
var sentenceWords = words(`
a an the this that these those it its he she they we i you his her their our my your there here then than thus so yet but and or nor for if when while where what which who whom whose why how after before since because although though however meanwhile moreover furthermore also still even just only not no yes all any both each every many most much some such other another one two three first last next new according despite during under over about above below between through into onto from with without within among against toward towards like unlike as at by in on of to up down out off again once ever never always often sometimes today tomorrow yesterday now later earlier not note read see click follow share sign subscribe watch listen more less well very too perhaps maybe indeed instead otherwise therefore hence beyond whether let let's said says told asked added though
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august september october november december mon tue wed thu fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec
el la los las un una y o de del en por para con sin sobre según le les des et ou dans pour avec sans selon der die das und oder mit ohne für il lo gli e con per senza
`)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[strings.ReplaceAll(w, "_", " ")] = true
	}
	return m
}
