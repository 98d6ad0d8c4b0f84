package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLang(t *testing.T) {
	tests := []struct {
		name, query, cookie, accept, want string
	}{
		{"nothing", "", "", "", "uz"},
		{"query", "lang=ru", "", "", "ru"},
		{"query beats cookie and header", "lang=en", "ru", "ru", "en"},
		{"invalid query ignored", "lang=fr", "", "ru", "ru"},
		{"query is case-sensitive", "lang=RU", "", "", "uz"},
		{"cookie", "", "en", "", "en"},
		{"cookie beats header", "", "ru", "en", "ru"},
		{"invalid cookie ignored", "", "xx", "en", "en"},
		{"browser prefers Russian", "", "", "ru-RU,ru;q=0.9,en;q=0.8", "ru"},
		{"British English", "", "", "en-GB", "en"},
		{"French", "", "", "fr", "uz"},
		{"French then English", "", "", "fr-FR, fr;q=0.9, en;q=0.5", "en"},
		{"weights decide, not order", "", "", "en;q=0.2, ru;q=0.5, fr", "ru"},
		{"equal weights: first wins", "", "", "en, ru", "en"},
		{"q=0 refuses", "", "", "ru;q=0, en;q=0.1", "en"},
		{"Uzbek Cyrillic gets Uzbek", "", "", "uz-Cyrl-UZ, ru;q=0.8", "uz"},
		{"wildcard is the default", "", "", "de, *;q=0.5", "uz"},
		{"upper-case tag and Q", "", "", "EN-us;Q=0.7", "en"},
		{"malformed header", "", "", ";;;q=zz,,=ru", "uz"},
		{"weight above 1", "", "", "ru;q=2", "uz"},
		{"weight with four decimals", "", "", "ru;q=0.5000", "uz"},
		{"weight not a number", "", "", "ru;q=abc", "uz"},
		{"other parameter", "", "", "ru;level=1", "uz"},
		{"subtag too long", "", "", "ruuuuuuuu", "uz"},
		{"digits in primary subtag", "", "", "r1", "uz"},
		{"malformed items skipped", "", "", "ru;q=x, en;q=0.3", "en"},
		{"oversized header", "", "", strings.Repeat("fr,", 400) + "ru", "uz"},
		{"ranges past the limit", "", "", strings.Repeat("fr,", maxLanguageRanges) + "ru", "uz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/?"+tc.query, nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: LangCookie, Value: tc.cookie})
			}
			if tc.accept != "" {
				req.Header.Set("Accept-Language", tc.accept)
			}
			if got := Lang(req); got != tc.want {
				t.Errorf("Lang = %s; want %s", got, tc.want)
			}
		})
	}
}

func TestQValue(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1000, true}, {"1.", 1000, true}, {"1.000", 1000, true}, {"0", 0, true},
		{"0.5", 500, true}, {"0.05", 50, true}, {"0.123", 123, true},
		{"1.001", 0, false}, {"0.1234", 0, false}, {"2", 0, false}, {".5", 0, false},
		{"-0", 0, false}, {"0,5", 0, false}, {"", 0, false}, {"0.5 ", 0, false},
	}
	for _, tc := range tests {
		got, ok := qvalue(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("qvalue(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSetLang(t *testing.T) {
	tests := []struct {
		query string
		want  string // cookie value; empty: no cookie
	}{
		{"lang=ru", "ru"},
		{"lang=uz&request=x", "uz"},
		{"lang=fr", ""},
		{"lang=", ""},
		{"", ""},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		SetLang(w, httptest.NewRequest(http.MethodGet, "/?"+tc.query, nil))
		cookies := w.Result().Cookies()
		if tc.want == "" {
			if len(cookies) != 0 {
				t.Errorf("%q: set %v", tc.query, cookies)
			}
			continue
		}
		if len(cookies) != 1 {
			t.Fatalf("%q: cookies %v", tc.query, cookies)
		}
		c := cookies[0]
		if c.Name != LangCookie || c.Value != tc.want || c.Path != "/" || !c.Secure || !c.HttpOnly ||
			c.SameSite != http.SameSiteLaxMode || c.MaxAge != 365*24*3600 {
			t.Errorf("%q: cookie %+v", tc.query, c)
		}
	}
}

func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"ru-RU,ru;q=0.9,en;q=0.8", "en-GB", "fr", ";;;q=zz,,", "*;q=0.1", "uz-Cyrl;q=1.000", "en;q=0.5000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := acceptLanguage(h)
		if got != "" && !supported(got) {
			t.Fatalf("acceptLanguage(%q) = %q", h, got)
		}
	})
}
