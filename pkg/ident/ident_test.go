package ident

import (
	"crypto/x509/pkix"
	"testing"
)

func TestFromName(t *testing.T) {
	tests := []struct {
		name string
		in   pkix.Name
		want Identity
	}{
		{"citizen", pkix.Name{CommonName: "Dilnoza Karimova", SerialNumber: "PNOUZ-31204900012345", Names: []pkix.AttributeTypeAndValue{
			{Type: OIDGivenName, Value: "Dilnoza"}, {Type: OIDSurname, Value: "Karimova"}}},
			Identity{PINFL: "31204900012345", GivenName: "Dilnoza", Surname: "Karimova", CommonName: "Dilnoza Karimova"}},
		{"official", pkix.Name{SerialNumber: "PNOUZ-31204900012345", Organization: []string{"Vazirlik"}, Names: []pkix.AttributeTypeAndValue{
			{Type: OIDOrganizationIdentifier, Value: "NTRUZ-201234567"}, {Type: OIDTitle, Value: "Director"}}},
			Identity{PINFL: "31204900012345", TIN: "201234567", Organization: "Vazirlik", Title: "Director"}},
		{"foreign semantics ignored", pkix.Name{SerialNumber: "PNOEE-38001085718", Names: []pkix.AttributeTypeAndValue{
			{Type: OIDOrganizationIdentifier, Value: "VATEE-123"}}}, Identity{}},
		{"short pinfl", pkix.Name{SerialNumber: "PNOUZ-3120490001234"}, Identity{}},
		{"letters in pinfl", pkix.Name{SerialNumber: "PNOUZ-3120490001234x"}, Identity{}},
		{"non-string value", pkix.Name{Names: []pkix.AttributeTypeAndValue{{Type: OIDTitle, Value: 7}}}, Identity{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromName(tc.in); got != tc.want {
				t.Fatalf("FromName = %+v, want %+v", got, tc.want)
			}
		})
	}
}
