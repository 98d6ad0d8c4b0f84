package statement

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParse: Parse never panics; what it accepts is recognised and is
// exactly what Build makes of the result (one text per statement).
func FuzzParse(f *testing.F) {
	b, err := Build(valid())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("yagona-login-v1\norigin: https://id.example.uz"))
	f.Add([]byte(Header + "\n" + Purpose))
	f.Fuzz(func(t *testing.T, content []byte) {
		s, err := Parse(content)
		if err != nil {
			return
		}
		if !IsLoginStatement(content) {
			t.Fatal("a parsed statement is not recognised")
		}
		again, err := Build(s)
		if err != nil || !bytes.Equal(again, content) {
			t.Fatalf("build of a parsed statement: %v\n%q\n%q", err, again, content)
		}
	})
}

// FuzzBuild: what Build makes, Parse reads back to the same statement.
func FuzzBuild(f *testing.F) {
	s := valid()
	f.Add(s.Issuer, s.ClientID, s.ClientName, s.Origin, s.Request, s.Nonce, s.IssuedAt.Unix(), int64(120))
	f.Add("http://127.0.0.1:8080", "cli", "Yagona CLI", "http://127.0.0.1:8080", "r", s.Nonce+"B", int64(0), int64(1))
	f.Fuzz(func(t *testing.T, iss, id, name, origin, req, nonce string, at, ttl int64) {
		in := Statement{Issuer: iss, ClientID: id, ClientName: name, Origin: origin, Request: req, Nonce: nonce,
			IssuedAt: time.Unix(at, 0).UTC(), ExpiresAt: time.Unix(at, 0).Add(time.Duration(ttl) * time.Second).UTC()}
		b, err := Build(in)
		if err != nil {
			return
		}
		out, err := Parse(b)
		if err != nil {
			t.Fatalf("parse of a built statement: %v\n%s", err, b)
		}
		if out.Issuer != in.Issuer || out.ClientID != in.ClientID || out.ClientName != in.ClientName || out.Origin != in.Origin ||
			out.Request != in.Request || out.Nonce != in.Nonce || !out.IssuedAt.Equal(in.IssuedAt) || !out.ExpiresAt.Equal(in.ExpiresAt) {
			t.Fatalf("round trip: %+v -> %+v", in, out)
		}
	})
}
