/*
 * randomuser_data.c — per-nationality tables for the randomuser generator.
 *
 * One entry per nationality the real service knows, in randomuser_nat_codes order.
 * Names are common given names and surnames of each country in its own script (the
 * real service uses Cyrillic for UA and Persian script for IR); streets and cities are
 * real ones, cities paired with their state, province or region. Format rules are in
 * randomuser_data.h.
 */
#include <stddef.h>

#include "source/randomuser_data.h"

const randomuser_nat_def randomuser_nat_defs[] = {
	{
		"AU", "Australia",
		"Jack,Oliver,William,Noah,Thomas,James,Lucas,Ethan,Liam,Cooper,Riley,Mason,"
		"Lachlan,Harrison,Jacob,Hunter,Charlie,Max,Samuel,Jayden,Kyle,Dylan,Zachary",
		"Charlotte,Olivia,Ava,Mia,Amelia,Chloe,Isla,Ruby,Emily,Grace,Sophie,Zoe,Ella,"
		"Lily,Matilda,Harper,Isabella,Sienna,Scarlett,Evie,Jessica,Georgia,Tahlia",
		"Smith,Jones,Williams,Brown,Wilson,Taylor,Johnson,White,Martin,Anderson,Thompson,"
		"Nguyen,Thomas,Walker,Harris,Lee,Ryan,Robinson,Kelly,King,Davis,Wright,Evans,"
		"Roberts,Green,Hall,Wood,Jackson,Clarke,Murphy",
		"George Street,Pitt Street,Collins Street,Bourke Street,Queen Street,Hay Street,"
		"King William Street,Elizabeth Street,Flinders Street,Adelaide Street,"
		"Murray Street,Swanston Street,Oxford Street,Victoria Road,Hunter Street",
		"Sydney/New South Wales,Newcastle/New South Wales,Wollongong/New South Wales,"
		"Melbourne/Victoria,Geelong/Victoria,Ballarat/Victoria,Brisbane/Queensland,"
		"Cairns/Queensland,Townsville/Queensland,Perth/Western Australia,"
		"Bunbury/Western Australia,Adelaide/South Australia,Hobart/Tasmania,"
		"Launceston/Tasmania,Darwin/Northern Territory,"
		"Canberra/Australian Capital Territory",
		"0%-####-####", "04##-###-###", "%###", 0, "TFN", "#########", 0,
	},
	{
		"BR", "Brazil",
		"João,Pedro,Lucas,Gabriel,Matheus,Rafael,Gustavo,Felipe,Bruno,Thiago,Rodrigo,"
		"Leonardo,Vinícius,Caio,Diego,André,Marcelo,Eduardo,Fábio,Otávio,Murilo,Heitor",
		"Maria,Ana,Júlia,Beatriz,Larissa,Camila,Fernanda,Gabriela,Letícia,Mariana,"
		"Amanda,Bianca,Carolina,Isabela,Luana,Natália,Patrícia,Sabrina,Vitória,Yasmin",
		"Silva,Santos,Oliveira,Souza,Rodrigues,Ferreira,Alves,Pereira,Lima,Gomes,Costa,"
		"Ribeiro,Martins,Carvalho,Almeida,Lopes,Araújo,Fernandes,Rocha,Dias,Moreira,"
		"Nascimento,Barbosa,Cardoso,Teixeira,Correia,Mendes,Freitas,Pinto,Monteiro",
		"Rua São Paulo,Rua Sete de Setembro,Rua Quinze de Novembro,Avenida Brasil,"
		"Rua Tiradentes,Rua Dom Pedro II,Rua Santa Catarina,Avenida Paulista,"
		"Rua da Paz,Rua Rio de Janeiro,Rua Bela Vista,Rua das Flores,Rua Piauí,"
		"Rua Castro Alves,Rua Minas Gerais",
		"São Paulo/São Paulo,Campinas/São Paulo,Santos/São Paulo,"
		"Rio de Janeiro/Rio de Janeiro,Niterói/Rio de Janeiro,Belo Horizonte/Minas Gerais,"
		"Uberlândia/Minas Gerais,Salvador/Bahia,Fortaleza/Ceará,Recife/Pernambuco,"
		"Curitiba/Paraná,Porto Alegre/Rio Grande do Sul,Manaus/Amazonas,Belém/Pará,"
		"Goiânia/Goiás,Florianópolis/Santa Catarina",
		"(%#) %###-####", "(%#) 9%###-####", "%####", 0, "CPF", "###.###.###-##", 0,
	},
	{
		"CA", "Canada",
		"Liam,Noah,William,Benjamin,Lucas,Logan,Jacob,Ethan,Nathan,Samuel,Félix,Olivier,"
		"Alexis,Gabriel,Thomas,Owen,Hunter,Carter,Mathis,Zachary,Émile,Xavier",
		"Olivia,Emma,Charlotte,Sophia,Chloé,Léa,Florence,Alice,Zoé,Ava,Abigail,Emily,"
		"Madison,Maëlle,Rosalie,Camille,Juliette,Maya,Addison,Brooklyn,Victoria",
		"Smith,Tremblay,Martin,Roy,Wilson,MacDonald,Gagnon,Johnson,Taylor,Côté,Campbell,"
		"Anderson,Leblanc,Lee,Bouchard,Gauthier,Morin,Lavoie,Fortin,Gélinas,Brown,"
		"Thompson,White,Pelletier,Bélanger,Lévesque,Singh,Chan,Clark,Young",
		"Yonge Street,Main Street,King Street,Queen Street,Dundas Street,Rue Principale,"
		"Rue Saint-Denis,Rue Sherbrooke,Granville Street,Robson Street,Jasper Avenue,"
		"Portage Avenue,Bay Street,Elgin Street,Barrington Street",
		"Toronto/Ontario,Ottawa/Ontario,Hamilton/Ontario,London/Ontario,"
		"Montréal/Québec,Québec/Québec,Laval/Québec,Vancouver/British Columbia,"
		"Victoria/British Columbia,Calgary/Alberta,Edmonton/Alberta,Winnipeg/Manitoba,"
		"Regina/Saskatchewan,Saskatoon/Saskatchewan,Halifax/Nova Scotia,"
		"Fredericton/New Brunswick,St. John's/Newfoundland and Labrador",
		"%##-%##-####", "%##-%##-####", "A#A #A#", 1, "SIN", "### ### ###", 0,
	},
	{
		"CH", "Switzerland",
		"Luca,Noah,Leon,Elias,Jonas,Matteo,Nico,Gabriel,Samuel,Lukas,Louis,Julien,"
		"Nicolas,Marco,Andrea,Fabian,Reto,Beat,Urs,Thierry,Pascal,Mathias",
		"Mia,Emma,Lena,Sofia,Lara,Laura,Anna,Nina,Lea,Chiara,Léa,Océane,Manon,Céline,"
		"Jessica,Sandra,Nadine,Ursula,Marlène,Giulia,Valentina,Noémie",
		"Müller,Meier,Schmid,Keller,Weber,Huber,Schneider,Meyer,Steiner,Fischer,"
		"Gerber,Brunner,Baumann,Frei,Zimmermann,Moser,Widmer,Wyss,Graf,Roth,Favre,"
		"Rochat,Blanc,Girard,Perret,Bianchi,Rossi,Fontana,Marti,Bühler",
		"Bahnhofstrasse,Rue du Rhône,Via Nassa,Hauptstrasse,Dorfstrasse,Kirchweg,"
		"Rue de Lausanne,Marktgasse,Spitalgasse,Avenue de la Gare,Seestrasse,"
		"Rue du Bourg,Schulstrasse,Grand-Rue,Rue des Alpes",
		"Zürich/Zürich,Winterthur/Zürich,Genève/Genève,Basel/Basel-Stadt,"
		"Lausanne/Vaud,Montreux/Vaud,Bern/Bern,Biel/Bern,Luzern/Luzern,"
		"St. Gallen/St. Gallen,Lugano/Ticino,Bellinzona/Ticino,Neuchâtel/Neuchâtel,"
		"Fribourg/Fribourg,Sion/Valais,Chur/Graubünden,Zug/Zug",
		"0%# ### ## ##", "07# ### ## ##", "%###", 0, "AVS", "756.####.####.##", 1,
	},
	{
		"DE", "Germany",
		"Lukas,Leon,Finn,Jonas,Paul,Felix,Maximilian,Ben,Elias,Noah,Julian,Tim,Niklas,"
		"Jan,Tobias,Florian,Sebastian,Stefan,Jürgen,Dieter,Uwe,Wolfgang,Jörg,Matthias",
		"Anna,Lena,Lea,Hannah,Emma,Mia,Sophie,Marie,Laura,Lisa,Julia,Katharina,Sabine,"
		"Petra,Ursula,Monika,Jana,Jasmin,Anke,Ingrid,Heike,Lotte,Jutta,Käthe",
		"Müller,Schmidt,Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,Hoffmann,"
		"Schäfer,Koch,Bauer,Richter,Klein,Wolf,Schröder,Neumann,Schwarz,Zimmermann,"
		"Braun,Krüger,Hofmann,Hartmann,Lange,Schmitt,Werner,Krause,Köhler,Vogel",
		"Hauptstraße,Schulstraße,Gartenstraße,Bahnhofstraße,Dorfstraße,Bergstraße,"
		"Birkenweg,Lindenstraße,Kirchstraße,Waldstraße,Ringstraße,Schillerstraße,"
		"Goethestraße,Mühlenweg,Am Sportplatz",
		"Berlin/Berlin,Hamburg/Hamburg,München/Bayern,Nürnberg/Bayern,"
		"Köln/Nordrhein-Westfalen,Düsseldorf/Nordrhein-Westfalen,"
		"Dortmund/Nordrhein-Westfalen,Frankfurt am Main/Hessen,Kassel/Hessen,"
		"Stuttgart/Baden-Württemberg,Freiburg im Breisgau/Baden-Württemberg,"
		"Leipzig/Sachsen,Dresden/Sachsen,Hannover/Niedersachsen,Bremen/Bremen,"
		"Mainz/Rheinland-Pfalz,Kiel/Schleswig-Holstein,Erfurt/Thüringen",
		"0%##-#######", "017#-#######", "%####", 0, "SVNR", "## ###### A ###", 0,
	},
	{
		"DK", "Denmark",
		"William,Noah,Oscar,Lucas,Victor,Malthe,Emil,Frederik,Magnus,Mikkel,Rasmus,"
		"Mads,Søren,Jens,Niels,Anders,Kasper,Jonas,Tobias,Christian,Henrik,Bjørn",
		"Emma,Ida,Clara,Freja,Alma,Ella,Sofia,Anna,Laura,Mathilde,Karoline,Nanna,Signe,"
		"Maja,Josefine,Mette,Lærke,Sille,Astrid,Åse,Birgitte,Helle",
		"Nielsen,Jensen,Hansen,Pedersen,Andersen,Christensen,Larsen,Sørensen,Rasmussen,"
		"Jørgensen,Petersen,Madsen,Kristensen,Olsen,Thomsen,Christiansen,Poulsen,"
		"Johansen,Møller,Mortensen,Knudsen,Jakobsen,Mikkelsen,Frederiksen,Holm",
		"Vestergade,Østergade,Nørregade,Søndergade,Algade,Bredgade,Strøget,Kongensgade,"
		"Skovvej,Birkevej,Møllevej,Kirkevej,Strandvejen,Engvej,Vinkelvej",
		"København/Hovedstaden,Frederiksberg/Hovedstaden,Hillerød/Hovedstaden,"
		"Aarhus/Midtjylland,Herning/Midtjylland,Silkeborg/Midtjylland,"
		"Odense/Syddanmark,Esbjerg/Syddanmark,Kolding/Syddanmark,Vejle/Syddanmark,"
		"Aalborg/Nordjylland,Hjørring/Nordjylland,Roskilde/Sjælland,Næstved/Sjælland,"
		"Slagelse/Sjælland",
		"%#######", "%#######", "%###", 0, "CPR", "######-####", 0,
	},
	{
		"ES", "Spain",
		"Hugo,Martín,Lucas,Mateo,Leo,Daniel,Alejandro,Pablo,Manuel,Álvaro,Adrián,"
		"David,Mario,Diego,Javier,Sergio,Jorge,Carlos,Antonio,José,Francisco,Iñigo",
		"Lucía,Sofía,Martina,María,Julia,Paula,Valeria,Emma,Daniela,Carla,Alba,Noa,"
		"Carmen,Elena,Laura,Cristina,Marta,Pilar,Rocío,Nuria,Montserrat,Begoña",
		"García,Rodríguez,González,Fernández,López,Martínez,Sánchez,Pérez,Gómez,"
		"Martín,Jiménez,Ruiz,Hernández,Díaz,Moreno,Muñoz,Álvarez,Romero,Alonso,"
		"Gutiérrez,Navarro,Torres,Domínguez,Vázquez,Ramos,Gil,Ramírez,Serrano,Blanco,"
		"Molina",
		"Calle Mayor,Gran Vía,Calle de Alcalá,Paseo de la Castellana,Calle del Arenal,"
		"Avenida de América,Calle de Serrano,Calle de la Paz,Calle del Prado,"
		"Calle Real,Calle Nueva,Avenida de la Constitución,Calle de Toledo,"
		"Calle San Juan,Ronda de Valencia",
		"Madrid/Comunidad de Madrid,Móstoles/Comunidad de Madrid,Barcelona/Cataluña,"
		"Girona/Cataluña,Valencia/Comunidad Valenciana,Alicante/Comunidad Valenciana,"
		"Sevilla/Andalucía,Málaga/Andalucía,Granada/Andalucía,Córdoba/Andalucía,"
		"Bilbao/País Vasco,Zaragoza/Aragón,Valladolid/Castilla y León,"
		"Palma de Mallorca/Islas Baleares,Oviedo/Asturias,Murcia/Región de Murcia",
		"9%#-###-###", "6%#-###-###", "%####", 0, "DNI", "########-A", 0,
	},
	{
		"FI", "Finland",
		"Juhani,Mikael,Olavi,Onni,Elias,Leo,Eino,Väinö,Oliver,Aleksi,Eetu,Jussi,Matti,"
		"Pekka,Timo,Kari,Jari,Mikko,Antti,Ville,Tuomas,Lauri",
		"Maria,Helmi,Aino,Sofia,Aada,Ella,Emilia,Venla,Kerttu,Elli,Anna,Sanna,Tiina,"
		"Päivi,Riikka,Johanna,Minna,Satu,Eveliina,Hilja,Siiri,Linnea",
		"Korhonen,Virtanen,Mäkinen,Nieminen,Mäkelä,Hämäläinen,Laine,Heikkinen,Koskinen,"
		"Järvinen,Lehtonen,Lehtinen,Saarinen,Salminen,Heinonen,Niemi,Heikkilä,"
		"Kinnunen,Salonen,Turunen,Salo,Laitinen,Tuominen,Rantanen,Karjalainen",
		"Mannerheimintie,Aleksanterinkatu,Hämeenkatu,Esplanadi,Pohjoisesplanadi,"
		"Kauppakatu,Rautatienkatu,Puistokatu,Koulukatu,Kirkkokatu,Satakunnankatu,"
		"Hatanpään valtatie,Itsenäisyydenkatu,Tehtaankatu,Verkatehtaankatu",
		"Helsinki/Uusimaa,Espoo/Uusimaa,Vantaa/Uusimaa,Tampere/Pirkanmaa,"
		"Turku/Varsinais-Suomi,Oulu/Pohjois-Pohjanmaa,Jyväskylä/Keski-Suomi,"
		"Lahti/Päijät-Häme,Kuopio/Pohjois-Savo,Pori/Satakunta,Joensuu/Pohjois-Karjala,"
		"Lappeenranta/Etelä-Karjala,Vaasa/Pohjanmaa,Rovaniemi/Lappi,"
		"Hämeenlinna/Kanta-Häme",
		"0%-###-###", "04#-###-##-##", "%####", 0, "HETU", "######-###A", 0,
	},
	{
		"FR", "France",
		"Lucas,Hugo,Louis,Gabriel,Arthur,Jules,Raphaël,Adam,Léo,Nathan,Théo,Mathis,"
		"Maxime,Antoine,Nicolas,Julien,Pierre,Baptiste,Clément,Quentin,Enzo,Noé",
		"Emma,Jade,Louise,Alice,Chloé,Léa,Manon,Camille,Inès,Lina,Juliette,Zoé,Lucie,"
		"Anaïs,Océane,Mathilde,Margaux,Élodie,Clémence,Noémie,Maëlys,Amandine",
		"Martin,Bernard,Dubois,Thomas,Robert,Richard,Petit,Durand,Leroy,Moreau,Simon,"
		"Laurent,Lefebvre,Michel,Garcia,David,Bertrand,Roux,Vincent,Fournier,Morel,"
		"Girard,André,Lefèvre,Mercier,Dupont,Lambert,Bonnet,François,Mathieu",
		"Rue de la République,Rue Victor-Hugo,Rue Pasteur,Avenue Jean-Jaurès,"
		"Place de la Mairie,Rue de la Gare,Rue Nationale,Rue du Château,Rue de l'Église,"
		"Avenue des Ternes,Rue Paul Bert,Rue Saint-Georges,Quai Chauveau,"
		"Rue Abel-Hovelacque,Boulevard de la Liberté",
		"Paris/Paris,Marseille/Bouches-du-Rhône,Lyon/Rhône,Toulouse/Haute-Garonne,"
		"Nice/Alpes-Maritimes,Nantes/Loire-Atlantique,Strasbourg/Bas-Rhin,"
		"Montpellier/Hérault,Bordeaux/Gironde,Lille/Nord,Rennes/Ille-et-Vilaine,"
		"Reims/Marne,Le Havre/Seine-Maritime,Saint-Étienne/Loire,Dijon/Côte-d'Or,"
		"Grenoble/Isère,Angers/Maine-et-Loire",
		"0%-##-##-##-##", "06-##-##-##-##", "%####", 0, "INSEE", "%## ## ## ### ### ##", 1,
	},
	{
		"GB", "United Kingdom",
		"Oliver,George,Harry,Jack,Jacob,Charlie,Thomas,Oscar,William,James,Alfie,"
		"Joshua,Henry,Archie,Ethan,Samuel,Joseph,Daniel,Alexander,Edward,Callum,Rhys",
		"Olivia,Amelia,Isla,Ava,Emily,Isabella,Mia,Poppy,Ella,Lily,Jessica,Sophie,"
		"Grace,Evie,Charlotte,Freya,Alice,Eleanor,Harriet,Imogen,Rosie,Abigail",
		"Smith,Jones,Williams,Taylor,Brown,Davies,Evans,Wilson,Thomas,Johnson,Roberts,"
		"Robinson,Thompson,Wright,Walker,White,Edwards,Hughes,Green,Hall,Lewis,Harris,"
		"Clarke,Patel,Jackson,Wood,Turner,Martin,Cooper,Hill",
		"High Street,Station Road,Main Street,Park Road,Church Road,Church Street,"
		"London Road,Victoria Road,Green Lane,Manor Road,Church Lane,Park Avenue,"
		"The Avenue,Queens Road,Grange Road,Mill Lane,Kings Road",
		"London/Greater London,Croydon/Greater London,Manchester/Greater Manchester,"
		"Salford/Greater Manchester,Birmingham/West Midlands,Coventry/West Midlands,"
		"Leeds/West Yorkshire,Bradford/West Yorkshire,Sheffield/South Yorkshire,"
		"Liverpool/Merseyside,Bristol/Bristol,Newcastle upon Tyne/Tyne and Wear,"
		"Nottingham/Nottinghamshire,Leicester/Leicestershire,Oxford/Oxfordshire,"
		"Cambridge/Cambridgeshire,Edinburgh/Scotland,Glasgow/Scotland,Cardiff/Wales,"
		"Belfast/Northern Ireland",
		"0%### ######", "07### ######", "A#A #AA", 1, "NINO", "AA ## ## ## A", 0,
	},
	{
		"IE", "Ireland",
		"Jack,Seán,Conor,James,Daniel,Noah,Cian,Darragh,Oisín,Patrick,Michael,Liam,"
		"Ryan,Adam,Fionn,Eoin,Ciarán,Cillian,Tadhg,Pádraig,Niall,Declan",
		"Emily,Grace,Fiadh,Sophie,Hannah,Amelia,Ava,Ellie,Aoife,Siobhán,Niamh,Saoirse,"
		"Róisín,Caoimhe,Clodagh,Orla,Sinéad,Ciara,Aisling,Éabha,Méabh,Clara",
		"Murphy,Kelly,O'Sullivan,Walsh,Smith,O'Brien,Byrne,Ryan,O'Connor,O'Neill,"
		"O'Reilly,Doyle,McCarthy,Gallagher,O'Doherty,Kennedy,Lynch,Murray,Quinn,Moore,"
		"McLoughlin,O'Carroll,Connolly,Daly,O'Connell,Wilson,Dunne,Brennan,Burke,Collins",
		"Main Street,O'Connell Street,Grafton Street,Patrick Street,Church Street,"
		"Shop Street,Henry Street,Dame Street,Strand Road,Mill Road,Bridge Street,"
		"Castle Street,Green Road,Sráid Mhór,New Street",
		"Dublin/Dublin,Swords/Dublin,Cork/Cork,Mallow/Cork,Limerick/Limerick,"
		"Galway/Galway,Tuam/Galway,Waterford/Waterford,Drogheda/Louth,Dundalk/Louth,"
		"Kilkenny/Kilkenny,Sligo/Sligo,Ennis/Clare,Tralee/Kerry,Killarney/Kerry,"
		"Athlone/Westmeath",
		"0%#-###-####", "08#-###-####", "A## A#AA", 1, "PPS", "#######A", 0,
	},
	{
		"IN", "India",
		"Aarav,Vivaan,Aditya,Vihaan,Arjun,Sai,Reyansh,Krishna,Ishaan,Rohan,Rahul,Amit,"
		"Vikram,Suresh,Rajesh,Sanjay,Anil,Manoj,Harsh,Kunal,Nikhil,Pranav",
		"Aadhya,Ananya,Diya,Saanvi,Pari,Anika,Navya,Kavya,Priya,Pooja,Neha,Sneha,Divya,"
		"Lakshmi,Meera,Anjali,Riya,Shreya,Isha,Tanvi,Sunita,Deepika",
		"Sharma,Verma,Gupta,Singh,Kumar,Patel,Shah,Mehta,Reddy,Rao,Iyer,Nair,Menon,"
		"Pillai,Das,Banerjee,Chatterjee,Mukherjee,Bose,Joshi,Kulkarni,Desai,Jain,"
		"Agarwal,Chopra,Kapoor,Malhotra,Bhat,Naidu,Yadav",
		"MG Road,Station Road,Park Street,Nehru Road,Gandhi Road,Brigade Road,"
		"Linking Road,Anna Salai,Residency Road,Church Street,Mall Road,Ring Road,"
		"Tilak Marg,Shivaji Marg,Rajpath",
		"Mumbai/Maharashtra,Pune/Maharashtra,Nagpur/Maharashtra,Delhi/Delhi,"
		"Bengaluru/Karnataka,Mysuru/Karnataka,Chennai/Tamil Nadu,Coimbatore/Tamil Nadu,"
		"Kolkata/West Bengal,Hyderabad/Telangana,Ahmedabad/Gujarat,Surat/Gujarat,"
		"Jaipur/Rajasthan,Lucknow/Uttar Pradesh,Kanpur/Uttar Pradesh,Kochi/Kerala,"
		"Bhopal/Madhya Pradesh,Patna/Bihar",
		"%#########", "9#########", "%#####", 0, "UIDAI", "%###########", 0,
	},
	{
		"IR", "Iran",
		"محمد=mohammad,علی=ali,حسین=hossein,رضا=reza,امیر=amir,مهدی=mehdi,"
		"محمدرضا=mohammadreza,حسن=hasan,امیرحسین=amirhossein,سینا=sina,آرش=arash,"
		"پارسا=parsa,کیان=kian,نیما=nima,بردیا=bardia,یاسین=yasin,عرفان=erfan,"
		"سامان=saman,کامران=kamran,پویا=pouya",
		"فاطمه=fatemeh,زهرا=zahra,مریم=maryam,زینب=zeynab,نرگس=narges,سارا=sara,"
		"هستی=hasti,نازنین=nazanin,یاسمن=yasaman,مهسا=mahsa,ریحانه=reyhaneh,"
		"پرنیا=parnia,آیدا=aida,الینا=elina,نیلوفر=niloofar,شیرین=shirin,"
		"ترانه=taraneh,رها=raha,مهتاب=mahtab,آوا=ava",
		"محمدی=mohammadi,حسینی=hosseini,احمدی=ahmadi,رضایی=rezaei,موسوی=mousavi,"
		"کریمی=karimi,جعفری=jafari,رحیمی=rahimi,صادقی=sadeghi,قاسمی=ghasemi,"
		"حیدری=heydari,نوری=nouri,کاظمی=kazemi,یزدانی=yazdani,سلطانی=soltani,"
		"زمانی=zamani,عباسی=abbasi,نجفی=najafi,پارسا=parsa,اکبری=akbari,"
		"تهرانی=tehrani,شریفی=sharifi,مرادی=moradi,امینی=amini,یوسفی=yousefi",
		"شهید بهشتی,ولیعصر,انقلاب,آزادی,شریعتی,دکتر فاطمی,میرداماد,ستارخان,"
		"پاسداران,جمهوری اسلامی,کریمخان زند,شهید مطهری,امام خمینی,حافظ,فردوسی",
		"تهران/تهران,شهریار/تهران,مشهد/خراسان رضوی,نیشابور/خراسان رضوی,"
		"اصفهان/اصفهان,کاشان/اصفهان,شیراز/فارس,تبریز/آذربایجان شرقی,کرج/البرز,"
		"اهواز/خوزستان,قم/قم,کرمانشاه/کرمانشاه,رشت/گیلان,یزد/یزد,کرمان/کرمان,"
		"همدان/همدان,ارومیه/آذربایجان غربی",
		"0%#-####-####", "09##-###-####", "%####", 0, NULL, NULL, 0,
	},
	{
		"MX", "Mexico",
		"Santiago,Mateo,Sebastián,Leonardo,Matías,Emiliano,Diego,Miguel,Daniel,"
		"Alejandro,José,Juan,Luis,Carlos,Jorge,Fernando,Ricardo,Javier,Eduardo,Raúl,"
		"Ramón,Jesús",
		"Sofía,Valentina,Regina,María José,Ximena,Camila,Valeria,Renata,Victoria,"
		"Guadalupe,Fernanda,Mariana,Daniela,Andrea,Alejandra,Paola,Adriana,Gabriela,"
		"Lucía,Verónica,Rocío,Itzel",
		"Hernández,García,Martínez,López,González,Pérez,Rodríguez,Sánchez,Ramírez,"
		"Cruz,Flores,Gómez,Morales,Vázquez,Reyes,Jiménez,Torres,Díaz,Gutiérrez,Ruiz,"
		"Mendoza,Aguilar,Ortiz,Moreno,Castillo,Romero,Álvarez,Méndez,Chávez,Rivera",
		"Avenida Reforma,Calle Juárez,Avenida Hidalgo,Calle Morelos,Avenida Insurgentes,"
		"Calle Allende,Calle Madero,Avenida Revolución,Calle Zaragoza,Calle Guerrero,"
		"Avenida Universidad,Calle Aldama,Calle Independencia,Calle Matamoros,"
		"Cerrada Nayarit",
		"Ciudad de México/Ciudad de México,Guadalajara/Jalisco,Zapopan/Jalisco,"
		"Monterrey/Nuevo León,Puebla/Puebla,Tijuana/Baja California,"
		"Mexicali/Baja California,León/Guanajuato,Querétaro/Querétaro,Mérida/Yucatán,"
		"Cancún/Quintana Roo,Toluca/Estado de México,Chihuahua/Chihuahua,"
		"Oaxaca/Oaxaca,Morelia/Michoacán,Hermosillo/Sonora,Veracruz/Veracruz",
		"(6##) ### ####", "(6##) ### ####", "%####", 0, "NSS", "## ## ## ####", 0,
	},
	{
		"NL", "Netherlands",
		"Daan,Sem,Lucas,Levi,Finn,Luuk,Milan,Bram,Jesse,Thijs,Lars,Ruben,Sven,Joost,"
		"Pieter,Jan,Kees,Willem,Gijs,Maarten,Stijn,Teun",
		"Emma,Julia,Sophie,Tess,Zoë,Sara,Anna,Eva,Fenna,Lotte,Sanne,Femke,Iris,Lieke,"
		"Maud,Noor,Roos,Fleur,Ilse,Marieke,Anouk,Hanneke",
		"de Jong,Jansen,de Vries,van den Berg,van Dijk,Bakker,Janssen,Visser,Smit,"
		"Meijer,de Boer,Mulder,de Groot,Bos,Vos,Peters,Hendriks,van Leeuwen,Dekker,"
		"Brouwer,de Wit,Dijkstra,Smits,de Graaf,van der Meer,Kok,Jacobs,de Haan,"
		"Vermeulen,van Beek",
		"Kerkstraat,Schoolstraat,Molenstraat,Dorpsstraat,Stationsweg,Kalverstraat,"
		"Hoofdstraat,Nieuwstraat,Julianastraat,Beatrixlaan,Prinsengracht,Keizersgracht,"
		"Marktplein,Burgemeester de Withstraat,Oranjestraat",
		"Amsterdam/Noord-Holland,Haarlem/Noord-Holland,Rotterdam/Zuid-Holland,"
		"Den Haag/Zuid-Holland,Leiden/Zuid-Holland,Utrecht/Utrecht,Amersfoort/Utrecht,"
		"Eindhoven/Noord-Brabant,Tilburg/Noord-Brabant,Breda/Noord-Brabant,"
		"Groningen/Groningen,Almere/Flevoland,Nijmegen/Gelderland,Arnhem/Gelderland,"
		"Enschede/Overijssel,Zwolle/Overijssel,Maastricht/Limburg,Leeuwarden/Friesland",
		"(0%##) ######", "(06) ########", "%### AA", 1, "BSN", "%#######", 0,
	},
	{
		"NO", "Norway",
		"Jakob,Emil,Noah,Oliver,Filip,William,Lucas,Magnus,Henrik,Ola,Håkon,Sindre,"
		"Eirik,Bjørn,Tor,Kristian,Sander,Aksel,Sigurd,Ørjan,Petter,Leif",
		"Nora,Emma,Sara,Ingrid,Sofie,Ella,Maja,Olivia,Leah,Thea,Hedda,Ida,Marte,Silje,"
		"Kari,Åse,Solveig,Ragnhild,Tuva,Mia,Synnøve,Liv",
		"Hansen,Johansen,Olsen,Larsen,Andersen,Pedersen,Nilsen,Kristiansen,Jensen,"
		"Karlsen,Johnsen,Pettersen,Eriksen,Berg,Haugen,Hagen,Johannessen,Andreassen,"
		"Jacobsen,Dahl,Jørgensen,Halvorsen,Lund,Sørensen,Moen,Bakken,Strand,Solberg",
		"Storgata,Kirkegata,Kongens gate,Dronningens gate,Skolegata,Parkveien,"
		"Karl Johans gate,Bygdøy allé,Bogstadveien,Torggata,Strandgata,Møllergata,"
		"Fjellveien,Nordre gate,Haakon VIIs gate",
		"Oslo/Oslo,Bergen/Vestland,Førde/Vestland,Trondheim/Trøndelag,"
		"Stavanger/Rogaland,Sandnes/Rogaland,Drammen/Viken,Fredrikstad/Viken,"
		"Kristiansand/Agder,Arendal/Agder,Tromsø/Troms og Finnmark,"
		"Ålesund/Møre og Romsdal,Bodø/Nordland,Hamar/Innlandet,Lillehammer/Innlandet,"
		"Tønsberg/Vestfold og Telemark",
		"%#######", "4#######", "%###", 0, "FN", "###########", 0,
	},
	{
		"NZ", "New Zealand",
		"Oliver,Jack,Noah,Leo,George,Charlie,William,Hunter,Lucas,Thomas,Mason,Liam,"
		"Tama,Nikau,Wiremu,Ari,Manaia,Kahu,Hemi,Rawiri,Blake,Riley",
		"Isla,Charlotte,Olivia,Amelia,Mia,Harper,Ella,Willow,Ruby,Sophie,Aria,Hana,"
		"Aroha,Mere,Ngaio,Kaia,Maia,Te Aroha,Anahera,Georgia,Zara,Hazel",
		"Smith,Wilson,Williams,Brown,Taylor,Jones,Singh,Anderson,Thompson,Walker,Ngata,"
		"Tane,Parata,Te Whare,Mason,Campbell,Stewart,Robinson,Clark,Wright,Young,"
		"Edwards,Scott,Morris,Baker,Harris,Hall,King,Ward,Lee",
		"Queen Street,Lambton Quay,Cuba Street,Ponsonby Road,Karangahape Road,"
		"Colombo Street,Victoria Street,George Street,Devonport Road,Great North Road,"
		"Dominion Road,Riccarton Road,Manners Street,Willis Street,Princes Street",
		"Auckland/Auckland,Manukau/Auckland,Wellington/Wellington,"
		"Lower Hutt/Wellington,Porirua/Wellington,Christchurch/Canterbury,"
		"Timaru/Canterbury,Hamilton/Waikato,Tauranga/Bay of Plenty,Rotorua/Bay of Plenty,"
		"Dunedin/Otago,Queenstown/Otago,Palmerston North/Manawatu-Wanganui,"
		"Napier/Hawke's Bay,Nelson/Nelson,Invercargill/Southland,Whangarei/Northland",
		"(%##)-###-####", "(02#)-###-####", "%###", 0, NULL, NULL, 0,
	},
	{
		"RS", "Serbia",
		"Luka,Stefan,Nikola,Marko,Lazar,Aleksa,Vuk,Đorđe,Miloš,Nemanja,Filip,Uroš,"
		"Dušan,Dragan,Zoran,Milan,Vladimir,Dejan,Goran,Željko,Bojan,Srđan",
		"Milica,Ana,Jelena,Marija,Sara,Teodora,Anđela,Jovana,Katarina,Nevena,Dragana,"
		"Ivana,Tijana,Mina,Sofija,Vesna,Snežana,Ljiljana,Gordana,Nataša,Dunja,Mila",
		"Jovanović,Petrović,Nikolić,Marković,Đorđević,Stojanović,Ilić,Stanković,"
		"Pavlović,Milošević,Popović,Todorović,Đukić,Kostić,Mitrović,Živković,"
		"Ristić,Lazić,Simić,Radović,Tomić,Savić,Vasić,Perić,Kovačević,Babić,Janković,"
		"Obradović,Lukić,Stevanović",
		"Knez Mihailova,Bulevar kralja Aleksandra,Nemanjina,Kralja Milana,Takovska,"
		"Cara Dušana,Bulevar oslobođenja,Zmaj Jovina,Njegoševa,Vojvode Stepe,"
		"Kneza Miloša,Gospodar Jevremova,Svetogorska,Makedonska,Karađorđeva",
		"Beograd/Beograd,Zemun/Beograd,Novi Sad/Južnobački,Niš/Nišavski,"
		"Kragujevac/Šumadijski,Subotica/Severnobački,Zrenjanin/Srednjebanatski,"
		"Pančevo/Južnobanatski,Čačak/Moravički,Kraljevo/Raški,Novi Pazar/Raški,"
		"Smederevo/Podunavski,Leskovac/Jablanički,Valjevo/Kolubarski,Užice/Zlatiborski,"
		"Šabac/Mačvanski,Sombor/Zapadnobački",
		"0%#-####-###", "06#-####-###", "%####", 0, "SID", "#########", 0,
	},
	{
		"TR", "Turkey",
		"Yusuf,Eymen,Ömer,Mustafa,Mehmet,Ahmet,Ali,Emir,Hüseyin,Murat,Mert,Burak,Can,"
		"Emre,Kaan,Oğuz,Serkan,Barış,Tolga,Uğur,Doğan,İsmail",
		"Zeynep,Elif,Defne,Eylül,Azra,Ecrin,Asya,Nehir,Ayşe,Fatma,Emine,Hatice,Merve,"
		"Büşra,Esra,Gül,Özlem,Şeyma,Derya,Sevgi,Çiğdem,Nur",
		"Yılmaz,Kaya,Demir,Şahin,Çelik,Yıldız,Yıldırım,Öztürk,Aydın,Özdemir,Arslan,"
		"Doğan,Kılıç,Aslan,Çetin,Kara,Koç,Kurt,Özkan,Şimşek,Polat,Özer,Erdem,Aksoy,"
		"Korkmaz,Tekin,Uçar,Avcı,Bozkurt,Güneş",
		"Atatürk Cd,İstiklal Cd,Cumhuriyet Cd,Bağdat Cd,Fatih Sultan Mehmet Cd,"
		"Kushimoto Sk,Talak Göktepe Cd,Anafartalar Cd,Necatibey Cd,Menekşe Sk,"
		"Şehitler Cd,Abanoz Sk,Fatih Sk,Doktorlar Cd,Vatan Cd",
		"İstanbul/İstanbul,Ankara/Ankara,İzmir/İzmir,Bursa/Bursa,Antalya/Antalya,"
		"Adana/Adana,Konya/Konya,Gaziantep/Gaziantep,Mersin/Mersin,Kayseri/Kayseri,"
		"Eskişehir/Eskişehir,Diyarbakır/Diyarbakır,Samsun/Samsun,Trabzon/Trabzon,"
		"Denizli/Denizli,Erzurum/Erzurum,Sakarya/Sakarya",
		"(%##)-###-####", "(5##)-###-####", "%####", 0, NULL, NULL, 0,
	},
	{
		"UA", "Ukraine",
		"Олександр=oleksandr,Андрій=andriy,Дмитро=dmytro,Максим=maksym,Іван=ivan,"
		"Сергій=serhiy,Микола=mykola,Богдан=bohdan,Тарас=taras,Юрій=yuriy,"
		"Володимир=volodymyr,Олег=oleh,Петро=petro,Ярослав=yaroslav,Василь=vasyl,"
		"Назар=nazar,Остап=ostap,Роман=roman,Віталій=vitaliy,Степан=stepan",
		"Олена=olena,Ольга=olha,Наталія=nataliya,Тетяна=tetyana,Ірина=iryna,"
		"Марія=mariya,Оксана=oksana,Юлія=yuliya,Анна=anna,Софія=sofiya,"
		"Катерина=kateryna,Дарина=daryna,Галина=halyna,Людмила=lyudmyla,"
		"Вікторія=viktoriya,Соломія=solomiya,Христина=khrystyna,Злата=zlata,"
		"Яна=yana,Зоряна=zoryana",
		"Шевченко=shevchenko,Бондаренко=bondarenko,Коваленко=kovalenko,"
		"Ткаченко=tkachenko,Кравченко=kravchenko,Олійник=oliynyk,Шевчук=shevchuk,"
		"Поліщук=polishchuk,Бойко=boyko,Мельник=melnyk,Ковальчук=kovalchuk,"
		"Мороз=moroz,Лисенко=lysenko,Марченко=marchenko,Руденко=rudenko,"
		"Савченко=savchenko,Петренко=petrenko,Гончаренко=honcharenko,"
		"Василенко=vasylenko,Павленко=pavlenko,Левченко=levchenko,"
		"Кравчук=kravchuk,Романенко=romanenko,Литвиненко=lytvynenko,Федоренко=fedorenko",
		"Хрещатик,Шевченка,Франка,Лесі Українки,Грушевського,Сагайдачного,"
		"Богдана Хмельницького,Героїв Майдану,Соборна,Незалежності,Садова,Київська,"
		"Дерибасівська,Личаківська,Пушкінська",
		"Київ/Київська,Біла Церква/Київська,Харків/Харківська,Одеса/Одеська,"
		"Дніпро/Дніпропетровська,Кривий Ріг/Дніпропетровська,Запоріжжя/Запорізька,"
		"Львів/Львівська,Вінниця/Вінницька,Полтава/Полтавська,Чернігів/Чернігівська,"
		"Черкаси/Черкаська,Житомир/Житомирська,Суми/Сумська,Рівне/Рівненська,"
		"Івано-Франківськ/Івано-Франківська,Тернопіль/Тернопільська,Луцьк/Волинська",
		"(0%#) ###-##-##", "(09#) ###-##-##", "%####", 0, NULL, NULL, 0,
	},
	{
		"US", "United States",
		"James,John,Robert,Michael,William,David,Richard,Joseph,Thomas,Charles,"
		"Christopher,Daniel,Matthew,Anthony,Mark,Steven,Brandon,Tyler,Kevin,Jason,"
		"Ryan,Gary,Dwayne,Terrance",
		"Mary,Patricia,Jennifer,Linda,Elizabeth,Barbara,Susan,Jessica,Sarah,Karen,"
		"Nancy,Lisa,Betty,Ashley,Kimberly,Emily,Donna,Michelle,Madison,Brittany,"
		"Tiffany,Heather,Crystal,Dolores",
		"Smith,Johnson,Williams,Brown,Jones,Garcia,Miller,Davis,Rodriguez,Martinez,"
		"Hernandez,Lopez,Gonzalez,Wilson,Anderson,Thomas,Taylor,Moore,Jackson,Martin,"
		"Lee,Perez,Thompson,White,Harris,Sanchez,Clark,Lewis,Robinson,Walker",
		"Main St,Oak St,Pine St,Maple Ave,Cedar St,Elm St,Washington Ave,Lake St,"
		"Hill St,Park Ave,Sunset Blvd,Lincoln St,Ranchview Dr,Hickory Creek Dr,"
		"Pecan Acres Ln,W Sherman Dr,Wheeler Ridge Dr",
		"New York/New York,Buffalo/New York,Los Angeles/California,"
		"San Francisco/California,San Diego/California,Chicago/Illinois,"
		"Houston/Texas,Austin/Texas,Dallas/Texas,Phoenix/Arizona,"
		"Philadelphia/Pennsylvania,Jacksonville/Florida,Miami/Florida,"
		"Columbus/Ohio,Seattle/Washington,Denver/Colorado,Boston/Massachusetts,"
		"Nashville/Tennessee,Portland/Oregon,Las Vegas/Nevada",
		"(%##) ###-####", "(%##) ###-####", "%####", 0, "SSN", "%##-##-####", 0,
	},
};

/* The timezones of the real service, chosen independently of the nationality. */
const char *const randomuser_timezones[RANDOMUSER_NTIMEZONES][2] = {
	{"-12:00", "Eniwetok, Kwajalein"},
	{"-11:00", "Midway Island, Samoa"},
	{"-10:00", "Hawaii"},
	{"-9:00", "Alaska"},
	{"-8:00", "Pacific Time (US & Canada)"},
	{"-7:00", "Mountain Time (US & Canada)"},
	{"-6:00", "Central Time (US & Canada), Mexico City"},
	{"-5:00", "Eastern Time (US & Canada), Bogota, Lima"},
	{"-4:00", "Atlantic Time (Canada), Caracas, La Paz"},
	{"-3:30", "Newfoundland"},
	{"-3:00", "Brazil, Buenos Aires, Georgetown"},
	{"-2:00", "Mid-Atlantic"},
	{"-1:00", "Azores, Cape Verde Islands"},
	{"0:00", "Western Europe Time, London, Lisbon, Casablanca"},
	{"+1:00", "Brussels, Copenhagen, Madrid, Paris"},
	{"+2:00", "Kaliningrad, South Africa"},
	{"+3:00", "Baghdad, Riyadh, Moscow, St. Petersburg"},
	{"+3:30", "Tehran"},
	{"+4:00", "Abu Dhabi, Muscat, Baku, Tbilisi"},
	{"+4:30", "Kabul"},
	{"+5:00", "Ekaterinburg, Islamabad, Karachi, Tashkent"},
	{"+5:30", "Bombay, Calcutta, Madras, New Delhi"},
	{"+5:45", "Kathmandu"},
	{"+6:00", "Almaty, Dhaka, Colombo"},
	{"+7:00", "Bangkok, Hanoi, Jakarta"},
	{"+8:00", "Beijing, Perth, Singapore, Hong Kong"},
	{"+9:00", "Tokyo, Seoul, Osaka, Sapporo, Yakutsk"},
	{"+9:30", "Adelaide, Darwin"},
	{"+10:00", "Eastern Australia, Guam, Vladivostok"},
	{"+11:00", "Magadan, Solomon Islands, New Caledonia"},
	{"+12:00", "Auckland, Wellington, Fiji, Kamchatka"},
};

/* Common weak passwords, the kind the real service hands out by default. */
const char randomuser_passwords[] =
	"password,123456,qwerty,letmein,monkey,dragon,sunshine,princess,football,"
	"baseball,shadow,master,superman,batman,trustno1,iloveyou,welcome,freedom,"
	"whatever,starwars,hello,charlie,summer,winter,ginger,pepper,cookie,cheese,"
	"banana,orange,purple,hunter,ranger,thunder,tigger,jordan,harley,yankees,"
	"cowboys,eagles,rangers,hockey,soccer,golfer,fishing,maverick,phoenix,matrix,"
	"blazer,cooper,buster,bandit,marley,snoopy,scooter,sparky,blondie,angels,"
	"dolphin,panther,wizard,silver,diamond,crystal,maggie,bailey,chester,rocket,"
	"hotdog,pumpkin,peanut,bubbles,asdfgh,zxcvbn,1q2w3e,abc123,qazwsx,passw0rd";

const char randomuser_username_adjectives[] =
	"white,black,blue,red,green,orange,purple,yellow,brown,silver,golden,tiny,big,"
	"happy,sad,lazy,crazy,heavy,ticklish,beautiful,organic,smart,angry,brave,calm,"
	"fancy,jolly,lucky,proud,silly";

const char randomuser_username_nouns[] =
	"bird,swan,butterfly,tiger,lion,elephant,fish,panda,dog,cat,mouse,rabbit,wolf,"
	"frog,goose,duck,gorilla,koala,leopard,peacock,ladybug,meerkat,zebra,snake,bear,"
	"owl,fox,horse,monkey,penguin";
