package sdk

import (
	"fmt"
	"strings"
)

// DateLocale holds the month, weekday, AM/PM and era names a Joda
// pattern's text fields (MMM, MMMM, E, EEEE, a, G) are read with.
type DateLocale struct {
	tag                      string
	months, days, ampm, eras nameTable
}

// String returns the language the locale is for ("en", "de", ...).
func (l *DateLocale) String() string { return l.tag }

// DateLocales are the languages LookupDateLocale knows.
var DateLocales = []string{"en", "de", "fr", "es"}

// Each language lists, for each value, every spelling accepted: the full
// name, the abbreviation Java prints with its CLDR data (Logstash's JDK
// 11+), the one older JDKs printed (COMPAT), and the same without its
// final dot. Matching ignores case and takes the longest name.
var localeNames = map[string]struct{ months, days, ampm [][]string }{
	"en": {
		months: [][]string{{"January", "Jan"}, {"February", "Feb"}, {"March", "Mar"}, {"April", "Apr"},
			{"May"}, {"June", "Jun"}, {"July", "Jul"}, {"August", "Aug"}, {"September", "Sep", "Sept"},
			{"October", "Oct"}, {"November", "Nov"}, {"December", "Dec"}},
		days: [][]string{{"Monday", "Mon"}, {"Tuesday", "Tue"}, {"Wednesday", "Wed"}, {"Thursday", "Thu"},
			{"Friday", "Fri"}, {"Saturday", "Sat"}, {"Sunday", "Sun"}},
		ampm: [][]string{{"AM"}, {"PM"}},
	},
	"de": {
		months: [][]string{{"Januar", "Jan."}, {"Februar", "Feb."}, {"März", "Mär", "Mrz"}, {"April", "Apr."},
			{"Mai"}, {"Juni", "Jun"}, {"Juli", "Jul"}, {"August", "Aug."}, {"September", "Sep.", "Sept."},
			{"Oktober", "Okt."}, {"November", "Nov."}, {"Dezember", "Dez."}},
		days: [][]string{{"Montag", "Mo."}, {"Dienstag", "Di."}, {"Mittwoch", "Mi."}, {"Donnerstag", "Do."},
			{"Freitag", "Fr."}, {"Samstag", "Sa."}, {"Sonntag", "So."}},
		ampm: [][]string{{"AM", "vorm."}, {"PM", "nachm."}},
	},
	"fr": {
		months: [][]string{{"janvier", "janv."}, {"février", "févr."}, {"mars"}, {"avril", "avr."},
			{"mai"}, {"juin"}, {"juillet", "juil."}, {"août"}, {"septembre", "sept."},
			{"octobre", "oct."}, {"novembre", "nov."}, {"décembre", "déc."}},
		days: [][]string{{"lundi", "lun."}, {"mardi", "mar."}, {"mercredi", "mer."}, {"jeudi", "jeu."},
			{"vendredi", "ven."}, {"samedi", "sam."}, {"dimanche", "dim."}},
		ampm: [][]string{{"AM"}, {"PM"}},
	},
	"es": {
		months: [][]string{{"enero", "ene."}, {"febrero", "feb."}, {"marzo", "mar."}, {"abril", "abr."},
			{"mayo", "may."}, {"junio", "jun."}, {"julio", "jul."}, {"agosto", "ago."}, {"septiembre", "sept.", "sep."},
			{"octubre", "oct."}, {"noviembre", "nov."}, {"diciembre", "dic."}},
		days: [][]string{{"lunes", "lun."}, {"martes", "mar."}, {"miércoles", "mié."}, {"jueves", "jue."},
			{"viernes", "vie."}, {"sábado", "sáb."}, {"domingo", "dom."}},
		ampm: [][]string{{"a. m.", "a.m.", "AM"}, {"p. m.", "p.m.", "PM"}},
	},
}

var dateLocales = func() map[string]*DateLocale {
	out := map[string]*DateLocale{}
	for tag, n := range localeNames {
		l := &DateLocale{tag: tag}
		fill := func(t *nameTable, values [][]string, first int) {
			for i, names := range values {
				for _, name := range names {
					t.add(name, first+i)
					if trimmed, ok := strings.CutSuffix(name, "."); ok && !strings.Contains(trimmed, ".") {
						t.add(trimmed, first+i)
					}
				}
			}
			t.finish()
		}
		fill(&l.months, n.months, 1)
		fill(&l.days, n.days, 1)
		fill(&l.ampm, n.ampm, 0)
		fill(&l.eras, [][]string{{"BC", "BCE"}, {"AD", "CE"}}, 0)
		out[tag] = l
	}
	return out
}()

var englishLocale = dateLocales["en"]

// LookupDateLocale returns the names for a locale given as a BCP 47 tag
// ("de", "de-CH") or a POSIX one ("fr_FR", "es_ES.UTF-8"): the language
// decides.
func LookupDateLocale(tag string) (*DateLocale, error) {
	lang := tag
	if i := strings.IndexAny(lang, "-_."); i >= 0 {
		lang = lang[:i]
	}
	if l, ok := dateLocales[strings.ToLower(lang)]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("no month and day names for locale %q: gostash has %s", tag, strings.Join(DateLocales, ", "))
}
