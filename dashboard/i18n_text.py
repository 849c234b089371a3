"""The dashboard's texts: key → {"de": ..., "en": ...}. Formatting lives in `i18n`."""

from __future__ import annotations

_T = dict[str, dict[str, str]]


def _pairs(**entries: tuple[str, str]) -> _T:
    return {key.replace("__", "."): {"de": de, "en": en} for key, (de, en) in entries.items()}


TEXT: _T = _pairs(
    app__name=("Stadtpuls", "Stadtpuls"),
    app__tagline=("Live-Daten aus der Stadt", "Live data from the city"),
    app__language=("Sprache", "Language"),
    app__updated=("Stand {time}", "Updated {time}"),
    app__store_down=("Die Datenbank ist gerade nicht erreichbar. Die Anzeige wird "
                     "fortgesetzt, sobald sie wieder antwortet.",
                     "The database cannot be reached right now. The display resumes as soon "
                     "as it answers again."),
    app__not_found=("Diese Seite gibt es nicht.", "This page does not exist."),
    app__not_found_title=("Seite nicht gefunden", "Page not found"),
    app__skip=("Zum Inhalt springen", "Skip to content"),
    app__navigation=("Hauptnavigation", "Main navigation"),
    app__current_page=(" (aktuelle Seite)", " (current page)"),
    footer__accessibility=("Barrierefreiheit", "Accessibility"),
    footer__opendata=("Offene Daten", "Open data"),
    nav__overview=("Übersicht", "Overview"),
    nav__energy=("Energie", "Energy"),
    nav__sensors=("Sensoren", "Sensors"),
    nav__map=("Karte", "Map"),
    nav__status=("Pipeline", "Pipeline"),
    nav__sensor_detail=("Sensor", "Sensor"),
    # statuses
    status__ok=("OK", "OK"),
    status__late=("verspätet", "late"),
    status__silent=("stumm", "silent"),
    status__implausible=("unplausibel", "implausible"),
    status__stuck=("hängt", "stuck"),
    status__incomplete=("lückenhaft", "incomplete"),
    status__low_battery=("Batterie schwach", "low battery"),
    status__unregistered=("nicht registriert", "unregistered"),
    status__help=("OK: meldet im erwarteten Takt · verspätet: Messwert überfällig · stumm: "
                  "mehr als das 1,6-Fache des Intervalls ohne Messwert · hängt: Wert seit "
                  "Stunden unverändert · unplausibel: letzter Wert außerhalb des plausiblen "
                  "Bereichs · lückenhaft: unter 80 % der erwarteten Messwerte in 24 h · "
                  "Batterie schwach: unter 20 %",
                  "OK: reporting on schedule · late: reading overdue · silent: no reading "
                  "for more than 1.6 intervals · stuck: value unchanged for hours · "
                  "implausible: last value outside the plausible range · incomplete: below "
                  "80 % of the expected readings in 24 h · low battery: below 20 %"),
    # relative times
    time__never=("nie", "never"),
    time__just_now=("gerade eben", "just now"),
    time__minutes_ago=("vor {n} Min.", "{n} min ago"),
    time__hours_ago=("vor {n} Std.", "{n} h ago"),
    time__day_ago=("vor 1 Tag", "1 day ago"),
    time__days_ago=("vor {n} Tagen", "{n} days ago"),
    time__local=("Ortszeit {time}", "Local time {time}"),
    # headline figures (overview cards)
    head__pv_power=("PV-Leistung jetzt", "PV power now"),
    head__pv_today=("PV-Ertrag heute", "PV energy today"),
    head__self_sufficiency_today=("Autarkie heute", "Self-sufficiency today"),
    head__consumption=("Verbrauch jetzt", "Consumption now"),
    head__bikes_today=("Radfahrten heute", "Bike trips today"),
    head__air_temperature=("Außentemperatur", "Outdoor temperature"),
    head__room_co2_max=("CO₂ höchster Raum", "CO₂ highest room"),
    head__pm2_5=("Feinstaub PM2,5", "Particulates PM2.5"),
    head__pm10=("Feinstaub PM10", "Particulates PM10"),
    head__no2=("Stickstoffdioxid", "Nitrogen dioxide"),
    head__noise=("Lärm", "Noise"),
    head__room_temperature=("Raumtemperatur", "Room temperature"),
    overview__title=("Übersicht", "Overview"),
    overview__intro=("Alle Standorte mit ihren aktuellen Werten und dem Zustand ihrer "
                     "Sensoren.", "Every site with its current figures and the health of "
                     "its sensors."),
    overview__last_24h=("Letzte 24 Stunden", "Last 24 hours"),
    trend__bikes_per_hour=("Radfahrten je Stunde", "Bike trips per hour"),
    overview__sensors=("{n} Sensoren", "{n} sensors"),
    overview__sensors_one=("1 Sensor", "1 sensor"),
    overview__to_sensors=("Sensoren ansehen →", "View sensors →"),
    overview__to_energy=("Energie ansehen →", "View energy →"),
    # energy page
    energy__title=("Energie", "Energy"),
    energy__intro=("Photovoltaik, Verbrauch und Netz – aus Zählern und Leistungsmessung.",
                   "Photovoltaics, consumption and grid – from meters and power readings."),
    energy__site=("Standort", "Site"),
    energy__pv_now=("PV-Leistung jetzt", "PV power now"),
    energy__of_peak=("{share} der Spitzenleistung ({peak})", "{share} of peak ({peak})"),
    energy__consumption_now=("Verbrauch jetzt", "Consumption now"),
    energy__production=("PV-Erzeugung", "PV production"),
    energy__consumption=("Verbrauch", "Consumption"),
    energy__self_consumption=("Eigenverbrauchsanteil", "Self-consumption"),
    energy__self_consumption_help=("Anteil des Solarstroms, der im Gebäude genutzt wird",
                                   "Share of the solar power used in the building"),
    energy__self_sufficiency=("Autarkiegrad", "Self-sufficiency"),
    energy__self_sufficiency_help=("Anteil des Verbrauchs, der aus eigenem Solarstrom kommt",
                                   "Share of consumption covered by own solar power"),
    energy__co2=("CO₂ vermieden", "CO₂ avoided"),
    energy__co2_note=("Faktor {factor} g CO₂/kWh: {source}",
                      "Factor {factor} g CO₂/kWh: {source}"),
    energy__co2_source=("Umweltbundesamt, CO₂-Emissionsfaktor des deutschen Strommix 2024 "
                        "(Schätzung)", "German Environment Agency (UBA), CO₂ emission factor "
                        "of the German electricity mix 2024 (estimate)"),
    energy__co2_source_custom=("vom Betreiber eingestellt", "set by the operator"),
    energy__grid=("Netzbezug / Einspeisung", "Grid import / export"),
    energy__arrays=("PV-Felder", "PV arrays"),
    energy__by_orientation=("Leistung jetzt nach Ausrichtung", "Power now by orientation"),
    energy__power_today=("PV-Leistung und Verbrauch, letzte 24 Stunden",
                         "PV power and consumption, last 24 hours"),
    energy__expected=("Soll/Ist der letzten 24 Stunden", "Expected vs actual, last 24 hours"),
    energy__expected_help=("Soll: pvlib-Modell aus gemessener Einstrahlung und Temperatur. "
                           "Markiert: Felder unter {threshold} ihres üblichen Verhältnisses.",
                           "Expected: pvlib model from measured irradiance and temperature. "
                           "Flagged: arrays below {threshold} of their usual ratio."),
    energy__underperforming=("unter Erwartung", "below expectation"),
    energy__no_weather=("Keine Wetterdaten – kein Sollwert.",
                        "No weather data – no expected value."),
    energy__no_pv=("Dieser Standort hat keine Photovoltaik.", "This site has no photovoltaics."),
    energy__actual=("Ist", "Actual"),
    energy__expected_short=("Soll", "Expected"),
    energy__ratio=("Ist/Soll", "Actual/expected"),
    energy__usual=("üblich {ratio}", "usual {ratio}"),
    energy__source_meter=("Zähler", "meter"),
    energy__source_power=("aus Leistung", "from power"),
    col__array=("PV-Feld", "Array"),
    col__orientation=("Ausrichtung", "Orientation"),
    col__peak=("Spitzenleistung", "Peak power"),
    col__power_now=("Leistung jetzt", "Power now"),
    col__today=("Heute", "Today"),
    col__yield_today=("kWh/kWp heute", "kWh/kWp today"),
    col__yield_month=("kWh/kWp Monat", "kWh/kWp month"),
    col__yield_year=("kWh/kWp Jahr", "kWh/kWp year"),
    period__today=("Heute", "Today"),
    period__yesterday=("Gestern", "Yesterday"),
    period__month=("Dieser Monat", "This month"),
    period__year=("Dieses Jahr", "This year"),
    kind__facade=("Fassade", "Façade"),
    kind__roof=("Dach", "Roof"),
    # sensors page
    sensors__title=("Sensoren", "Sensors"),
    sensors__intro=("Alle Sensoren mit Zustand, letztem Wert und Vollständigkeit der letzten "
                    "24 Stunden. Spalten lassen sich sortieren und filtern.",
                    "Every sensor with its status, last value and completeness over the "
                    "last 24 hours. Columns can be sorted and filtered."),
    sensors__search=("Suchen …", "Search …"),
    sensors__all_status=("Alle Zustände", "All statuses"),
    sensors__all_sites=("Alle Standorte", "All sites"),
    sensors__count=("{n} Sensoren", "{n} sensors"),
    sensors__count_one=("1 Sensor", "1 sensor"),
    col__status=("Zustand", "Status"),
    col__site=("Standort", "Site"),
    col__name=("Sensor", "Sensor"),
    col__quantity=("Messgröße", "Quantity"),
    col__last_seen=("Zuletzt gesehen", "Last seen"),
    col__value=("Letzter Wert", "Last value"),
    col__completeness=("Vollständigkeit 24 h", "Completeness 24 h"),
    col__battery=("Batterie", "Battery"),
    col__rssi=("Funk (RSSI)", "Radio (RSSI)"),
    col__interval=("Intervall", "Interval"),
    # sensor detail
    detail__back=("← Alle Sensoren", "← All sensors"),
    detail__range=("Zeitraum", "Range"),
    detail__custom=("Eigener", "Custom"),
    detail__download=("CSV herunterladen", "Download CSV"),
    detail__window=("{n} Punkte · Mittelwert je {window}, Band: Minimum bis Maximum",
                    "{n} points · mean per {window}, band: minimum to maximum"),
    detail__window_one=("1 Punkt · Mittelwert je {window}", "1 point · mean per {window}"),
    detail__raw=("{n} Punkte · Einzelwerte", "{n} points · individual readings"),
    detail__raw_one=("1 Punkt · Einzelwert", "1 point · individual reading"),
    detail__no_data=("Keine Daten in diesem Zeitraum.", "No data in this range."),
    detail__mean=("Mittelwert", "Mean"),
    detail__hidden=("{n} unplausible Werte ausgeblendet", "{n} implausible values hidden"),
    detail__hidden_one=("1 unplausibler Wert ausgeblendet", "1 implausible value hidden"),
    detail__readings=("Messwerte", "Readings"),
    detail__band=("Minimum–Maximum", "Minimum–maximum"),
    detail__warn=("Warnung", "Warning"),
    detail__alarm=("Alarm", "Alarm"),
    detail__unknown=("Diesen Sensor gibt es nicht: {id}", "There is no such sensor: {id}"),
    detail__unregistered=("Nicht im Katalog – Daten wurden trotzdem gespeichert.",
                          "Not in the catalogue – its data was stored anyway."),
    detail__interval=("Intervall {value}", "Interval {value}"),
    detail__stat_min=("Minimum", "Minimum"),
    detail__stat_max=("Maximum", "Maximum"),
    detail__stat_mean=("Mittelwert", "Mean"),
    detail__location=("Ort", "Location"),
    range__1h=("1 Std.", "1 h"),
    range__24h=("24 Std.", "24 h"),
    range__7d=("7 Tage", "7 d"),
    range__30d=("30 Tage", "30 d"),
    range__1y=("1 Jahr", "1 y"),
    range__custom=("Eigener Zeitraum", "Custom range"),
    range__bad_date=("Das ist kein Datum. Bitte wählen Sie Tage im Kalender.",
                     "That is not a date. Please pick days in the calendar."),
    range__outside=("Daten gibt es nur vom {first} bis heute ({last}). Bitte wählen Sie Tage "
                    "in diesem Zeitraum.",
                    "Data exists only from {first} until today ({last}). Please pick days in "
                    "that range."),
    range__too_long=("Ein eigener Zeitraum darf höchstens {days} Tage lang sein. Bitte wählen "
                     "Sie einen kürzeren.",
                     "A custom range can be at most {days} days long. Please pick a shorter "
                     "one."),
    window__60=("Minute", "minute"),
    window__300=("5 Minuten", "5 minutes"),
    window__900=("15 Minuten", "15 minutes"),
    window__3600=("Stunde", "hour"),
    window__21600=("6 Stunden", "6 hours"),
    window__86400=("Tag", "day"),
    # map
    map__title=("Karte", "Map"),
    map__intro=("Sensoren nach Zustand. Mehrere Sensoren am selben Ort teilen sich einen "
                "Punkt in der Farbe des schlechtesten Zustands.",
                "Sensors by status. Sensors at one place share a point in the colour of the "
                "worst status."),
    map__all_sites=("Alle Standorte", "All sites"),
    map__plain=("Ohne Kartenhintergrund: Lage nach Koordinaten.",
                "No map background: positions by coordinates."),
    map__east=("Ost", "East"),
    map__north=("Nord", "North"),
    map__clustered=("{n} Sensoren an {places} Orten, zu {points} Punkten zusammengefasst "
                    "(Punktgröße nach Anzahl). Einen Standort wählen oder hineinzoomen für "
                    "Einzelheiten; die Tabelle zählt jeden Sensor.",
                    "{n} sensors at {places} places, grouped into {points} points (size by "
                    "number). Pick a site or zoom in for detail; the table counts every "
                    "sensor."),
    map__cluster_place=("{n} Sensoren", "{n} sensors"),
    map__cluster_place_one=("1 Sensor", "1 sensor"),
    map__counts=("Sensoren je Standort und Zustand", "Sensors per site and status"),
    map__total=("Summe", "Total"),
    # pipeline status
    pipeline__title=("Pipeline", "Pipeline"),
    pipeline__intro=("Was der Ingest-Dienst über sich selbst meldet: Durchsatz, Ablehnungen, "
                     "Zwischenspeicher und Verbindungen.",
                     "What the ingest service reports about itself: throughput, rejections, "
                     "spool and connections."),
    pipeline__messages=("Nachrichten/s", "Messages/s"),
    pipeline__readings=("Messwerte/s", "Readings/s"),
    pipeline__rejected=("Abgelehnt/s", "Rejected/s"),
    pipeline__spool=("Zwischenspeicher", "Spool depth"),
    pipeline__newest_age=("Alter des neuesten Messwerts", "Age of newest reading"),
    pipeline__broker=("MQTT-Broker", "MQTT broker"),
    pipeline__store=("Datenbank", "Database"),
    pipeline__connected=("verbunden", "connected"),
    pipeline__disconnected=("getrennt", "disconnected"),
    pipeline__reachable=("erreichbar", "reachable"),
    pipeline__unreachable=("nicht erreichbar", "unreachable"),
    pipeline__unknown=("unbekannt", "unknown"),
    pipeline__none=("Kein Ingest-Dienst hat in den letzten zwei Tagen Werte gemeldet. Läuft "
                    "„stadtpuls ingest“?",
                    "No ingest service has reported in the last two days. Is "
                    "“stadtpuls ingest” running?"),
    pipeline__client=("Ingest {client}", "Ingest {client}"),
    pipeline__reporting=("meldet sich · {age}", "reporting · {age}"),
    pipeline__not_reporting=("meldet sich nicht mehr · zuletzt {age}",
                             "not reporting · last {age}"),
    pipeline__last_hour=("Durchsatz der letzten Stunde (je Minute)",
                         "Throughput over the last hour (per minute)"),
    pipeline__totals=("Seit Start: {accepted} Nachrichten, {written} Messwerte, "
                      "{rejected} abgelehnt, {unregistered} nicht registriert, "
                      "{implausible} unplausibel",
                      "Since start: {accepted} messages, {written} readings, {rejected} "
                      "rejected, {unregistered} unregistered, {implausible} implausible"),
    pipeline__per_s=("pro Sekunde", "per second"),
    # quantities
    quantity__power=("Leistung", "Power"),
    quantity__energy=("Energie", "Energy"),
    quantity__temperature=("Temperatur", "Temperature"),
    quantity__humidity=("Luftfeuchte", "Humidity"),
    quantity__co2=("CO₂", "CO₂"),
    quantity__pm2_5=("PM2,5", "PM2.5"),
    quantity__pm10=("PM10", "PM10"),
    quantity__no2=("NO₂", "NO₂"),
    quantity__noise=("Lärm", "Noise"),
    quantity__count=("Anzahl", "Count"),
    quantity__irradiance=("Einstrahlung", "Irradiance"),
    quantity__wind_speed=("Wind", "Wind speed"),
    quantity__pressure=("Luftdruck", "Pressure"),
    quantity__voltage=("Spannung", "Voltage"),
    quantity__battery=("Batterie", "Battery"),
    quantity__rssi=("Signalstärke", "Signal strength"),
    quantity__snr=("Signal/Rausch", "Signal/noise"),
    quantity__duration=("Dauer", "Duration"),
    # compass (catalogue orientation labels are English)
    compass__N=("N", "N"),
    compass__NE=("NO", "NE"),
    compass__E=("O", "E"),
    compass__SE=("SO", "SE"),
    compass__S=("S", "S"),
    compass__SW=("SW", "SW"),
    compass__W=("W", "W"),
    compass__NW=("NW", "NW"),
    # AG Grid's own texts (filter menus, empty table)
    grid__contains=("Enthält", "Contains"),
    grid__notContains=("Enthält nicht", "Does not contain"),
    grid__equals=("Gleich", "Equals"),
    grid__notEqual=("Ungleich", "Does not equal"),
    grid__startsWith=("Beginnt mit", "Begins with"),
    grid__endsWith=("Endet mit", "Ends with"),
    grid__blank=("Leer", "Blank"),
    grid__notBlank=("Nicht leer", "Not blank"),
    grid__lessThan=("Kleiner als", "Less than"),
    grid__greaterThan=("Größer als", "Greater than"),
    grid__lessThanOrEqual=("Kleiner oder gleich", "Less than or equal to"),
    grid__greaterThanOrEqual=("Größer oder gleich", "Greater than or equal to"),
    grid__inRange=("Zwischen", "Between"),
    grid__filterOoo=("Filtern …", "Filter …"),
    grid__andCondition=("UND", "AND"),
    grid__orCondition=("ODER", "OR"),
    grid__noRowsToShow=("Keine Sensoren", "No sensors"),
    grid__applyFilter=("Anwenden", "Apply"),
    grid__resetFilter=("Zurücksetzen", "Reset"),
    grid__clearFilter=("Leeren", "Clear"),
    grid__page=("Seite", "Page"),
    grid__to=("bis", "to"),
    grid__of=("von", "of"),
    grid__more=("mehr", "more"),
    grid__firstPage=("Erste Seite", "First page"),
    grid__previousPage=("Vorige Seite", "Previous page"),
    grid__nextPage=("Nächste Seite", "Next page"),
    grid__lastPage=("Letzte Seite", "Last page"),
)

# Lobby screens (/kiosk): short, read from five metres.
TEXT.update(_pairs(
    kiosk__as_of=("Stand {time}", "as of {time}"),
    kiosk__delayed=("Daten verzögert · letzter Wert {time}",
                    "Data delayed · last value {time}"),
    kiosk__reconnecting=("Verbindung wird wiederhergestellt …", "Reconnecting …"),
    kiosk__reconnecting_note=("Angezeigt werden die zuletzt empfangenen Werte.",
                              "Showing the last values received."),
    kiosk__no_screen=("Diesen Bildschirm gibt es nicht.", "There is no such screen."),
    kiosk__screens=("Bildschirme (Kiosk)", "Screens (kiosk)"),
    kiosk__screen=("Bildschirm", "Screen"),
    kiosk__screen_state=("Zustand", "State"),
    kiosk__last_contact=("Letzter Kontakt", "Last contact"),
    kiosk__version=("Version", "Version"),
    kiosk__scene=("Aktuelle Szene", "Current scene"),
    kiosk__pv_now=("Solarstrom jetzt", "Solar power now"),
    kiosk__pv_now_hero=("Fassade und Dach zusammen", "Façade and roof together"),
    kiosk__facade=("Fassade {orientation}", "Façade {orientation}"),
    kiosk__roof=("Dach", "Roof"),
    kiosk__energy=("Solarstrom geerntet", "Solar energy harvested"),
    kiosk__today=("Heute", "Today"),
    kiosk__this_year=("Dieses Jahr", "This year"),
    kiosk__self_sufficiency=("Eigenversorgung heute", "Self-supplied today"),
    kiosk__co2_avoided=("CO₂ vermieden", "CO₂ avoided"),
    kiosk__co2_factor=("Gerechnet mit {factor} g CO₂ je kWh (Strommix Deutschland, "
                       "Umweltbundesamt)",
                       "Based on {factor} g CO₂ per kWh (German electricity mix, German "
                       "Environment Agency)"),
    kiosk__everyday=("Was das bedeutet", "What that means"),
    kiosk__households=("Haushalte ein Jahr lang mit Strom versorgt",
                       "Households supplied with electricity for a year"),
    kiosk__car_km=("Kilometer Autofahrt eingespart", "Car kilometres avoided"),
    kiosk__everyday_note=("Solarstrom dieses Jahres: {energy}",
                          "Solar energy this year: {energy}"),
    kiosk__everyday_factors=("1 Haushalt ≈ {household} kWh im Jahr; Auto ≈ {car} g CO₂ je "
                             "Kilometer und Person (Umweltbundesamt)",
                             "1 household ≈ {household} kWh a year; car ≈ {car} g CO₂ per "
                             "kilometre and person (German Environment Agency)"),
    kiosk__indoor_air=("Luft in unseren Räumen", "Air in our rooms"),
    kiosk__air_good=("Frische Luft", "Fresh air"),
    kiosk__air_fair=("Bitte lüften", "Time to air the room"),
    kiosk__air_poor=("Dringend lüften", "Air the room now"),
    kiosk__air_quality=("Luft draußen", "Air outside"),
    kiosk__bikes=("Mit dem Rad unterwegs", "Out on bikes"),
    kiosk__bikes_today=("Radfahrten heute", "Bike trips today"),
    kiosk__bikes_last=("Zuletzt {n} in {minutes} Minuten",
                       "Last {minutes} minutes: {n}"),
    kiosk__clock=("Uhrzeit", "Time"),
    # open data (/opendata)
    nav__opendata=("Offene Daten", "Open data"),
    opendata__title=("Offene Daten", "Open data"),
    opendata__intro=("Messwerte der öffentlichen Sensoren zur freien Weiterverwendung: als "
                     "Schnittstelle, als Dateien und im Datenkatalog.",
                     "Readings of the public sensors, free to reuse: through an API, as files "
                     "and in the data catalogue."),
    opendata__what=("Was veröffentlicht wird", "What is published"),
    opendata__what_text=("{n} Datensätze von {sites} Standorten: jeder Datensatz ist ein "
                         "Sensor mit allen seinen Messwerten, in der Einheit der Tabelle "
                         "und unter der genannten Lizenz. Nur Sensoren, die die Stadt als "
                         "öffentlich eingestuft hat, erscheinen hier; Raumklima und Daten "
                         "über Personen bleiben intern.",
                         "{n} datasets from {sites} sites: each dataset is one sensor with "
                         "all its readings, in the unit of the table and under the licence "
                         "given. Only sensors the city has classified as public appear here; "
                         "indoor climate and data about people stay internal."),
    opendata__none=("Zurzeit werden keine Daten veröffentlicht.",
                    "No data is published at the moment."),
    opendata__access=("Zugänge", "Access"),
    opendata__sta=("OGC SensorThings API", "OGC SensorThings API"),
    opendata__sta_text=("Schnittstelle für Anwendungen wie das Masterportal oder FROST, "
                        "nur lesend, mit allen Messwerten:",
                        "API for applications such as Masterportal or FROST, read-only, "
                        "with every reading:"),
    opendata__catalog=("Datenkatalog (DCAT-AP.de)", "Data catalogue (DCAT-AP.de)"),
    opendata__catalog_text=("Beschreibung aller Datensätze für Datenportale wie GovData:",
                            "Description of every dataset for data portals such as GovData:"),
    opendata__files=("Dateien (CSV)", "Files (CSV)"),
    opendata__files_text=("Eine Datei je Datensatz und Tag oder Monat (Ortszeit), mit einem "
                          "Kopf, der Einheit und Lizenz nennt. Diese Adressen bleiben stabil:",
                          "One file per dataset and day or month (local time), with a header "
                          "that names unit and licence. These addresses stay stable:"),
    opendata__datasets=("Datensätze", "Datasets"),
    opendata__col_dataset=("Datensatz", "Dataset"),
    opendata__col_site=("Standort", "Site"),
    opendata__col_unit=("Einheit", "Unit"),
    opendata__col_licence=("Lizenz", "Licence"),
    opendata__col_links=("Daten", "Data"),
    opendata__link_files=("Dateien", "Files"),
    opendata__link_files_of=("Dateien: {name}", "Files: {name}"),
    opendata__link_sta=("API", "API"),
    opendata__link_sta_of=("SensorThings API: {name}", "SensorThings API: {name}"),
    opendata__cite=("Zitieren", "How to cite"),
    opendata__cite_text=("Die Lizenzen verlangen die Nennung der Quelle. Bitte geben Sie an:",
                         "The licences ask you to name the source. Please state:"),
    opendata__cite_example=("Datenquelle: {attribution}, {licence}, {url}",
                            "Data source: {attribution}, {licence}, {url}"),
    opendata__contact=("Fragen zu den Daten: {name},", "Questions about the data: {name},"),
))

# Alerts (/alerts) and operator login (/login).
TEXT.update(_pairs(
    nav__alerts=("Alarme", "Alerts"),
    nav__login=("Anmelden", "Log in"),
    alerts__title=("Alarme", "Alerts"),
    alerts__intro=("Was gerade nicht stimmt: ausgelöste und wartende Alarme, Stummschaltungen "
                   "und die letzten {days} Tage.",
                   "What is wrong right now: firing and pending alerts, silences and the last "
                   "{days} days."),
    alerts__filter_state=("Zustand", "State"),
    alerts__filter_site=("Standort", "Site"),
    alerts__filter_severity=("Schwere", "Severity"),
    alerts__filter_text=("Suche", "Search"),
    alerts__filter_text_hint=("Sensor, Regel, Standort …", "Sensor, rule, site …"),
    alerts__any=("alle", "all"),
    alerts__state_firing=("ausgelöst", "firing"),
    alerts__state_pending=("wartend", "pending"),
    alerts__state_silenced=("stumm geschaltet", "silenced"),
    alerts__state_resolved=("behoben", "resolved"),
    alerts__severity_critical=("kritisch", "critical"),
    alerts__severity_warning=("Warnung", "warning"),
    alerts__severity_info=("Hinweis", "info"),
    alerts__count=("{n} Alarme", "{n} alerts"),
    alerts__count_one=("1 Alarm", "1 alert"),
    alerts__count_cut=("Die ersten {shown} von {n} Alarmen; der Filter grenzt ein.",
                       "The first {shown} of {n} alerts; filter to narrow them down."),
    alerts__none=("Keine Alarme, die zum Filter passen.", "No alerts match the filter."),
    alerts__col_state=("Zustand", "State"),
    alerts__col_severity=("Schwere", "Severity"),
    alerts__col_rule=("Regel", "Rule"),
    alerts__col_sensor=("Sensor", "Sensor"),
    alerts__col_site=("Standort", "Site"),
    alerts__col_since=("seit", "Since"),
    alerts__col_value=("Wert", "Value"),
    alerts__col_ack=("Bestätigt", "Acknowledged"),
    alerts__col_actions=("Aktionen", "Actions"),
    alerts__resolved_at=("behoben {time}", "resolved {time}"),
    alerts__acked=("bestätigt", "acknowledged"),
    alerts__acked_by=("{who}, {time}", "{who}, {time}"),
    alerts__not_acked=("nein", "no"),
    alerts__silenced_until=("stumm bis {time}", "silenced until {time}"),
    alerts__pipeline=("Pipeline", "Pipeline"),
    alerts__actions=("Bestätigen oder stumm schalten", "Acknowledge or silence"),
    alerts__ack=("Bestätigen", "Acknowledge"),
    alerts__comment=("Kommentar", "Comment"),
    alerts__silence=("Stumm schalten", "Silence"),
    alerts__scope=("Was", "What"),
    alerts__scope_sensor=("dieser Sensor", "this sensor"),
    alerts__scope_site=("ganzer Standort", "whole site"),
    alerts__scope_rule=("diese Regel überall", "this rule everywhere"),
    alerts__hours=("Dauer", "For"),
    alerts__hours_n=("{n} Std.", "{n} h"),
    alerts__silences=("Stummschaltungen", "Silences"),
    alerts__silence_line=("{what} · {start} bis {end}", "{what} · {start} to {end}"),
    alerts__silence_by=("von {who}: {comment}", "by {who}: {comment}"),
    alerts__silence_all=("alles", "everything"),
    alerts__no_silences=("Keine Stummschaltungen.", "No silences."),
    alerts__login_hint=("Zum Bestätigen und Stummschalten anmelden",
                        "Log in to acknowledge or silence"),
    alerts__login_off=("Bestätigen und Stummschalten sind auf diesem Server ausgeschaltet "
                       "(keine Anmeldung eingerichtet).",
                       "Acknowledging and silencing are off on this server (no login set "
                       "up)."),
    alerts__logged_in=("Angemeldet als {who}", "Logged in as {who}"),
    alerts__unavailable=("Der Alarmzustand ist nicht lesbar: {reason}",
                         "The alert state cannot be read: {reason}"),
    alerts__done_ack=("Alarm bestätigt.", "Alert acknowledged."),
    alerts__done_silence=("Stummschaltung eingerichtet.", "Silence set."),
    alerts__done_unsilence=("Stummschaltung beendet.", "Silence ended."),
    alerts__end_silence=("Jetzt beenden", "End now"),
    alerts__error_not_open=("Diesen offenen Alarm gibt es nicht (mehr).",
                            "That open alert does not exist (any more)."),
    alerts__error_form=("Die Eingabe war unvollständig.", "The form was incomplete."),
    alerts__error_state=("Der Alarmzustand ist gerade nicht beschreibbar.",
                         "The alert state cannot be written right now."),
    login__title=("Anmelden", "Log in"),
    login__intro=("Für Betreuerinnen und Betreuer der Sensoren: Alarme bestätigen und stumm "
                  "schalten. Alle anderen Seiten sind öffentlich.",
                  "For the people who look after the sensors: acknowledge and silence "
                  "alerts. All other pages are public."),
    login__username=("Benutzername", "User name"),
    login__password=("Passwort", "Password"),
    login__submit=("Anmelden", "Log in"),
    login__logout=("Abmelden", "Log out"),
    login__failed=("Benutzername oder Passwort falsch.", "Wrong user name or password."),
    login__throttled=("Zu viele Fehlversuche. Bitte in 15 Minuten erneut versuchen.",
                      "Too many failed attempts. Please try again in 15 minutes."),
    login__logged_out=("Abgemeldet.", "Logged out."),
    login__off=("Die Anmeldung ist auf diesem Server ausgeschaltet.",
                "Login is switched off on this server."),
    login__already=("Angemeldet als {who}.", "Logged in as {who}."),
    login__to_alerts=("Zu den Alarmen", "To the alerts"),
))

# Reports for facility managers (/reports, the printable document and its CSV).
TEXT.update(_pairs(
    nav__reports=("Berichte", "Reports"),
    report__title=("Energiebericht", "Energy report"),
    report__intro=("Monats- und Jahresberichte je Standort zum Drucken (PDF) und als CSV: "
                   "Ertrag je PV-Feld, spezifischer Ertrag gegen Soll, Eigenverbrauch, "
                   "Autarkie, vermiedenes CO₂, Datenvollständigkeit und Vorjahresvergleich.",
                   "Monthly and yearly reports per site to print (PDF) and as CSV: energy per "
                   "PV array, specific yield against expected, self-consumption, "
                   "self-sufficiency, CO₂ avoided, data completeness and earlier years."),
    report__site=("Standort", "Site"),
    report__kind=("Art des Zeitraums", "Kind of period"),
    report__kind_month=("Monat", "Month"),
    report__kind_year=("Jahr", "Year"),
    report__period=("Zeitraum", "Period"),
    report__print=("Druckansicht / PDF", "Print view / PDF"),
    report__page=("Seite", "Page"),
    report__chart_days=("PV-Erzeugung je Tag, {period} (Werte in der Tabelle Tageswerte)",
                         "PV production per day, {period} (values in the daily table)"),
    report__chart_months=("PV-Erzeugung je Monat, {period} (Werte in der Tabelle Monatswerte)",
                        "PV production per month, {period} (values in the monthly table)"),
    report__generated=("erstellt {time}", "generated {time}"),
    report__page_of=("von", "of"),
    report__print_button=("Drucken oder als PDF speichern", "Print or save as PDF"),
    report__csv=("CSV herunterladen", "Download CSV"),
    report__back=("← Zur Berichtsauswahl", "← Back to report selection"),
    report__covered=("Zeitraum {start} bis {end} · erstellt {generated}",
                     "Period {start} to {end} · generated {generated}"),
    report__covered_running=("Laufender Zeitraum: Daten vom {start} bis {end} · erstellt "
                             "{generated}",
                             "Running period: data from {start} to {end} · generated "
                             "{generated}"),
    report__key_figures=("Kennzahlen", "Key figures"),
    report__specific_yield=("Spezifischer Ertrag", "Specific yield"),
    report__expected_yield=("Soll-Ertrag (Modell)", "Expected yield (model)"),
    report__days_with_data=("Tage mit Zählerdaten", "Days with meter data"),
    report__days_of=("{n} von {of}", "{n} of {of}"),
    report__no_data=("keine Daten", "no data"),
    report__import=("Netzbezug", "Grid import"),
    report__export=("Einspeisung", "Grid export"),
    report__energy=("Ertrag", "Energy"),
    report__yield_col=("kWh/kWp", "kWh/kWp"),
    report__expected_col=("Soll kWh/kWp", "Expected kWh/kWp"),
    report__arrays_caption=("Ertrag je PV-Feld, {period}", "Energy per PV array, {period}"),
    report__model_note=("Soll: pvlib-Modell aus der gemessenen Einstrahlung, Temperatur und "
                        "dem Wind des Standorts (5-Minuten-Fenster). Ist/Soll nur über "
                        "Fenster, in denen beides gemessen ist. Fassaden erreichen wegen "
                        "Verschattung üblicherweise 72–94 % des Modells, Dachfelder etwa 93 %.",
                        "Expected: pvlib model from the site's measured irradiance, temperature "
                        "and wind (5-minute windows). Actual/expected only over windows where "
                        "both are measured. Façades usually reach 72–94% of the model because "
                        "of shading, roof arrays about 93%."),
    report__by_day=("Tageswerte, {period}", "Daily figures, {period}"),
    report__by_month=("Monatswerte, {period}", "Monthly figures, {period}"),
    report__day=("Tag", "Day"),
    report__month=("Monat", "Month"),
    report__year=("Jahr", "Year"),
    report__earlier_caption=("{period} im Vergleich mit früheren Jahren",
                             "{period} compared with earlier years"),
    report__earlier_caption_to_date=("{period} bis heute im Vergleich mit denselben Tagen "
                                     "früherer Jahre",
                                     "{period} to date compared with the same days of "
                                     "earlier years"),
    report__completeness_caption=("Datenvollständigkeit der Energie- und Wettersensoren",
                                  "Data completeness of the energy and weather sensors"),
    report__readings=("Messwerte", "Readings"),
    report__expected_readings=("erwartet", "expected"),
    report__completeness=("Vollständigkeit", "Completeness"),
    report__completeness_note=("Erwartet: Dauer des Zeitraums geteilt durch das Messintervall "
                               "des Sensors laut Katalog.",
                               "Expected: length of the period divided by the sensor's "
                               "interval in the catalogue."),
    report__formulas=("Eigenverbrauchsanteil = (PV-Erzeugung − Einspeisung) / PV-Erzeugung; "
                      "Autarkiegrad = (PV-Erzeugung − Einspeisung) / Verbrauch; alle "
                      "Energiewerte aus den Zählern, Tage in der Zeitzone des Standorts.",
                      "Self-consumption = (PV production − export) / PV production; "
                      "self-sufficiency = (PV production − export) / consumption; every "
                      "energy figure from the meters, days in the site's time zone."),
    report__weather_gaps=("Die Wetterstation lieferte für {share} der Zeit Daten; der Soll-Ertrag "
                          "deckt nur diese Zeit ab.",
                          "The weather station reported for {share} of the time; the expected "
                          "yield covers only that time."),
    report__bad_period=("Diesen Zeitraum gibt es nicht. Erlaubt sind ein Jahr (2026) oder ein "
                        "Monat (2026-10).",
                        "There is no such period. Use a year (2026) or a month (2026-10)."),
    report__outside=("Berichte gibt es für {first} bis {last}. Bitte wählen Sie einen "
                     "Zeitraum darin.",
                     "Reports exist for {first} to {last}. Please pick a period in between."),
    report__unknown_site=("Diesen Standort gibt es nicht oder er hat keine Photovoltaik: "
                          "{site}", "There is no such site, or it has no photovoltaics: {site}"),
))

# Accessibility statement (/accessibility): BITV 2.0 § 7 and the EU model statement
# (Implementing Decision (EU) 2018/1523).
TEXT.update(_pairs(
    statement__title=("Erklärung zur Barrierefreiheit", "Accessibility statement"),
    statement__intro=("Die Betreiberin dieses Dashboards ist bemüht, es im Einklang mit der "
                      "Barrierefreie-Informationstechnik-Verordnung (BITV 2.0) barrierefrei "
                      "zugänglich zu machen. Diese Erklärung gilt für alle Seiten von "
                      "Stadtpuls unter {host}, einschließlich der Bildschirme im Foyer "
                      "(/kiosk).",
                      "The operator of this dashboard strives to make it accessible in line "
                      "with the German accessibility regulation BITV 2.0 (which refers to "
                      "EN 301 549 and WCAG 2.1 level AA). This statement applies to every page "
                      "of Stadtpuls at {host}, including the lobby screens (/kiosk)."),
    statement__status_h=("Stand der Vereinbarkeit mit den Anforderungen",
                         "Compliance status"),
    statement__status=("Diese Website ist wegen der unten genannten Einschränkungen "
                       "teilweise mit der BITV 2.0 vereinbar.",
                       "This website is partially compliant with BITV 2.0 because of the "
                       "limitations listed below."),
    statement__limits_h=("Nicht barrierefreie Inhalte", "Non-accessible content"),
    statement__limit_charts=("Diagramme: Zoomen und die Werte unter dem Mauszeiger gibt es "
                             "nur mit der Maus. Jedes Diagramm hat eine kurze Beschreibung "
                             "und seine Daten als Tabelle zum Aufklappen; die Sensorseite "
                             "bietet alle Werte als CSV-Datei.",
                             "Charts: zooming and the values under the pointer need a mouse. "
                             "Every chart has a short description and its data as a table "
                             "to open; the sensor page offers every value as a CSV file."),
    statement__limit_map=("Karte: die Lage der Sensoren ist nur grafisch dargestellt. Die "
                          "Tabelle unter der Karte und die Sensorliste nennen jeden Ort mit "
                          "seinem Zustand.",
                          "Map: the sensors' positions are shown only graphically. The table "
                          "below the map and the sensor list name every place with its "
                          "status."),
    statement__limit_dates=("Eigener Zeitraum: der Kalender zur Auswahl von Tagen ist mit "
                            "Bildschirmlesern nur eingeschränkt bedienbar. Die Tage lassen "
                            "sich in die Datumsfelder eintippen; die festen Zeiträume (1 Std. "
                            "bis 1 Jahr) sind voll bedienbar.",
                            "Custom range: the calendar for picking days works only partly "
                            "with screen readers. The days can be typed into the date "
                            "fields; the fixed ranges (1 h to 1 y) are fully operable."),
    statement__limit_kiosk=("Foyer-Bildschirme (/kiosk): die Szenen wechseln von selbst und "
                            "lassen sich nicht anhalten; sie sind für Bildschirme ohne "
                            "Bedienung gedacht. Dieselben Werte stehen auf den Seiten "
                            "Übersicht und Energie.",
                            "Lobby screens (/kiosk): the scenes change by themselves and "
                            "cannot be paused; they are meant for screens nobody operates. "
                            "The same figures are on the Overview and Energy pages."),
    statement__made_h=("Erstellung dieser Erklärung", "Preparation of this statement"),
    statement__made=("Diese Erklärung wurde am {date} erstellt. Grundlage ist eine "
                     "Selbstbewertung: automatische Prüfungen mit axe-core (WCAG 2.1 A und "
                     "AA) jeder Seite in Deutsch und Englisch bei jedem Testlauf sowie "
                     "Prüfungen der Bedienung mit der Tastatur und der Darstellung bei "
                     "320 Pixel Breite und 400 % Vergrößerung.",
                     "This statement was prepared on {date}. It is based on a "
                     "self-assessment: automated checks with axe-core (WCAG 2.1 A and AA) of "
                     "every page in German and English in every test run, and checks of "
                     "keyboard operation and of the layout at 320 pixels width and 400 % "
                     "zoom."),
    statement__feedback_h=("Feedback und Kontakt", "Feedback and contact"),
    statement__feedback=("Sind Ihnen Mängel beim barrierefreien Zugang aufgefallen, oder "
                         "brauchen Sie Inhalte in einer anderen Form? Schreiben Sie uns:",
                         "Have you found a barrier, or do you need content in another form? "
                         "Write to us:"),
    statement__no_contact=("Die Betreiberin hat noch keine Kontaktadresse hinterlegt "
                           "(stadtpuls dashboard --accessibility-contact).",
                           "The operator has not set a contact address yet "
                           "(stadtpuls dashboard --accessibility-contact)."),
    statement__enforcement_h=("Schlichtungsverfahren", "Enforcement procedure"),
    statement__enforcement=("Wenn auch nach Ihrem Feedback an den oben genannten Kontakt "
                            "keine zufriedenstellende Lösung gefunden wurde, können Sie sich "
                            "an die Schlichtungsstelle nach § 16 BGG wenden. Sie hat die "
                            "Aufgabe, bei Konflikten zum Thema Barrierefreiheit zwischen "
                            "Menschen mit Behinderungen und öffentlichen Stellen eine "
                            "außergerichtliche Streitbeilegung zu unterstützen. Das "
                            "Schlichtungsverfahren ist kostenlos; Sie brauchen keinen "
                            "Rechtsbeistand.",
                            "If your feedback to the contact above did not lead to a "
                            "satisfactory solution, you can turn to the conciliation body "
                            "under § 16 of the German Disability Equality Act (BGG). It "
                            "supports out-of-court settlement of accessibility disputes "
                            "between people with disabilities and public bodies. The "
                            "procedure is free of charge; you do not need a lawyer."),
    statement__body=("Schlichtungsstelle nach dem Behindertengleichstellungsgesetz bei dem "
                     "Beauftragten der Bundesregierung für die Belange von Menschen mit "
                     "Behinderungen",
                     "Schlichtungsstelle nach dem Behindertengleichstellungsgesetz "
                     "(conciliation body under the Disability Equality Act) at the Federal "
                     "Government Commissioner for Matters relating to Persons with "
                     "Disabilities"),
    statement__state_body=("Für Stellen eines Landes und seiner Kommunen kann nach "
                           "Landesrecht eine eigene Stelle zuständig sein, in "
                           "Baden-Württemberg die Landes-Behindertenbeauftragte; die "
                           "Schlichtungsstelle nennt Ihnen die richtige.",
                           "For bodies of a German state and its municipalities, state law "
                           "may name its own body (in Baden-Württemberg the State "
                           "Commissioner for People with Disabilities); the conciliation "
                           "body will tell you which one."),
))

# Charts in words (dashboard/figures/described.py): summary and data table of each chart.
TEXT.update(_pairs(
    chart__data=("Daten als Tabelle", "Data as a table"),
    chart__time=("Zeit", "Time"),
    chart__place=("Ort", "Place"),
    chart__usual=("Üblich", "Usual"),
    chart__hourly_means=("Stundenmittel", "hourly means"),
    chart__newest_rows=("Gezeigt: die neuesten {shown} von {total} Zeilen.",
                        "Shown: the newest {shown} of {total} rows."),
    chart__last_24h=("Letzte 24 Stunden:", "Last 24 hours:"),
    chart__no_values=("{name}: keine Werte", "{name}: no values"),
    chart__last_peak=("{name} zuletzt {last}, höchster Wert {peak} um {time}",
                      "{name} last {last}, highest {peak} at {time}"),
    chart__total_peak=("{name}: zusammen {total}, die meisten ({peak}) um {time}",
                       "{name}: {total} in all, the most ({peak}) at {time}"),
    chart__pv_peak=("PV-Leistung: Spitze {peak} um {time}, jetzt {now}.",
                    "PV power: peak {peak} at {time}, now {now}."),
    chart__consumption_peak=("Verbrauch: jetzt {now}, Spitze {peak} um {time}.",
                             "Consumption: now {now}, peak {peak} at {time}."),
    chart__best_array=("Am meisten liefert jetzt {name} mit {power}; alle Felder zusammen "
                       "{total}.", "{name} delivers the most now, {power}; all arrays "
                       "together {total}."),
    chart__expected_total=("Ist {actual} von Soll {expected} ({ratio}).",
                           "Actual {actual} of expected {expected} ({ratio})."),
    chart__flagged=("Unter Erwartung: {arrays}.", "Below expectation: {arrays}."),
    chart__none_flagged=("Kein Feld liegt unter seiner Erwartung.",
                         "No array is below its expectation."),
    chart__history_caption=("{name}, {start} bis {end}", "{name}, {start} to {end}"),
    chart__history=("{name} von {start} bis {end}: zuletzt {last}; Minimum {min} "
                    "({min_time}), Maximum {max} ({max_time}).",
                    "{name} from {start} to {end}: last {last}; minimum {min} ({min_time}), "
                    "maximum {max} ({max_time})."),
    chart__rates=("Letzte Minute: {messages} Nachrichten/s, {readings} Messwerte/s, "
                  "{rejected} abgelehnt/s.",
                  "Last minute: {messages} messages/s, {readings} readings/s, {rejected} "
                  "rejected/s."),
    chart__map=("{places} Orte mit {sensors} Sensoren; {attention} davon brauchen "
                "Aufmerksamkeit.", "{places} places with {sensors} sensors; {attention} of "
                "them need attention."),
    overview__announce=("{site}: {statuses}", "{site}: {statuses}"),
))
