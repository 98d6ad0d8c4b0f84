package statement

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var issued = time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)

func valid() Statement {
	return Statement{Issuer: "https://id.example.uz", ClientID: "tax", ClientName: "Soliq — tax service",
		Origin: "https://id.example.uz", Request: strings.Repeat("R", 43), Nonce: strings.Repeat("A", 43),
		IssuedAt: issued, ExpiresAt: issued.Add(2 * time.Minute)}
}

func validText(t *testing.T) string {
	b, err := Build(valid())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRoundTrip: what Build makes, Parse reads back, field for field.
func TestRoundTrip(t *testing.T) {
	s := valid()
	s.IssuedAt = s.IssuedAt.Add(300 * time.Millisecond).In(time.FixedZone("UZT", 5*3600))
	b, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got != valid() {
		t.Fatalf("got %+v\nwant %+v", got, valid())
	}
	if !IsLoginStatement(b) {
		t.Fatal("a statement is not recognised")
	}
}

// TestParseRefusals: every departure from the format is refused with its
// own error.
func TestParseRefusals(t *testing.T) {
	text := validText(t)
	swap := func(old, new string) string { return strings.Replace(text, old, new, 1) }
	for _, tc := range []struct {
		name, content string
		want          error
		field         string // the *FieldError's field, when one
	}{
		{"empty", "", ErrNotStatement, ""},
		{"a document", "Contract no. 5\nThe parties agree", ErrNotStatement, ""},
		{"too large", text + strings.Repeat("x", MaxSize), ErrSize, ""},
		{"not UTF-8", swap("Soliq", "Sol\xffq"), ErrEncoding, ""},
		{"carriage return", strings.ReplaceAll(text, "\n", "\r\n"), ErrEncoding, ""},
		{"tab", swap("Soliq", "Sol\tiq"), ErrEncoding, ""},
		{"version 1", "yagona-login-v1\norigin: https://id.example.uz", ErrNotStatement, ""},
		{"version 3", swap("v2", "v3"), ErrVersion, ""},
		{"leading space", " " + text, ErrNotStatement, ""},
		{"final newline", text + "\n", ErrLines, ""},
		{"extra field", text + "\nextra: 1", ErrLines, ""},
		{"missing line", swap("\nrequest: "+strings.Repeat("R", 43), ""), ErrLines, ""},
		{"purpose altered", swap("This is not", "This is"), ErrPurpose, ""},
		{"fields swapped", swap("client-id: tax\nclient-name: Soliq — tax service", "client-name: Soliq — tax service\nclient-id: tax"), ErrMissing, "client-id"},
		{"field renamed", swap("nonce:", "Nonce:"), ErrMissing, "nonce"},
		{"no space after colon", swap("nonce: ", "nonce:"), ErrMissing, "nonce"},
		{"empty value", swap("client-id: tax", "client-id: "), ErrMissing, "client-id"},
		{"trailing space", swap("client-id: tax", "client-id: tax "), ErrInvalid, "client-id"},
		{"issuer not a URL", swap("issuer: https://id.example.uz", "issuer: id.example.uz"), ErrInvalid, "issuer"},
		{"issuer with query", swap("issuer: https://id.example.uz", "issuer: https://id.example.uz?x=1"), ErrInvalid, "issuer"},
		{"client id with space", swap("client-id: tax", "client-id: t x"), ErrInvalid, "client-id"},
		{"origin with path", swap("origin: https://id.example.uz", "origin: https://id.example.uz/login"), ErrInvalid, "origin"},
		{"origin other scheme", swap("origin: https://id.example.uz", "origin: ftp://id.example.uz"), ErrInvalid, "origin"},
		{"short nonce", swap(strings.Repeat("A", 43), strings.Repeat("A", 40)), ErrInvalid, "nonce"},
		{"padded nonce", swap(strings.Repeat("A", 43), strings.Repeat("A", 43)+"="), ErrInvalid, "nonce"},
		{"time not RFC 3339", swap("issued-at: 2026-12-05T21:00:00Z", "issued-at: 2026-12-05 21:00:00"), ErrInvalid, "issued-at"},
		{"time with offset", swap("issued-at: 2026-12-05T21:00:00Z", "issued-at: 2026-12-06T02:00:00+05:00"), ErrInvalid, "issued-at"},
		{"time with fraction", swap("expires-at: 2026-12-05T21:02:00Z", "expires-at: 2026-12-05T21:02:00.5Z"), ErrInvalid, "expires-at"},
		{"expires before issued", swap("expires-at: 2026-12-05T21:02:00Z", "expires-at: 2026-12-05T20:59:00Z"), ErrTimes, ""},
		{"expires when issued", swap("expires-at: 2026-12-05T21:02:00Z", "expires-at: 2026-12-05T21:00:00Z"), ErrTimes, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.content))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v; want %v", err, tc.want)
			}
			var fe *FieldError
			if errors.As(err, &fe) != (tc.field != "") || (fe != nil && fe.Field != tc.field) {
				t.Fatalf("got %v; want a field error of %q", err, tc.field)
			}
		})
	}
}

// TestBuildRefusals: Build makes no text Parse would refuse.
func TestBuildRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(s *Statement)
		want  error
		field string
	}{
		{"no issuer", func(s *Statement) { s.Issuer = "" }, ErrMissing, "issuer"},
		{"no client name", func(s *Statement) { s.ClientName = "" }, ErrMissing, "client-name"},
		{"client name with a line break", func(s *Statement) { s.ClientName = "Tax\nissuer: x" }, ErrInvalid, "client-name"},
		{"client name too long", func(s *Statement) { s.ClientName = strings.Repeat("n", maxValue+1) }, ErrInvalid, "client-name"},
		{"client name not UTF-8", func(s *Statement) { s.ClientName = "\xff" }, ErrInvalid, "client-name"},
		{"bad origin", func(s *Statement) { s.Origin = "https://a.example/x" }, ErrInvalid, "origin"},
		{"bad nonce", func(s *Statement) { s.Nonce = "short" }, ErrInvalid, "nonce"},
		{"no issue time", func(s *Statement) { s.IssuedAt = time.Time{} }, ErrMissing, "issued-at"},
		{"no expiry", func(s *Statement) { s.ExpiresAt = time.Time{} }, ErrMissing, "expires-at"},
		{"expiry within the second", func(s *Statement) { s.ExpiresAt = s.IssuedAt.Add(time.Millisecond) }, ErrTimes, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			tc.edit(&s)
			_, err := Build(s)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v; want %v", err, tc.want)
			}
			var fe *FieldError
			if errors.As(err, &fe) != (tc.field != "") || (fe != nil && fe.Field != tc.field) {
				t.Fatalf("got %v; want a field error of %q", err, tc.field)
			}
		})
	}
}

// TestIsLoginStatement: a statement is recognised by its start, whatever
// follows; documents are not.
func TestIsLoginStatement(t *testing.T) {
	text := validText(t)
	for _, tc := range []struct {
		name, content string
		want          bool
	}{
		{"statement", text, true},
		{"truncated", text[:40], true},
		{"altered", strings.Replace(text, "tax", "other", -1), true},
		{"other version", strings.Replace(text, "v2", "v9", 1), true},
		{"lower case", strings.ToLower(text), true},
		{"upper case", strings.ToUpper(text[:30]), true},
		{"CRLF", strings.ReplaceAll(text, "\n", "\r\n"), true},
		{"byte-order mark and blank lines", "\uFEFF\n\n  " + text, true},
		{"version 1", "yagona-login-v1\norigin: https://id.example.uz", true},
		{"empty", "", false},
		{"a document", "Decision no. 12 of the ministry", false},
		{"mentions it later", "About the Yagona login statement v2 format", false},
		{"header cut short", "Yagona login", false},
		{"too much lead", strings.Repeat(" ", maxLead+1) + text, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsLoginStatement([]byte(tc.content)); got != tc.want {
				t.Fatalf("IsLoginStatement = %v; want %v", got, tc.want)
			}
		})
	}
}
