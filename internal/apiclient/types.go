package apiclient

import (
	"encoding/json"
	"time"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/trust"
)

// The JSON shapes of the API's requests and answers the command line
// sends and reads (docs/openapi.yaml).

// Person records a person (POST /api/v1/persons).
type Person struct {
	PINFL      string `json:"pinfl"`
	GivenName  string `json:"given_name"`
	Surname    string `json:"surname"`
	Patronymic string `json:"patronymic,omitempty"`
	BirthDate  string `json:"birth_date"`
}

// Organization records or renames an organization (POST
// /api/v1/organizations).
type Organization struct {
	TIN  string `json:"tin"`
	Name string `json:"name"`
}

// EnrollmentRequest creates an enrollment (POST /api/v1/enrollments).
type EnrollmentRequest struct {
	PINFL      string `json:"pinfl"`
	Profile    string `json:"profile"`
	TIN        string `json:"tin,omitempty"`
	Title      string `json:"title,omitempty"`
	TTLSeconds int64  `json:"ttl_seconds,omitempty"`
}

// Enrollment is a created enrollment with its one-time code.
type Enrollment struct {
	ID        string    `json:"id"`
	Code      string    `json:"enrollment_code"`
	PINFL     string    `json:"pinfl"`
	Profile   string    `json:"profile"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Certificate is the API's record of a certificate and its status.
type Certificate struct {
	Serial      string `json:"serial"`
	Issuer      string `json:"issuer"`
	PINFL       string `json:"pinfl,omitempty"`
	Profile     string `json:"profile"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	RevokedAt   string `json:"revoked_at,omitempty"`
	NotBefore   string `json:"not_before"`
	NotAfter    string `json:"not_after"`
	RenewedFrom string `json:"renewed_from,omitempty"`
	Certificate string `json:"certificate"`
}

// State is the record's status in the trust vocabulary, as people are
// shown it (the API's "hold" reads "suspended", docs/trust.md).
func (c *Certificate) State() string {
	return trust.RuleFor(trust.UseDisplay, ca.RecordState(store.Status(c.Status))).Word
}

// Issued is the answer to an enrollment or a renewal.
type Issued struct {
	Serial      string `json:"serial"`
	Profile     string `json:"profile"`
	NotBefore   string `json:"not_before"`
	NotAfter    string `json:"not_after"`
	Certificate string `json:"certificate"`
	Chain       string `json:"chain"`
}

// ClientRegistration registers an OpenID Connect client (POST
// /api/v1/clients); empty fields take the provider's defaults.
type ClientRegistration struct {
	ID                     string          `json:"client_id"`
	Name                   string          `json:"client_name"`
	RedirectURIs           []string        `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string        `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI   string          `json:"backchannel_logout_uri,omitempty"`
	GrantTypes             []string        `json:"grant_types,omitempty"`
	Scopes                 []string        `json:"scopes,omitempty"`
	AuthMethod             string          `json:"token_endpoint_auth_method,omitempty"`
	JWKS                   json.RawMessage `json:"jwks,omitempty"`
	TLSSubjectDN           string          `json:"tls_client_auth_subject_dn,omitempty"`
	Consent                bool            `json:"consent"`
	SubjectType            string          `json:"subject_type,omitempty"`
	SectorIdentifier       string          `json:"sector_identifier,omitempty"`
	Audience               []string        `json:"audience,omitempty"`
}
