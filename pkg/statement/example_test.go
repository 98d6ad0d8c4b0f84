package statement_test

import (
	"fmt"
	"time"

	"github.com/yagona/yagona/pkg/statement"
)

// The identity provider builds the statement a person signs to log in; a
// signing path recognises one and refuses to sign it as a document.
func Example() {
	at := time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)
	text, err := statement.Build(statement.Statement{
		Issuer: "https://id.example.uz", ClientID: "tax", ClientName: "Tax service",
		Origin: "https://id.example.uz", Request: "r1", Nonce: "nMT2xaF2Qq3b0iBvKjB3wEkcVtN8PzR1yQ0aM9m1s7E",
		IssuedAt: at, ExpiresAt: at.Add(2 * time.Minute),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(text))
	s, err := statement.Parse(text)
	fmt.Println(s.ClientID, err)
	fmt.Println(statement.IsLoginStatement(text), statement.IsLoginStatement([]byte("Contract no. 5")))
	// Output:
	// Yagona login statement v2
	// I log in with my authentication key to the service named below. This is not the signature of a document.
	// issuer: https://id.example.uz
	// client-id: tax
	// client-name: Tax service
	// origin: https://id.example.uz
	// request: r1
	// nonce: nMT2xaF2Qq3b0iBvKjB3wEkcVtN8PzR1yQ0aM9m1s7E
	// issued-at: 2026-12-05T21:00:00Z
	// expires-at: 2026-12-05T21:02:00Z
	// tax <nil>
	// true false
}
